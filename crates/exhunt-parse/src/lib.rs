//! Parse Exchange, IIS and Windows event artifacts into one normalized, streamed event model.
//!
//! Two entry points: [`parse_text`] for line-oriented artifacts (IIS W3C, Exchange CSV logs,
//! JSON-lines event exports) read from any [`std::io::BufRead`], and [`parse_evtx`] for Windows
//! event log files. Both hand every event to a sink by reference and keep nothing: memory stays
//! bounded whatever the size of the input. A malformed line or record becomes a warning in
//! [`ParseStats`] and parsing goes on; only an artifact that cannot be read at all is an error.
//!
//! Field names (what rules select on):
//! - IIS: the `#Fields:` names (`cs-uri-stem`, `cs(User-Agent)`...), `-` read as empty, `+`
//!   decoded in `cs(User-Agent)`/`cs(Referer)`/`cs(Cookie)`, plus `cs-user-agent`, `cs-referer`,
//!   `cs-cookie`, `cs-host` (from `cs(Host)`) and `cs-uri` (stem, `?` and query when non-empty).
//! - Exchange CSV: the header's column names, values as written (CSV quoting undone); an
//!   `EventData` column also yields one field per `S:KEY=value` item named by its key (`S:CMD`,
//!   `S:URL`, `Dbl:WLM.TS`...). Lines of a log without a header (the OAB generator log) are kept
//!   whole in `Message`; CSV OAB logs get `Message` = the non-time columns joined by `,`.
//! - Windows (EVTX and JSON lines): `EventID`, `Channel`, `Provider_Name`, `Computer`,
//!   `EventRecordID`, `Level`, `Task`, `Keywords`, `TimeCreated` (RFC 3339 UTC),
//!   `Security_UserID`, then each EventData / UserData value by name, unnamed values as
//!   `Data[0]`, `Data[1]`... plus `Data` (all joined by `\n`), and `Message` when rendered text
//!   exists. Security 4688 also gets `Image`, `ParentImage` and `User` like Sysmon 1.

use std::io::BufRead;
use std::path::Path;

use chrono::{DateTime, Utc};
use exhunt_model::{ArtifactKind, Event};

mod evtx_file;
mod exchange;
mod iis;
mod json;
mod jsonl;
mod lines;
mod time;
mod windows;

/// Longest physical line (or joined CSV record) kept; longer values are cut and warned about.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How many warnings are kept per artifact before they are only counted.
const MAX_WARNINGS: usize = 20;

/// What parsing one artifact produced, besides the events themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Events handed to the sink.
    pub events: u64,
    /// Earliest event time seen.
    pub first: Option<DateTime<Utc>>,
    /// Latest event time seen.
    pub last: Option<DateTime<Utc>>,
    /// Problems that did not stop parsing, each naming its line or record; at most about 20,
    /// then one "N more warnings" line.
    pub warnings: Vec<String>,
}

/// A failure that stops parsing of one artifact (never of the whole scan).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The file could not be opened or read from its start.
    #[error("cannot read {path}: {source} (check that the file exists and is readable)")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not an EVTX file the parser can open (bad header, too short, not EVTX).
    #[error(
        "cannot open {path} as an EVTX file: {reason} (the file may be truncated, encrypted or \
         not an event log; try `evtx_dump` on it or re-collect it)"
    )]
    Evtx { path: String, reason: String },
    /// `parse_text` was called on an artifact kind that is not a text log.
    #[error(
        "{path}: artifact kind `{kind}` is not a text log (use parse_evtx for EVTX files; \
         `file` artifacts are not parsed)"
    )]
    NotText { path: String, kind: String },
}

/// Parse a text artifact (IIS W3C, any Exchange CSV log, JSON-lines events) from a streaming
/// reader. `path` is only used in messages.
pub fn parse_text(
    kind: &ArtifactKind,
    path: &str,
    reader: impl BufRead,
    sink: &mut dyn FnMut(&Event<'_>),
) -> Result<ParseStats, ParseError> {
    let mut acc = Acc::default();
    match kind {
        ArtifactKind::IisW3c => {
            lines::with_decoded(reader, path, &mut acc, |lr, acc| iis::parse(lr, acc, sink))?
        }
        ArtifactKind::ExchangeLog(log) => {
            lines::with_decoded(reader, path, &mut acc, |lr, acc| {
                exchange::parse(log, lr, acc, sink)
            })?
        }
        ArtifactKind::EventJsonl => lines::with_decoded(reader, path, &mut acc, |lr, acc| {
            jsonl::parse(lr, acc, sink)
        })?,
        ArtifactKind::Evtx | ArtifactKind::File => {
            return Err(ParseError::NotText {
                path: path.to_string(),
                kind: kind.label(),
            });
        }
    }
    Ok(acc.finish())
}

/// Parse an EVTX file from disk. Damaged chunks and records become warnings; a file that cannot
/// be opened as EVTX at all is a [`ParseError`].
pub fn parse_evtx(path: &Path, sink: &mut dyn FnMut(&Event<'_>)) -> Result<ParseStats, ParseError> {
    let mut acc = Acc::default();
    evtx_file::parse(path, &mut acc, sink)?;
    Ok(acc.finish())
}

/// Running statistics and warnings of one artifact.
#[derive(Default)]
pub(crate) struct Acc {
    events: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    warnings: Vec<String>,
    dropped: u64,
}

impl Acc {
    pub(crate) fn warn(&mut self, msg: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(msg.into());
        } else {
            self.dropped += 1;
        }
    }

    /// Count an event and hand it to the sink.
    pub(crate) fn emit(&mut self, ev: &Event<'_>, sink: &mut dyn FnMut(&Event<'_>)) {
        self.events += 1;
        if let Some(t) = ev.time {
            if self.first.is_none_or(|f| t < f) {
                self.first = Some(t);
            }
            if self.last.is_none_or(|l| t > l) {
                self.last = Some(t);
            }
        }
        sink(ev);
    }

    fn finish(mut self) -> ParseStats {
        if self.dropped > 0 {
            self.warnings
                .push(format!("{} more warnings not shown", self.dropped));
        }
        ParseStats {
            events: self.events,
            first: self.first,
            last: self.last,
            warnings: self.warnings,
        }
    }
}

/// An error and its chain of causes on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
