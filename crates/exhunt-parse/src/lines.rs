//! Physical lines of a text artifact: encoding detection (UTF-8, UTF-8 BOM, UTF-16 LE/BE),
//! a reused line buffer, the 1 MiB line cap and lossy decoding of invalid UTF-8.

use std::io::{self, BufRead, BufReader, Read};

use crate::{Acc, MAX_LINE_BYTES, ParseError};

/// One physical line, borrowed from the reader's buffer until the next call.
pub(crate) struct Line<'a> {
    /// The line without its `\n` / `\r\n` ending (and without a leading BOM on line 1).
    pub text: &'a str,
    /// 1-based physical line number.
    pub no: u64,
    /// The file ended without a newline after this line (it may have been cut).
    pub no_newline: bool,
}

pub(crate) struct LineReader<'r> {
    r: Box<dyn BufRead + 'r>,
    buf: Vec<u8>,
    lossy: String,
    line_no: u64,
    warned_utf8: bool,
}

impl<'r> LineReader<'r> {
    fn new(r: Box<dyn BufRead + 'r>) -> Self {
        LineReader {
            r,
            buf: Vec::with_capacity(4096),
            lossy: String::new(),
            line_no: 0,
            warned_utf8: false,
        }
    }

    /// Lines read so far.
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line, or `None` at end of input. Over-long lines are cut (with a warning) and
    /// invalid UTF-8 is decoded lossily (one warning per file).
    pub(crate) fn next_line(&mut self, acc: &mut Acc) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut truncated = false;
        let mut saw_newline = false;
        let mut read_any = false;
        loop {
            let avail = match self.r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            read_any = true;
            let (take, used, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, i + 1, true),
                None => (avail.len(), avail.len(), false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
            if take > room {
                truncated = true;
            }
            self.buf.extend_from_slice(&avail[..take.min(room)]);
            self.r.consume(used);
            if done {
                saw_newline = true;
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        self.line_no += 1;
        let no = self.line_no;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if truncated {
            // Do not leave half a UTF-8 sequence at the cut.
            if let Err(e) = std::str::from_utf8(&self.buf)
                && e.error_len().is_none()
            {
                self.buf.truncate(e.valid_up_to());
            }
            acc.warn(format!(
                "line {no} is longer than {} KiB; its value was cut",
                MAX_LINE_BYTES / 1024
            ));
        }
        let mut start = 0;
        if no == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            start = 3;
        }
        let text = match std::str::from_utf8(&self.buf[start..]) {
            Ok(s) => s,
            Err(_) => {
                if !self.warned_utf8 {
                    self.warned_utf8 = true;
                    acc.warn(format!(
                        "line {no}: invalid UTF-8, decoded lossily (further lines too, without \
                         more warnings)"
                    ));
                }
                self.lossy.clear();
                self.lossy
                    .push_str(&String::from_utf8_lossy(&self.buf[start..]));
                self.lossy.as_str()
            }
        };
        Ok(Some(Line {
            text,
            no,
            no_newline: !saw_newline,
        }))
    }
}

/// Detect the encoding of `reader`, wrap it into a [`LineReader`] and run `f`. An I/O error
/// before the first line is a [`ParseError`]; a later one stops parsing with a warning.
pub(crate) fn with_decoded<'r>(
    mut reader: impl BufRead + 'r,
    path: &str,
    acc: &mut Acc,
    f: impl FnOnce(&mut LineReader<'r>, &mut Acc) -> io::Result<()>,
) -> Result<(), ParseError> {
    let head = loop {
        match reader.fill_buf() {
            Ok(h) => break h,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ParseError::Read {
                    path: path.to_string(),
                    source: e,
                });
            }
        }
    };
    let boxed: Box<dyn BufRead + 'r> = match detect_utf16(head) {
        Some(big_endian) => Box::new(BufReader::with_capacity(
            64 * 1024,
            Utf16Reader::new(reader, big_endian),
        )),
        None => Box::new(reader),
    };
    let mut lr = LineReader::new(boxed);
    if let Err(e) = f(&mut lr, acc) {
        if lr.line_no() == 0 {
            return Err(ParseError::Read {
                path: path.to_string(),
                source: e,
            });
        }
        acc.warn(format!(
            "read error after line {}: {e}; parsing of this file stopped there",
            lr.line_no()
        ));
    }
    Ok(())
}

/// `Some(big_endian)` when the first bytes show UTF-16 (BOM, or ASCII with zero high bytes).
fn detect_utf16(head: &[u8]) -> Option<bool> {
    match head {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 && a.is_ascii() && b.is_ascii() => Some(false),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 && a.is_ascii() && b.is_ascii() => Some(true),
        _ => None,
    }
}

/// Streams UTF-16 input out as UTF-8; unpaired surrogates and a dangling odd byte become U+FFFD.
struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    carry: Option<u8>,
    high: Option<u16>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
    scratch: Vec<u8>,
}

impl<R: Read> Utf16Reader<R> {
    fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            carry: None,
            high: None,
            out: Vec::new(),
            pos: 0,
            eof: false,
            scratch: vec![0; 32 * 1024],
        }
    }

    fn push_char(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }

    fn push_unit(&mut self, u: u16) {
        if let Some(h) = self.high.take() {
            if (0xDC00..0xE000).contains(&u) {
                let c = 0x10000 + (((h as u32) - 0xD800) << 10) + ((u as u32) - 0xDC00);
                self.push_char(char::from_u32(c).unwrap_or('\u{FFFD}'));
                return;
            }
            self.push_char('\u{FFFD}');
        }
        match u {
            0xD800..=0xDBFF => self.high = Some(u),
            0xDC00..=0xDFFF => self.push_char('\u{FFFD}'),
            _ => self.push_char(char::from_u32(u as u32).unwrap_or('\u{FFFD}')),
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.eof {
            let n = match self.inner.read(&mut self.scratch) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.eof = true;
                if self.carry.take().is_some() || self.high.take().is_some() {
                    self.push_char('\u{FFFD}');
                }
                break;
            }
            let mut i = 0;
            let mut units: Vec<u16> = Vec::with_capacity(n / 2 + 1);
            if let Some(c) = self.carry.take() {
                let pair = [c, self.scratch[0]];
                units.push(self.unit(pair));
                i = 1;
            }
            while i + 1 < n {
                units.push(self.unit([self.scratch[i], self.scratch[i + 1]]));
                i += 2;
            }
            if i < n {
                self.carry = Some(self.scratch[i]);
            }
            self.out.reserve(units.len());
            for u in units {
                self.push_unit(u);
            }
        }
        Ok(())
    }

    fn unit(&self, b: [u8; 2]) -> u16 {
        if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
        let mut acc = Acc::default();
        let mut out = Vec::new();
        with_decoded(bytes, "t", &mut acc, |lr, acc| {
            while let Some(l) = lr.next_line(acc)? {
                out.push(l.text.to_string());
            }
            Ok(())
        })
        .unwrap();
        (out, acc.warnings)
    }

    #[test]
    fn utf16le_with_bom_and_surrogates() {
        let text = "a,b\r\n😀é\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let (lines, warns) = lines_of(&bytes);
        assert_eq!(lines, vec!["a,b", "😀é"]);
        assert!(warns.is_empty());
    }

    #[test]
    fn utf8_bom_stripped_and_invalid_warned_once() {
        let (lines, warns) = lines_of(b"\xEF\xBB\xBFab\n\xFFc\n\xFEd");
        assert_eq!(lines, vec!["ab", "\u{FFFD}c", "\u{FFFD}d"]);
        assert_eq!(warns.len(), 1);
        assert!(warns[0].contains("line 2"));
    }

    #[test]
    fn long_line_cut_on_char_boundary() {
        let mut v = vec![b'x'; MAX_LINE_BYTES - 1];
        v.extend_from_slice("é".repeat(10).as_bytes());
        v.extend_from_slice(b"\nnext\n");
        let (lines, warns) = lines_of(&v);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE_BYTES - 1);
        assert_eq!(lines[1], "next");
        assert_eq!(warns.len(), 1, "{warns:?}");
    }
}
