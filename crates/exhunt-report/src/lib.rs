//! Report: what a scan writes and prints.
//!
//! - `findings.jsonl`: one [`Finding`] per line, in a fixed order (time, rule, evidence).
//! - `timeline.csv`: findings and their context events in time order, with the columns Timesketch
//!   imports (`datetime`, `timestamp_desc`, `message`, then fields); cells a spreadsheet would run
//!   as formulas are neutralised.
//! - `summary.json`: artifacts read, events parsed, findings by rule and tag, verdict, warnings.
//! - a short terminal summary, with every attacker-controlled string escaped.
//!
//! Everything here is a pure function of its inputs, so the same scan gives byte-identical files.

mod store;
mod verdict;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use exhunt_model::{Finding, Warning};
use serde::{Deserialize, Serialize};

pub use store::{
    AlongsideOutputs, ContextStore, FindingStore, RenderContext, RenderFinding, WrittenFindings,
    write_timeline,
};
pub use verdict::{PhaseSpan, Verdict, VerdictBuilder, VerdictLevel, phases_of, verdict};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source} (check the output folder exists and is writable)")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
}

/// What one artifact of the collection gave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactStat {
    pub path: String,
    pub kind: String,
    pub sha256: String,
    pub bytes: u64,
    pub events: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// Per-kind totals, as the inventory prints them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KindTotal {
    pub files: u64,
    pub bytes: u64,
    pub events: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// Totals per artifact kind, in kind order.
pub fn totals_by_kind(artifacts: &[ArtifactStat]) -> BTreeMap<String, KindTotal> {
    let mut out: BTreeMap<String, KindTotal> = BTreeMap::new();
    for a in artifacts {
        let t = out.entry(a.kind.clone()).or_default();
        t.files += 1;
        t.bytes += a.bytes;
        t.events += a.events;
        t.first = min_opt(t.first, a.first);
        t.last = max_opt(t.last, a.last);
    }
    out
}

fn min_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// An event shown in the timeline because it sits next to a finding's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextEvent {
    pub time: Option<DateTime<Utc>>,
    pub path: String,
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub source: String,
    pub excerpt: String,
}

/// Everything `summary.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub tool: String,
    pub version: String,
    pub roots: Vec<String>,
    pub verdict: Verdict,
    pub artifacts_read: u64,
    pub events_parsed: u64,
    pub bytes_read: u64,
    pub artifacts_by_kind: BTreeMap<String, KindTotal>,
    pub rules_loaded: u64,
    pub rule_problems: Vec<String>,
    pub findings_total: u64,
    pub findings_by_level: BTreeMap<String, u64>,
    pub findings_by_rule: BTreeMap<String, u64>,
    pub findings_by_tag: BTreeMap<String, u64>,
    /// Findings beyond the per-rule cap, counted but not written.
    pub findings_dropped: BTreeMap<String, u64>,
    pub artifacts: Vec<ArtifactStat>,
    pub warnings: Vec<Warning>,
}

/// Sort findings into the order every output uses.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.time
            .map(as_written)
            .cmp(&b.time.map(as_written))
            .then_with(|| a.rule.id.cmp(&b.rule.id))
            .then_with(|| evidence_key(a).cmp(&evidence_key(b)))
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn evidence_key(f: &Finding) -> (String, Option<u64>, Option<u64>) {
    f.evidence
        .first()
        .map(|e| (e.path.clone(), e.line, e.record))
        .unwrap_or_default()
}

fn create(path: &Path) -> Result<BufWriter<File>, ReportError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> ReportError + '_ {
    move |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `findings.jsonl` (findings must already be sorted).
pub fn write_findings_jsonl(path: &Path, findings: &[Finding]) -> Result<(), ReportError> {
    let mut w = create(path)?;
    for f in findings {
        let line = serde_json::to_string(&FindingOut::from(f)).expect("findings serialize");
        writeln!(w, "{line}").map_err(io_err(path))?;
    }
    w.flush().map_err(io_err(path))
}

/// The finding as written: time as RFC 3339 with millisecond precision and a `Z`.
#[derive(Serialize)]
struct FindingOut<'a> {
    id: &'a str,
    rule: &'a exhunt_model::RuleRef,
    tags: &'a [String],
    time: Option<String>,
    host: &'a Option<String>,
    evidence: &'a [exhunt_model::Evidence],
    fields: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> From<&'a Finding> for FindingOut<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingOut {
            id: &f.id,
            rule: &f.rule,
            tags: &f.tags,
            time: f.time.map(rfc3339),
            host: &f.host,
            evidence: &f.evidence,
            fields: &f.fields,
        }
    }
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A time as the outputs write it (milliseconds). Outputs sort on this, not on the full
/// precision, so a file read back is in the order its own times give, and rebuilding the
/// reports from a scan folder gives the scan's order.
pub fn as_written(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

/// Read back a `findings.jsonl` whole. For large files prefer [`FindingsReader`], which
/// streams.
pub fn read_findings_jsonl(path: &Path) -> Result<Vec<Finding>, ReportError> {
    FindingsReader::open(path)?.collect()
}

/// Longest line [`FindingsReader`] accepts: a finding's excerpts and fields are capped far
/// below this, so a longer line means the file is not exhunt's.
pub const MAX_FINDING_LINE: usize = 64 << 20;

/// Streams the findings of a `findings.jsonl`, one line at a time, so memory does not grow with
/// the file. Blank lines are skipped; a line that does not parse is an error naming its number.
pub struct FindingsReader {
    path: PathBuf,
    reader: io::BufReader<File>,
    line: usize,
    buf: Vec<u8>,
    /// Byte offset of the next line, for [`FindingsReader::next_with_offset`].
    offset: u64,
    failed: bool,
    without_excerpts: bool,
}

impl FindingsReader {
    pub fn open(path: &Path) -> Result<Self, ReportError> {
        let file = File::open(path).map_err(|e| ReportError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(FindingsReader {
            path: path.to_path_buf(),
            reader: io::BufReader::with_capacity(1 << 16, file),
            line: 0,
            buf: Vec::new(),
            offset: 0,
            failed: false,
            without_excerpts: false,
        })
    }

    /// Read the findings with their evidence excerpts left empty (see
    /// [`Finding::from_json_without_excerpts`]), for passes that never show them.
    pub fn without_excerpts(mut self) -> Self {
        self.without_excerpts = true;
        self
    }

    fn err(&self, reason: String) -> ReportError {
        ReportError::Read {
            path: self.path.clone(),
            reason,
        }
    }

    /// The next finding with the byte offset and length of its line in the file (to read it
    /// again later with [`read_finding_at`]).
    pub fn next_with_offset(&mut self) -> Option<Result<(Finding, u64, usize), ReportError>> {
        use io::BufRead;
        if self.failed {
            return None;
        }
        loop {
            self.buf.clear();
            let start = self.offset;
            let n = match (&mut self.reader)
                .take(MAX_FINDING_LINE as u64 + 1)
                .read_until(b'\n', &mut self.buf)
            {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(self.err(e.to_string())));
                }
            };
            self.offset += n as u64;
            self.line += 1;
            if n > MAX_FINDING_LINE {
                self.failed = true;
                return Some(Err(self.err(format!(
                    "line {} is longer than {MAX_FINDING_LINE} bytes",
                    self.line
                ))));
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = if self.without_excerpts {
                Finding::from_json_without_excerpts(&self.buf)
            } else {
                serde_json::from_slice::<Finding>(&self.buf)
            };
            return Some(match parsed {
                Ok(f) => Ok((f, start, n)),
                Err(e) => {
                    self.failed = true;
                    Err(self.err(format!("line {}: {e}", self.line)))
                }
            });
        }
    }
}

impl Iterator for FindingsReader {
    type Item = Result<Finding, ReportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with_offset().map(|r| r.map(|(f, _, _)| f))
    }
}

/// Read the finding whose line starts at `offset` and is `len` bytes long (from
/// [`FindingsReader::next_with_offset`]).
pub fn read_finding_at(
    file: &File,
    path: &Path,
    offset: u64,
    len: usize,
) -> Result<Finding, ReportError> {
    let mut buf = vec![0u8; len];
    let err = |reason: String| ReportError::Read {
        path: path.to_path_buf(),
        reason,
    };
    read_exact_at(file, &mut buf, offset).map_err(|e| err(format!("at byte {offset}: {e}")))?;
    serde_json::from_slice(&buf).map_err(|e| err(format!("at byte {offset}: {e}")))
}

/// Positioned read that leaves the file's cursor alone, so threads can share one handle.
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Field names the timeline lifts out of findings into their own columns.
const TIMELINE_FIELD_COLUMNS: &[(&str, &[&str])] = &[
    ("source_ip", exhunt_model::CLIENT_IP_FIELDS),
    (
        "user_agent",
        &["cs-user-agent", "UserAgent", "cs(User-Agent)"],
    ),
    ("url", &["cs-uri-stem", "UrlStem", "S:URL"]),
    ("status", &["sc-status", "HttpStatus"]),
    ("user", &["cs-username", "AuthenticatedUser", "User"]),
    ("command_line", &["CommandLine"]),
];

/// Write `timeline.csv` from findings and context events held in memory.
pub fn write_timeline_csv(
    path: &Path,
    findings: &[Finding],
    context: &[ContextEvent],
) -> Result<(), ReportError> {
    type Order<'a> = (Option<DateTime<Utc>>, u8, &'a str, Option<u64>);
    let mut rows: Vec<(Order<'_>, Result<&Finding, &ContextEvent>)> =
        Vec::with_capacity(findings.len() + context.len());
    for f in findings {
        let ev = f.evidence.first();
        let order = (
            f.time.map(as_written),
            0,
            ev.map(|e| e.path.as_str()).unwrap_or_default(),
            ev.and_then(|e| e.line.or(e.record)),
        );
        rows.push((order, Ok(f)));
    }
    for c in context {
        rows.push((
            (
                c.time.map(as_written),
                1,
                c.path.as_str(),
                c.line.or(c.record),
            ),
            Err(c),
        ));
    }
    // Stable: findings keep their given order within a key.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut w = create(path)?;
    let mut r = TimelineRows::new();
    r.header();
    for (_, row) in rows {
        match row {
            Ok(f) => r.finding(f),
            Err(c) => r.context(c),
        }
        if r.w.get_ref().len() > 1 << 16 {
            w.write_all(&r.take()).map_err(io_err(path))?;
        }
    }
    w.write_all(&r.take()).map_err(io_err(path))?;
    w.flush().map_err(io_err(path))
}

/// Renders rows of `timeline.csv` into bytes: Timesketch's columns first, then the fields most
/// worth a column, then the raw excerpt. Rows render apart from the file, so threads can each
/// render a slice of the timeline and the slices are written in order.
pub(crate) struct TimelineRows {
    w: csv::Writer<Vec<u8>>,
}

impl TimelineRows {
    pub(crate) fn new() -> Self {
        TimelineRows { w: Self::writer() }
    }

    fn writer() -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new())
    }

    pub(crate) fn header(&mut self) {
        let mut header = vec![
            "datetime",
            "timestamp_desc",
            "message",
            "kind",
            "rule_id",
            "rule_title",
            "level",
            "tags",
            "host",
            "path",
            "line",
            "record",
            "sha256",
        ];
        header.extend(TIMELINE_FIELD_COLUMNS.iter().map(|(c, _)| *c));
        header.push("excerpt");
        self.write(header.into_iter().map(Cow::Borrowed));
    }

    fn write<'a>(&mut self, cells: impl IntoIterator<Item = Cow<'a, str>>) {
        let record: Vec<String> = cells.into_iter().map(|c| neutralise_cell(&c)).collect();
        self.w
            .write_record(&record)
            .expect("writing CSV into memory cannot fail");
    }

    /// The bytes rendered so far (and start afresh).
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.w, Self::writer())
            .into_inner()
            .expect("flushing CSV into memory cannot fail")
    }

    pub(crate) fn finding(&mut self, f: &Finding) {
        let ev = f.evidence.first();
        let mut cells: Vec<Cow<'_, str>> = vec![
            f.time.map(rfc3339).unwrap_or_default().into(),
            if f.time.is_some() {
                "Event Recorded".into()
            } else {
                "No Timestamp".into()
            },
            format!("[{}] {}", f.rule.level, f.rule.title).into(),
            "finding".into(),
            f.rule.id.as_str().into(),
            f.rule.title.as_str().into(),
            f.rule.level.as_str().into(),
            f.tags.join(" ").into(),
            f.host.as_deref().unwrap_or_default().into(),
            ev.map(|e| e.path.as_str()).unwrap_or_default().into(),
            ev.and_then(|e| e.line)
                .map(|n| n.to_string())
                .unwrap_or_default()
                .into(),
            ev.and_then(|e| e.record)
                .map(|n| n.to_string())
                .unwrap_or_default()
                .into(),
            ev.map(|e| e.sha256.as_str()).unwrap_or_default().into(),
        ];
        for (_, names) in TIMELINE_FIELD_COLUMNS {
            let v = names
                .iter()
                .find_map(|n| f.fields.get(*n).and_then(|v| v.as_str()))
                .unwrap_or("");
            cells.push(v.into());
        }
        cells.push(ev.map(|e| e.excerpt.as_str()).unwrap_or_default().into());
        self.write(cells);
    }

    pub(crate) fn context(&mut self, c: &ContextEvent) {
        let mut cells: Vec<Cow<'_, str>> = vec![
            c.time.map(rfc3339).unwrap_or_default().into(),
            "Event Recorded".into(),
            format!("[context] {}", c.source).into(),
            "context".into(),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
            c.path.as_str().into(),
            c.line.map(|n| n.to_string()).unwrap_or_default().into(),
            c.record.map(|n| n.to_string()).unwrap_or_default().into(),
            "".into(),
        ];
        cells.extend(TIMELINE_FIELD_COLUMNS.iter().map(|_| Cow::Borrowed("")));
        cells.push(c.excerpt.as_str().into());
        self.write(cells);
    }
}

/// Make a cell safe to open in a spreadsheet: a leading `=`, `+`, `-`, `@`, tab or carriage
/// return would make it a formula, so such cells get a leading apostrophe.
pub fn neutralise_cell(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// Write `summary.json`.
pub fn write_summary(path: &Path, summary: &Summary) -> Result<(), ReportError> {
    let mut w = create(path)?;
    serde_json::to_writer_pretty(&mut w, summary).expect("summary serializes");
    writeln!(w).map_err(io_err(path))?;
    w.flush().map_err(io_err(path))
}

/// Escape a string for a terminal: control characters (ANSI escapes included) become visible
/// `\x..` sequences, so log content cannot drive the terminal.
pub fn escape_terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The short terminal summary after a scan.
pub fn print_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let v = &summary.verdict;
    writeln!(
        out,
        "exhunt {}: {}",
        summary.version,
        escape_terminal(&summary.roots.join(", "))
    )?;
    writeln!(out)?;
    writeln!(out, "VERDICT: {}", v.level.headline())?;
    writeln!(out, "  {}", escape_terminal(&v.statement))?;
    if !v.chains.is_empty() {
        writeln!(out, "  chains: {}", v.chains.join(", "))?;
    }
    if !v.cves.is_empty() {
        writeln!(out, "  CVEs:   {}", v.cves.join(", "))?;
    }
    if !v.phases.is_empty() {
        writeln!(out, "\nPhases seen:")?;
        for p in &v.phases {
            writeln!(
                out,
                "  {:<18} {:>5} findings  {} .. {}",
                p.phase,
                p.findings,
                p.first.map(rfc3339).unwrap_or_else(|| "-".into()),
                p.last.map(rfc3339).unwrap_or_else(|| "-".into())
            )?;
        }
    }
    if !v.attacker_addresses.is_empty() {
        writeln!(
            out,
            "\nAttacker addresses (from high and critical findings):"
        )?;
        for a in v.attacker_addresses.iter().take(20) {
            writeln!(
                out,
                "  {:<40} {:>5} findings",
                escape_terminal(&a.address),
                a.findings
            )?;
        }
    }
    writeln!(
        out,
        "\nRead {} artifacts ({} bytes), {} events; {} rules; {} findings ({}).",
        summary.artifacts_read,
        summary.bytes_read,
        summary.events_parsed,
        summary.rules_loaded,
        summary.findings_total,
        summary
            .findings_by_level
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if !summary.warnings.is_empty() {
        writeln!(out, "\nWarnings ({}):", summary.warnings.len())?;
        for w in summary.warnings.iter().take(15) {
            writeln!(out, "  {}", escape_terminal(&w.to_string()))?;
        }
        if summary.warnings.len() > 15 {
            writeln!(
                out,
                "  ... {} more in summary.json",
                summary.warnings.len() - 15
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise_cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise_cell("GET /owa/"), "GET /owa/");
    }

    #[test]
    fn terminal_escaping_neutralises_ansi() {
        let s = escape_terminal("evil\x1b[31mred\x07");
        assert!(!s.contains('\x1b'));
        assert!(s.contains("\\x1b[31m"));
    }
}
