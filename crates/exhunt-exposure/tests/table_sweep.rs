//! Sweep the whole build table: for every CU and each of its updates, the build one revision
//! before the update lacks the update's CVEs and the update's build does not (for this update).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use exhunt_exposure::table::{DatePrecision, table};
use exhunt_exposure::{Build, BuildStatus, Certainty, assess};

fn one_before(b: Build) -> Build {
    match b.revision {
        Some(r) if r > 0 => Build::new(b.major, b.minor, b.build, r - 1),
        _ => Build::new(b.major, b.minor, b.build - 1, 9999),
    }
}

#[test]
fn every_update_of_every_cu_before_and_after() {
    let t = table();
    let mut checked = 0;
    for p in &t.products {
        for cu in &p.cus {
            // The CU build itself is known and placed in this CU.
            let a = assess(&cu.build);
            assert!(a.known, "{} {} {}", p.name, cu.name, cu.build);
            assert_eq!(a.cu.as_deref(), Some(cu.name.as_str()));
            assert_eq!(a.product.as_deref(), Some(p.name.as_str()));
            for e in &cu.updates {
                let u = t.update(&e.update).expect("update listed");
                let fixes: Vec<&str> = u
                    .cves
                    .iter()
                    .filter(|c| c.applies_to(&p.id))
                    .filter(|c| !e.proxylogon_only || t.is_proxylogon(&c.cve))
                    .map(|c| c.cve.as_str())
                    .collect();
                let at = assess(&e.build);
                assert!(at.known, "{} {} {} {}", p.name, cu.name, e.update, e.build);
                assert_eq!(at.status, BuildStatus::Known);
                assert!(
                    !at.missing.iter().any(|m| m.update == e.update
                        && m.certainty == Certainty::Certain
                        && fixes.contains(&m.cve.as_str())),
                    "{} {} at {} ({}) still lacks its own fixes: {:?}",
                    p.name,
                    cu.name,
                    e.update,
                    e.build,
                    at.missing
                );
                let prev = one_before(e.build);
                let before = assess(&prev);
                let lacking: BTreeSet<&str> = before
                    .missing
                    .iter()
                    .filter(|m| m.certainty == Certainty::Certain)
                    .map(|m| m.cve.as_str())
                    .collect();
                for c in &fixes {
                    assert!(
                        lacking.contains(c),
                        "{} {}: {prev} (before {} {}) should lack {c}",
                        p.name,
                        cu.name,
                        e.update,
                        e.build
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 240, "only {checked} update builds checked");
}

#[test]
fn table_is_complete_and_cited() {
    let t = table();
    let names: Vec<&str> = t.products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(names, ["E2010", "E2013", "E2016", "E2019", "SE"]);
    let cus = |id: &str| t.products.iter().find(|p| p.id == id).unwrap().cus.len();
    assert_eq!(cus("E2013"), 24); // RTM + CU1..CU23
    assert_eq!(cus("E2016"), 24); // RTM + CU1..CU23
    assert_eq!(cus("E2019"), 16); // RTM + CU1..CU15
    assert_eq!(cus("SE"), 1);
    for p in &t.products {
        let mut last: Option<Build> = None;
        for cu in &p.cus {
            assert!(!cu.sources.is_empty(), "{} {} uncited", p.id, cu.name);
            for s in &cu.sources {
                assert!(t.sources.contains_key(s), "unknown source key {s}");
            }
            if let Some(l) = last {
                assert!(cu.build > l, "{} CUs out of order at {}", p.id, cu.name);
            }
            last = Some(cu.build);
            let mut prev = cu.build;
            for e in &cu.updates {
                assert!(
                    e.build >= prev,
                    "{} {} updates out of order at {}",
                    p.id,
                    cu.name,
                    e.update
                );
                prev = e.build;
                assert!(!e.sources.is_empty());
                for s in &e.sources {
                    assert!(t.sources.contains_key(s), "unknown source key {s}");
                }
            }
        }
    }
    for u in &t.updates {
        assert!(!u.sources.is_empty(), "{} uncited", u.name);
        for s in &u.sources {
            assert!(t.sources.contains_key(s), "unknown source key {s}");
        }
        for c in &u.cves {
            assert!(t.cve(&c.cve).is_some(), "{} has no CVE entry", c.cve);
            assert!(c.cve.starts_with("CVE-") || c.cve.starts_with("ADV"));
        }
    }
    for c in &t.cves {
        if c.known_exploited {
            assert!(
                c.kev_sources.iter().any(|s| s == "cisa-kev"),
                "{} flagged known exploited without citing CISA KEV",
                c.id
            );
        }
    }
}

fn second_tuesday(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Tue, 2).unwrap()
}

#[test]
fn update_dates_follow_patch_tuesday_unless_noted() {
    let t = table();
    let mut oob = Vec::new();
    for u in &t.updates {
        match u.date_basis.as_str() {
            "patch-tuesday" => {
                assert_eq!(
                    u.date,
                    second_tuesday(u.date.year(), u.date.month()),
                    "{}",
                    u.name
                );
                assert_eq!(u.date_precision, DatePrecision::Day);
            }
            "out-of-band" => oob.push(u.name.as_str()),
            "unknown-day" => assert_eq!(u.date_precision, DatePrecision::Month, "{}", u.name),
            other => panic!("{}: unknown date basis {other}", u.name),
        }
        // The name's month is the release month.
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let m = months.iter().position(|m| u.name.starts_with(m)).unwrap() as u32 + 1;
        assert_eq!(u.date.month(), m, "{}", u.name);
        assert_eq!(
            u.date.year() % 100,
            u.name[3..5].parse::<i32>().unwrap(),
            "{}",
            u.name
        );
    }
    for n in ["Mar21SU", "Aug23SUv2", "Nov24SUv2"] {
        assert!(oob.contains(&n), "{n} should be out of band");
    }
    assert_eq!(t.update("Mar21SU").unwrap().date.to_string(), "2021-03-02");
}

#[test]
fn campaigns_and_conflicts_recorded() {
    let t = table();
    let camp = |c: &str| t.cve(c).unwrap().campaigns.clone();
    assert_eq!(camp("CVE-2021-26855"), ["ProxyLogon"]);
    assert_eq!(camp("CVE-2021-34473"), ["ProxyShell"]);
    assert_eq!(camp("CVE-2021-33766"), ["ProxyToken"]);
    assert_eq!(camp("CVE-2022-41040"), ["ProxyNotShell"]);
    assert!(camp("CVE-2022-41080").contains(&"OWASSRF".to_string()));
    let apr = t.update("Apr21SU").unwrap();
    let ps = apr.cves.iter().find(|c| c.cve == "CVE-2021-34473").unwrap();
    assert!(ps.notes.as_deref().unwrap().contains("July 2021"));
    let jul = t.update("Jul21SU").unwrap();
    let pt = jul.cves.iter().find(|c| c.cve == "CVE-2021-33766").unwrap();
    assert!(pt.notes.as_deref().unwrap().contains("conflict"));
    for c in [
        "CVE-2021-26855",
        "CVE-2021-26857",
        "CVE-2021-26858",
        "CVE-2021-27065",
        "CVE-2021-34473",
        "CVE-2021-34523",
        "CVE-2021-31207",
        "CVE-2020-0688",
        "CVE-2021-42321",
        "CVE-2022-41040",
        "CVE-2022-41082",
        "CVE-2022-41080",
        "CVE-2024-21410",
        "CVE-2026-42897",
    ] {
        assert!(t.cve(c).unwrap().known_exploited, "{c}");
    }
    assert!(!t.cve("CVE-2021-28480").unwrap().known_exploited);
}
