//! IIS W3C extended logs.

use std::borrow::Cow;
use std::io;

use exhunt_model::{Event, Locator, LogSource};

use crate::Acc;
use crate::lines::LineReader;
use crate::time::parse_date_time;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decode {
    /// Kept as written (`-` still becomes empty).
    Raw,
    /// `+` stands for a space (user agent, referer, cookie).
    Plus,
}

struct Column {
    name: String,
    decode: Decode,
    /// Extra name Sigma rules use for the same value.
    alias: Option<&'static str>,
}

#[derive(Default)]
struct Header {
    cols: Vec<Column>,
    date: Option<usize>,
    time: Option<usize>,
    stem: Option<usize>,
    query: Option<usize>,
    has_cs_uri: bool,
}

impl Header {
    fn parse(spec: &str) -> Header {
        let mut h = Header::default();
        for (i, name) in spec.split_ascii_whitespace().enumerate() {
            let lower = name.to_ascii_lowercase();
            let (decode, alias) = match lower.as_str() {
                "cs(user-agent)" => (Decode::Plus, Some("cs-user-agent")),
                "cs(referer)" => (Decode::Plus, Some("cs-referer")),
                "cs(cookie)" => (Decode::Plus, Some("cs-cookie")),
                "cs(host)" => (Decode::Raw, Some("cs-host")),
                _ => (Decode::Raw, None),
            };
            match lower.as_str() {
                "date" => h.date = Some(i),
                "time" => h.time = Some(i),
                "cs-uri-stem" => h.stem = Some(i),
                "cs-uri-query" => h.query = Some(i),
                "cs-uri" => h.has_cs_uri = true,
                _ => {}
            }
            h.cols.push(Column {
                name: name.to_string(),
                decode,
                alias,
            });
        }
        h
    }
}

fn value(raw: &str, decode: Decode) -> Cow<'_, str> {
    if raw == "-" {
        return Cow::Borrowed("");
    }
    if decode == Decode::Plus && memchr::memchr(b'+', raw.as_bytes()).is_some() {
        return Cow::Owned(raw.replace('+', " "));
    }
    Cow::Borrowed(raw)
}

pub(crate) fn parse(
    lr: &mut LineReader<'_>,
    acc: &mut Acc,
    sink: &mut dyn FnMut(&Event<'_>),
) -> io::Result<()> {
    let source = LogSource::new("windows", Some("iis"), Some("webserver"));
    let mut header: Option<Header> = None;
    let mut orphans = 0u64;
    let mut first_orphan = 0u64;
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(32);
    while let Some(line) = lr.next_line(acc)? {
        let text = line.text;
        if text.is_empty() {
            continue;
        }
        if let Some(rest) = text.strip_prefix('#') {
            if let Some(spec) = rest.strip_prefix("Fields:") {
                header = Some(Header::parse(spec));
            }
            continue;
        }
        let Some(h) = header.as_ref() else {
            if orphans == 0 {
                first_orphan = line.no;
            }
            orphans += 1;
            continue;
        };
        let text = text.trim_end_matches([' ', '\t']);
        spans.clear();
        let mut start = 0;
        for i in memchr::memchr_iter(b' ', text.as_bytes()) {
            spans.push((start, i));
            start = i + 1;
        }
        spans.push((start, text.len()));
        let get = |i: usize| spans.get(i).map(|&(a, b)| &text[a..b]);
        let (Some(di), Some(ti)) = (h.date, h.time) else {
            acc.warn(format!(
                "line {}: the #Fields header has no date/time; line skipped",
                line.no
            ));
            continue;
        };
        let time = match (get(di), get(ti)) {
            (Some(d), Some(t)) => parse_date_time(d, t),
            _ => None,
        };
        if spans.len() != h.cols.len() {
            let what = if time.is_some() {
                "fields matched by position"
            } else {
                "line skipped (no valid date/time)"
            };
            acc.warn(format!(
                "line {}: {} values for {} header fields; {what}",
                line.no,
                spans.len(),
                h.cols.len()
            ));
        } else if time.is_none() {
            acc.warn(format!("line {}: bad date/time; line skipped", line.no));
        }
        if time.is_none() {
            continue;
        }
        let mut fields: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(h.cols.len() + 4);
        for (col, &(a, b)) in h.cols.iter().zip(spans.iter()) {
            let v = value(&text[a..b], col.decode);
            if let Some(alias) = col.alias {
                fields.push((Cow::Borrowed(col.name.as_str()), v.clone()));
                fields.push((Cow::Borrowed(alias), v));
            } else {
                fields.push((Cow::Borrowed(col.name.as_str()), v));
            }
        }
        if !h.has_cs_uri
            && let Some(si) = h.stem
            && let Some(stem) = get(si)
        {
            let stem = value(stem, Decode::Raw);
            let query = h
                .query
                .and_then(get)
                .map(|q| value(q, Decode::Raw))
                .unwrap_or_default();
            let uri = if query.is_empty() {
                stem
            } else {
                Cow::Owned(format!("{stem}?{query}"))
            };
            fields.push((Cow::Borrowed("cs-uri"), uri));
        }
        let ev = Event {
            time,
            locator: Locator::Line(line.no),
            source: &source,
            fields,
            raw: Cow::Borrowed(line.text),
        };
        acc.emit(&ev, sink);
    }
    if orphans > 0 {
        acc.warn(format!(
            "{orphans} line(s) before any #Fields header skipped (first: line {first_orphan})"
        ));
    }
    Ok(())
}
