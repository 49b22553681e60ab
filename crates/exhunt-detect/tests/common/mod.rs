//! Helpers shared by the rule-pack tests: load the built-in pack, fire it on hand-made events.
#![allow(dead_code)]

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use exhunt_detect::{Detector, builtin_rule_files};
use exhunt_model::{Event, Locator, LogSource};

/// The built-in pack, asserting that every rule loads.
pub fn detector() -> Detector {
    let (det, diags) = Detector::load(&builtin_rule_files());
    assert!(diags.is_empty(), "built-in rules must all load: {diags:#?}");
    det
}

/// The titles of the rules that fire on one event of log source `ls` with these fields.
pub fn fire(det: &Detector, ls: &LogSource, fields: &[(&str, &str)]) -> Vec<String> {
    det.evaluate(&event(ls, None, 1, fields))
        .into_iter()
        .map(|h| h.rule.title.clone())
        .collect()
}

/// An event of log source `ls` at line `line`, with these fields.
pub fn event<'a>(
    ls: &'a LogSource,
    time: Option<DateTime<Utc>>,
    line: u64,
    fields: &[(&'a str, &'a str)],
) -> Event<'a> {
    Event {
        time,
        locator: Locator::Line(line),
        source: ls,
        fields: fields
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect(),
        raw: Cow::Borrowed(""),
    }
}

pub fn has(titles: &[String], needle: &str) -> bool {
    titles.iter().any(|t| t.contains(needle))
}

// Log sources as the parsers name them.
pub fn iis() -> LogSource {
    LogSource::new("windows", Some("iis"), Some("webserver"))
}
pub fn httpproxy() -> LogSource {
    LogSource::new("exchange", Some("httpproxy"), None)
}
pub fn rps_http() -> LogSource {
    LogSource::new("exchange", Some("rps-http"), None)
}
pub fn rps_cmdlet() -> LogSource {
    LogSource::new("exchange", Some("rps-cmdlet"), None)
}
pub fn mgmt() -> LogSource {
    LogSource::new("windows", Some("msexchange-management"), None)
}
pub fn application() -> LogSource {
    LogSource::new("windows", Some("application"), None)
}
pub fn windefend() -> LogSource {
    LogSource::new("windows", Some("windefend"), None)
}
pub fn proc_creation() -> LogSource {
    LogSource::new("windows", Some("sysmon"), Some("process_creation"))
}
pub fn ps_script() -> LogSource {
    LogSource::new("windows", Some("powershell"), Some("ps_script"))
}
pub fn file_event() -> LogSource {
    LogSource::new("windows", Some("sysmon"), Some("file_event"))
}
pub fn file_delete() -> LogSource {
    LogSource::new("windows", Some("sysmon"), Some("file_delete"))
}
pub fn inventory() -> LogSource {
    LogSource::new("exhunt", Some("inventory"), None)
}

/// One row of the remote PowerShell cmdlet log (Rps_Cmdlet), run by an Exchange administrator.
pub fn rps_cmdlet_row(det: &Detector, cmdlet: &str, params: &str) -> Vec<String> {
    fire(
        det,
        &rps_cmdlet(),
        &[
            ("ProcessName", "w3wp#MSExchangePowerShellAppPool"),
            ("AuthenticatedUser", "CONTOSO\\exadmin"),
            ("Cmdlet", cmdlet),
            ("Parameters", params),
        ],
    )
}

/// A process creation run as SYSTEM.
pub fn command_line(det: &Detector, parent: &str, image: &str, cmd: &str) -> Vec<String> {
    fire(
        det,
        &proc_creation(),
        &[
            ("ParentImage", parent),
            ("Image", image),
            ("CommandLine", cmd),
            ("User", "NT AUTHORITY\\SYSTEM"),
        ],
    )
}

/// A PowerShell script block (event 4104).
pub fn script_block(det: &Detector, text: &str) -> Vec<String> {
    fire(det, &ps_script(), &[("ScriptBlockText", text)])
}
