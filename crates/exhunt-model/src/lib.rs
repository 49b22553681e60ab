//! The shared vocabulary of exhunt's pipeline.
//!
//! Every stage speaks these types: `collect` produces [`ArtifactInfo`]s, `parse` turns an artifact
//! into a stream of borrowed [`Event`]s, `detect` turns events into [`Finding`]s, and `report`
//! writes findings out. Keeping them in one small crate lets every stage depend on the model and
//! not on each other.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an artifact of a collection is, decided from its path and its first bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "log")]
pub enum ArtifactKind {
    /// IIS W3C extended log (`#Software: Microsoft Internet Information Services`, `#Fields:`).
    IisW3c,
    /// One of Exchange's CSV logs (`#Log-type:` header); the payload is the log type.
    ExchangeLog(ExchangeLog),
    /// Windows event log file (`ElfFile\0` magic).
    Evtx,
    /// JSON lines of Windows events (evtx_dump, Velociraptor, Elastic exports).
    EventJsonl,
    /// A file worth listing but not parsed as a log (web content, dumps, archives, binaries).
    File,
}

impl ArtifactKind {
    /// A short, stable name used in inventories and summaries.
    pub fn label(&self) -> String {
        match self {
            ArtifactKind::IisW3c => "iis-w3c".into(),
            ArtifactKind::ExchangeLog(l) => format!("exchange-{}", l.slug()),
            ArtifactKind::Evtx => "evtx".into(),
            ArtifactKind::EventJsonl => "event-jsonl".into(),
            ArtifactKind::File => "file".into(),
        }
    }

    /// Whether the parse stage turns this artifact into events.
    pub fn is_log(&self) -> bool {
        !matches!(self, ArtifactKind::File)
    }
}

/// The Exchange CSV log families exhunt knows, named after their `#Log-type:` header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeLog {
    /// `HttpProxy Logs`; the protocol folder (Owa, Ecp, Autodiscover, ...) is in the rows.
    HttpProxy,
    /// `ECP Server Log`.
    EcpServer,
    /// `ECP Activity Context Log`.
    EcpActivity,
    /// `EWS Logs`.
    Ews,
    /// `Rps Http Logs` (CmdletInfra remote PowerShell HTTP).
    RpsHttp,
    /// `Rps Cmdlet Logs` and the local PowerShell cmdlet logs.
    RpsCmdlet,
    /// `Message Tracking Log`.
    MessageTracking,
    /// The OAB generator log (`OABGeneratorLog` folder).
    OabGenerator,
    /// Any other `#Log-type:` value, kept verbatim.
    Other(String),
}

impl ExchangeLog {
    /// Classify a `#Log-type:` header value.
    pub fn from_log_type(value: &str) -> ExchangeLog {
        let v = value.trim().to_ascii_lowercase();
        match v.as_str() {
            "httpproxy logs" => ExchangeLog::HttpProxy,
            "ecp server log" => ExchangeLog::EcpServer,
            "ecp activity context log" => ExchangeLog::EcpActivity,
            "ews logs" => ExchangeLog::Ews,
            "rps http logs" => ExchangeLog::RpsHttp,
            "rps cmdlet logs" | "cmdlet logs" => ExchangeLog::RpsCmdlet,
            "message tracking log" => ExchangeLog::MessageTracking,
            _ if v.contains("oab") => ExchangeLog::OabGenerator,
            _ => ExchangeLog::Other(value.trim().to_string()),
        }
    }

    /// The Sigma `service` name exhunt gives this log (under `product: exchange`).
    pub fn slug(&self) -> String {
        match self {
            ExchangeLog::HttpProxy => "httpproxy".into(),
            ExchangeLog::EcpServer => "ecp-server".into(),
            ExchangeLog::EcpActivity => "ecp-activity".into(),
            ExchangeLog::Ews => "ews".into(),
            ExchangeLog::RpsHttp => "rps-http".into(),
            ExchangeLog::RpsCmdlet => "rps-cmdlet".into(),
            ExchangeLog::MessageTracking => "message-tracking".into(),
            ExchangeLog::OabGenerator => "oab-generator".into(),
            ExchangeLog::Other(s) => {
                let mut out = String::new();
                for c in s.chars() {
                    if c.is_ascii_alphanumeric() {
                        out.push(c.to_ascii_lowercase());
                    } else if !out.ends_with('-') && !out.is_empty() {
                        out.push('-');
                    }
                }
                out.trim_end_matches('-').to_string()
            }
        }
    }
}

/// The Sigma log-source identity of an event: what rules select with `logsource:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogSource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

impl LogSource {
    pub fn new(product: &str, service: Option<&str>, category: Option<&str>) -> LogSource {
        LogSource {
            product: Some(product.to_string()),
            service: service.map(str::to_string),
            category: category.map(str::to_string),
        }
    }
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            ("product", &self.product),
            ("service", &self.service),
            ("category", &self.category),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}:{v}")))
        .collect();
        write!(f, "{}", parts.join(" "))
    }
}

/// Where in its artifact an event or a piece of evidence sits.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Locator {
    /// 1-based line number in a text log.
    Line(u64),
    /// EVTX `EventRecordID`, or the 1-based record number in a JSON-lines export.
    Record(u64),
    /// The artifact as a whole (a file in the inventory).
    #[default]
    File,
}

/// One normalized event, borrowed from the parser's buffers for the time of a callback.
///
/// Field names are the source's own (`cs-uri-stem`, `AnchorMailbox`, `CommandLine`); values are
/// decoded (IIS `+` becomes a space) while `raw` keeps the bytes as they were for evidence.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub time: Option<DateTime<Utc>>,
    pub locator: Locator,
    pub source: &'a LogSource,
    pub fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// The record as it stands in the source: the log line, or the record's JSON.
    pub raw: Cow<'a, str>,
}

impl<'a> Event<'a> {
    /// The value of a field, by exact name first, then ignoring ASCII case.
    pub fn get(&self, name: &str) -> Option<&str> {
        // One pass: an exact match wins at once; the first case-insensitive match is kept in
        // case no exact one follows. The length check keeps the common miss cheap.
        let mut folded = None;
        for (k, v) in &self.fields {
            if k.len() != name.len() {
                continue;
            }
            if k == name {
                return Some(v.as_ref());
            }
            if folded.is_none() && k.eq_ignore_ascii_case(name) {
                folded = Some(v.as_ref());
            }
        }
        folded
    }

    /// The first non-empty value among several candidate field names.
    pub fn first_of(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .filter_map(|n| self.get(n))
            .find(|v| !v.is_empty() && *v != "-")
    }
}

/// Field names that carry the client address of a request, across all sources.
pub const CLIENT_IP_FIELDS: &[&str] = &["c-ip", "ClientIpAddress", "client-ip", "IpAddress"];
/// Field names that carry the host that wrote the event.
pub const HOST_FIELDS: &[&str] = &[
    "Computer",
    "ServerHostName",
    "ServerName",
    "server-hostname",
];

/// One piece of evidence behind a finding: a line or record of a source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Path relative to the collection root (`case.zip!/Logging/...` inside zips).
    pub path: String,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// The raw text of the line or record, cut to a bounded length.
    pub excerpt: String,
}

impl Evidence {
    pub fn locator(&self) -> Locator {
        match (self.line, self.record) {
            (Some(l), _) => Locator::Line(l),
            (None, Some(r)) => Locator::Record(r),
            _ => Locator::File,
        }
    }
}

/// The rule behind a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: String,
    pub title: String,
    pub level: String,
    /// Where the rule came from: `sigma:builtin/<file>`, `sigma:<dir>/<file>`, `yara:...`, `ioc:...`.
    pub source: String,
}

/// One detection, with everything needed to check it by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable for the same input: derived from the rule and the evidence locations.
    pub id: String,
    pub rule: RuleRef,
    pub tags: Vec<String>,
    /// RFC 3339 UTC; absent for findings on files that carry no time.
    pub time: Option<DateTime<Utc>>,
    pub host: Option<String>,
    pub evidence: Vec<Evidence>,
    /// The event's fields that matter for the finding (all fields, for small events).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl Finding {
    /// A finding parsed from its JSON with every evidence excerpt left empty, unread: excerpts
    /// are most of a finding's bytes and escapes, and passes that summarise findings without
    /// showing them need not unescape them.
    pub fn from_json_without_excerpts(bytes: &[u8]) -> serde_json::Result<Finding> {
        #[derive(Deserialize)]
        struct EvidenceHead {
            path: String,
            sha256: String,
            line: Option<u64>,
            record: Option<u64>,
            #[serde(rename = "excerpt")]
            _excerpt: serde::de::IgnoredAny,
        }
        #[derive(Deserialize)]
        struct FindingHead {
            id: String,
            rule: RuleRef,
            tags: Vec<String>,
            time: Option<DateTime<Utc>>,
            host: Option<String>,
            evidence: Vec<EvidenceHead>,
            fields: serde_json::Map<String, serde_json::Value>,
        }
        let h: FindingHead = serde_json::from_slice(bytes)?;
        Ok(Finding {
            id: h.id,
            rule: h.rule,
            tags: h.tags,
            time: h.time,
            host: h.host,
            evidence: h
                .evidence
                .into_iter()
                .map(|e| Evidence {
                    path: e.path,
                    sha256: e.sha256,
                    line: e.line,
                    record: e.record,
                    excerpt: String::new(),
                })
                .collect(),
            fields: h.fields,
        })
    }
}

/// Something that went wrong without stopping the scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Warning {
    /// The file concerned, relative to the collection root; empty for global warnings.
    pub path: String,
    pub message: String,
}

impl Warning {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Warning {
        Warning {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Cut a string to at most `max` bytes on a char boundary, marking the cut.
pub fn truncate_excerpt(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes cut]", &s[..end], s.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_type_classification() {
        assert_eq!(
            ExchangeLog::from_log_type("HttpProxy Logs"),
            ExchangeLog::HttpProxy
        );
        assert_eq!(
            ExchangeLog::from_log_type(" ECP Server Log"),
            ExchangeLog::EcpServer
        );
        assert_eq!(
            ExchangeLog::from_log_type("SMTP Receive Protocol Log").slug(),
            "smtp-receive-protocol-log"
        );
    }

    #[test]
    fn excerpt_cut_respects_char_boundaries() {
        let s = "ééééé";
        let cut = truncate_excerpt(s, 3);
        assert!(cut.starts_with('é'));
        assert!(cut.contains("bytes cut"));
        assert_eq!(truncate_excerpt("abc", 10), "abc");
    }

    #[test]
    fn event_field_lookup_falls_back_to_case_insensitive() {
        let ls = LogSource::new("windows", None, Some("webserver"));
        let ev = Event {
            time: None,
            locator: Locator::Line(1),
            source: &ls,
            fields: vec![
                ("c-ip".into(), "1.2.3.4".into()),
                ("Cs-Method".into(), "POST".into()),
            ],
            raw: "".into(),
        };
        assert_eq!(ev.get("cs-method"), Some("POST"));
        assert_eq!(ev.first_of(CLIENT_IP_FIELDS), Some("1.2.3.4"));
        assert_eq!(ev.get("nope"), None);
    }

    #[test]
    fn findings_parse_without_excerpts_as_they_do_with_them() {
        let mut fields = serde_json::Map::new();
        fields.insert("CommandLine".into(), "cmd /c \"whoami\"".into());
        let full = Finding {
            id: "f1".into(),
            rule: RuleRef {
                id: "r".into(),
                title: "Rule".into(),
                level: "high".into(),
                source: "sigma:x.yml".into(),
            },
            tags: vec!["attack.t1505.003".into()],
            time: chrono::DateTime::from_timestamp(1_614_650_000, 123_000_000),
            host: Some("EXCH01".into()),
            evidence: vec![Evidence {
                path: "logs/a.log".into(),
                sha256: "ab".repeat(32),
                line: Some(7),
                record: None,
                excerpt: "a \"quoted\" line with \\ and \n escapes".into(),
            }],
            fields,
        };
        let json = serde_json::to_vec(&full).unwrap();
        let slim = Finding::from_json_without_excerpts(&json).unwrap();
        let mut want = full.clone();
        want.evidence[0].excerpt.clear();
        assert_eq!(slim, want);
        // What the full parse rejects, this rejects too.
        let broken = &json[..json.len() - 3];
        assert!(serde_json::from_slice::<Finding>(broken).is_err());
        assert!(Finding::from_json_without_excerpts(broken).is_err());
        let no_excerpt = String::from_utf8(json.clone())
            .unwrap()
            .replace(",\"excerpt\":", ",\"other\":");
        assert!(serde_json::from_slice::<Finding>(no_excerpt.as_bytes()).is_err());
        assert!(Finding::from_json_without_excerpts(no_excerpt.as_bytes()).is_err());
    }
}
