//! From findings to an intrusion profile: what was seen, each item pointing at finding ids.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use exhunt_model::Finding;
use serde::{Deserialize, Serialize};

use crate::exchange::ExchangeFacts;

/// A tool or malware family seen in the findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolObservation {
    pub name: String,
    /// The ATT&CK software id, when ATT&CK has the tool.
    pub software: Option<String>,
    /// The keyword or tag that showed it.
    pub matched: String,
    pub finding_ids: Vec<String>,
}

/// An indicator match whose publisher tied it to an actor (`ioc_label`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorObservation {
    pub label: String,
    pub source: Option<String>,
    pub value: Option<String>,
    /// The indicator's kind (`sha256`, `ip`, `path_regex`, ...) when the finding names it.
    #[serde(default)]
    pub kind: Option<String>,
    pub finding_ids: Vec<String>,
}

/// An address or domain the attacker used (client of suspicious requests, C&C).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfraObservation {
    pub value: String,
    pub field: String,
    pub finding_ids: Vec<String>,
}

/// A web shell or dropped file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathObservation {
    /// As the finding gave it.
    pub path: String,
    /// Lowercase, `/`-separated, rooted at the drive (`/inetpub/wwwroot/aspnet_client/x.aspx`).
    pub normalized: String,
    pub finding_ids: Vec<String>,
}

/// A CVE seen exploited, with its earliest time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CveObservation {
    pub cve: String,
    pub earliest: Option<DateTime<Utc>>,
    pub finding_ids: Vec<String>,
}

/// The earliest exploitation of one vulnerability family, against its patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingObservation {
    /// ProxyLogon, ProxyShell, ... (from the curated facts), or the CVE itself.
    pub campaign: String,
    pub cves: Vec<String>,
    pub earliest: DateTime<Utc>,
    /// For ProxyLogon: pre-patch / post-patch against 2021-03-02; otherwise "unknown".
    pub relative_to_patch: String,
    pub finding_ids: Vec<String>,
}

/// What the findings show of the intrusion, as evidence for attribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntrusionProfile {
    pub finding_count: usize,
    /// Technique id (upper case, `T1505.003`) → finding ids.
    pub techniques: BTreeMap<String, Vec<String>>,
    /// Tactic short name → finding ids.
    pub tactics: BTreeMap<String, Vec<String>>,
    pub cves: Vec<CveObservation>,
    pub tools: Vec<ToolObservation>,
    pub indicators: Vec<IndicatorObservation>,
    pub infrastructure: Vec<InfraObservation>,
    pub paths: Vec<PathObservation>,
    pub timing: Vec<TimingObservation>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub patch_release: Option<DateTime<Utc>>,
}

/// Built-in tool keywords: (name, ATT&CK software id, lowercase keywords).
const TOOLS: &[(&str, Option<&str>, &[&str])] = &[
    (
        "China Chopper",
        Some("S0020"),
        &["china chopper", "chinachopper", "chopper"],
    ),
    (
        "Mimikatz",
        Some("S0002"),
        &["mimikatz", "sekurlsa::", "lsadump::"],
    ),
    (
        "Cobalt Strike",
        Some("S0154"),
        &["cobalt strike", "cobaltstrike", "beacon.dll"],
    ),
    ("PlugX", Some("S0013"), &["plugx", "korplug"]),
    ("ShadowPad", Some("S0596"), &["shadowpad"]),
    ("PsExec", Some("S0029"), &["psexec"]),
    ("ASPXSpy", Some("S0073"), &["aspxspy"]),
    ("Covenant", Some("S1155"), &["covenant"]),
    (
        "Impacket",
        Some("S0357"),
        &["impacket", "wmiexec.py", "secretsdump"],
    ),
    ("Tarrask", Some("S1011"), &["tarrask"]),
    ("SysUpdate", Some("S0663"), &["sysupdate"]),
    ("HyperBro", Some("S0398"), &["hyperbro"]),
    ("certutil", Some("S0160"), &["certutil"]),
    ("Nltest", Some("S0359"), &["nltest"]),
    ("Rclone", Some("S1040"), &["rclone"]),
    ("AdFind", Some("S0552"), &["adfind"]),
    ("LaZagne", Some("S0349"), &["lazagne"]),
    ("ProcDump", None, &["procdump"]),
    ("comsvcs.dll MiniDump", None, &["comsvcs"]),
    ("7-Zip", None, &["7z.exe", "7za.exe", " -t7z", "7-zip"]),
    ("WinRAR", None, &["rar.exe"]),
    ("PowerCat", None, &["powercat"]),
    ("Nishang", None, &["invoke-powershelltcp", "nishang"]),
    (
        "Exchange PowerShell snap-in",
        None,
        &[
            "microsoft.exchange.powershell.snapin",
            "microsoft.exchange.management.powershell.snapin",
        ],
    ),
    (
        "New-MailboxExportRequest",
        None,
        &["new-mailboxexportrequest"],
    ),
    ("MEGA", None, &["mega.nz", "megasync", "megacmd"]),
];

/// Field names that carry an address or domain of the other side.
const INFRA_FIELDS: &[&str] = &[
    "c-ip",
    "ClientIpAddress",
    "client-ip",
    "IpAddress",
    "DestinationIp",
    "DestinationHostname",
    "QueryName",
    "SourceIp",
];
/// Field names that carry a file path or a URL path.
const PATH_FIELDS: &[&str] = &[
    "Path",
    "TargetFilename",
    "Image",
    "FileName",
    "cs-uri-stem",
    "UrlStem",
];

/// Lowercase, `/`-separated, drive or collection prefix removed, rooted: `C:\inetpub\x` and the
/// collection's `case.zip!/C/inetpub/x` both become `/inetpub/x`. URL stems of IIS web folders
/// are mapped to their files (`/aspnet_client/x.aspx` → `/inetpub/wwwroot/aspnet_client/x.aspx`).
pub fn normalize_path(p: &str) -> String {
    let p = p.rsplit('!').next().unwrap_or(p);
    let mut s = p
        .trim()
        .replace('\\', "/")
        .to_ascii_lowercase()
        .trim_start_matches('/')
        .to_string();
    let b = s.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        s = s[2..].to_string();
    } else if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b'/' {
        s = s[1..].to_string();
    }
    if !s.starts_with('/') {
        s.insert(0, '/');
    }
    if s.starts_with("/aspnet_client/") {
        s = format!("/inetpub/wwwroot{s}");
    }
    s
}

/// Whether a normalized path matches a curated pattern (see `WebshellFact::pattern`).
pub(crate) fn path_matches(normalized: &str, pattern: &str) -> bool {
    let pat = pattern.to_ascii_lowercase().replace('\\', "/");
    if pat.starts_with('/') {
        normalized == pat
    } else {
        normalized.ends_with(&format!("/{pat}"))
    }
}

fn is_public_ip(v: &str) -> bool {
    let Ok(ip) = v.parse::<std::net::IpAddr>() else {
        return false;
    };
    match ip {
        std::net::IpAddr::V4(a) => {
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast())
        }
        std::net::IpAddr::V6(a) => !(a.is_loopback() || a.is_unspecified()),
    }
}

fn looks_like_domain(v: &str) -> bool {
    v.contains('.')
        && !v.contains(['/', '\\', ' '])
        && v.chars().any(|c| c.is_ascii_alphabetic())
        && v.rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

fn field_str<'a>(f: &'a Finding, name: &str) -> Option<&'a str> {
    f.fields
        .get(name)
        .or_else(|| {
            f.fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty() && *v != "-")
}

/// Finding ids cited per evidence item: enough to check it, and the profile (and
/// `attribution.json`) stays small when a noisy rule fires tens of thousands of times.
pub const MAX_CITED_FINDINGS: usize = 25;

fn push_id(ids: &mut Vec<String>, id: &str) {
    if ids.len() < MAX_CITED_FINDINGS && !ids.iter().any(|x| x == id) {
        ids.push(id.to_string());
    }
}

/// Build the intrusion profile of a set of findings.
pub fn profile(findings: &[Finding]) -> IntrusionProfile {
    profile_with(findings, &ExchangeFacts::embedded())
}

/// [`profile`] with explicit curated facts (their tool keywords and CVE families are used).
pub fn profile_with(findings: &[Finding], facts: &ExchangeFacts) -> IntrusionProfile {
    let mut b = ProfileBuilder::with_facts(facts.clone());
    for f in findings {
        b.add(f);
    }
    b.finish()
}

/// The intrusion profile built one finding at a time, for findings streamed from disk.
pub struct ProfileBuilder {
    facts: ExchangeFacts,
    p: IntrusionProfile,
    cves: BTreeMap<String, CveObservation>,
    tools: BTreeMap<String, ToolObservation>,
    indicators: BTreeMap<(String, Option<String>), IndicatorObservation>,
    infra: BTreeMap<String, InfraObservation>,
    paths: BTreeMap<String, PathObservation>,
    /// Tool name, ATT&CK software id, lowercase keywords.
    table: Vec<(String, Option<String>, Vec<String>)>,
    /// Every keyword of `table`, searched in one pass over each field (a finding's fields can
    /// be kilobytes: searching them keyword by keyword dominated the profile's cost).
    keywords: aho_corasick::AhoCorasick,
    /// Scratch: which keyword ids the current finding shows.
    seen: Vec<bool>,
}

impl Default for ProfileBuilder {
    fn default() -> Self {
        Self::with_facts(ExchangeFacts::embedded())
    }
}

impl ProfileBuilder {
    pub fn with_facts(facts: ExchangeFacts) -> Self {
        let p = IntrusionProfile {
            finding_count: 0,
            patch_release: Some(facts.patch_release),
            ..Default::default()
        };
        let cves: BTreeMap<String, CveObservation> = BTreeMap::new();
        let tools: BTreeMap<String, ToolObservation> = BTreeMap::new();
        let indicators: BTreeMap<(String, Option<String>), IndicatorObservation> = BTreeMap::new();
        let infra: BTreeMap<String, InfraObservation> = BTreeMap::new();
        let paths: BTreeMap<String, PathObservation> = BTreeMap::new();

        // The tool table: built-in keywords plus the curated facts' keywords.
        let mut table: Vec<(String, Option<String>, Vec<String>)> = TOOLS
            .iter()
            .map(|(n, s, k)| {
                (
                    n.to_string(),
                    s.map(str::to_string),
                    k.iter().map(|x| x.to_string()).collect(),
                )
            })
            .collect();
        for c in &facts.clusters {
            for t in &c.tools {
                let covered = table
                    .iter()
                    .any(|(n, _, k)| *n == t.name || k.iter().any(|x| t.keywords.contains(x)));
                if !t.keywords.is_empty() && !covered {
                    table.push((
                        t.name.clone(),
                        t.attack_software.clone(),
                        t.keywords.clone(),
                    ));
                }
            }
        }

        let keyword_text: Vec<String> = table
            .iter()
            .flat_map(|(_, _, k)| k.iter().map(|x| x.to_ascii_lowercase()))
            .collect();
        let keywords = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keyword_text)
            .expect("tool keywords form an automaton");
        let seen = vec![false; keyword_text.len()];
        ProfileBuilder {
            facts,
            p,
            cves,
            tools,
            indicators,
            infra,
            paths,
            table,
            keywords,
            seen,
        }
    }

    pub fn add(&mut self, f: &Finding) {
        let ProfileBuilder {
            p,
            cves,
            tools,
            indicators,
            infra,
            paths,
            table,
            keywords,
            seen,
            ..
        } = self;
        p.finding_count += 1;
        let id = f.id.as_str();
        if let Some(t) = f.time {
            p.first_seen = Some(p.first_seen.map_or(t, |x| x.min(t)));
            p.last_seen = Some(p.last_seen.map_or(t, |x| x.max(t)));
        }
        for tag in &f.tags {
            let tag = tag.trim().to_ascii_lowercase();
            if let Some(rest) = tag.strip_prefix("attack.") {
                let b = rest.as_bytes();
                if b.first() == Some(&b't') && b.get(1).is_some_and(|c| c.is_ascii_digit()) {
                    push_id(
                        p.techniques.entry(rest.to_ascii_uppercase()).or_default(),
                        id,
                    );
                } else if b.first() == Some(&b's') && b.get(1).is_some_and(|c| c.is_ascii_digit()) {
                    let sid = rest.to_ascii_uppercase();
                    let e = tools.entry(sid.clone()).or_insert_with(|| ToolObservation {
                        name: sid.clone(),
                        software: Some(sid.clone()),
                        matched: format!("tag {tag}"),
                        finding_ids: Vec::new(),
                    });
                    push_id(&mut e.finding_ids, id);
                } else if !(b.first() == Some(&b'g')
                    && b.get(1).is_some_and(|c| c.is_ascii_digit()))
                {
                    push_id(p.tactics.entry(rest.to_string()).or_default(), id);
                }
            } else if let Some(rest) = tag.strip_prefix("cve.") {
                let cve = format!("CVE-{}", rest.to_ascii_uppercase());
                let e = cves.entry(cve.clone()).or_insert_with(|| CveObservation {
                    cve,
                    earliest: None,
                    finding_ids: Vec::new(),
                });
                if let Some(t) = f.time {
                    e.earliest = Some(e.earliest.map_or(t, |x| x.min(t)));
                }
                push_id(&mut e.finding_ids, id);
            }
        }

        // Tools: keywords in the rule title and in the finding's string fields.
        seen.iter_mut().for_each(|x| *x = false);
        let mut search = |text: &str| {
            for m in keywords.find_overlapping_iter(text) {
                seen[m.pattern().as_usize()] = true;
            }
        };
        search(&f.rule.title);
        for (k, v) in &f.fields {
            if k == "ioc_label" || k == "ioc_source" {
                continue;
            }
            if let Some(s) = v.as_str() {
                search(s);
            }
        }
        // Keyword ids follow the table's order (entry by entry, keyword by keyword).
        let mut next_id = 0;
        for (name, sid, kws) in table.iter() {
            let first_id = next_id;
            next_id += kws.len();
            let found = kws
                .iter()
                .enumerate()
                .find(|(i, _)| seen[first_id + i])
                .map(|(_, k)| k);
            if let Some(kw) = found {
                let key = sid.clone().unwrap_or_else(|| name.clone());
                let e = tools.entry(key).or_insert_with(|| ToolObservation {
                    name: name.clone(),
                    software: sid.clone(),
                    matched: kw.clone(),
                    finding_ids: Vec::new(),
                });
                if e.name.starts_with('S') && e.software.as_deref() == Some(e.name.as_str()) {
                    e.name = name.clone();
                }
                push_id(&mut e.finding_ids, id);
            }
        }

        if let Some(label) = field_str(f, "ioc_label") {
            let source = field_str(f, "ioc_source").map(str::to_string);
            let value = field_str(f, "ioc_value")
                .or_else(|| field_str(f, "ioc"))
                .map(str::to_string);
            let e = indicators
                .entry((label.to_string(), source.clone()))
                .or_insert_with(|| IndicatorObservation {
                    label: label.to_string(),
                    source,
                    value,
                    kind: field_str(f, "ioc_kind").map(str::to_string),
                    finding_ids: Vec::new(),
                });
            push_id(&mut e.finding_ids, id);
        }

        for name in INFRA_FIELDS {
            if let Some(v) = field_str(f, name) {
                let v = v.trim().to_ascii_lowercase();
                if is_public_ip(&v)
                    || (v.parse::<std::net::IpAddr>().is_err() && looks_like_domain(&v))
                {
                    let e = infra.entry(v.clone()).or_insert_with(|| InfraObservation {
                        value: v.clone(),
                        field: name.to_string(),
                        finding_ids: Vec::new(),
                    });
                    push_id(&mut e.finding_ids, id);
                }
            }
        }

        for name in PATH_FIELDS {
            if let Some(v) = field_str(f, name) {
                if *name == "FileName" && !v.contains(['/', '\\']) && field_str(f, "Path").is_some()
                {
                    continue;
                }
                let n = normalize_path(v);
                let e = paths.entry(n.clone()).or_insert_with(|| PathObservation {
                    path: v.to_string(),
                    normalized: n,
                    finding_ids: Vec::new(),
                });
                push_id(&mut e.finding_ids, id);
            }
        }
    }

    pub fn finish(self) -> IntrusionProfile {
        let ProfileBuilder {
            facts,
            mut p,
            cves,
            tools,
            indicators,
            infra,
            paths,
            ..
        } = self;
        let facts = &facts;
        // Timing: the earliest exploitation of each vulnerability family.
        let mut families: BTreeMap<String, TimingObservation> = BTreeMap::new();
        for c in cves.values() {
            let Some(t) = c.earliest else { continue };
            let fam = facts
                .family_of(&c.cve)
                .map(str::to_string)
                .unwrap_or_else(|| c.cve.clone());
            let e = families
                .entry(fam.clone())
                .or_insert_with(|| TimingObservation {
                    campaign: fam.clone(),
                    cves: Vec::new(),
                    earliest: t,
                    relative_to_patch: String::new(),
                    finding_ids: Vec::new(),
                });
            e.cves.push(c.cve.clone());
            if t < e.earliest {
                e.earliest = t;
            }
            for id in &c.finding_ids {
                push_id(&mut e.finding_ids, id);
            }
        }
        for (fam, mut t) in families {
            t.relative_to_patch = if fam == "ProxyLogon" {
                if t.earliest < facts.patch_release {
                    "pre-patch".into()
                } else {
                    "post-patch".into()
                }
            } else {
                "unknown".into()
            };
            p.timing.push(t);
        }

        p.cves = cves.into_values().collect();
        p.tools = tools.into_values().collect();
        p.indicators = indicators.into_values().collect();
        p.infrastructure = infra.into_values().collect();
        p.paths = paths.into_values().collect();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_across_forms() {
        assert_eq!(
            normalize_path(r"C:\inetpub\wwwroot\aspnet_client\aspnet.aspx"),
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx"
        );
        assert_eq!(
            normalize_path("case.zip!/C/inetpub/wwwroot/aspnet_client/Aspnet.aspx"),
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx"
        );
        assert_eq!(
            normalize_path("/aspnet_client/aspnet.aspx"),
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx"
        );
        assert!(path_matches(
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx",
            "inetpub/wwwroot/aspnet_client/aspnet.aspx"
        ));
        assert!(path_matches("/mscoree.dll", "/mscoree.dll"));
        assert!(!path_matches("/windows/mscoree.dll", "/mscoree.dll"));
    }
}
