//! Published examples: builds before and after the ProxyLogon/ProxyShell fixes, unknown builds,
//! and exposure at a point in time.

use chrono::{TimeZone, Utc};
use exhunt_exposure::{
    BuildStatus, Certainty, ExposureAtTime, assess, missing_at, parse_build, render_text,
};

const PROXYLOGON: [&str; 4] = [
    "CVE-2021-26855",
    "CVE-2021-26857",
    "CVE-2021-26858",
    "CVE-2021-27065",
];

fn missing(build: &str) -> Vec<String> {
    assess(&parse_build(build).unwrap())
        .missing
        .iter()
        .filter(|m| m.certainty == Certainty::Certain)
        .map(|m| m.cve.clone())
        .collect()
}

fn lacks(build: &str, cves: &[&str]) {
    let m = missing(build);
    for c in cves {
        assert!(
            m.iter().any(|x| x == c),
            "{build} should lack {c}; missing: {m:?}"
        );
    }
}

fn has(build: &str, cves: &[&str]) {
    let m = missing(build);
    for c in cves {
        assert!(!m.iter().any(|x| x == c), "{build} should have {c}");
    }
}

#[test]
fn exchange_2019_cu8_proxylogon() {
    lacks("15.2.792.3", &PROXYLOGON);
    has("15.2.792.10", &PROXYLOGON);
    let a = assess(&parse_build("15.2.792.3").unwrap());
    assert_eq!(a.product.as_deref(), Some("Exchange Server 2019"));
    assert_eq!(a.cu.as_deref(), Some("CU8"));
    assert_eq!(a.update_level.as_deref(), Some("CU RTM"));
    assert!(a.known);
    let a = assess(&parse_build("15.2.792.10").unwrap());
    assert_eq!(a.update_level.as_deref(), Some("Mar21SU"));
    // ProxyShell is fixed later (Apr21SU / May21SU) and still missing at Mar21SU.
    lacks(
        "15.2.792.10",
        &["CVE-2021-34473", "CVE-2021-34523", "CVE-2021-31207"],
    );
}

#[test]
fn exchange_2016_cu19_proxylogon() {
    lacks("15.1.2176.2", &PROXYLOGON);
    has("15.1.2176.9", &PROXYLOGON);
}

#[test]
fn exchange_2019_cu9_has_proxylogon_lacks_proxyshell() {
    let a = assess(&parse_build("15.2.858.5").unwrap());
    assert_eq!(a.cu.as_deref(), Some("CU9"));
    assert_eq!(a.cu_release_date.unwrap().to_string(), "2021-03-16");
    has("15.2.858.5", &PROXYLOGON);
    lacks("15.2.858.5", &["CVE-2021-31207"]);
    let m = a
        .missing
        .iter()
        .find(|m| m.cve == "CVE-2021-31207")
        .unwrap();
    assert_eq!(m.update, "May21SU");
    assert_eq!(m.fixed_by_build.unwrap().to_string(), "15.2.858.12");
    assert!(m.known_exploited);
    assert_eq!(m.campaigns, vec!["ProxyShell".to_string()]);
    has(
        "15.2.858.12",
        &["CVE-2021-31207", "CVE-2021-34473", "CVE-2021-34523"],
    );
}

#[test]
fn exchange_2013_cu23_and_2010() {
    lacks("15.0.1497.2", &PROXYLOGON);
    has("15.0.1497.12", &PROXYLOGON);
    let a = assess(&parse_build("14.3.513.0").unwrap());
    assert_eq!(a.product.as_deref(), Some("Exchange Server 2010"));
    assert!(a.known);
    assert!(!a.missing.iter().any(|m| m.cve == "CVE-2021-26857"));
    // Exchange 2010 before the March 2021 rollup lacks 26857 only (of ProxyLogon).
    let m = missing("14.3.509.0");
    assert!(m.contains(&"CVE-2021-26857".to_string()));
    assert!(!m.contains(&"CVE-2021-26855".to_string()));
}

#[test]
fn unknown_builds_are_not_guessed() {
    for b in ["15.2.999.1", "16.0.1.1"] {
        let a = assess(&parse_build(b).unwrap());
        assert!(!a.known, "{b}");
        assert!(a.cu.is_none(), "{b}");
        assert!(a.update_level.is_none(), "{b}");
        assert!(a.missing.is_empty(), "{b}: {:?}", a.missing);
        assert!(matches!(
            a.status,
            BuildStatus::UnknownBuild | BuildStatus::UnknownProduct
        ));
    }
    let a = assess(&parse_build("15.2.999.1").unwrap());
    assert_eq!(a.product.as_deref(), Some("Exchange Server 2019"));
    assert_eq!(a.nearest_cu.as_deref(), Some("CU11"));
    assert!(assess(&parse_build("16.0.1.1").unwrap()).product.is_none());
    let at = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(
        missing_at(&parse_build("15.2.999.1").unwrap(), "CVE-2021-26855", at),
        ExposureAtTime::Unknown
    );
}

#[test]
fn unlisted_revision_inside_a_cu() {
    let a = assess(&parse_build("15.2.792.7").unwrap());
    assert_eq!(a.cu.as_deref(), Some("CU8"));
    assert!(!a.known);
    assert_eq!(a.status, BuildStatus::UnlistedRevision);
    assert_eq!(a.update_level.as_deref(), Some("Feb21SU"));
    assert!(a.missing.iter().any(|m| m.cve == "CVE-2021-26855"));
}

#[test]
fn three_part_build_is_cu_level() {
    let a = assess(&parse_build("15.2.792").unwrap());
    assert_eq!(a.status, BuildStatus::RevisionUnknown);
    assert_eq!(a.cu.as_deref(), Some("CU8"));
    assert!(a.update_level.is_none());
    let pl = a
        .missing
        .iter()
        .find(|m| m.cve == "CVE-2021-26855")
        .unwrap();
    assert_eq!(pl.certainty, Certainty::RevisionUnknown);
    // Fixed only in later CUs: certain even without the revision.
    let jul = a
        .missing
        .iter()
        .find(|m| m.cve == "CVE-2021-33766")
        .unwrap();
    assert_eq!(jul.certainty, Certainty::Certain);
    assert!(jul.fixed_by.starts_with("a later CU"), "{}", jul.fixed_by);
}

#[test]
fn missing_at_time() {
    let b = parse_build("15.2.792.3").unwrap();
    let before = Utc.with_ymd_and_hms(2021, 3, 1, 12, 0, 0).unwrap();
    let after = Utc.with_ymd_and_hms(2021, 3, 10, 0, 0, 0).unwrap();
    assert_eq!(
        missing_at(&b, "CVE-2021-26855", before),
        ExposureAtTime::Missing {
            fix_released: false
        }
    );
    assert_eq!(
        missing_at(&b, "CVE-2021-26855", after),
        ExposureAtTime::Missing { fix_released: true }
    );
    assert_eq!(
        missing_at(
            &parse_build("15.2.792.10").unwrap(),
            "CVE-2021-26855",
            after
        ),
        ExposureAtTime::Fixed
    );
    // An Exchange 2013-only CVE scope: 2019 has no such fix.
    assert_eq!(
        missing_at(&b, "CVE-2019-1136", after),
        ExposureAtTime::NotApplicable
    );
    // Extended Protection CVEs are not decided by the build.
    assert_eq!(
        missing_at(&b, "CVE-2024-21410", after),
        ExposureAtTime::Unknown
    );
}

#[test]
fn sorted_known_exploited_first_then_date() {
    let a = assess(&parse_build("15.1.2176.2").unwrap());
    let first_plain = a.missing.iter().position(|m| !m.known_exploited).unwrap();
    assert!(a.missing[..first_plain].iter().all(|m| m.known_exploited));
    assert!(a.missing[first_plain..].iter().all(|m| !m.known_exploited));
    for part in [&a.missing[..first_plain], &a.missing[first_plain..]] {
        assert!(
            part.windows(2)
                .all(|w| w[0].release_date <= w[1].release_date)
        );
    }
}

#[test]
fn march_2021_su_for_old_cu_fixes_proxylogon_only() {
    // Exchange 2016 CU14 with its March 2021 SU (1847.12).
    let a = assess(&parse_build("15.1.1847.12").unwrap());
    assert!(
        !a.missing
            .iter()
            .any(|m| PROXYLOGON.contains(&m.cve.as_str()))
    );
    // The other March 2021 CVEs need a supported CU.
    let other = a
        .missing
        .iter()
        .find(|m| m.cve == "CVE-2021-26412")
        .unwrap();
    assert_eq!(other.certainty, Certainty::Certain);
    assert!(
        other.fixed_by.starts_with("a later CU"),
        "{}",
        other.fixed_by
    );
    // Earlier SUs of this CU (Feb20SU: CVE-2020-0688) cannot be proven by the build.
    let kb = a.missing.iter().find(|m| m.cve == "CVE-2020-0688").unwrap();
    assert_eq!(kb.certainty, Certainty::NeedsKbEvidence);
    // Not so on a supported CU's March 2021 SU.
    let a = assess(&parse_build("15.1.2176.9").unwrap());
    assert!(!a.missing.iter().any(|m| m.cve == "CVE-2021-26412"));
    assert!(
        !a.missing
            .iter()
            .any(|m| m.certainty == Certainty::NeedsKbEvidence)
    );
}

#[test]
fn text_rendering() {
    let t = render_text(&assess(&parse_build("15.2.792.3").unwrap()));
    assert!(t.contains("Exchange Server 2019"), "{t}");
    assert!(t.contains("CU8"));
    assert!(t.contains("CU RTM"));
    let pl = t.find("CVE-2021-26855").unwrap();
    let plain = t.find("CVE-2021-28480").unwrap();
    assert!(pl < plain, "known exploited first:\n{t}");
    assert!(t.contains("ProxyLogon"));
    assert!(t.contains("—"));
    assert!(t.contains("needs configuration evidence"));
    let json = serde_json::to_value(assess(&parse_build("15.2.792.3").unwrap())).unwrap();
    assert_eq!(json["cu"], "CU8");
    assert_eq!(json["build"], "15.2.792.3");
}
