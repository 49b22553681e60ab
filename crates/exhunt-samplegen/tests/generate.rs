//! End-to-end checks of the generator binary: determinism, truth accuracy, format shape,
//! benign-day hygiene and corpus sizing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn run(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_exhunt-samplegen"))
        .args(args)
        .output()
        .expect("run generator");
    assert!(
        out.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn gen_case(dir: &Path, seed: u64) -> (PathBuf, Value) {
    let out = dir.join("hafnium-2021");
    run(&[
        "case",
        "--seed",
        &seed.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.join("hafnium-2021.truth.json")).unwrap())
            .unwrap();
    (out, truth)
}

fn lines(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

/// Minimal RFC 4180 splitter: commas outside double quotes separate fields; `""` escapes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out
}

fn strings_of(v: &Value, acc: &mut String) {
    match v {
        Value::String(s) => {
            acc.push_str(s);
            acc.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| strings_of(x, acc)),
        Value::Object(o) => o.values().for_each(|x| strings_of(x, acc)),
        Value::Number(n) => {
            acc.push_str(&n.to_string());
            acc.push('\n');
        }
        _ => {}
    }
}

/// Check every CSV log (header `#Fields:` with commas) and IIS log in a tree.
fn check_shapes(tree: &BTreeMap<String, Vec<u8>>) -> (usize, usize) {
    let (mut csv_rows, mut iis_rows) = (0, 0);
    for (path, data) in tree {
        let lower = path.to_ascii_lowercase();
        if !lower.ends_with(".log") {
            continue;
        }
        let ls = lines(data);
        assert!(data.ends_with(b"\r\n"), "{path}: CRLF-terminated");
        let iis = ls[0].starts_with("#Software: Microsoft Internet Information Services");
        let mut fields: Option<usize> = None;
        for (i, l) in ls.iter().enumerate() {
            if l.is_empty() {
                continue;
            }
            if let Some(f) = l.strip_prefix("#Fields: ") {
                fields = Some(if iis {
                    f.split(' ').count()
                } else {
                    f.split(',').count()
                });
                continue;
            }
            if l.starts_with('#') {
                continue;
            }
            let want = fields.unwrap_or_else(|| panic!("{path}: row before #Fields"));
            let got = if iis {
                l.split(' ').count()
            } else {
                split_csv(l).len()
            };
            assert_eq!(
                got,
                want,
                "{path}:{} has {got} fields, header has {want}: {l}",
                i + 1
            );
            if iis {
                iis_rows += 1;
            } else {
                csv_rows += 1;
            }
        }
        if path.contains("/HttpProxy/") {
            assert_eq!(fields, Some(74), "{path}: modern HttpProxy header");
            assert!(
                ls[1] == "#Version: 15.02.0792.003" && ls[2] == "#Log-type: HttpProxy Logs",
                "{path}: header"
            );
        }
    }
    (csv_rows, iis_rows)
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    gen_case(a.path(), 2021);
    gen_case(b.path(), 2021);
    gen_case(c.path(), 7);
    let ta = read_tree(a.path());
    let tb = read_tree(b.path());
    let tc = read_tree(c.path());
    assert!(ta.len() > 100);
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (k, v) in &ta {
        assert!(
            tb[k] == *v,
            "{k} differs between two runs with the same seed"
        );
    }
    assert_ne!(ta, tc, "a different seed must give a different case");
    let total: usize = ta.values().map(|v| v.len()).sum();
    assert!(total < 15 * 1024 * 1024, "case is {total} bytes");
}

#[test]
fn truth_points_at_real_evidence() {
    let d = tempfile::tempdir().unwrap();
    let (out, truth) = gen_case(d.path(), 2021);
    let tree = read_tree(&out);
    assert_eq!(truth["host"], "EXCH01.contoso.local");
    assert_eq!(truth["build"], "15.2.792.3");
    let steps = truth["steps"].as_array().unwrap();
    assert!(steps.len() >= 60, "{} steps", steps.len());
    let ips: Vec<&str> = truth["attacker_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    let mut tags_seen = std::collections::BTreeSet::new();
    for s in steps {
        let id = s["id"].as_str().unwrap();
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        let path = s["path"].as_str().unwrap();
        let data = tree
            .get(path)
            .unwrap_or_else(|| panic!("{id}: {path} missing"));
        let ev = s["evidence"].as_str().unwrap();
        let tags = s["expect_tags_any"].as_array().unwrap();
        assert!(!tags.is_empty(), "{id}: no tags");
        tags_seen.extend(tags.iter().map(|t| t.as_str().unwrap().to_string()));
        match (s["line"].as_u64(), s["record"].as_u64()) {
            (Some(n), None) => {
                let ls = lines(data);
                let l = &ls[n as usize - 1];
                if path.ends_with(".jsonl") {
                    // JSON-lines event exports: the evidence is in the event's data, unescaped.
                    let v: Value = serde_json::from_str(l).unwrap();
                    let mut text = String::new();
                    strings_of(&v["Event"]["EventData"], &mut text);
                    assert!(text.contains(ev), "{id}: {path}:{n} lacks {ev:?}");
                    continue;
                }
                assert!(l.contains(ev), "{id}: {path}:{n} lacks {ev:?}: {l}");
                assert!(!l.starts_with('#'), "{id}: points at a header");
                if path.contains("W3SVC2") {
                    assert!(
                        l.contains(" 444 CONTOSO\\EXCH01$ "),
                        "{id}: back-end line without the machine account"
                    );
                } else if path.contains("/HttpProxy/") || path.contains("LogFiles") {
                    assert!(
                        ips.iter().any(|ip| l.contains(ip)),
                        "{id}: {path}:{n} has no attacker IP"
                    );
                }
            }
            (None, Some(r)) => {
                let hit = lines(data)
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::from_str::<Value>(&l).unwrap())
                    .find(|v| v["Event"]["System"]["EventRecordID"].as_u64() == Some(r))
                    .unwrap_or_else(|| panic!("{id}: record {r} not in {path}"));
                let mut text = String::new();
                strings_of(&hit["Event"]["EventData"], &mut text);
                assert!(text.contains(ev), "{id}: record {r} lacks {ev:?}");
            }
            (None, None) => {
                let text = String::from_utf8_lossy(data);
                assert!(text.contains(ev), "{id}: file {path} lacks {ev:?}");
            }
            _ => panic!("{id}: both line and record"),
        }
    }
    for t in [
        "cve.2021-26855",
        "cve.2021-27065",
        "cve.2021-26858",
        "cve.2021-26857",
        "attack.t1505.003",
        "attack.t1003.001",
        "attack.t1560.001",
        "attack.t1114.001",
        "attack.t1059.003",
        "attack.t1595.003",
    ] {
        assert!(tags_seen.contains(t), "no step expects {t}");
    }
    // Event record ids strictly increase per channel.
    for (path, data) in tree.iter().filter(|(p, _)| p.ends_with(".jsonl")) {
        let ids: Vec<u64> = lines(data)
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["Event"]["System"]["EventRecordID"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert!(
            ids.windows(2).all(|w| w[1] == w[0] + 1),
            "{path}: record ids"
        );
    }
}

#[test]
fn log_rows_match_their_headers() {
    let d = tempfile::tempdir().unwrap();
    let (out, _) = gen_case(d.path(), 2021);
    let (csv, iis) = check_shapes(&read_tree(&out));
    assert!(csv > 5_000 && iis > 5_000, "{csv} csv rows, {iis} iis rows");
}

#[test]
fn benign_days_have_no_attacker_ip() {
    let d = tempfile::tempdir().unwrap();
    let (out, truth) = gen_case(d.path(), 2021);
    let ips: Vec<String> = truth["attacker_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut checked = 0;
    for (path, data) in read_tree(&out) {
        let text = String::from_utf8_lossy(&data);
        let benign_file = [
            "20210226",
            "20210227",
            "20210228",
            "u_ex210226",
            "u_ex210227",
            "u_ex210228",
        ]
        .iter()
        .any(|s| path.contains(s));
        if benign_file {
            checked += 1;
            for ip in &ips {
                assert!(
                    !text.contains(ip.as_str()),
                    "{path} contains attacker IP {ip}"
                );
            }
        }
        if path.ends_with(".jsonl") {
            for l in text
                .lines()
                .filter(|l| l.contains("\"SystemTime\":\"2021-02-2"))
            {
                checked += 1;
                for ip in &ips {
                    assert!(
                        !l.contains(ip.as_str()),
                        "{path}: benign-day event with {ip}"
                    );
                }
                for bad in [
                    "aspnet_client\\\\system_web\\\\",
                    "lsass.dmp",
                    "New-MailboxExportRequest",
                    "http://f/",
                ] {
                    assert!(!l.contains(bad), "{path}: benign-day event with {bad}");
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} benign files/events checked");
}

#[test]
fn corpus_writes_roughly_the_requested_size() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("corpus");
    run(&[
        "corpus",
        "--seed",
        "1",
        "--size-mb",
        "6",
        "--out",
        out.to_str().unwrap(),
    ]);
    let tree = read_tree(&out);
    let total: u64 = tree.values().map(|v| v.len() as u64).sum();
    let want = 6 * 1024 * 1024;
    assert!(
        total >= want && total < want + want / 10,
        "corpus is {total} bytes for {want}"
    );
    assert!(
        tree.keys()
            .any(|k| k.contains("/HttpProxy/Mapi/HttpProxy_"))
    );
    assert!(tree.keys().any(|k| k.contains("W3SVC2/u_ex")));
    check_shapes(&tree);
    let text: String = tree
        .values()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    for ip in [
        "104.140.114.110",
        "157.230.221.198",
        "167.99.168.251",
        "5.254.43.18",
        "86.105.18.116",
    ] {
        assert!(!text.contains(ip));
    }
}
