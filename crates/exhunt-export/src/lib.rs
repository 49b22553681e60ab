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

mod attack;
mod html;
pub use html::MAX_HTML_FINDINGS;
mod navigator;
mod stix;
mod timeline;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use exhunt_model::{CLIENT_IP_FIELDS, Finding};
use exhunt_report::{ContextEvent, Summary};
use serde_json::Value;

pub use attack::{TACTICS, tactics_of, technique_name, techniques_of};

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

/// Everything read from a scan folder.
pub(crate) struct Input {
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Context rows of `timeline.csv`.
    pub context: Vec<ContextEvent>,
    pub attribution: Option<Value>,
    pub exposure: Option<Value>,
}

/// Read `dir` and (re)write every export into it.
pub fn write_all(dir: &Path) -> Result<ExportReport, ExportError> {
    let mut report = ExportReport::default();
    let input = read_input(dir, &mut report.warnings)?;
    let outputs: [(&str, Vec<u8>); 5] = [
        (
            REPORT_HTML,
            html::render(&input, &report.warnings).into_bytes(),
        ),
        (STIX_JSON, stix::render(&input)),
        (NAVIGATOR_JSON, navigator::render(&input)),
        (TIMELINE_JSONL, timeline::render_jsonl(&input).into_bytes()),
        (FINDINGS_CSV, timeline::render_findings_csv(&input)),
    ];
    for (name, bytes) in outputs {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| ExportError::Write {
            path: path.clone(),
            source,
        })?;
        report.written.push(path);
    }
    Ok(report)
}

fn read_err(path: &Path, reason: impl ToString) -> ExportError {
    ExportError::Read {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn read_input(dir: &Path, warnings: &mut Vec<String>) -> Result<Input, ExportError> {
    let fpath = dir.join("findings.jsonl");
    let mut findings = exhunt_report::read_findings_jsonl(&fpath).map_err(|e| match e {
        exhunt_report::ReportError::Read { reason, .. } => read_err(&fpath, reason),
        other => read_err(&fpath, other),
    })?;
    exhunt_report::sort_findings(&mut findings);

    let spath = dir.join("summary.json");
    let summary = match std::fs::read_to_string(&spath) {
        Ok(text) => serde_json::from_str::<Summary>(&text).map_err(|e| read_err(&spath, e))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            warnings.push(
                "summary.json is missing: verdict recomputed from the findings; artifacts and \
                 scan warnings are not available"
                    .into(),
            );
            fallback_summary(&findings)
        }
        Err(e) => return Err(read_err(&spath, e)),
    };

    let tpath = dir.join("timeline.csv");
    let context = if tpath.exists() {
        read_context(&tpath).map_err(|reason| read_err(&tpath, reason))?
    } else {
        warnings.push("timeline.csv is missing: no context events".into());
        Vec::new()
    };

    let attribution = read_optional(&dir.join("attribution.json"), warnings);
    let exposure = read_optional(&dir.join("exposure.json"), warnings);
    Ok(Input {
        findings,
        summary,
        context,
        attribution,
        exposure,
    })
}

fn fallback_summary(findings: &[Finding]) -> Summary {
    let mut by_level: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_tag: BTreeMap<String, u64> = BTreeMap::new();
    for f in findings {
        *by_level.entry(f.rule.level.clone()).or_default() += 1;
        *by_rule.entry(f.rule.title.clone()).or_default() += 1;
        for t in &f.tags {
            *by_tag.entry(t.clone()).or_default() += 1;
        }
    }
    Summary {
        tool: "exhunt".into(),
        version: String::new(),
        roots: Vec::new(),
        verdict: exhunt_report::verdict(findings),
        artifacts_read: 0,
        events_parsed: 0,
        bytes_read: 0,
        artifacts_by_kind: BTreeMap::new(),
        rules_loaded: 0,
        rule_problems: Vec::new(),
        findings_total: findings.len() as u64,
        findings_by_level: by_level,
        findings_by_rule: by_rule,
        findings_by_tag: by_tag,
        findings_dropped: BTreeMap::new(),
        artifacts: Vec::new(),
        warnings: Vec::new(),
    }
}

fn read_optional(path: &Path, warnings: &mut Vec<String>) -> Option<Value> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.is_object() => Some(v),
            Ok(_) => {
                warnings.push(format!("{name} is not a JSON object: ignored"));
                None
            }
            Err(e) => {
                warnings.push(format!("{name} is not valid JSON ({e}): ignored"));
                None
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            warnings.push(format!("cannot read {name}: {e}"));
            None
        }
    }
}

/// Undo [`exhunt_report::neutralise_cell`]: a leading apostrophe before a formula character.
pub(crate) fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// The context rows of `timeline.csv` (the findings come from `findings.jsonl`).
fn read_context(path: &Path) -> Result<Vec<ContextEvent>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| e.to_string())?;
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(c_kind), Some(c_time)) = (col("kind"), col("datetime")) else {
        return Err("no `kind` or `datetime` column".into());
    };
    let (c_msg, c_path, c_line, c_record, c_excerpt) = (
        col("message"),
        col("path"),
        col("line"),
        col("record"),
        col("excerpt"),
    );
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("row {}: {e}", i + 2))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(unneutralise).unwrap_or("");
        if get(Some(c_kind)) != "context" {
            continue;
        }
        let time = match get(Some(c_time)) {
            "" => None,
            t => Some(
                DateTime::parse_from_rfc3339(t)
                    .map_err(|e| format!("row {}: datetime {t:?}: {e}", i + 2))?
                    .with_timezone(&Utc),
            ),
        };
        let msg = get(c_msg);
        out.push(ContextEvent {
            time,
            path: get(c_path).to_string(),
            line: get(c_line).parse().ok(),
            record: get(c_record).parse().ok(),
            source: msg.strip_prefix("[context] ").unwrap_or(msg).to_string(),
            excerpt: get(c_excerpt).to_string(),
        });
    }
    Ok(out)
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

/// First and last finding time.
pub(crate) fn time_range(findings: &[Finding]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let first = findings.iter().filter_map(|f| f.time).min()?;
    let last = findings.iter().filter_map(|f| f.time).max()?;
    Some((first, last))
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
const TOOLS: &[(&str, bool, Option<&str>, &[&str])] = &[
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

/// The tools and malware the findings show, in table order.
pub(crate) fn tools_seen(findings: &[Finding]) -> Vec<ToolSeen> {
    TOOLS
        .iter()
        .filter_map(|(name, malware, sid, keys)| {
            let ids: Vec<String> = findings
                .iter()
                .filter(|f| {
                    let mut hay = f.rule.title.to_ascii_lowercase();
                    for n in [
                        "CommandLine",
                        "ParentCommandLine",
                        "Image",
                        "TargetFilename",
                    ] {
                        if let Some(v) = f.fields.get(n).and_then(Value::as_str) {
                            hay.push('\n');
                            hay.push_str(&v.to_ascii_lowercase());
                        }
                    }
                    keys.iter().any(|k| hay.contains(k))
                })
                .map(|f| f.id.clone())
                .collect();
            (!ids.is_empty()).then_some(ToolSeen {
                name,
                malware: *malware,
                software_id: *sid,
                finding_ids: ids,
            })
        })
        .collect()
}

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
