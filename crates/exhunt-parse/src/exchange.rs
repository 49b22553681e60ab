//! Exchange CSV logs (`#Log-type:` container format): HttpProxy, ECP, EWS, Rps_*, message
//! tracking, OAB generator and any other log type.

use std::borrow::Cow;
use std::io;

use exhunt_model::{Event, ExchangeLog, Locator, LogSource};

use crate::lines::LineReader;
use crate::time::{leading_timestamp, parse_iso, starts_with_timestamp};
use crate::{Acc, MAX_LINE_BYTES};

/// Timestamp columns, by priority.
const TIME_COLUMNS: &[&str] = &["DateTime", "TimeStamp", "date-time", "Timestamp"];

struct Header {
    names: Vec<String>,
    time: Option<usize>,
    event_data: Option<usize>,
    has_message: bool,
}

impl Header {
    fn parse(spec: &str) -> Header {
        let names: Vec<String> = spec
            .split(',')
            .map(|n| n.trim().trim_matches('"').to_string())
            .collect();
        let find = |want: &str| names.iter().position(|n| n.eq_ignore_ascii_case(want));
        Header {
            time: TIME_COLUMNS.iter().find_map(|c| find(c)),
            event_data: find("EventData"),
            has_message: find("Message").is_some(),
            names,
        }
    }
}

/// Where a CSV scan stands at the end of some bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scan {
    FieldStart,
    Unquoted,
    InQuoted,
    QuoteInQuoted,
}

/// Advance the CSV state over `b` (quotes only open at the start of a field).
fn scan(b: &[u8], mut st: Scan) -> Scan {
    let mut i = 0;
    while i < b.len() {
        match st {
            Scan::FieldStart => {
                if b[i] == b'"' {
                    st = Scan::InQuoted;
                    i += 1;
                } else {
                    st = Scan::Unquoted;
                }
            }
            Scan::Unquoted => match memchr::memchr(b',', &b[i..]) {
                Some(k) => {
                    i += k + 1;
                    st = Scan::FieldStart;
                }
                None => return Scan::Unquoted,
            },
            Scan::InQuoted => match memchr::memchr(b'"', &b[i..]) {
                Some(k) => {
                    i += k + 1;
                    st = Scan::QuoteInQuoted;
                }
                None => return Scan::InQuoted,
            },
            Scan::QuoteInQuoted => {
                if b[i] == b'"' {
                    st = Scan::InQuoted;
                    i += 1;
                } else if b[i] == b',' {
                    st = Scan::FieldStart;
                    i += 1;
                } else {
                    st = Scan::Unquoted;
                }
            }
        }
    }
    st
}

/// Split one CSV record into values, borrowing them unless `""` escapes must be undone.
/// Returns false when a quoted field is not terminated.
fn split_csv<'a>(s: &'a str, mut f: impl FnMut(Cow<'a, str>)) -> bool {
    let b = s.as_bytes();
    if memchr::memchr(b'"', b).is_none() {
        let mut start = 0;
        for i in memchr::memchr_iter(b',', b) {
            f(Cow::Borrowed(&s[start..i]));
            start = i + 1;
        }
        f(Cow::Borrowed(&s[start..]));
        return true;
    }
    let mut i = 0;
    loop {
        if i < b.len() && b[i] == b'"' {
            let mut owned: Option<String> = None;
            let mut seg = i + 1;
            let mut j = seg;
            loop {
                match memchr::memchr(b'"', &b[j..]) {
                    None => {
                        let v = match owned {
                            Some(mut o) => {
                                o.push_str(&s[seg..]);
                                Cow::Owned(o)
                            }
                            None => Cow::Borrowed(&s[seg..]),
                        };
                        f(v);
                        return false;
                    }
                    Some(k) => {
                        let q = j + k;
                        if b.get(q + 1) == Some(&b'"') {
                            owned.get_or_insert_with(String::new).push_str(&s[seg..=q]);
                            j = q + 2;
                            seg = j;
                            continue;
                        }
                        // Closing quote; anything up to the next comma is kept as written.
                        let after = q + 1;
                        let (junk_end, next) = match memchr::memchr(b',', &b[after..]) {
                            Some(c) => (after + c, Some(after + c + 1)),
                            None => (b.len(), None),
                        };
                        let v = match owned {
                            Some(mut o) => {
                                o.push_str(&s[seg..q]);
                                o.push_str(&s[after..junk_end]);
                                Cow::Owned(o)
                            }
                            None if junk_end == after => Cow::Borrowed(&s[seg..q]),
                            None => Cow::Owned(format!("{}{}", &s[seg..q], &s[after..junk_end])),
                        };
                        f(v);
                        match next {
                            Some(n) => {
                                i = n;
                                break;
                            }
                            None => return true,
                        }
                    }
                }
            }
        } else {
            match memchr::memchr(b',', &b[i..]) {
                Some(c) => {
                    f(Cow::Borrowed(&s[i..i + c]));
                    i += c + 1;
                }
                None => {
                    f(Cow::Borrowed(&s[i..]));
                    return true;
                }
            }
        }
    }
}

/// Split a `Cow` at a byte index, keeping borrowed halves borrowed.
fn cow_split<'a>(c: &Cow<'a, str>, at: usize) -> (Cow<'a, str>, Cow<'a, str>) {
    match c {
        Cow::Borrowed(s) => (Cow::Borrowed(&s[..at]), Cow::Borrowed(&s[at + 1..])),
        Cow::Owned(s) => (
            Cow::Owned(s[..at].to_string()),
            Cow::Owned(s[at + 1..].to_string()),
        ),
    }
}

/// ECP `EventData`: `S:KEY=value;` items, an item possibly wrapped in single quotes with `''`
/// escaping. Each becomes a field named by its key (`S:CMD`, `S:URL`, `Dbl:WLM.TS`...).
fn push_event_data<'a>(ed: &'a str, fields: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>) {
    let b = ed.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let item: Cow<'a, str>;
        if b[i] == b'\'' {
            let mut owned: Option<String> = None;
            let mut seg = i + 1;
            let mut j = seg;
            loop {
                match memchr::memchr(b'\'', &b[j..]) {
                    None => {
                        item = match owned.take() {
                            Some(mut o) => {
                                o.push_str(&ed[seg..]);
                                Cow::Owned(o)
                            }
                            None => Cow::Borrowed(&ed[seg..]),
                        };
                        i = b.len();
                        break;
                    }
                    Some(k) => {
                        let q = j + k;
                        if b.get(q + 1) == Some(&b'\'') {
                            owned.get_or_insert_with(String::new).push_str(&ed[seg..=q]);
                            j = q + 2;
                            seg = j;
                            continue;
                        }
                        item = match owned.take() {
                            Some(mut o) => {
                                o.push_str(&ed[seg..q]);
                                Cow::Owned(o)
                            }
                            None => Cow::Borrowed(&ed[seg..q]),
                        };
                        i = match memchr::memchr(b';', &b[q + 1..]) {
                            Some(c) => q + 1 + c + 1,
                            None => b.len(),
                        };
                        break;
                    }
                }
            }
        } else {
            let end = memchr::memchr(b';', &b[i..]).map_or(b.len(), |c| i + c);
            item = Cow::Borrowed(&ed[i..end]);
            i = end + 1;
        }
        if let Some(eq) = memchr::memchr(b'=', item.as_bytes()) {
            let key = &item[..eq];
            if !key.is_empty() && key.len() <= 80 && key.contains(':') && !key.contains(' ') {
                fields.push(cow_split(&item, eq));
            }
        }
    }
}

struct Ctx<'h> {
    source: &'h LogSource,
    oab: bool,
}

/// Build and emit the event of one CSV record.
fn emit_record(
    ctx: &Ctx<'_>,
    h: &Header,
    record: &str,
    line_no: u64,
    at_eof: bool,
    acc: &mut Acc,
    sink: &mut dyn FnMut(&Event<'_>),
) {
    let mut fields: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(h.names.len() + 4);
    let mut n = 0usize;
    let terminated = split_csv(record, |v| {
        if let Some(name) = h.names.get(n) {
            fields.push((Cow::Borrowed(name.as_str()), v));
        }
        n += 1;
    });
    let cols = h.names.len();
    if !terminated {
        acc.warn(format!(
            "line {line_no} truncated: unterminated quoted field{}; {} of {cols} columns kept",
            if at_eof { " at end of file" } else { "" },
            n.min(cols)
        ));
    } else if n < cols {
        if at_eof {
            acc.warn(format!(
                "line {line_no} truncated: {n} of {cols} columns at end of file"
            ));
        } else {
            acc.warn(format!("line {line_no}: {n} of {cols} columns"));
        }
    } else if n > cols {
        acc.warn(format!(
            "line {line_no}: {n} values for {cols} columns; extra values dropped"
        ));
    }
    let mut time = None;
    if let Some(ti) = h.time
        && let Some((_, v)) = fields.get(ti)
    {
        time = parse_iso(v);
        if time.is_none() && !v.is_empty() {
            acc.warn(format!(
                "line {line_no}: bad timestamp {:?}",
                truncate(v, 40)
            ));
        }
    }
    if let Some(ei) = h.event_data
        && let Some((_, v)) = fields.get(ei)
    {
        let v = v.clone();
        match v {
            Cow::Borrowed(s) => push_event_data(s, &mut fields),
            Cow::Owned(s) => {
                let mut extra = Vec::new();
                push_event_data(&s, &mut extra);
                fields.extend(
                    extra
                        .into_iter()
                        .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned()))),
                );
            }
        }
    }
    if ctx.oab && !h.has_message {
        let mut msg = String::new();
        for (i, (_, v)) in fields.iter().enumerate().take(cols) {
            if Some(i) != h.time {
                if !msg.is_empty() {
                    msg.push(',');
                }
                msg.push_str(v);
            }
        }
        fields.push((Cow::Borrowed("Message"), Cow::Owned(msg)));
    }
    let ev = Event {
        time,
        locator: Locator::Line(line_no),
        source: ctx.source,
        fields,
        raw: Cow::Borrowed(record),
    };
    acc.emit(&ev, sink);
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A bare CSV header line: field names separated by commas, no spaces, not data.
fn looks_like_bare_header(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.contains(',')
        && !s.contains(' ')
        && !starts_with_timestamp(s)
}

pub(crate) fn parse(
    log: &ExchangeLog,
    lr: &mut LineReader<'_>,
    acc: &mut Acc,
    sink: &mut dyn FnMut(&Event<'_>),
) -> io::Result<()> {
    let source = LogSource::new("exchange", Some(&log.slug()), None);
    let ctx = Ctx {
        source: &source,
        oab: matches!(log, ExchangeLog::OabGenerator),
    };
    let mut header: Option<Header> = None;
    // A record whose quoted field goes on over the next physical lines.
    let mut pending = String::new();
    let mut pending_line = 0u64;
    let mut pending_state = Scan::FieldStart;
    let mut text_lines = 0u64;
    let mut first_text_line = 0u64;
    let mut seen_content = false;

    while let Some(line) = lr.next_line(acc)? {
        if !pending.is_empty()
            && let Some(h) = header.as_ref()
        {
            let new_record = h.time == Some(0) && starts_with_timestamp(line.text);
            if new_record || pending.len() + 1 + line.text.len() > MAX_LINE_BYTES {
                if !new_record {
                    acc.warn(format!(
                        "line {pending_line}: multi-line record longer than {} KiB; cut",
                        MAX_LINE_BYTES / 1024
                    ));
                }
                emit_record(&ctx, h, &pending, pending_line, false, acc, sink);
                pending.clear();
                if !new_record {
                    continue;
                }
            } else {
                pending.push('\n');
                pending.push_str(line.text);
                pending_state = scan(line.text.as_bytes(), pending_state);
                if pending_state != Scan::InQuoted || line.no_newline {
                    emit_record(&ctx, h, &pending, pending_line, line.no_newline, acc, sink);
                    pending.clear();
                }
                continue;
            }
        }
        let text = line.text;
        if text.is_empty() {
            continue;
        }
        if let Some(rest) = text.strip_prefix('#') {
            if let Some(spec) = rest.strip_prefix("Fields:") {
                header = Some(Header::parse(spec));
            }
            seen_content = true;
            continue;
        }
        if header.is_none() && !seen_content && looks_like_bare_header(text) {
            header = Some(Header::parse(text));
            seen_content = true;
            continue;
        }
        seen_content = true;
        let Some(h) = header.as_ref() else {
            if text_lines == 0 {
                first_text_line = line.no;
            }
            text_lines += 1;
            let ev = Event {
                time: leading_timestamp(text),
                locator: Locator::Line(line.no),
                source: &source,
                fields: vec![(Cow::Borrowed("Message"), Cow::Borrowed(text))],
                raw: Cow::Borrowed(text),
            };
            acc.emit(&ev, sink);
            continue;
        };
        if memchr::memchr(b'"', text.as_bytes()).is_some() {
            let st = scan(text.as_bytes(), Scan::FieldStart);
            if st == Scan::InQuoted && !line.no_newline {
                pending.push_str(text);
                pending_line = line.no;
                pending_state = st;
                continue;
            }
        }
        emit_record(&ctx, h, text, line.no, line.no_newline, acc, sink);
    }
    if !pending.is_empty()
        && let Some(h) = header.as_ref()
    {
        emit_record(&ctx, h, &pending, pending_line, true, acc, sink);
    }
    if text_lines > 0 && !ctx.oab {
        acc.warn(format!(
            "{text_lines} line(s) without a #Fields header kept as text in field Message \
             (first: line {first_text_line})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> (Vec<String>, bool) {
        let mut v = Vec::new();
        let ok = split_csv(s, |c| v.push(c.into_owned()));
        (v, ok)
    }

    #[test]
    fn csv_split() {
        assert_eq!(split("a,b,,c,").0, vec!["a", "b", "", "c", ""]);
        assert_eq!(
            split(r#"x,"-ResultSize ""1""",y"#).0,
            vec!["x", r#"-ResultSize "1""#, "y"]
        );
        assert_eq!(split(r#""a,b",c"#).0, vec!["a,b", "c"]);
        assert_eq!(split(r#""a"junk,c"#).0, vec!["ajunk", "c"]);
        let (v, ok) = split(r#"a,"unterminated, still"#);
        assert!(!ok);
        assert_eq!(v, vec!["a", "unterminated, still"]);
        assert_eq!(split("").0, vec![""]);
        assert_eq!(split("\"multi\nline\",z").0, vec!["multi\nline", "z"]);
    }

    #[test]
    fn scan_states() {
        assert_eq!(scan(b"a,\"b", Scan::FieldStart), Scan::InQuoted);
        assert_eq!(scan(b"a,\"b\"\"", Scan::FieldStart), Scan::InQuoted);
        assert_eq!(scan(b"a,\"b\"", Scan::FieldStart), Scan::QuoteInQuoted);
        assert_eq!(scan(b"a,b\"c", Scan::FieldStart), Scan::Unquoted);
        assert_eq!(scan(b"end\",x", Scan::InQuoted), Scan::Unquoted);
    }

    #[test]
    fn event_data_items() {
        let ed = "S:TIME=4365;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://o/#x''.Identity=''87''';S:REQID=;S:URL=/ecp/a?x=%5D:444/ecp/lkO.js;S:BLD=15.0.847.32";
        let mut f = Vec::new();
        push_event_data(ed, &mut f);
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.to_string());
        assert_eq!(get("S:TIME").as_deref(), Some("4365"));
        assert_eq!(
            get("S:CMD").as_deref(),
            Some("Set-OabVirtualDirectory.ExternalUrl='http://o/#x'.Identity='87'")
        );
        assert_eq!(get("S:REQID").as_deref(), Some(""));
        assert_eq!(get("S:URL").as_deref(), Some("/ecp/a?x=%5D:444/ecp/lkO.js"));
        assert_eq!(get("S:BLD").as_deref(), Some("15.0.847.32"));
    }
}
