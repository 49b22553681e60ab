//! Build → missing security fixes, with Health Checker's comparison rules.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::Build;
use crate::table::{Cu, CuUpdate, DatePrecision, Product, Table, Update, UpdateCve, table};

/// How far the table recognises a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuildStatus {
    /// The exact build is a CU or update build in the table.
    Known,
    /// The CU is known (same build number) but this revision is not a published update build.
    UnlistedRevision,
    /// Three-part build (e.g. from an OWA path): the CU is known, the update level is not.
    RevisionUnknown,
    /// The product is known but the build number is not a build of any CU in the table.
    UnknownBuild,
    /// Not an Exchange 2010 SP3, 2013, 2016, 2019 or SE build.
    UnknownProduct,
}

/// How sure a missing fix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certainty {
    /// The build number alone proves the fix is absent.
    Certain,
    /// The revision is unknown: absent unless the server runs this CU's update or later.
    RevisionUnknown,
    /// The build number says fixed, but the server is on a March 2021 SU for an out-of-support
    /// CU, which did not include earlier SUs: verify that the update's KB is installed.
    NeedsKbEvidence,
}

/// One security fix the build lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingFix {
    pub cve: String,
    /// `Mar21SU (15.2.792.10)` for the server's own CU, or `a later CU (...)`.
    pub fixed_by: String,
    /// The update (SU/HU) that carries the fix.
    pub update: String,
    /// The update's build for the server's own CU, when there is one.
    pub fixed_by_build: Option<Build>,
    pub release_date: NaiveDate,
    pub date_precision: DatePrecision,
    pub campaigns: Vec<String>,
    pub known_exploited: bool,
    pub certainty: Certainty,
    /// A setting also needed besides the update (`setting-override`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_config: Option<String>,
    /// A mitigation seen in configuration evidence (the fix is still missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mitigated_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What configuration evidence says about a setting-dependent protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigState {
    /// The build cannot tell: collect applicationHost.config / Health Checker output.
    NeedsConfigurationEvidence,
    /// Configuration evidence shows the protection in place.
    Mitigated,
    /// Configuration evidence shows it absent.
    NotMitigated,
}

/// A protection that depends on configuration the build number cannot show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigDependent {
    pub cves: Vec<String>,
    /// `extended-protection`, `eems-eomt-mitigation`, `setting-override`, ...
    pub setting: String,
    pub known_exploited: bool,
    pub state: ConfigState,
    pub detail: String,
}

/// The exposure of one build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub build: Build,
    /// `Exchange Server 2019`.
    pub product: Option<String>,
    pub product_id: Option<String>,
    /// `CU8`; absent when the build belongs to no CU of the table.
    pub cu: Option<String>,
    pub cu_release_date: Option<NaiveDate>,
    /// For an unknown build: the closest lower CU of the product, as a hint only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest_cu: Option<String>,
    /// The newest update the build is at or past (`Mar21SU`), or `CU RTM`.
    pub update_level: Option<String>,
    /// Whether this exact build is in the table.
    pub known: bool,
    pub status: BuildStatus,
    /// Sorted known-exploited first, then by release date.
    pub missing: Vec<MissingFix>,
    pub needs_config: Vec<ConfigDependent>,
    pub notes: Vec<String>,
}

/// Whether a build lacked the fix for a CVE at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum ExposureAtTime {
    /// The build lacks the fix; `fix_released`: whether the vendor had released it by then.
    Missing { fix_released: bool },
    /// The build has the fix.
    Fixed,
    /// The CVE does not concern this product.
    NotApplicable,
    /// The build or the CVE's fix cannot be judged from the build number.
    Unknown,
}

/// Extended Protection CVEs (Health Checker's EP check, ref §1.4).
pub const EP_CVES: &[&str] = &[
    "CVE-2022-24516",
    "CVE-2022-21979",
    "CVE-2022-21980",
    "CVE-2022-24477",
    "CVE-2022-30134",
    "CVE-2024-21410",
];

/// CVEs an EOMT/EEMS URL-rewrite mitigation covers, with the rule names (ref §1.2).
pub const EOMT_MITIGATIONS: &[(&str, &[&str])] = &[
    (
        "CVE-2021-26855",
        &[
            "X-AnonResource-Backend Abort - inbound",
            "X-BEResource Abort - inbound",
        ],
    ),
    ("CVE-2022-41040", &["PowerShell - inbound"]),
    ("CVE-2026-42897", &["EOMT OWA CSP - outbound"]),
];

/// Where a build sits in the table.
pub(crate) struct Placement<'t> {
    pub product: &'t Product,
    pub cu: Option<&'t Cu>,
    pub nearest: Option<&'t Cu>,
}

pub(crate) fn place<'t>(t: &'t Table, b: &Build) -> Option<Placement<'t>> {
    let product = t.product_for(b)?;
    let cu = if product.cu_by == "minor" {
        product
            .cus
            .iter()
            .rev()
            .find(|c| c.build.key() <= b.key())
            .or(product.cus.first())
    } else {
        product.cus.iter().find(|c| c.build.build == b.build)
    };
    let nearest = if cu.is_none() {
        product.cus.iter().rev().find(|c| c.build.build < b.build)
    } else {
        None
    };
    Some(Placement {
        product,
        cu,
        nearest,
    })
}

fn cu_index(p: &Product, cu: &Cu) -> usize {
    p.cus
        .iter()
        .position(|c| std::ptr::eq(c, cu))
        .unwrap_or_default()
}

/// The result of judging one CVE of one update for a build.
enum CveState<'t> {
    NotApplicable,
    Fixed,
    Missing {
        own: Option<&'t CuUpdate>,
        later: Option<(&'t Cu, &'t CuUpdate)>,
        certainty: Certainty,
    },
}

fn judge<'t>(
    t: &'t Table,
    p: &'t Product,
    cu: &'t Cu,
    b: &Build,
    u: &Update,
    c: &UpdateCve,
) -> CveState<'t> {
    if !c.applies_to(&p.id) {
        return CveState::NotApplicable;
    }
    let all: Vec<(usize, &Cu, &CuUpdate)> = p
        .cus
        .iter()
        .enumerate()
        .flat_map(|(i, k)| {
            k.updates
                .iter()
                .filter(|e| e.update == u.name)
                .map(move |e| (i, k, e))
        })
        .collect();
    if all.is_empty() {
        // Health Checker: no such SU for this product line → not vulnerable.
        return CveState::NotApplicable;
    }
    // Health Checker evaluates only updates at least as recent as the CU's release year: an
    // older update's fixes are part of the CU.
    if u.date.year() < cu.date.year() {
        return CveState::Fixed;
    }
    let pl = t.is_proxylogon(&c.cve);
    let fixing: Vec<&(usize, &Cu, &CuUpdate)> = all
        .iter()
        .filter(|(_, _, e)| pl || !e.proxylogon_only)
        .collect();
    let ci = cu_index(p, cu);
    let own = fixing.iter().find(|(i, _, _)| *i == ci).map(|(_, _, e)| *e);
    let max = fixing.iter().map(|(_, _, e)| e.build.key()).max();
    let fixed_with = |key: (u16, u16, u32, u32)| {
        max.is_some_and(|m| key >= m) || own.is_some_and(|e| key >= e.build.key())
    };
    let later = fixing
        .iter()
        .filter(|(i, _, _)| *i > ci)
        .map(|(_, k, e)| (*k, *e))
        .next();
    if fixed_with(b.key()) {
        // March 2021 SUs for out-of-support CUs did not contain the CU's earlier SUs.
        let march = cu
            .updates
            .iter()
            .find(|e| e.proxylogon_only && b.key() >= e.build.key());
        if let (Some(m), Some(e)) = (march, own)
            && u.name != m.update
            && e.build.key() < m.build.key()
            && e.build.key() > cu.build.key()
        {
            return CveState::Missing {
                own,
                later,
                certainty: Certainty::NeedsKbEvidence,
            };
        }
        return CveState::Fixed;
    }
    let certainty = if fixed_with(b.key_high()) {
        Certainty::RevisionUnknown
    } else {
        Certainty::Certain
    };
    CveState::Missing {
        own,
        later,
        certainty,
    }
}

fn fixed_by_text(
    p: &Product,
    u: &Update,
    own: Option<&CuUpdate>,
    later: Option<(&Cu, &CuUpdate)>,
) -> String {
    match (own, later) {
        (Some(e), _) => format!("{} ({})", u.name, e.build),
        (None, Some((k, e))) => format!(
            "a later CU ({} {} with {}, {})",
            p.name, k.name, u.name, e.build
        ),
        (None, None) => format!("a later CU ({} shipping {})", p.name, u.name),
    }
}

/// Assess a build: product, CU, update level, and the security fixes it lacks.
pub fn assess(build: &Build) -> Assessment {
    let t = table();
    let mut a = Assessment {
        build: *build,
        product: None,
        product_id: None,
        cu: None,
        cu_release_date: None,
        nearest_cu: None,
        update_level: None,
        known: false,
        status: BuildStatus::UnknownProduct,
        missing: Vec::new(),
        needs_config: Vec::new(),
        notes: Vec::new(),
    };
    let Some(pl) = place(t, build) else {
        a.notes.push(format!(
            "{build} is not an Exchange 2010 SP3, 2013, 2016, 2019 or Subscription Edition build \
             in the table; nothing is assessed"
        ));
        return a;
    };
    let p = pl.product;
    a.product = Some(p.name.clone());
    a.product_id = Some(p.id.clone());
    if let Some(note) = &p.notes {
        a.notes.push(note.clone());
    }
    let Some(cu) = pl.cu else {
        a.status = BuildStatus::UnknownBuild;
        a.nearest_cu = pl.nearest.map(|c| c.name.clone());
        a.notes.push(format!(
            "{build} is not a build of any {} CU in the table (snapshot {}); no fix is assessed. \
             It may be newer than the table or mistyped{}",
            p.name,
            t.snapshot,
            pl.nearest
                .map(|c| format!("; the closest lower CU is {} ({})", c.name, c.build))
                .unwrap_or_default()
        ));
        return a;
    };
    a.cu = Some(cu.name.clone());
    a.cu_release_date = Some(cu.date);
    let is_known = build.revision.is_some()
        && (cu.build == *build
            || cu
                .updates
                .iter()
                .any(|e| e.build == *build || e.also_seen_as.contains(build)));
    a.known = is_known;
    a.status = if is_known {
        BuildStatus::Known
    } else if build.revision.is_none() {
        BuildStatus::RevisionUnknown
    } else {
        BuildStatus::UnlistedRevision
    };
    a.update_level = if build.revision.is_none() {
        None
    } else {
        let level = cu
            .updates
            .iter()
            .filter(|e| e.build.key() <= build.key())
            .max_by_key(|e| e.build.key())
            .map(|e| e.update.clone());
        Some(match level {
            Some(l) => l,
            None if build.key() >= cu.build.key() => "CU RTM".to_string(),
            None => "before CU RTM".to_string(),
        })
    };
    match a.status {
        BuildStatus::UnlistedRevision => a.notes.push(format!(
            "{build} is within {} {} but is not a published update build; fixes are judged by \
             build number (as Health Checker does) and may be wrong for private or interim builds",
            p.name, cu.name
        )),
        BuildStatus::RevisionUnknown => a.notes.push(format!(
            "only three parts of the build are known ({build}): the CU is {} but its security \
             update level is not; fixes shipped as updates for this CU are 'revision-unknown'",
            cu.name
        )),
        _ => {}
    }
    if let Some(eos) = p.end_of_support {
        a.notes.push(format!("{} support ended {eos}", p.name));
    }

    for u in &t.updates {
        for c in &u.cves {
            if t.cve(&c.cve)
                .is_some_and(|i| i.requires_config.as_deref() == Some("extended-protection"))
            {
                continue;
            }
            match judge(t, p, cu, build, u, c) {
                CveState::NotApplicable => {}
                CveState::Fixed => {
                    if let Some(setting) = &c.requires_config {
                        push_config(
                            &mut a,
                            t,
                            &c.cve,
                            setting,
                            c.notes.clone().unwrap_or_else(|| {
                                format!("the build has {} but the fix also needs {setting}", u.name)
                            }),
                        );
                    }
                }
                CveState::Missing {
                    own,
                    later,
                    certainty,
                } => {
                    if a.missing.iter().any(|m| m.cve == c.cve) {
                        continue;
                    }
                    let info = t.cve(&c.cve);
                    let own_fixes = own.filter(|e| !e.proxylogon_only || t.is_proxylogon(&c.cve));
                    let note = match certainty {
                        Certainty::NeedsKbEvidence => Some(format!(
                            "the server runs the March 2021 SU for an out-of-support CU, which did \
                             not include {}{}: verify it is installed",
                            u.name,
                            u.kb.as_deref()
                                .map(|k| format!(" ({k})"))
                                .unwrap_or_default()
                        )),
                        _ => c.notes.clone(),
                    };
                    a.missing.push(MissingFix {
                        cve: c.cve.clone(),
                        fixed_by: fixed_by_text(p, u, own_fixes, later),
                        update: u.name.clone(),
                        fixed_by_build: own_fixes.map(|e| e.build),
                        release_date: u.date,
                        date_precision: u.date_precision,
                        campaigns: info.map(|i| i.campaigns.clone()).unwrap_or_default(),
                        known_exploited: info.is_some_and(|i| i.known_exploited),
                        certainty,
                        requires_config: c.requires_config.clone(),
                        mitigated_by: None,
                        note,
                    });
                }
            }
        }
    }
    a.missing.sort_by(|x, y| {
        y.known_exploited
            .cmp(&x.known_exploited)
            .then(x.release_date.cmp(&y.release_date))
            .then(x.cve.cmp(&y.cve))
    });
    add_setting_dependent(&mut a, t, p, build);
    a
}

fn push_config(a: &mut Assessment, t: &Table, cve: &str, setting: &str, detail: String) {
    if let Some(d) = a
        .needs_config
        .iter_mut()
        .find(|d| d.setting == setting && d.detail == detail)
    {
        if !d.cves.iter().any(|c| c == cve) {
            d.cves.push(cve.to_string());
        }
        d.known_exploited |= t.cve(cve).is_some_and(|i| i.known_exploited);
        return;
    }
    a.needs_config.push(ConfigDependent {
        cves: vec![cve.to_string()],
        setting: setting.to_string(),
        known_exploited: t.cve(cve).is_some_and(|i| i.known_exploited),
        state: ConfigState::NeedsConfigurationEvidence,
        detail,
    });
}

/// Extended Protection support thresholds (ref §1.4).
fn ep_supported(p: &Product, b: &Build) -> bool {
    let k = b.key();
    match p.id.as_str() {
        "E2019" => k >= (15, 2, 1118, 11) || (b.build == 986 && k >= (15, 2, 986, 28)),
        "E2016" => k >= (15, 1, 2507, 11) || (b.build == 2375 && k >= (15, 1, 2375, 30)),
        "E2013" => k >= (15, 0, 1497, 38),
        "SE" => true,
        _ => false,
    }
}

fn add_setting_dependent(a: &mut Assessment, t: &Table, p: &Product, b: &Build) {
    if p.id == "E2010" {
        return;
    }
    let cves: Vec<String> = EP_CVES
        .iter()
        .filter(|c| p.id != "E2013" || **c != "CVE-2024-21410")
        .map(|c| c.to_string())
        .collect();
    let support = if ep_supported(p, b) {
        "this build supports Extended Protection"
    } else {
        "this build is older than the first build that supports Extended Protection \
         (E2019 1118.11 / CU11 986.28, E2016 2507.11 / CU22 2375.30, E2013 1497.38): not protected"
    };
    let default_on = if (p.id == "E2019" && b.key() >= (15, 2, 1544, 4)) || p.id == "SE" {
        "; setup of E2019 CU14 and later enables it by default"
    } else {
        ""
    };
    a.needs_config.push(ConfigDependent {
        known_exploited: cves
            .iter()
            .any(|c| t.cve(c).is_some_and(|i| i.known_exploited)),
        cves,
        setting: "extended-protection".into(),
        state: if ep_supported(p, b) {
            ConfigState::NeedsConfigurationEvidence
        } else {
            ConfigState::NotMitigated
        },
        detail: format!(
            "closed only by Extended Protection (tokenChecking Allow/Require) on the IIS virtual \
             directories, not by a build; {support}{default_on}; read applicationHost.config"
        ),
    });
    let eomt: Vec<String> = EOMT_MITIGATIONS
        .iter()
        .filter(|(c, _)| a.missing.iter().any(|m| m.cve == *c))
        .map(|(c, _)| c.to_string())
        .collect();
    if !eomt.is_empty() {
        a.needs_config.push(ConfigDependent {
            known_exploited: eomt
                .iter()
                .any(|c| t.cve(c).is_some_and(|i| i.known_exploited)),
            cves: eomt,
            setting: "eems-eomt-mitigation".into(),
            state: ConfigState::NeedsConfigurationEvidence,
            detail: "EEMS or EOMT URL-rewrite mitigations can block these while the fix is \
                     missing; their presence needs applicationHost.config or EEMS state evidence"
                .into(),
        });
    }
}

/// At time `at`, did `build` still lack the fix for `cve`, and had the fix been released?
///
/// The build is taken as given at `at`. `fix_released` compares `at` with the release date of
/// the update that fixes the CVE (for this CU, or for later CUs when this CU got none).
pub fn missing_at(build: &Build, cve: &str, at: DateTime<Utc>) -> ExposureAtTime {
    let t = table();
    let Some(pl) = place(t, build) else {
        return ExposureAtTime::Unknown;
    };
    if EP_CVES.iter().any(|c| c.eq_ignore_ascii_case(cve)) {
        return ExposureAtTime::Unknown;
    }
    let p = pl.product;
    let carriers: Vec<(&Update, &UpdateCve)> = t
        .updates
        .iter()
        .flat_map(|u| u.cves.iter().map(move |c| (u, c)))
        .filter(|(_, c)| c.cve.eq_ignore_ascii_case(cve) && c.applies_to(&p.id))
        .filter(|(u, _)| {
            p.cus
                .iter()
                .any(|k| k.updates.iter().any(|e| e.update == u.name))
        })
        .collect();
    if carriers.is_empty() {
        return ExposureAtTime::NotApplicable;
    }
    let Some(cu) = pl.cu else {
        return ExposureAtTime::Unknown;
    };
    let mut any_fixed = false;
    let mut uncertain = false;
    for (u, c) in carriers {
        match judge(t, p, cu, build, u, c) {
            CveState::NotApplicable => {}
            CveState::Fixed => any_fixed = true,
            CveState::Missing {
                certainty: Certainty::Certain,
                ..
            } => {
                return ExposureAtTime::Missing {
                    fix_released: at.date_naive() >= u.date,
                };
            }
            CveState::Missing { .. } => uncertain = true,
        }
    }
    if uncertain {
        ExposureAtTime::Unknown
    } else if any_fixed {
        ExposureAtTime::Fixed
    } else {
        ExposureAtTime::NotApplicable
    }
}
