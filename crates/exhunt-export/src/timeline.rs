//! `timeline.jsonl` (Timesketch + ECS) and `findings.csv` (spreadsheets).

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, Utc};
use exhunt_model::Finding;
use exhunt_report::{ContextEvent, neutralise_cell, phases_of};
use serde_json::{Map, Value, json};

use crate::attack::{tactic_name, tactics_of, technique_name, techniques_of};
use crate::{
    Fail, Input, METHOD_FIELDS, STATUS_FIELDS, UA_FIELDS, URL_PATH_FIELDS, USER_FIELDS, field,
    file_sha256, severity_of, source_ip, ts, url_of,
};

fn put(m: &mut Map<String, Value>, key: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v.into());
    }
}

fn finding_event(f: &Finding) -> Map<String, Value> {
    let mut m = Map::new();
    let ev = f.evidence.first();
    m.insert(
        "datetime".into(),
        f.time.map(ts).map(Value::from).unwrap_or(Value::Null),
    );
    m.insert(
        "timestamp_desc".into(),
        if f.time.is_some() {
            "Event Recorded"
        } else {
            "No Timestamp"
        }
        .into(),
    );
    let detail = crate::detail_of(f);
    let message = if detail.is_empty() {
        format!("[{}] {}", f.rule.level, f.rule.title)
    } else {
        format!("[{}] {}: {}", f.rule.level, f.rule.title, detail)
    };
    m.insert("message".into(), message.into());
    put(&mut m, "@timestamp", f.time.map(ts));
    m.insert("event.kind".into(), "alert".into());
    m.insert("event.severity".into(), severity_of(&f.rule.level).into());
    put(&mut m, "event.code", field(f, &["EventID", "EventId"]));
    put(
        &mut m,
        "host.name",
        f.host.as_deref().or(field(f, &["Computer"])),
    );
    put(&mut m, "source.ip", source_ip(f));
    put(&mut m, "user_agent.original", field(f, UA_FIELDS));
    put(&mut m, "http.request.method", field(f, METHOD_FIELDS));
    put(&mut m, "url.original", url_of(f));
    put(&mut m, "url.path", field(f, URL_PATH_FIELDS));
    put(&mut m, "url.query", field(f, &["cs-uri-query"]));
    put(
        &mut m,
        "http.response.status_code",
        field(f, STATUS_FIELDS).and_then(|s| s.parse::<u64>().ok()),
    );
    put(&mut m, "user.name", field(f, USER_FIELDS));
    put(&mut m, "process.command_line", field(f, &["CommandLine"]));
    put(&mut m, "process.executable", field(f, &["Image"]));
    put(
        &mut m,
        "process.pid",
        field(f, &["ProcessId"]).and_then(|s| s.parse::<u64>().ok()),
    );
    put(
        &mut m,
        "process.parent.executable",
        field(f, &["ParentImage"]),
    );
    put(
        &mut m,
        "process.parent.command_line",
        field(f, &["ParentCommandLine"]),
    );
    put(&mut m, "file.path", field(f, &["TargetFilename", "Path"]));
    put(&mut m, "file.hash.sha256", file_sha256(f));
    m.insert("rule.id".into(), f.rule.id.clone().into());
    m.insert("rule.name".into(), f.rule.title.clone().into());
    m.insert("rule.ruleset".into(), f.rule.source.clone().into());
    m.insert("log.level".into(), f.rule.level.clone().into());
    let techniques = techniques_of(&f.tags);
    if !techniques.is_empty() {
        m.insert("threat.framework".into(), "MITRE ATT&CK".into());
        m.insert("threat.technique.id".into(), json!(techniques));
        let names: Vec<String> = techniques.iter().map(|t| technique_name(t)).collect();
        m.insert("threat.technique.name".into(), json!(names));
    }
    let tactics = tactics_of(&f.tags);
    if !tactics.is_empty() {
        let names: Vec<String> = tactics.iter().map(|t| tactic_name(t)).collect();
        m.insert("threat.tactic.name".into(), json!(names));
    }
    let cves: Vec<String> = f
        .tags
        .iter()
        .filter_map(|t| t.strip_prefix("cve."))
        .map(|c| format!("CVE-{}", c.to_ascii_uppercase()))
        .collect();
    if !cves.is_empty() {
        m.insert("vulnerability.id".into(), json!(cves));
    }
    m.insert("tags".into(), json!(f.tags));
    put(&mut m, "log.file.path", ev.map(|e| e.path.clone()));
    put(&mut m, "event.original", ev.map(|e| e.excerpt.clone()));
    m.insert("exhunt.kind".into(), "finding".into());
    m.insert("exhunt.finding_id".into(), f.id.clone().into());
    m.insert("exhunt.phases".into(), json!(phases_of(&f.tags)));
    put(&mut m, "exhunt.evidence.line", ev.and_then(|e| e.line));
    put(&mut m, "exhunt.evidence.record", ev.and_then(|e| e.record));
    put(
        &mut m,
        "exhunt.evidence.sha256",
        ev.map(|e| e.sha256.clone()),
    );
    m
}

fn context_event(c: &ContextEvent) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "datetime".into(),
        c.time.map(ts).map(Value::from).unwrap_or(Value::Null),
    );
    m.insert(
        "timestamp_desc".into(),
        if c.time.is_some() {
            "Event Recorded"
        } else {
            "No Timestamp"
        }
        .into(),
    );
    m.insert(
        "message".into(),
        format!("[context] {}: {}", c.source, c.excerpt).into(),
    );
    put(&mut m, "@timestamp", c.time.map(ts));
    m.insert("event.kind".into(), "event".into());
    m.insert("event.dataset".into(), c.source.clone().into());
    m.insert("log.file.path".into(), c.path.clone().into());
    m.insert("event.original".into(), c.excerpt.clone().into());
    m.insert("exhunt.kind".into(), "context".into());
    put(&mut m, "exhunt.evidence.line", c.line);
    put(&mut m, "exhunt.evidence.record", c.record);
    m
}

/// Findings and context events in time order (untimed first, as `timeline.csv` has them),
/// one JSON object per line.
///
/// The order is that of a stable sort by (time, kind, path, line or record): it is worked out
/// on the small index of both inputs, then each row is re-read by position and written.
pub(crate) fn render_jsonl(input: &Input, w: &mut dyn Write) -> Result<(), Fail> {
    // (time, 0 for findings / 1 for context, path rank, line or record, then the order within
    // each input, which keeps the sort total), and the file index or row of the item.
    let context = input.context.as_ref();
    let mut items: Vec<Item> =
        Vec::with_capacity(input.len() + context.map_or(0, |c| c.rows.len()));
    for (seq, fidx) in input.in_order() {
        let e = &input.entries[fidx as usize];
        let path = input.finding_path_rank[e.path as usize];
        items.push(((e.time, 0, path, e.line_or_record, seq as u32), fidx));
    }
    if let Some(c) = context {
        for (i, r) in c.rows.iter().enumerate() {
            let path = input.context_path_rank[r.path as usize];
            items.push(((r.time, 1, path, r.line_or_record, i as u32), i as u32));
        }
    }
    items.sort_unstable_by_key(|a| a.0);
    // Rendering (parse, map, serialize) is most of the work: workers render consecutive
    // batches into buffers that are written in order, a window of batches at a time, so memory
    // stays at a few batches.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    for window in items.chunks(JSONL_BATCH * workers) {
        let mut batches = window.chunks(JSONL_BATCH);
        let first = batches.next().unwrap_or_default();
        let rendered: Vec<Result<Vec<u8>, Fail>> = std::thread::scope(|s| {
            let others: Vec<_> = batches
                .map(|batch| s.spawn(move || render_batch(input, batch)))
                .collect();
            std::iter::once(render_batch(input, first))
                .chain(
                    others
                        .into_iter()
                        .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
                )
                .collect()
        });
        for r in rendered {
            w.write_all(&r?)?;
        }
    }
    Ok(())
}

/// Timeline rows rendered per batch (about 4 KiB each).
const JSONL_BATCH: usize = 256;

type Item = ((Option<DateTime<Utc>>, u8, u32, Option<u64>, u32), u32);

fn render_batch(input: &Input, batch: &[Item]) -> Result<Vec<u8>, Fail> {
    let findings = input.open_findings()?;
    let mut rows = input.context.as_ref().map(|c| c.rows()).transpose()?;
    let mut out = Vec::with_capacity(batch.len() * 4096);
    for &((_, kind, ..), i) in batch {
        match (kind, &mut rows) {
            (0, _) => timeline_finding_row(&input.finding_at(&findings, i)?, &mut out),
            (_, Some(rows)) => timeline_context_row(&rows.row(i as usize)?, &mut out),
            _ => unreachable!("context items come from the context index"),
        }
    }
    Ok(out)
}

/// A finding's line of `timeline.jsonl`, appended to `out`.
pub fn timeline_finding_row(f: &Finding, out: &mut Vec<u8>) {
    json_line(&finding_event(f), out);
}

/// A context event's line of `timeline.jsonl`, appended to `out`.
pub fn timeline_context_row(c: &ContextEvent, out: &mut Vec<u8>) {
    json_line(&context_event(c), out);
}

fn json_line(m: &Map<String, Value>, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, m).expect("JSON values serialize into memory");
    out.push(b'\n');
}

/// `findings.csv`: one row per finding, every cell neutralised for spreadsheets.
pub(crate) fn render_findings_csv(input: &Input, w: &mut dyn Write) -> Result<(), Fail> {
    w.write_all(&findings_csv_header())?;
    let mut row = Vec::new();
    input.for_each_finding(|_, f| -> Result<(), Fail> {
        row.clear();
        findings_csv_row(f, &mut row);
        w.write_all(&row)?;
        Ok(())
    })?;
    Ok(())
}

/// The header line of `findings.csv`.
pub fn findings_csv_header() -> Vec<u8> {
    let header = [
        "id",
        "time",
        "level",
        "rule",
        "rule_id",
        "phases",
        "techniques",
        "host",
        "source_ip",
        "detail",
        "path",
        "line",
        "record",
        "sha256",
        "excerpt",
    ];
    let mut out = Vec::new();
    csv_line_into(&header, &mut out);
    out
}

/// A finding's row of `findings.csv`, appended to `out`.
pub fn findings_csv_row(f: &Finding, out: &mut Vec<u8>) {
    let ev = f.evidence.first();
    fn text(s: Option<&String>) -> Cow<'_, str> {
        Cow::Borrowed(s.map_or("", String::as_str))
    }
    fn number(n: Option<u64>) -> Cow<'static, str> {
        Cow::Owned(n.map(|n| n.to_string()).unwrap_or_default())
    }
    // Borrowed where the finding holds the text: the excerpt alone is kilobytes.
    let cells: [Cow<'_, str>; 15] = [
        f.id.as_str().into(),
        f.time.map(ts).unwrap_or_default().into(),
        f.rule.level.as_str().into(),
        f.rule.title.as_str().into(),
        f.rule.id.as_str().into(),
        phases_of(&f.tags).join(" ").into(),
        techniques_of(&f.tags).join(" ").into(),
        text(f.host.as_ref()),
        source_ip(f).unwrap_or_default().into(),
        crate::detail_of(f).into(),
        text(ev.map(|e| &e.path)),
        number(ev.and_then(|e| e.line)),
        number(ev.and_then(|e| e.record)),
        text(ev.map(|e| &e.sha256)),
        text(ev.map(|e| &e.excerpt)),
    ];
    let cells = cells.map(|c| neutralise_cell(&c));
    csv_line_into(&cells, out);
}

/// One CSV record, quoted where needed, with its line end, appended to `out`.
fn csv_line_into<T: AsRef<[u8]>>(cells: &[T], out: &mut Vec<u8>) {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    w.write_record(cells)
        .expect("CSV records write into memory");
    w.flush().expect("CSV records write into memory");
}
