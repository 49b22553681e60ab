//! The shipped sample case against its ground truth: every planted step is found with its
//! evidence, each ProxyLogon CVE is named, and the benign traffic (including the benign days)
//! raises nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

#[derive(Deserialize)]
struct Truth {
    benign_days: Vec<String>,
    attacker_ips: Vec<String>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    id: String,
    title: String,
    path: String,
    line: Option<u64>,
    record: Option<u64>,
    expect_tags_any: Vec<String>,
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

struct Scan {
    findings: Vec<serde_json::Value>,
    summary: serde_json::Value,
    exposure: serde_json::Value,
    attribution: serde_json::Value,
    stdout: String,
}

/// Run exhunt with `args`; it must succeed.
fn exhunt(args: &[&str]) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_exhunt"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn scan_sample() -> Scan {
    let case = samples().join("hafnium-2021");
    assert!(
        case.is_dir(),
        "the sample case is missing: regenerate it (samples/README.md)"
    );
    let out = tempfile::tempdir().unwrap();
    let o = exhunt(&[
        "scan",
        case.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let findings = std::fs::read_to_string(out.path().join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    let exposure =
        serde_json::from_slice(&std::fs::read(out.path().join("exposure.json")).unwrap()).unwrap();
    let attribution =
        serde_json::from_slice(&std::fs::read(out.path().join("attribution.json")).unwrap())
            .unwrap();
    Scan {
        findings,
        summary,
        exposure,
        attribution,
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

fn truth() -> Truth {
    serde_json::from_slice(&std::fs::read(samples().join("hafnium-2021.truth.json")).unwrap())
        .unwrap()
}

/// (path, line, record) of every piece of evidence of a finding.
fn locations(f: &serde_json::Value) -> Vec<(String, Option<u64>, Option<u64>)> {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64(),
                e["record"].as_u64(),
            )
        })
        .collect()
}

fn tags(f: &serde_json::Value) -> BTreeSet<String> {
    f["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_planted_step_is_found_and_nothing_else() {
    let truth = truth();
    let scan = scan_sample();
    assert!(!truth.steps.is_empty());

    let mut missed = Vec::new();
    for step in &truth.steps {
        let key = (step.path.clone(), step.line, step.record);
        let found = scan.findings.iter().any(|f| {
            locations(f).contains(&key) && step.expect_tags_any.iter().any(|t| tags(f).contains(t))
        });
        if !found {
            missed.push(format!(
                "{} {} ({}:{:?}:{:?})",
                step.id, step.title, step.path, step.line, step.record
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "planted steps not found:\n{}",
        missed.join("\n")
    );

    // Precision: every finding's evidence is a planted step, so the benign traffic under the
    // attack (health probes, ordinary OWA/EAS/MAPI use, admin work) raised nothing.
    let planted: BTreeSet<(String, Option<u64>, Option<u64>)> = truth
        .steps
        .iter()
        .map(|s| (s.path.clone(), s.line, s.record))
        .collect();
    let mut false_positives = Vec::new();
    for f in &scan.findings {
        for loc in locations(f) {
            if !planted.contains(&loc) {
                false_positives.push(format!("{} at {:?}", f["rule"]["title"], loc));
            }
        }
    }
    assert!(
        false_positives.is_empty(),
        "findings on benign events:\n{}",
        false_positives.join("\n")
    );
}

#[test]
fn benign_days_are_silent_and_each_proxylogon_cve_has_evidence_lines() {
    let truth = truth();
    let scan = scan_sample();
    for f in &scan.findings {
        if let Some(t) = f["time"].as_str() {
            assert!(
                !truth.benign_days.iter().any(|d| t.starts_with(d.as_str())),
                "finding on a benign day: {} at {t}",
                f["rule"]["title"]
            );
        }
    }
    for cve in [
        "cve.2021-26855",
        "cve.2021-26857",
        "cve.2021-26858",
        "cve.2021-27065",
    ] {
        let with_evidence = scan.findings.iter().any(|f| {
            tags(f).contains(cve)
                && f["evidence"].as_array().unwrap().iter().any(|e| {
                    (e["line"].is_u64() || e["record"].is_u64())
                        && e["excerpt"].as_str().is_some_and(|x| !x.is_empty())
                        && e["sha256"].as_str().is_some_and(|h| h.len() == 64)
                })
        });
        assert!(with_evidence, "{cve} has no finding with an evidence line");
    }
}

#[test]
fn verdict_names_the_chain_and_the_attackers() {
    let truth = truth();
    let scan = scan_sample();
    let v = &scan.summary["verdict"];
    assert_eq!(v["level"], "compromised");
    assert!(
        v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "ProxyLogon")
    );
    let reported: BTreeSet<&str> = v["attacker_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    for ip in &reported {
        assert!(
            truth.attacker_ips.iter().any(|t| t == ip),
            "{ip} reported as attacker but is not one"
        );
    }
    assert!(!reported.is_empty());
    let phases: Vec<&str> = v["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    for p in [
        "probing",
        "exploitation",
        "webshell",
        "post-exploitation",
        "data-theft",
    ] {
        assert!(phases.contains(&p), "phase {p} missing from {phases:?}");
    }
    assert!(scan.stdout.contains("COMPROMISED"));
    assert!(
        scan.summary["warnings"].as_array().unwrap().is_empty(),
        "{}",
        scan.summary["warnings"]
    );
}

/// The server's build comes from the logs, and at the first exploitation it still lacked the
/// March 2021 security update (ProxyLogon fixes), which had not even been released yet.
#[test]
fn exposure_at_the_time_of_first_exploitation() {
    let scan = scan_sample();
    let e = &scan.exposure;
    assert_eq!(e["build"], "15.2.792.3");
    let rows = e["exploitation"].as_array().unwrap();
    let first = rows
        .iter()
        .filter(|r| r["cve"] == "CVE-2021-26855")
        .min_by_key(|r| r["time"].as_str().unwrap().to_string())
        .expect("an exploitation finding for CVE-2021-26855");
    assert_eq!(first["exposure"]["state"], "missing");
    assert_eq!(first["exposure"]["fix_released"], false);
    let missing: Vec<&str> = e["assessment"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["cve"].as_str().unwrap())
        .collect();
    for cve in [
        "CVE-2021-26855",
        "CVE-2021-26857",
        "CVE-2021-26858",
        "CVE-2021-27065",
    ] {
        assert!(missing.contains(&cve), "{cve} not reported missing");
    }
    assert!(scan.stdout.contains("Server build: 15.2.792.3"));
}

/// The built-in indicator packs flag the attacker addresses and the web shell files, naming the
/// publisher, and the built-in YARA pack flags both web shells.
#[test]
fn indicators_and_yara_flag_attackers_and_web_shells() {
    let truth = truth();
    let scan = scan_sample();
    let ioc_ips: BTreeSet<String> = scan
        .findings
        .iter()
        .filter(|f| f["rule"]["source"].as_str().unwrap().starts_with("ioc:"))
        .filter(|f| f["fields"]["ioc_kind"] == "ip")
        .map(|f| {
            f["fields"]["ioc_value"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        truth.attacker_ips.iter().any(|ip| ioc_ips.contains(ip)),
        "no attacker address matched an indicator: {ioc_ips:?}"
    );
    for f in scan
        .findings
        .iter()
        .filter(|f| f["rule"]["source"].as_str().unwrap().starts_with("ioc:"))
    {
        assert!(
            f["fields"]["ioc_source"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
    }
    let shells: Vec<&Step> = truth
        .steps
        .iter()
        .filter(|s| s.line.is_none() && s.record.is_none() && s.path.ends_with(".aspx"))
        .collect();
    assert_eq!(shells.len(), 2, "the sample plants two web shell files");
    for shell in shells {
        let by = |prefix: &str| {
            scan.findings.iter().any(|f| {
                f["rule"]["source"].as_str().unwrap().starts_with(prefix)
                    && f["evidence"][0]["path"] == shell.path.as_str()
            })
        };
        assert!(by("yara:"), "{} not flagged by YARA", shell.path);
    }
    assert!(scan.findings.iter().any(|f| {
        f["rule"]["source"].as_str().unwrap().starts_with("ioc:")
            && f["evidence"][0]["path"]
                .as_str()
                .unwrap()
                .ends_with(".aspx")
            && f["evidence"][0]["line"].is_null()
    }));
}

/// Rank of an ICD 203 likelihood phrase, weakest first.
fn likelihood_rank(words: &str) -> usize {
    [
        "almost no chance",
        "very unlikely",
        "unlikely",
        "roughly even chance",
        "likely",
        "very likely",
        "almost certain",
    ]
    .iter()
    .position(|w| words.starts_with(w))
    .unwrap_or_else(|| panic!("not an ICD 203 phrase: {words}"))
}

/// The sample is a HAFNIUM-style intrusion before the patch, with HAFNIUM's published addresses
/// and tooling: HAFNIUM comes first, for reasons a reader can check.
#[test]
fn attribution_names_hafnium_first_with_its_reasons() {
    let scan = scan_sample();
    let a = &scan.attribution;
    let top = &a["hypotheses"][0];
    assert_eq!(top["id"], "G0125", "{}", a["headline"]);
    assert!(likelihood_rank(top["likelihood_words"].as_str().unwrap()) >= 4);
    let reasons = serde_json::to_string(&top["supporting"]).unwrap();
    assert!(
        reasons.contains("pre-patch") || reasons.contains("before the patch"),
        "{reasons}"
    );
    // Every supporting item points at findings of the scan.
    let ids: BTreeSet<&str> = scan
        .findings
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for item in top["supporting"].as_array().unwrap() {
        for id in item["finding_ids"].as_array().into_iter().flatten() {
            assert!(ids.contains(id.as_str().unwrap()), "{id} is no finding");
        }
    }
}

/// The same intrusion without the attacker's indicators (indicator findings dropped, every
/// public address replaced by a documentation address) and 45 days later, after the patch:
/// what is left is tradecraft many actors share, so the answer must be weak.
#[test]
fn attribution_without_indicators_and_timing_is_weak() {
    let scan = scan_sample();
    let public_ipv4 = regex::Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}\b").unwrap();
    let mut replaced: std::collections::BTreeMap<String, String> = Default::default();
    let mut lines = String::new();
    for f in &scan.findings {
        let ioc = f["fields"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("ioc_"));
        if ioc {
            continue;
        }
        let mut f = f.clone();
        if let Some(t) = f["time"].as_str() {
            let t: chrono::DateTime<chrono::Utc> = t.parse().unwrap();
            let later = t + chrono::Duration::days(45);
            f["time"] = later
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into();
        }
        let text = serde_json::to_string(&f).unwrap();
        let text = public_ipv4.replace_all(&text, |c: &regex::Captures<'_>| {
            let ip = &c[0];
            let private = ip
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| a.is_private() || a.is_loopback() || a.is_unspecified());
            if private || ip.parse::<std::net::Ipv4Addr>().is_err() {
                return ip.to_string();
            }
            let n = replaced.len() + 1;
            replaced
                .entry(ip.to_string())
                .or_insert_with(|| format!("198.51.100.{n}"))
                .clone()
        });
        lines.push_str(&text);
        lines.push('\n');
    }
    assert!(
        !replaced.is_empty(),
        "the sample's attacker addresses were not found"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("findings.jsonl"), lines).unwrap();
    exhunt(&["attribute", dir.path().to_str().unwrap()]);
    let a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("attribution.json")).unwrap())
            .unwrap();
    let top = &a["hypotheses"][0];
    let weak = a["insufficient_evidence"] == true
        || likelihood_rank(top["likelihood_words"].as_str().unwrap()) <= 3;
    assert!(weak, "{}", a["headline"]);
    assert_ne!(top["confidence"], "high", "{}", a["headline"]);
    // And the full case was stronger: the indicators and timing carried weight.
    let full = &scan.attribution["hypotheses"][0];
    assert!(full["posterior"].as_f64().unwrap() > top["posterior"].as_f64().unwrap());
}

#[test]
fn rebuilding_the_reports_gives_the_scans_bytes() {
    // The scan renders findings.csv and timeline.jsonl while it writes findings.jsonl and
    // timeline.csv; `exhunt report` renders every export from the written files. Both must
    // agree byte for byte.
    let case = samples().join("hafnium-2021");
    let out = tempfile::tempdir().unwrap();
    let scanned = out.path().join("scanned");
    exhunt(&[
        "scan",
        case.to_str().unwrap(),
        "--out",
        scanned.to_str().unwrap(),
        "-q",
    ]);
    let exports = [
        "report.html",
        "exhunt.stix.json",
        "navigator-layer.json",
        "timeline.jsonl",
        "findings.csv",
    ];
    let rebuilt = out.path().join("rebuilt");
    std::fs::create_dir(&rebuilt).unwrap();
    for entry in std::fs::read_dir(&scanned).unwrap() {
        let name = entry.unwrap().file_name();
        if !exports.iter().any(|e| name.to_str() == Some(e)) {
            std::fs::copy(scanned.join(&name), rebuilt.join(&name)).unwrap();
        }
    }
    exhunt(&["report", rebuilt.to_str().unwrap()]);
    for name in exports {
        let a = std::fs::read(scanned.join(name)).unwrap();
        let b = std::fs::read(rebuilt.join(name)).unwrap();
        assert!(a.len() > 100, "{name} is nearly empty");
        assert!(
            a == b,
            "{name} differs between the scan and `exhunt report`"
        );
    }
}
