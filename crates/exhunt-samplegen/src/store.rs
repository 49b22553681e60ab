//! In-memory collection being built by the case generator: text logs (rows sorted by time at
//! write-out, so planted rows can be added in any order), JSON-lines event channels
//! (EventRecordIDs assigned in time order at write-out), plain files, and the ground truth.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Value, json};

use crate::fmt::{exchange_header, iis_header, iso_ms, iso_us};

#[derive(Clone, Copy, Debug)]
pub enum Header {
    Exchange {
        version: &'static str,
        log_type: &'static str,
        fields: &'static str,
    },
    Iis,
}

struct Row {
    t: i64,
    seq: u64,
    text: String,
    marks: Vec<usize>,
}

struct TextFile {
    header: Header,
    rows: Vec<Row>,
}

pub struct Ev {
    pub t_us: i64,
    pub provider: &'static str,
    pub provider_guid: Option<&'static str>,
    pub id: u32,
    pub version: u8,
    pub level: u8,
    pub task: u16,
    pub keywords: &'static str,
    pub pid: u32,
    pub tid: u32,
    pub user_sid: Option<&'static str>,
    pub data: Value,
}

struct EvRow {
    ev: Ev,
    seq: u64,
    marks: Vec<usize>,
}

struct Channel {
    name: &'static str,
    first_record: u64,
    evs: Vec<EvRow>,
}

/// Handle of a row added to a text log: (file path, index before sorting).
#[derive(Clone, Debug)]
pub struct RowKey(pub String, pub usize);
/// Handle of an event: (channel file path, index before sorting).
#[derive(Clone, Debug)]
pub struct EvKey(pub String, pub usize);

/// A truth entry before line numbers / record ids are known.
pub struct Draft {
    pub phase: &'static str,
    pub title: String,
    pub t: Option<i64>,
    pub tags: &'static [&'static str],
    pub evidence: String,
}

#[derive(Serialize)]
pub struct Step {
    pub id: String,
    pub phase: &'static str,
    pub title: String,
    pub time: Option<String>,
    pub path: String,
    pub line: Option<usize>,
    pub record: Option<u64>,
    pub expect_tags_any: Vec<&'static str>,
    /// A substring the planted line / record / file contains (for checking the truth).
    pub evidence: String,
}

#[derive(Default)]
pub struct Store {
    seq: u64,
    files: BTreeMap<String, TextFile>,
    chans: BTreeMap<String, Channel>,
    blobs: BTreeMap<String, Vec<u8>>,
    drafts: Vec<(Draft, String, Option<usize>, Option<u64>)>,
}

impl Store {
    pub fn row(&mut self, path: String, header: Header, t: i64, text: String) -> RowKey {
        self.seq += 1;
        let f = self.files.entry(path.clone()).or_insert_with(|| TextFile {
            header,
            rows: Vec::new(),
        });
        f.rows.push(Row {
            t,
            seq: self.seq,
            text,
            marks: Vec::new(),
        });
        RowKey(path, f.rows.len() - 1)
    }

    pub fn event(&mut self, path: &str, name: &'static str, first_record: u64, ev: Ev) -> EvKey {
        self.seq += 1;
        let c = self
            .chans
            .entry(path.to_string())
            .or_insert_with(|| Channel {
                name,
                first_record,
                evs: Vec::new(),
            });
        c.evs.push(EvRow {
            ev,
            seq: self.seq,
            marks: Vec::new(),
        });
        EvKey(path.to_string(), c.evs.len() - 1)
    }

    pub fn blob(&mut self, path: String, data: Vec<u8>) {
        self.blobs.insert(path, data);
    }

    pub fn mark_row(&mut self, k: &RowKey, d: Draft) {
        let i = self.drafts.len();
        self.drafts.push((d, k.0.clone(), None, None));
        self.files.get_mut(&k.0).expect("file").rows[k.1]
            .marks
            .push(i);
    }

    pub fn mark_ev(&mut self, k: &EvKey, d: Draft) {
        let i = self.drafts.len();
        self.drafts.push((d, k.0.clone(), None, None));
        self.chans.get_mut(&k.0).expect("chan").evs[k.1]
            .marks
            .push(i);
    }

    pub fn mark_blob(&mut self, path: &str, d: Draft) {
        self.drafts.push((d, path.to_string(), None, None));
    }

    /// Write every file under `out`, and return the truth steps (ordered by time, then path, line).
    pub fn write(mut self, out: &Path) -> Result<Vec<Step>> {
        for (path, f) in std::mem::take(&mut self.files) {
            let mut rows = f.rows;
            rows.sort_by_key(|r| (r.t, r.seq));
            let mut text = match f.header {
                Header::Exchange {
                    version,
                    log_type,
                    fields,
                } => exchange_header(version, log_type, rows[0].t, fields),
                Header::Iis => iis_header(rows[0].t),
            };
            let base = text.matches('\n').count();
            for (i, r) in rows.iter().enumerate() {
                text.push_str(&r.text);
                text.push_str("\r\n");
                for &m in &r.marks {
                    self.drafts[m].2 = Some(base + i + 1);
                }
            }
            write_file(out, &path, text.as_bytes())?;
        }
        for (path, c) in std::mem::take(&mut self.chans) {
            let mut evs = c.evs;
            evs.sort_by_key(|e| (e.ev.t_us, e.seq));
            let mut text = String::new();
            for (i, e) in evs.iter().enumerate() {
                let rec = c.first_record + i as u64;
                text.push_str(&render_event(&e.ev, rec, c.name));
                text.push('\n');
                // JSON-lines exports are text files: evidence cites the line (record ids can
                // repeat across the channels of one export); the EventRecordID is in the event.
                for &m in &e.marks {
                    self.drafts[m].2 = Some(i + 1);
                }
            }
            write_file(out, &path, text.as_bytes())?;
        }
        for (path, data) in &self.blobs {
            write_file(out, path, data)?;
        }
        let mut drafts = self.drafts;
        drafts.sort_by(|a, b| (a.0.t, &a.1, a.2, a.3).cmp(&(b.0.t, &b.1, b.2, b.3)));
        Ok(drafts
            .into_iter()
            .enumerate()
            .map(|(i, (d, path, line, record))| Step {
                id: format!("S{:02}", i + 1),
                phase: d.phase,
                title: d.title,
                time: d.t.map(iso_ms),
                path,
                line,
                record,
                expect_tags_any: d.tags.to_vec(),
                evidence: d.evidence,
            })
            .collect())
    }
}

fn write_file(out: &Path, rel: &str, data: &[u8]) -> Result<()> {
    let p = out.join(rel);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f = std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?;
    f.write_all(data)?;
    Ok(())
}

/// One event in evtx_dump's JSON shape.
fn render_event(e: &Ev, record: u64, channel: &str) -> String {
    let mut provider = json!({"Name": e.provider});
    if let Some(g) = e.provider_guid {
        provider["Guid"] = json!(g);
    }
    let security = match e.user_sid {
        Some(s) => json!({"#attributes": {"UserID": s}}),
        None => Value::Null,
    };
    let v = json!({"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": provider},
            "EventID": e.id,
            "Version": e.version,
            "Level": e.level,
            "Task": e.task,
            "Opcode": 0,
            "Keywords": e.keywords,
            "TimeCreated": {"#attributes": {"SystemTime": iso_us(e.t_us)}},
            "EventRecordID": record,
            "Correlation": null,
            "Execution": {"#attributes": {"ProcessID": e.pid, "ThreadID": e.tid}},
            "Channel": channel,
            "Computer": crate::data::FQDN,
            "Security": security,
        },
        "EventData": e.data,
    }});
    serde_json::to_string(&v).expect("json")
}
