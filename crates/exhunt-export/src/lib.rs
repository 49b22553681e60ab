//! Export: turn a scan folder into the reports people read and the formats partners load.
//!
//! [`write_all`] reads a scan's output folder (`findings.jsonl`, `summary.json`, `timeline.csv`,
//! and when present `attribution.json` and `exposure.json`) and (re)writes:
//!
//! - `report.html`: one self-contained, offline, printable page (verdict, timeline chart, ATT&CK
//!   heat map, findings table with filter and sort, attribution, exposure, artifacts, warnings),
//!   locked down by a hash-based Content-Security-Policy;
//! - `exhunt.stix.json`: a STIX 2.1 bundle of the incident;
//! - `navigator-layer.json`: an ATT&CK Navigator layer (format 4.5) of the techniques seen;
//! - `timeline.jsonl`: findings and context events with Timesketch and ECS field names;
//! - `findings.csv`: the findings for spreadsheets, formula cells neutralised.
//!
//! Every output is a pure function of the folder's contents: no wall clock, sorted maps,
//! ids derived from content, so the same input gives byte-identical files.
//!
//! Memory stays bounded whatever the number of findings: the inputs are read in one streaming
//! pass that keeps aggregates and a small per-finding index (see `input`), then the five
//! outputs are written concurrently, each streaming the findings again (or re-reading single
//! ones by position) into a buffered file.

mod attack;
mod html;
pub use html::MAX_HTML_FINDINGS;
mod input;
mod navigator;
mod stix;
mod timeline;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use exhunt_model::{CLIENT_IP_FIELDS, Finding};
use serde_json::Value;

use input::Input;

pub use attack::{TACTICS, tactics_of, technique_name, techniques_of};
pub use timeline::{
    findings_csv_header, findings_csv_row, timeline_context_row, timeline_finding_row,
};

/// What can stop an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read {path}: {reason} (is this the output folder of an exhunt scan?)")]
    Read { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source} (check the folder is writable)")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What [`write_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// The files written, in the order written.
    pub written: Vec<PathBuf>,
    /// Problems with the inputs that did not stop the export (optional files unreadable, ...).
    pub warnings: Vec<String>,
}

/// File names, relative to the scan folder.
pub const REPORT_HTML: &str = "report.html";
pub const STIX_JSON: &str = "exhunt.stix.json";
pub const NAVIGATOR_JSON: &str = "navigator-layer.json";
pub const TIMELINE_JSONL: &str = "timeline.jsonl";
pub const FINDINGS_CSV: &str = "findings.csv";

/// Read `dir` and (re)write every export into it.
pub fn write_all(dir: &Path) -> Result<ExportReport, ExportError> {
    write_all_except(dir, &[])
}

/// Read `dir` and (re)write every export into it but those named in `skip`: a scan writes
/// [`FINDINGS_CSV`] and [`TIMELINE_JSONL`] itself, alongside `findings.jsonl` and
/// `timeline.csv`, with [`findings_csv_row`], [`timeline_finding_row`] and
/// [`timeline_context_row`], so they need not be read back.
pub fn write_all_except(dir: &Path, skip: &[&str]) -> Result<ExportReport, ExportError> {
    let mut report = ExportReport::default();
    let wanted = |name: &str| !skip.contains(&name);
    let input = input::read_input(dir, &mut report.warnings, wanted(TIMELINE_JSONL))?;
    let (input, warnings) = (&input, &report.warnings);
    // The outputs are independent: one thread each, each streaming its own readers.
    let results: Vec<Result<PathBuf, ExportError>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        if wanted(REPORT_HTML) {
            handles.push(s.spawn(move || {
                write_output(dir, REPORT_HTML, |w| html::render(input, warnings, w))
            }));
        }
        if wanted(STIX_JSON) {
            handles.push(s.spawn(move || write_output(dir, STIX_JSON, |w| stix::render(input, w))));
        }
        if wanted(NAVIGATOR_JSON) {
            handles.push(
                s.spawn(move || write_output(dir, NAVIGATOR_JSON, |w| navigator::render(input, w))),
            );
        }
        if wanted(TIMELINE_JSONL) {
            handles.push(s.spawn(move || {
                write_output(dir, TIMELINE_JSONL, |w| timeline::render_jsonl(input, w))
            }));
        }
        if wanted(FINDINGS_CSV) {
            handles.push(s.spawn(move || {
                write_output(dir, FINDINGS_CSV, |w| {
                    timeline::render_findings_csv(input, w)
                })
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut written = Vec::with_capacity(results.len());
    for r in results {
        written.push(r?);
    }
    report.written = written;
    Ok(report)
}

/// Why an output could not be rendered: its own file failed, or an input could not be read.
pub(crate) enum Fail {
    Write(io::Error),
    Read(ExportError),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail::Write(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Self {
        Fail::Write(e.into())
    }
}

impl From<csv::Error> for Fail {
    fn from(e: csv::Error) -> Self {
        Fail::Write(match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            other => io::Error::other(format!("{other:?}")),
        })
    }
}

impl From<ExportError> for Fail {
    fn from(e: ExportError) -> Self {
        Fail::Read(e)
    }
}

/// Write one output through a buffer into `dir/name`, as it is rendered.
fn write_output(
    dir: &Path,
    name: &str,
    render: impl FnOnce(&mut dyn Write) -> Result<(), Fail>,
) -> Result<PathBuf, ExportError> {
    let path = dir.join(name);
    let werr = |source| ExportError::Write {
        path: path.clone(),
        source,
    };
    let mut w = BufWriter::with_capacity(1 << 16, File::create(&path).map_err(werr)?);
    match render(&mut w) {
        Ok(()) => {}
        Err(Fail::Write(e)) => return Err(werr(e)),
        Err(Fail::Read(e)) => return Err(e),
    }
    w.flush().map_err(werr)?;
    Ok(path)
}

pub(crate) fn read_err(path: &Path, reason: impl ToString) -> ExportError {
    ExportError::Read {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Undo [`exhunt_report::neutralise_cell`]: a leading apostrophe before a formula character.
pub(crate) fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

// ---- helpers shared by the outputs ----

/// The first non-empty, non-`-` string value among candidate field names.
pub(crate) fn field<'a>(f: &'a Finding, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .filter_map(|n| f.fields.get(*n).and_then(Value::as_str))
        .map(str::trim)
        .find(|v| !v.is_empty() && *v != "-")
}

pub(crate) const UA_FIELDS: &[&str] = &["cs(User-Agent)", "cs-user-agent", "UserAgent"];
pub(crate) const METHOD_FIELDS: &[&str] = &["cs-method", "Method"];
pub(crate) const URL_PATH_FIELDS: &[&str] = &["cs-uri-stem", "UrlStem"];
pub(crate) const STATUS_FIELDS: &[&str] = &["sc-status", "HttpStatus"];
pub(crate) const USER_FIELDS: &[&str] = &["cs-username", "AuthenticatedUser", "User"];

/// The client address of a finding's request (first of a proxy chain).
pub(crate) fn source_ip(f: &Finding) -> Option<String> {
    let v = field(f, CLIENT_IP_FIELDS)?;
    let first = v.split([' ', ',']).next().unwrap_or(v).trim();
    (!first.is_empty() && first != "-").then(|| first.to_string())
}

/// The URL of a finding's request: path plus query, or the logged URL.
pub(crate) fn url_of(f: &Finding) -> Option<String> {
    if let Some(path) = field(f, URL_PATH_FIELDS) {
        return Some(match field(f, &["cs-uri-query"]) {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        });
    }
    field(f, &["cs-uri", "S:URL"]).map(str::to_string)
}

/// A one-line description of what a finding saw: request, command line or file.
pub(crate) fn detail_of(f: &Finding) -> String {
    if let Some(cmd) = field(f, &["CommandLine"]) {
        return cmd.to_string();
    }
    if let Some(url) = url_of(f) {
        let method = field(f, METHOD_FIELDS).unwrap_or("");
        let status = field(f, STATUS_FIELDS)
            .map(|s| format!(" → {s}"))
            .unwrap_or_default();
        return format!("{method} {url}{status}").trim().to_string();
    }
    if let Some(p) = field(f, &["TargetFilename", "Path", "S:CMD"]) {
        return p.to_string();
    }
    f.evidence
        .first()
        .map(|e| e.excerpt.clone())
        .unwrap_or_default()
}

/// A SHA-256 of the file a finding is about (not of the log that holds the evidence).
pub(crate) fn file_sha256(f: &Finding) -> Option<String> {
    if let Some(h) = field(f, &["Sha256", "SHA256", "sha256"]) {
        let h = h.to_ascii_lowercase();
        if is_sha256(&h) {
            return Some(h);
        }
    }
    let hashes = field(f, &["Hashes"])?;
    hashes.split(',').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        let v = v.trim().to_ascii_lowercase();
        (k.trim().eq_ignore_ascii_case("SHA256") && is_sha256(&v)).then_some(v)
    })
}

pub(crate) fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Rank of a rule level, higher is worse.
pub(crate) fn level_rank(level: &str) -> u8 {
    match level.to_ascii_lowercase().as_str() {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// ECS `event.severity` for a rule level (Elastic's risk-score scale).
pub(crate) fn severity_of(level: &str) -> u64 {
    match level_rank(level) {
        4 => 99,
        3 => 73,
        2 => 47,
        1 => 21,
        _ => 0,
    }
}

/// RFC 3339 with milliseconds and `Z`, as every exhunt output writes times.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    exhunt_report::rfc3339(t)
}

/// A tool or malware family recognised in the findings.
#[derive(Debug, Clone)]
pub(crate) struct ToolSeen {
    pub name: &'static str,
    pub malware: bool,
    pub software_id: Option<&'static str>,
    pub finding_ids: Vec<String>,
}

/// (name, is malware, ATT&CK software id, lowercase keywords in rule titles, command lines and
/// excerpts).
pub(crate) const TOOLS: &[(&str, bool, Option<&str>, &[&str])] = &[
    (
        "China Chopper",
        true,
        Some("S0020"),
        &["china chopper", "chinachopper"],
    ),
    ("ASPXSpy", true, Some("S0073"), &["aspxspy"]),
    (
        "Mimikatz",
        false,
        Some("S0002"),
        &["mimikatz", "sekurlsa::"],
    ),
    ("ProcDump", false, None, &["procdump"]),
    (
        "comsvcs.dll MiniDump",
        false,
        None,
        &["comsvcs.dll, minidump", "comsvcs.dll minidump", "comsvcs"],
    ),
    ("7-Zip", false, None, &["7z.exe", "7za.exe", "7-zip"]),
    ("WinRAR", false, None, &["rar.exe"]),
    ("PsExec", false, Some("S0029"), &["psexec"]),
    (
        "Cobalt Strike",
        true,
        Some("S0154"),
        &["cobalt strike", "cobaltstrike"],
    ),
    ("PowerCat", false, None, &["powercat"]),
    ("Nishang", false, None, &["invoke-powershelltcp", "nishang"]),
    ("certutil", false, Some("S0160"), &["certutil"]),
    ("Nltest", false, Some("S0359"), &["nltest"]),
];

/// A string from a JSON value: strings as they are, numbers and booleans printed.
pub(crate) fn vstr(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An array of a JSON value (empty when absent or not an array).
pub(crate) fn varr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unneutralise_only_strips_the_guard() {
        assert_eq!(unneutralise("'=cmd"), "=cmd");
        assert_eq!(unneutralise("'hello"), "'hello");
        assert_eq!(unneutralise("x"), "x");
    }
}
