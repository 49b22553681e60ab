//! The disk-backed stores give exactly what the in-memory writers give, in any push order.

use exhunt_model::{Evidence, Finding, RuleRef};
use exhunt_report::{
    AlongsideOutputs, ContextEvent, ContextStore, FindingStore, FindingsReader,
    read_findings_jsonl, sort_findings, write_findings_jsonl, write_timeline, write_timeline_csv,
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
    // More rows than one parallel window of the timeline write-out.
    let findings: Vec<Finding> = (0..3000).map(|i| finding(i, hosts[i % 5])).collect();
    // The same context event is often kept twice (next to two findings).
    let contexts: Vec<ContextEvent> = (0..2000).map(|i| context(i % 1500)).collect();

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
    assert_eq!(store.len(), 3000);
    // Outputs rendered alongside: one line per finding, and one per timeline row.
    let per_finding = |f: &Finding, out: &mut Vec<u8>| {
        out.extend_from_slice(format!("F {} {:?}\n", f.id, f.host).as_bytes());
    };
    let timeline_finding = |f: &Finding, out: &mut Vec<u8>| {
        out.extend_from_slice(format!("T {} {:?}\n", f.id, f.time).as_bytes());
    };
    let timeline_context = |c: &ContextEvent, out: &mut Vec<u8>| {
        out.extend_from_slice(format!("C {} {:?} {:?}\n", c.path, c.line, c.time).as_bytes());
    };
    let (fpath, tpath) = (dir.path().join("per.txt"), dir.path().join("tl.txt"));
    let alongside = AlongsideOutputs {
        per_finding: Some((&fpath, b"header\n", &per_finding)),
        timeline: Some((&tpath, &timeline_finding, &timeline_context)),
    };
    let mut order = Vec::new();
    let written = store
        .write_jsonl(&dir.path().join("disk.jsonl"), &alongside, |f| {
            order.push(f.id.clone())
        })
        .unwrap();
    assert_eq!(
        order,
        expected.iter().map(|f| f.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(written.len(), 3000);
    write_timeline(&dir.path().join("disk.csv"), written, cstore, &alongside).unwrap();

    let read = |n: &str| std::fs::read(dir.path().join(n)).unwrap();
    assert_eq!(read("disk.jsonl"), read("mem.jsonl"));
    assert_eq!(read("disk.csv"), read("mem.csv"));

    // The per-finding output follows findings.jsonl, hosts filled.
    let mut want = b"header\n".to_vec();
    expected.iter().for_each(|f| per_finding(f, &mut want));
    assert_eq!(read("per.txt"), want);
    // The alongside timeline follows timeline.csv row for row (same order as the in-memory
    // writer: stable by time, findings before context, path, line).
    type Key<'a> = (
        Option<chrono::DateTime<chrono::Utc>>,
        u8,
        &'a str,
        Option<u64>,
    );
    let mut rows: Vec<(Key<'_>, Vec<u8>)> = Vec::new();
    for f in &expected {
        let ev = &f.evidence[0];
        let mut b = Vec::new();
        timeline_finding(f, &mut b);
        rows.push(((f.time, 0, ev.path.as_str(), ev.line), b));
    }
    for c in &ctx {
        let mut b = Vec::new();
        timeline_context(c, &mut b);
        rows.push(((c.time, 1, c.path.as_str(), c.line), b));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let want: Vec<u8> = rows.into_iter().flat_map(|r| r.1).collect();
    assert_eq!(read("tl.txt"), want);
    // The spill files are gone.
    assert!(!dir.path().join("f.spill").exists());
    assert!(!dir.path().join("c.spill").exists());
    // Every finding reads back, hosts filled.
    let back = read_findings_jsonl(&dir.path().join("disk.jsonl")).unwrap();
    assert_eq!(back.len(), 3000);
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

#[test]
fn written_findings_are_in_the_order_of_their_written_times() {
    // Within one millisecond, full-precision order and the order of what is written differ:
    // the file must follow what it shows, so a reader re-sorting it finds it sorted.
    let dir = tempfile::tempdir().unwrap();
    let base = chrono::DateTime::from_timestamp(1_614_650_000, 340_000_000).unwrap();
    let mut store = FindingStore::create(&dir.path().join("f.spill")).unwrap();
    for i in 0..40usize {
        let mut f = finding(i, Some("EXCH01"));
        // Later rule ids get earlier sub-millisecond times.
        f.time = Some(base + chrono::Duration::microseconds(900 - (i as i64 % 5) * 200));
        f.rule.id = format!("rule-{}", i % 5);
        f.id = format!("id{i:04}");
        store.push(&f).unwrap();
    }
    let path = dir.path().join("findings.jsonl");
    store
        .write_jsonl(&path, &AlongsideOutputs::default(), |_| {})
        .unwrap();
    let back = read_findings_jsonl(&path).unwrap();
    let mut resorted = back.clone();
    sort_findings(&mut resorted);
    let ids = |v: &[Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&back), ids(&resorted));
    // And the written order is by rule within the millisecond, not by the hidden precision.
    assert_eq!(back[0].rule.id, "rule-0");
}
