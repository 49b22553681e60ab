//! JSON-lines Windows event exports (evtx_dump, Velociraptor, Elastic, OTRF).

use std::borrow::Cow;
use std::io;

use exhunt_model::{Event, Locator};

use crate::Acc;
use crate::lines::LineReader;
use crate::windows::{SourceCache, normalize};

pub(crate) fn parse(
    lr: &mut LineReader<'_>,
    acc: &mut Acc,
    sink: &mut dyn FnMut(&Event<'_>),
) -> io::Result<()> {
    let mut sources = SourceCache::default();
    while let Some(line) = lr.next_line(acc)? {
        let text = line.text.trim();
        if text.is_empty() {
            continue;
        }
        let value: crate::json::Value<'_> = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                acc.warn(format!("line {}: not valid JSON ({e}); skipped", line.no));
                continue;
            }
        };
        let Some(n) = normalize(&value) else {
            acc.warn(format!("line {}: not a JSON object; skipped", line.no));
            continue;
        };
        let source = sources.get(n.channel(), n.event_id);
        let ev = Event {
            time: n.time,
            locator: Locator::Line(line.no),
            source,
            fields: n.fields,
            raw: Cow::Borrowed(text),
        };
        acc.emit(&ev, sink);
    }
    Ok(())
}
