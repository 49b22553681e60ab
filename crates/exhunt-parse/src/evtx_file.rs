//! EVTX files through the `evtx` crate, one thread per file.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use evtx::{EvtxParser, ParserSettings};
use exhunt_model::{Event, Locator};

use crate::windows::{SourceCache, normalize};
use crate::{Acc, ParseError, error_chain};

/// Consecutive failures after which a file is considered unreadable from there on.
const MAX_CONSECUTIVE_ERRORS: u32 = 10_000;

pub(crate) fn parse(
    path: &Path,
    acc: &mut Acc,
    sink: &mut dyn FnMut(&Event<'_>),
) -> Result<(), ParseError> {
    let shown = path.display().to_string();
    let opened = catch_unwind(|| EvtxParser::from_path(path));
    let parser = match opened {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            if let Err(io) = std::fs::metadata(path) {
                return Err(ParseError::Read {
                    path: shown,
                    source: io,
                });
            }
            return Err(ParseError::Evtx {
                path: shown,
                reason: error_chain(&e),
            });
        }
        Err(_) => {
            return Err(ParseError::Evtx {
                path: shown,
                reason: "the EVTX parser panicked on the file header".into(),
            });
        }
    };
    let mut parser = parser.with_configuration(
        ParserSettings::new()
            .num_threads(1)
            .separate_json_attributes(false)
            .indent(false),
    );
    let mut sources = SourceCache::default();
    let mut records = parser.records_json();
    let mut good = 0u64;
    let mut consecutive_errors = 0u32;
    loop {
        let next = catch_unwind(AssertUnwindSafe(|| records.next()));
        let item = match next {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(_) => {
                acc.warn(format!(
                    "the EVTX parser panicked after {good} good records; the rest of the file \
                     was skipped"
                ));
                break;
            }
        };
        let rec = match item {
            Ok(r) => r,
            Err(e) => {
                acc.warn(format!(
                    "damaged EVTX data after {good} good records: {}; skipped",
                    error_chain(&e)
                ));
                consecutive_errors += 1;
                if consecutive_errors >= MAX_CONSECUTIVE_ERRORS {
                    acc.warn(
                        "too many consecutive broken records; the rest of the file was skipped",
                    );
                    break;
                }
                continue;
            }
        };
        consecutive_errors = 0;
        good += 1;
        let value: crate::json::Value<'_> = match serde_json::from_str(&rec.data) {
            Ok(v) => v,
            Err(e) => {
                acc.warn(format!(
                    "record {}: rendered JSON does not parse ({e}); skipped",
                    rec.event_record_id
                ));
                continue;
            }
        };
        let Some(n) = normalize(&value) else {
            continue;
        };
        // The record's own System/EventRecordID (what Event Viewer shows); the record header's
        // number only when that is missing.
        let record_id = n
            .fields
            .iter()
            .find(|(k, _)| k == "EventRecordID")
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .unwrap_or(rec.event_record_id);
        let source = sources.get(n.channel(), n.event_id);
        let ev = Event {
            time: n.time,
            locator: Locator::Record(record_id),
            source,
            fields: n.fields,
            raw: Cow::Borrowed(rec.data.as_str()),
        };
        acc.emit(&ev, sink);
    }
    Ok(())
}
