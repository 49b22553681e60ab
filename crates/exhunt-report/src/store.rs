//! Findings and context events kept on disk while a scan runs, so memory does not grow with the
//! number of findings: each is serialized once into a spill file next to the outputs, and only a
//! small sort key stays in memory. At the end the spill is written out sorted (`findings.jsonl`,
//! `timeline.csv`) by copying bytes, and the spill files are removed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use exhunt_model::Finding;
use rayon::prelude::*;

use crate::{ContextEvent, FindingOut, ReportError, read_exact_at};

/// Renders a finding as one row of another output, into the given buffer.
pub type RenderFinding<'a> = &'a (dyn Fn(&Finding, &mut Vec<u8>) + Sync);
/// Renders a context event as one row of another output, into the given buffer.
pub type RenderContext<'a> = &'a (dyn Fn(&ContextEvent, &mut Vec<u8>) + Sync);

/// Outputs that downstream crates render from the findings and context events while the scan's
/// write-out has them parsed anyway, instead of reading `findings.jsonl` and `timeline.csv`
/// back (the export crate's `findings.csv` and `timeline.jsonl`).
#[derive(Clone, Copy, Default)]
pub struct AlongsideOutputs<'a> {
    /// One row per finding in `findings.jsonl` order: the file, its header, the row renderer.
    pub per_finding: Option<(&'a Path, &'a [u8], RenderFinding<'a>)>,
    /// One row per finding and context event in `timeline.csv` order.
    pub timeline: Option<(&'a Path, RenderFinding<'a>, RenderContext<'a>)>,
}

/// An append-only file of serialized records and where each one lies.
struct Spill {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    end: u64,
}

impl Spill {
    fn create(path: &Path) -> Result<Self, ReportError> {
        let file = File::create(path).map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Spill {
            path: path.to_path_buf(),
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
            end: 0,
        })
    }

    /// Append one record; returns its offset and length.
    fn push(&mut self, bytes: &[u8]) -> Result<(u64, u32), ReportError> {
        let len = u32::try_from(bytes.len()).map_err(|_| ReportError::Write {
            path: self.path.clone(),
            source: io::Error::other("record larger than 4 GiB"),
        })?;
        let w = self.writer.as_mut().expect("spill open for writing");
        w.write_all(bytes).map_err(|source| ReportError::Write {
            path: self.path.clone(),
            source,
        })?;
        let offset = self.end;
        self.end += bytes.len() as u64;
        Ok((offset, len))
    }

    /// Finish writing and open the file for positioned reads.
    fn reader(&mut self) -> Result<File, ReportError> {
        // Flushed, not synced: the spill is read back through the page cache and deleted, so
        // waiting for the disk would only cost time.
        if let Some(w) = self.writer.take() {
            w.into_inner().map_err(|e| ReportError::Write {
                path: self.path.clone(),
                source: e.into_error(),
            })?;
        }
        File::open(&self.path).map_err(|e| ReportError::Read {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    fn read(&self, file: &File, offset: u64, len: u32) -> Result<Vec<u8>, ReportError> {
        let mut buf = vec![0u8; len as usize];
        read_exact_at(file, &mut buf, offset).map_err(|e| ReportError::Read {
            path: self.path.clone(),
            reason: format!("at byte {offset}: {e}"),
        })?;
        Ok(buf)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        drop(self.writer.take());
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The order of `findings.jsonl` (the same as [`crate::sort_findings`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FindingKey {
    time: Option<DateTime<Utc>>,
    rule_id: Box<str>,
    path: Box<str>,
    line: Option<u64>,
    record: Option<u64>,
    id: Box<str>,
}

struct FindingEntry {
    key: FindingKey,
    has_host: bool,
    offset: u64,
    len: u32,
}

/// Findings handed in from any number of artifacts, in any order; written sorted.
pub struct FindingStore {
    spill: Spill,
    entries: Vec<FindingEntry>,
    /// Findings per host, to give host-less findings the host most findings name.
    hosts: BTreeMap<String, usize>,
    buf: Vec<u8>,
}

impl FindingStore {
    /// Spill into `path` (a scratch file the store removes when dropped).
    pub fn create(path: &Path) -> Result<Self, ReportError> {
        Ok(FindingStore {
            spill: Spill::create(path)?,
            entries: Vec::new(),
            hosts: BTreeMap::new(),
            buf: Vec::new(),
        })
    }

    pub fn push(&mut self, f: &Finding) -> Result<(), ReportError> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &FindingOut::from(f)).expect("findings serialize");
        self.buf.push(b'\n');
        let (offset, len) = self.spill.push(&self.buf)?;
        if let Some(h) = &f.host {
            if let Some(n) = self.hosts.get_mut(h.as_str()) {
                *n += 1;
            } else {
                self.hosts.insert(h.clone(), 1);
            }
        }
        let ev = f.evidence.first();
        self.entries.push(FindingEntry {
            key: FindingKey {
                time: f.time.map(crate::as_written),
                rule_id: f.rule.id.as_str().into(),
                path: ev.map(|e| e.path.as_str()).unwrap_or_default().into(),
                line: ev.and_then(|e| e.line),
                record: ev.and_then(|e| e.record),
                id: f.id.as_str().into(),
            },
            has_host: f.host.is_some(),
            offset,
            len,
        });
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sort the findings, give those without a host the host most findings name (IIS lines
    /// and files carry none), and write them to `out` as `findings.jsonl`. Each finding is
    /// handed to `each` in that order (one pass for whatever summarises them). The per-finding
    /// output of `alongside` is written in the same pass; its timeline rows are kept for
    /// [`write_timeline`].
    pub fn write_jsonl(
        mut self,
        out: &Path,
        alongside: &AlongsideOutputs<'_>,
        mut each: impl FnMut(&Finding) + Send,
    ) -> Result<WrittenFindings, ReportError> {
        let reader = self.spill.reader()?;
        // Stable: findings with equal keys come from one event of one artifact, pushed in order.
        self.entries.sort_by(|a, b| a.key.cmp(&b.key));
        let fill = self
            .hosts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(h, _)| h.clone());
        let mut w = crate::create(out)?;
        let write_err = crate::io_err(out);
        let spill = &self.spill;
        let mut per_finding = match alongside.per_finding {
            Some((path, header, _)) => {
                let mut w = crate::create(path)?;
                w.write_all(header).map_err(crate::io_err(path))?;
                Some((path, w))
            }
            None => None,
        };
        let load = |e: &FindingEntry| -> Result<Loaded, ReportError> {
            let mut bytes = spill.read(&reader, e.offset, e.len)?;
            let mut f: Finding =
                serde_json::from_slice(&bytes).map_err(|err| ReportError::Read {
                    path: spill.path.clone(),
                    reason: format!("at byte {}: {err}", e.offset),
                })?;
            if let (false, Some(host)) = (e.has_host, &fill) {
                f.host = Some(host.clone());
                bytes.clear();
                serde_json::to_writer(&mut bytes, &FindingOut::from(&f))
                    .expect("findings serialize");
                bytes.push(b'\n');
            }
            // Its rows of the other outputs are rendered now, while the finding is parsed
            // anyway: the timeline.csv row, then the alongside timeline's row after it.
            let mut row = crate::TimelineRows::new();
            row.finding(&f);
            let mut row = row.take();
            let csv_len = row.len() as u32;
            if let Some((_, render, _)) = alongside.timeline {
                render(&f, &mut row);
            }
            let mut own_row = Vec::new();
            if let Some((_, _, render)) = alongside.per_finding {
                render(&f, &mut own_row);
            }
            Ok(Loaded {
                finding: f,
                bytes,
                row,
                csv_len,
                own_row,
            })
        };
        let row_spill = Spill::create(&self.spill.path.with_extension("rows.spill"))?;
        let entries = &self.entries;
        // Reading back and parsing dominate: a window at a time in parallel on the pool, while
        // a writer thread writes the window before (in order) and hands its findings to `each`.
        let written = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Loaded>>(1);
            let writer = scope.spawn(move || -> Result<_, ReportError> {
                let mut out = Written {
                    rows: Vec::with_capacity(entries.len()),
                    row_spill,
                };
                let mut done = 0;
                for batch in rx {
                    for (e, l) in entries[done..].iter().zip(&batch) {
                        w.write_all(&l.bytes).map_err(&write_err)?;
                        if let Some((path, w)) = &mut per_finding {
                            w.write_all(&l.own_row).map_err(crate::io_err(path))?;
                        }
                        let (offset, len) = out.row_spill.push(&l.row)?;
                        out.rows.push(TimelineRow {
                            time: e.key.time,
                            kind: 0,
                            path: e.key.path.clone(),
                            locator: e.key.line.or(e.key.record),
                            offset,
                            len,
                            csv_len: l.csv_len,
                        });
                    }
                    done += batch.len();
                    batch.iter().for_each(|l| each(&l.finding));
                }
                w.flush().map_err(&write_err)?;
                if let Some((path, mut w)) = per_finding {
                    w.flush().map_err(crate::io_err(path))?;
                }
                Ok(out)
            });
            let produced = (|| {
                for window in entries.chunks(WINDOW) {
                    let loaded: Vec<Loaded> =
                        window.par_iter().map(load).collect::<Result<_, _>>()?;
                    if tx.send(loaded).is_err() {
                        // The writer stopped (an error or a panic): its join below says why.
                        break;
                    }
                }
                Ok(())
            })();
            drop(tx);
            let written = writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            produced.and(written)
        })?;
        Ok(WrittenFindings {
            path: out.to_path_buf(),
            rows: written.rows,
            row_spill: written.row_spill,
        })
    }
}

/// What the writer thread of [`FindingStore::write_jsonl`] hands back.
struct Written {
    rows: Vec<TimelineRow>,
    row_spill: Spill,
}

/// A finding read back from the spill, with what the write-out renders of it.
struct Loaded {
    finding: Finding,
    /// Its `findings.jsonl` line.
    bytes: Vec<u8>,
    /// Its `timeline.csv` row (the first `csv_len` bytes), then its alongside timeline row.
    row: Vec<u8>,
    csv_len: u32,
    /// Its row of the alongside per-finding output.
    own_row: Vec<u8>,
}

/// Records handled per parallel window when writing out: enough to keep both cores busy, few
/// enough that a window's parsed records stay small in memory.
const WINDOW: usize = 256;

/// A written `findings.jsonl`, and each finding's timeline row ready to be placed.
pub struct WrittenFindings {
    path: PathBuf,
    rows: Vec<TimelineRow>,
    /// The findings' timeline.csv rows, rendered while writing findings.jsonl.
    row_spill: Spill,
}

impl WrittenFindings {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A row of `timeline.csv`: its order and where its record lies.
struct TimelineRow {
    time: Option<DateTime<Utc>>,
    /// Findings (0) before context events (1) at the same time.
    kind: u8,
    path: Box<str>,
    locator: Option<u64>,
    offset: u64,
    len: u32,
    /// For findings, where the timeline.csv row ends and the alongside timeline row begins.
    csv_len: u32,
}

impl TimelineRow {
    fn order(&self) -> (Option<DateTime<Utc>>, u8, &str, Option<u64>) {
        (self.time, self.kind, &self.path, self.locator)
    }
}

/// Context events of all artifacts; written sorted and without duplicates.
pub struct ContextStore {
    spill: Spill,
    entries: Vec<(ContextKey, u64, u32)>,
    buf: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ContextKey {
    time: Option<DateTime<Utc>>,
    path: Box<str>,
    locator: Option<u64>,
    line: Option<u64>,
    record: Option<u64>,
}

impl ContextStore {
    pub fn create(path: &Path) -> Result<Self, ReportError> {
        Ok(ContextStore {
            spill: Spill::create(path)?,
            entries: Vec::new(),
            buf: Vec::new(),
        })
    }

    pub fn push(&mut self, c: &ContextEvent) -> Result<(), ReportError> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, c).expect("context serializes");
        let (offset, len) = self.spill.push(&self.buf)?;
        self.entries.push((
            ContextKey {
                time: c.time.map(crate::as_written),
                path: c.path.as_str().into(),
                locator: c.line.or(c.record),
                line: c.line,
                record: c.record,
            },
            offset,
            len,
        ));
        Ok(())
    }
}

/// Write `timeline.csv` from the written findings and the context events, in time order,
/// reading each row back from disk as it is written; and the timeline of `alongside`, when it
/// has one, row for row in the same order.
pub fn write_timeline(
    path: &Path,
    mut findings: WrittenFindings,
    mut context: ContextStore,
    alongside: &AlongsideOutputs<'_>,
) -> Result<(), ReportError> {
    let context_reader = context.spill.reader()?;
    let rows_reader = findings.row_spill.reader()?;
    // The same event next to two findings was kept twice: once is enough.
    context.entries.sort_by(|a, b| a.0.cmp(&b.0));
    context.entries.dedup_by(|a, b| a.0 == b.0);
    // Findings first (in findings.jsonl order), then context; a stable sort on the row order.
    let mut order: Vec<(&TimelineRow, bool)> = findings.rows.iter().map(|r| (r, true)).collect();
    let context_rows: Vec<TimelineRow> = context
        .entries
        .iter()
        .map(|(k, offset, len)| TimelineRow {
            time: k.time,
            kind: 1,
            path: k.path.clone(),
            locator: k.locator,
            offset: *offset,
            len: *len,
            csv_len: *len,
        })
        .collect();
    order.extend(context_rows.iter().map(|r| (r, false)));
    order.sort_by(|a, b| a.0.order().cmp(&b.0.order()));

    let mut w = crate::create(path)?;
    let write_err = crate::io_err(path);
    let mut header = crate::TimelineRows::new();
    header.header();
    w.write_all(&header.take()).map_err(&write_err)?;
    let mut other = match alongside.timeline {
        Some((p, ..)) => Some((p, crate::create(p)?)),
        None => None,
    };
    let render_context = alongside.timeline.map(|t| t.2);
    // Both outputs of a slice of rows: (timeline.csv bytes, alongside bytes).
    let render = |rows: &[(&TimelineRow, bool)]| -> Result<(Vec<u8>, Vec<u8>), ReportError> {
        let mut out = Vec::new();
        let mut out_other = Vec::new();
        let mut context_rows = crate::TimelineRows::new();
        for (row, is_finding) in rows {
            if *is_finding {
                // Rendered while findings.jsonl was written: copied as they are.
                let bytes = findings.row_spill.read(&rows_reader, row.offset, row.len)?;
                let (csv, rest) = bytes.split_at((row.csv_len as usize).min(bytes.len()));
                out.extend_from_slice(csv);
                out_other.extend_from_slice(rest);
            } else {
                let bytes = context.spill.read(&context_reader, row.offset, row.len)?;
                let c: ContextEvent =
                    serde_json::from_slice(&bytes).map_err(|e| ReportError::Read {
                        path: context.spill.path.clone(),
                        reason: format!("at byte {}: {e}", row.offset),
                    })?;
                context_rows.context(&c);
                out.extend_from_slice(&context_rows.take());
                if let Some(render) = render_context {
                    render(&c, &mut out_other);
                }
            }
        }
        Ok((out, out_other))
    };
    // A window of rows is rendered by all threads, slice by slice, and written in order.
    for window in order.chunks(WINDOW * 2) {
        let parts: Vec<(Vec<u8>, Vec<u8>)> = window
            .par_chunks(WINDOW / 4)
            .map(render)
            .collect::<Result<_, _>>()?;
        for (part, part_other) in parts {
            w.write_all(&part).map_err(&write_err)?;
            if let Some((p, w)) = &mut other {
                w.write_all(&part_other).map_err(crate::io_err(p))?;
            }
        }
    }
    if let Some((p, mut w)) = other {
        w.flush().map_err(crate::io_err(p))?;
    }
    w.flush().map_err(&write_err)
}
