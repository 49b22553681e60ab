//! Exports of large and malformed scan folders: every finding lands in the streamed outputs in
//! the right order whatever the order of findings.jsonl, the page stays capped, and broken
//! input is an error that names the line or row.

mod common;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use exhunt_model::{Evidence, Finding, RuleRef};
use exhunt_report::ContextEvent;
use serde_json::{Map, Value};

const OUTPUTS: &[&str] = &[
    "report.html",
    "exhunt.stix.json",
    "navigator-layer.json",
    "timeline.jsonl",
    "findings.csv",
];

const LEVELS: &[&str] = &[
    "critical",
    "high",
    "medium",
    "medium",
    "low",
    "low",
    "informational",
    "medium",
    "low",
    "informational",
];

/// A small deterministic generator (xorshift), so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn base_time() -> DateTime<Utc> {
    "2021-03-02T03:00:00Z".parse().unwrap()
}

/// `n` small findings: several per millisecond, a few untimed, seven rules, four log files,
/// levels such that the page's cap falls inside the `high` level.
fn many_findings(n: usize) -> Vec<Finding> {
    (0..n)
        .map(|i| {
            let mut fields = Map::new();
            if i % 3 == 0 {
                fields.insert(
                    "c-ip".into(),
                    Value::from(format!("10.0.{}.{}", i % 7, i % 5)),
                );
            }
            if i % 11 == 0 {
                fields.insert(
                    "CommandLine".into(),
                    Value::from(format!("cmd.exe /c dir {i}")),
                );
            }
            let tags = match i % 4 {
                0 => vec!["attack.initial-access", "attack.t1190", "cve.2021-26855"],
                1 => vec!["attack.persistence", "attack.t1505.003"],
                2 => vec!["attack.discovery", "attack.t1082"],
                _ => vec![],
            };
            Finding {
                id: format!("{:032x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                rule: RuleRef {
                    id: format!("rule-{}", i % 7),
                    title: format!("Rule {}", i % 7),
                    level: LEVELS[i % LEVELS.len()].into(),
                    source: "sigma:test.yml".into(),
                },
                tags: tags.into_iter().map(String::from).collect(),
                time: (i % 50 != 7).then(|| base_time() + Duration::milliseconds((i / 3) as i64)),
                host: Some(format!("EXCH0{}", i % 2)),
                evidence: vec![Evidence {
                    path: format!("logs/{}.log", i % 4),
                    sha256: "a".repeat(64),
                    line: Some(1 + (i as u64 % 97)),
                    record: None,
                    excerpt: format!("event {i}"),
                }],
                fields,
            }
        })
        .collect()
}

/// Context rows at the same times and places as findings (so kinds tie on time and path).
fn many_context(n: usize) -> Vec<ContextEvent> {
    (0..n)
        .map(|i| ContextEvent {
            time: (i % 40 != 3).then(|| base_time() + Duration::milliseconds((i / 2) as i64)),
            path: format!("logs/{}.log", i % 4),
            line: Some(1 + (i as u64 % 97)),
            record: None,
            source: "iis".into(),
            excerpt: format!("context {i}"),
        })
        .collect()
}

/// Write a scan folder whose findings.jsonl holds `findings` in the order given.
fn write_folder(dir: &Path, findings: &[Finding], context: &[ContextEvent]) {
    std::fs::create_dir_all(dir).unwrap();
    exhunt_report::write_findings_jsonl(&dir.join("findings.jsonl"), findings).unwrap();
    exhunt_report::write_summary(&dir.join("summary.json"), &common::summary(findings)).unwrap();
    exhunt_report::write_timeline_csv(&dir.join("timeline.csv"), findings, context).unwrap();
}

fn key(
    time: Option<DateTime<Utc>>,
    kind: u8,
    ev: Option<&Evidence>,
) -> (Option<DateTime<Utc>>, u8, String, Option<u64>) {
    (
        time,
        kind,
        ev.map(|e| e.path.clone()).unwrap_or_default(),
        ev.and_then(|e| e.line.or(e.record)),
    )
}

#[test]
fn many_findings_stream_out_complete_and_in_order_whatever_the_file_order() {
    const N: usize = 24_000;
    let mut sorted = many_findings(N);
    exhunt_report::sort_findings(&mut sorted);
    let context = many_context(6_000);

    // The same findings three ways: sorted; times in order but findings within a millisecond
    // swapped (as exhunt's own files can be once times are cut to milliseconds); shuffled.
    let mut same_ms = sorted.clone();
    let mut i = 0;
    while i + 1 < same_ms.len() {
        if same_ms[i].time.is_some() && same_ms[i].time == same_ms[i + 1].time {
            same_ms.swap(i, i + 1);
            i += 2;
        }
        i += 1;
    }
    let mut shuffled = sorted.clone();
    let mut rng = Rng(0x5eed);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i + 1));
    }
    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = ["sorted", "same-ms", "shuffled"]
        .iter()
        .map(|n| root.path().join(n))
        .collect();
    for (dir, findings) in dirs.iter().zip([&sorted, &same_ms, &shuffled]) {
        write_folder(dir, findings, &context);
        let r = exhunt_export::write_all(dir).unwrap();
        assert_eq!(r.written.len(), OUTPUTS.len());
    }
    // The outputs depend on the findings, not on the order findings.jsonl lists them in.
    for name in OUTPUTS {
        let a = std::fs::read(dirs[0].join(name)).unwrap();
        for d in &dirs[1..] {
            assert!(
                a == std::fs::read(d.join(name)).unwrap(),
                "{name} of {} differs from the sorted folder's",
                d.display()
            );
        }
    }
    let dir = &dirs[2];

    // findings.csv: every finding, in findings order.
    let mut rdr = csv::Reader::from_path(dir.join("findings.csv")).unwrap();
    let ids: Vec<String> = rdr
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_string())
        .collect();
    let want: Vec<&str> = sorted.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids.len(), N);
    assert!(ids == want, "findings.csv is not in findings order");

    // timeline.jsonl: findings and context merged by (time, kind, path, line), findings in
    // findings order and context rows in timeline.csv order within a key.
    let mut csv_context = context.clone();
    csv_context.sort_by(|a, b| {
        let ka = (a.time, a.path.clone(), a.line);
        ka.cmp(&(b.time, b.path.clone(), b.line))
    });
    let mut want: Vec<(_, String)> = sorted
        .iter()
        .map(|f| (key(f.time, 0, f.evidence.first()), f.id.clone()))
        .collect();
    for c in &csv_context {
        let ev = Evidence {
            path: c.path.clone(),
            sha256: String::new(),
            line: c.line,
            record: c.record,
            excerpt: String::new(),
        };
        want.push((key(c.time, 1, Some(&ev)), c.excerpt.clone()));
    }
    want.sort_by(|a, b| a.0.cmp(&b.0));
    let text = std::fs::read_to_string(dir.join("timeline.jsonl")).unwrap();
    let got: Vec<String> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            match v["exhunt.kind"].as_str().unwrap() {
                "finding" => v["exhunt.finding_id"].as_str().unwrap().to_string(),
                _ => v["event.original"].as_str().unwrap().to_string(),
            }
        })
        .collect();
    assert_eq!(got.len(), N + context.len());
    let want: Vec<String> = want.into_iter().map(|(_, l)| l).collect();
    if let Some(k) = (0..got.len()).find(|&k| got[k] != want[k]) {
        panic!("timeline.jsonl row {k}: got {}, want {}", got[k], want[k]);
    }

    // report.html: capped, most severe first, then earliest among equally severe.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let rank = |l: &str| {
        ["informational", "low", "medium", "high", "critical"]
            .iter()
            .position(|x| *x == l)
            .unwrap()
    };
    let mut by_severity: Vec<usize> = (0..N).collect();
    by_severity.sort_by_key(|&i| (std::cmp::Reverse(rank(&sorted[i].rule.level)), i));
    let mut shown: Vec<usize> = by_severity[..exhunt_export::MAX_HTML_FINDINGS].to_vec();
    shown.sort();
    let rows: Vec<&str> = html
        .split("<tr id=\"f-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(rows.len(), exhunt_export::MAX_HTML_FINDINGS);
    let want: Vec<&str> = shown.iter().map(|&i| sorted[i].id.as_str()).collect();
    assert!(rows == want, "report.html lists other findings");
    assert!(html.contains(&format!(
        "the {} most severe of {N} findings",
        exhunt_export::MAX_HTML_FINDINGS
    )));
}

#[test]
fn a_truncated_findings_line_is_an_error_naming_it() {
    let t = tempfile::tempdir().unwrap();
    let findings = many_findings(50);
    write_folder(t.path(), &findings, &many_context(10));
    let path = t.path().join("findings.jsonl");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
    let e = exhunt_export::write_all(t.path()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("findings.jsonl"), "{msg}");
    assert!(msg.contains("line 50"), "{msg}");
    // Nothing is written from a folder that cannot be read.
    assert!(!t.path().join("report.html").exists());

    // Also when summary.json is missing (its stand-in is computed from the findings first).
    std::fs::remove_file(t.path().join("summary.json")).unwrap();
    let msg = exhunt_export::write_all(t.path()).unwrap_err().to_string();
    assert!(msg.contains("line 50"), "{msg}");
}

#[test]
fn a_bad_timeline_row_is_an_error_naming_it() {
    let t = tempfile::tempdir().unwrap();
    write_folder(t.path(), &many_findings(20), &many_context(10));
    let path = t.path().join("timeline.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let k = lines.iter().position(|l| l.contains(",context,")).unwrap();
    let rest = lines[k].split_once(',').unwrap().1.to_string();
    lines[k] = format!("not-a-time,{rest}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let msg = exhunt_export::write_all(t.path()).unwrap_err().to_string();
    assert!(msg.contains("timeline.csv"), "{msg}");
    assert!(msg.contains(&format!("row {}", k + 1)), "{msg}");
    assert!(msg.contains("not-a-time"), "{msg}");
}

/// Findings that share an id all count in the times of an indicator seen in one of them.
#[test]
fn stix_sighting_spans_every_finding_with_a_sighted_id() {
    let t = tempfile::tempdir().unwrap();
    let mut findings = many_findings(6);
    for f in &mut findings {
        f.fields.clear();
    }
    findings[4]
        .fields
        .insert("c-ip".into(), "203.0.113.9".into());
    findings[1].id = findings[4].id.clone();
    exhunt_report::sort_findings(&mut findings);
    write_folder(t.path(), &findings, &[]);
    let spath = t.path().join("summary.json");
    let mut summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&spath).unwrap()).unwrap();
    summary["verdict"]["attacker_addresses"] =
        serde_json::json!([{"address": "203.0.113.9", "findings": 1, "first": null}]);
    std::fs::write(&spath, summary.to_string()).unwrap();
    exhunt_export::write_all(t.path()).unwrap();
    let stix: Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("exhunt.stix.json")).unwrap())
            .unwrap();
    let sighting = stix["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "sighting")
        .expect("a sighting of the attacker address");
    let first = exhunt_report::rfc3339(base_time()); // finding 1's time
    let last = exhunt_report::rfc3339(base_time() + Duration::milliseconds(1)); // finding 4's
    assert_eq!(sighting["first_seen"], first.as_str());
    assert_eq!(sighting["last_seen"], last.as_str());
}
