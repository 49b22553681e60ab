//! The disk-backed stores give exactly what the in-memory writers give, in any push order.

use exhunt_model::{Evidence, Finding, RuleRef};
use exhunt_report::{
    ContextEvent, ContextStore, FindingStore, FindingsReader, read_findings_jsonl, sort_findings,
    write_findings_jsonl, write_timeline, write_timeline_csv,
};

fn finding(i: usize, host: Option<&str>) -> Finding {
    let mut fields = serde_json::Map::new();
    fields.insert("c-ip".into(), format!("10.0.{}.{}", i % 7, i % 11).into());
    fields.insert("cs-uri-stem".into(), format!("=/ecp/{i}.js").into());
    Finding {
        id: format!("id{:04}", (i * 37) % 101),
        rule: RuleRef {
            id: format!("rule-{}", i % 5),
            title: format!("Rule {}", i % 5),
            level: ["low", "medium", "high"][i % 3].into(),
            source: "sigma:test".into(),
        },
        tags: vec!["attack.t1190".into()],
        // Several findings share a second, some have no time at all.
        time: (!i.is_multiple_of(9))
            .then(|| chrono::DateTime::from_timestamp(1_614_650_000 + (i as i64 % 13), 0).unwrap()),
        host: host.map(str::to_string),
        evidence: vec![Evidence {
            path: format!("logs/{}.log", i % 4),
            sha256: "ab".repeat(32),
            line: Some((i % 17) as u64 + 1),
            record: None,
            excerpt: format!("line {i} with \"quotes\", commas and\nnewline"),
        }],
        fields,
    }
}

fn context(i: usize) -> ContextEvent {
    ContextEvent {
        time: chrono::DateTime::from_timestamp(1_614_650_000 + (i as i64 % 13), 0),
        path: format!("logs/{}.log", i % 4),
        line: Some((i % 23) as u64 + 1),
        record: None,
        source: "iis".into(),
        excerpt: format!("context {}", i % 23),
    }
}

#[test]
fn stores_write_what_the_in_memory_writers_write() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = [Some("EXCH01"), None, Some("EXCH01"), Some("EXCH02"), None];
    let findings: Vec<Finding> = (0..300).map(|i| finding(i, hosts[i % 5])).collect();
    // The same context event is often kept twice (next to two findings).
    let contexts: Vec<ContextEvent> = (0..200).map(|i| context(i % 150)).collect();

    // In memory: sort, fill missing hosts with the most named one, dedup context.
    let mut expected = findings.clone();
    for f in &mut expected {
        f.host.get_or_insert_with(|| "EXCH01".into());
    }
    sort_findings(&mut expected);
    let mut ctx = contexts.clone();
    ctx.sort_by(|a, b| {
        (a.time, &a.path, a.line.or(a.record)).cmp(&(b.time, &b.path, b.line.or(b.record)))
    });
    ctx.dedup();
    write_findings_jsonl(&dir.path().join("mem.jsonl"), &expected).unwrap();
    write_timeline_csv(&dir.path().join("mem.csv"), &expected, &ctx).unwrap();

    // On disk, pushed in a scrambled order as threads would.
    let mut store = FindingStore::create(&dir.path().join("f.spill")).unwrap();
    let mut cstore = ContextStore::create(&dir.path().join("c.spill")).unwrap();
    for k in 0..findings.len() {
        store.push(&findings[(k * 113) % findings.len()]).unwrap();
    }
    for k in (0..contexts.len()).rev() {
        cstore.push(&contexts[k]).unwrap();
    }
    assert_eq!(store.len(), 300);
    let mut order = Vec::new();
    let written = store
        .write_jsonl(&dir.path().join("disk.jsonl"), |f| order.push(f.id.clone()))
        .unwrap();
    assert_eq!(
        order,
        expected.iter().map(|f| f.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(written.len(), 300);
    write_timeline(&dir.path().join("disk.csv"), written, cstore).unwrap();

    let read = |n: &str| std::fs::read(dir.path().join(n)).unwrap();
    assert_eq!(read("disk.jsonl"), read("mem.jsonl"));
    assert_eq!(read("disk.csv"), read("mem.csv"));
    // The spill files are gone.
    assert!(!dir.path().join("f.spill").exists());
    assert!(!dir.path().join("c.spill").exists());
    // Every finding reads back, hosts filled.
    let back = read_findings_jsonl(&dir.path().join("disk.jsonl")).unwrap();
    assert_eq!(back.len(), 300);
    assert!(back.iter().all(|f| f.host.is_some()));
}

#[test]
fn reader_names_the_line_that_does_not_parse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("findings.jsonl");
    write_findings_jsonl(&path, &[finding(1, None), finding(2, None)]).unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.truncate(text.len() - 20);
    std::fs::write(&path, text).unwrap();
    let results: Vec<_> = FindingsReader::open(&path).unwrap().collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("line 2"), "{err}");
}
