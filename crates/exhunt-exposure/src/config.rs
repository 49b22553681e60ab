//! `applicationHost.config`: Extended Protection per virtual directory and EOMT rewrite rules.

use serde::{Deserialize, Serialize};

use crate::ExposureError;
use crate::assess::{Assessment, ConfigState, EOMT_MITIGATIONS, EP_CVES};

/// `extendedProtection tokenChecking` of a virtual directory's Windows authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenChecking {
    None,
    Allow,
    Require,
}

/// Extended Protection of one `<location path=...>` (or the server default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VdirProtection {
    /// `Default Web Site/EWS`, or `(server default)` outside any `<location>`.
    pub location: String,
    pub token_checking: TokenChecking,
    /// Whether `tokenChecking` was written (absent means the IIS default, None).
    pub explicit: bool,
}

/// An IIS URL-rewrite rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewriteRule {
    pub name: String,
    pub location: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The CVEs an EOMT/EEMS rule of this name mitigates.
    pub eomt_cves: Vec<String>,
}

/// A CVE mitigated by configuration (the code fix may still be missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigMitigation {
    pub cve: String,
    pub by: String,
}

/// Overall Extended Protection state of the Exchange front-end virtual directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpState {
    /// Every front-end Exchange virtual directory listed has Allow or Require.
    Enabled,
    /// Some have it, some do not.
    Partial,
    /// Listed, all None.
    Disabled,
    /// No `extendedProtection` element for any Exchange virtual directory (IIS default: None).
    NotConfigured,
}

/// What `applicationHost.config` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFindings {
    pub extended_protection: Vec<VdirProtection>,
    pub ep_state: EpState,
    pub rewrite_rules: Vec<RewriteRule>,
    pub mitigations: Vec<ConfigMitigation>,
    pub notes: Vec<String>,
}

/// Front-end virtual directories that Extended Protection must cover against NTLM relay
/// (CVE-2024-21410); their `Default Web Site/<name>` locations are checked.
const FRONT_END_VDIRS: &[&str] = &[
    "owa",
    "ecp",
    "ews",
    "mapi",
    "rpc",
    "autodiscover",
    "oab",
    "microsoft-server-activesync",
];

fn location_of(node: roxmltree::Node) -> String {
    node.ancestors()
        .find(|a| a.has_tag_name("location"))
        .and_then(|l| l.attribute("path"))
        .map(|p| if p.is_empty() { "(server default)" } else { p }.to_string())
        .unwrap_or_else(|| "(server default)".to_string())
}

fn is_front_end(location: &str) -> bool {
    let l = location.to_ascii_lowercase();
    l.strip_prefix("default web site/")
        .is_some_and(|v| FRONT_END_VDIRS.contains(&v.trim_end_matches('/')))
}

/// Read Extended Protection settings and URL-rewrite rules from `applicationHost.config` text.
pub fn config_from_application_host(xml: &str) -> Result<ConfigFindings, ExposureError> {
    let text = xml.trim_start_matches('\u{feff}');
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        ExposureError::BadConfig {
            reason: e.to_string(),
        }
    })?;
    let mut ep = Vec::new();
    let mut rules = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        if name == "extendedProtection"
            && n.parent_element()
                .is_some_and(|p| p.has_tag_name("windowsAuthentication"))
        {
            let raw = n.attribute("tokenChecking");
            let tc = match raw.map(|v| v.trim().to_ascii_lowercase()) {
                Some(v) if v == "require" => TokenChecking::Require,
                Some(v) if v == "allow" => TokenChecking::Allow,
                _ => TokenChecking::None,
            };
            ep.push(VdirProtection {
                location: location_of(n),
                token_checking: tc,
                explicit: raw.is_some(),
            });
        } else if name == "rule"
            && let Some(parent) = n.parent_element()
            && (parent.has_tag_name("rules") || parent.has_tag_name("outboundRules"))
            && parent
                .parent_element()
                .is_some_and(|g| g.has_tag_name("rewrite"))
        {
            let rname = n.attribute("name").unwrap_or_default().to_string();
            let eomt_cves = EOMT_MITIGATIONS
                .iter()
                .filter(|(_, names)| names.iter().any(|r| r.eq_ignore_ascii_case(&rname)))
                .map(|(c, _)| c.to_string())
                .collect();
            rules.push(RewriteRule {
                name: rname,
                location: location_of(n),
                direction: if parent.has_tag_name("outboundRules") {
                    "outbound".into()
                } else {
                    "inbound".into()
                },
                eomt_cves,
            });
        }
    }
    let mut notes = Vec::new();
    let front: Vec<&VdirProtection> = ep.iter().filter(|v| is_front_end(&v.location)).collect();
    let on = front
        .iter()
        .filter(|v| v.token_checking != TokenChecking::None)
        .count();
    let ep_state = if front.is_empty() {
        EpState::NotConfigured
    } else if on == front.len() {
        EpState::Enabled
    } else if on == 0 {
        EpState::Disabled
    } else {
        let off: Vec<&str> = front
            .iter()
            .filter(|v| v.token_checking == TokenChecking::None)
            .map(|v| v.location.as_str())
            .collect();
        notes.push(format!("Extended Protection is off on: {}", off.join(", ")));
        EpState::Partial
    };
    let mut mitigations = Vec::new();
    for (cve, names) in EOMT_MITIGATIONS {
        let present: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| rules.iter().any(|r| r.name.eq_ignore_ascii_case(n)))
            .collect();
        if present.len() == names.len() {
            mitigations.push(ConfigMitigation {
                cve: cve.to_string(),
                by: format!("EOMT URL-rewrite rule(s) {}", quoted(&present)),
            });
        } else if !present.is_empty() {
            notes.push(format!(
                "{cve}: only {} of the EOMT rules {} present; not counted as mitigated",
                present.len(),
                quoted(names)
            ));
        }
    }
    if ep_state == EpState::Enabled {
        for cve in EP_CVES {
            mitigations.push(ConfigMitigation {
                cve: cve.to_string(),
                by: "Extended Protection (tokenChecking Allow/Require) on the front-end virtual \
                     directories"
                    .into(),
            });
        }
    }
    Ok(ConfigFindings {
        extended_protection: ep,
        ep_state,
        rewrite_rules: rules,
        mitigations,
        notes,
    })
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Assessment {
    /// Refine the assessment with configuration evidence: Extended Protection and EOMT/EEMS
    /// rewrite rules. Missing fixes stay missing; they gain `mitigated_by`.
    pub fn apply_config(&mut self, cfg: &ConfigFindings) {
        for m in &mut self.missing {
            if let Some(mit) = cfg.mitigations.iter().find(|x| x.cve == m.cve) {
                m.mitigated_by = Some(mit.by.clone());
            }
        }
        for d in &mut self.needs_config {
            match d.setting.as_str() {
                "extended-protection" => {
                    if d.state == ConfigState::NotMitigated {
                        continue; // build too old for Extended Protection
                    }
                    let (state, what) = match cfg.ep_state {
                        EpState::Enabled => (
                            ConfigState::Mitigated,
                            "enabled on every front-end virtual directory listed",
                        ),
                        EpState::Partial => (
                            ConfigState::NotMitigated,
                            "enabled on some front-end virtual directories only",
                        ),
                        EpState::Disabled => (ConfigState::NotMitigated, "set to None"),
                        EpState::NotConfigured => (
                            ConfigState::NotMitigated,
                            "not configured (IIS default None)",
                        ),
                    };
                    d.state = state;
                    d.detail = format!("applicationHost.config: Extended Protection {what}");
                }
                "eems-eomt-mitigation" => {
                    let all = d
                        .cves
                        .iter()
                        .all(|c| cfg.mitigations.iter().any(|m| &m.cve == c));
                    let any = d
                        .cves
                        .iter()
                        .any(|c| cfg.mitigations.iter().any(|m| &m.cve == c));
                    if all {
                        d.state = ConfigState::Mitigated;
                        d.detail = "applicationHost.config holds the EOMT rewrite rules for these \
                                    CVEs (a CU install can silently remove them: re-check)"
                            .into();
                    } else if any {
                        d.detail = "applicationHost.config holds EOMT rewrite rules for some of \
                                    these CVEs only"
                            .into();
                    } else {
                        d.state = ConfigState::NotMitigated;
                        d.detail = "no EOMT rewrite rule in applicationHost.config (EEMS state \
                                    is not in that file)"
                            .into();
                    }
                }
                _ => {}
            }
        }
    }
}
