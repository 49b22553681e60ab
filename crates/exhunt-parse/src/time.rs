//! Fast timestamp parsing for the formats the logs use.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// `YYYY-MM-DD`.
fn date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// `HH:MM:SS[.fraction]`, then whatever follows (returned).
fn clock(b: &[u8]) -> Option<(u32, u32, u32, u32, &[u8])> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (digits(&b[..2])?, digits(&b[3..5])?, digits(&b[6..8])?);
    let mut rest = &b[8..];
    let mut nanos = 0u32;
    if let [b'.' | b',', tail @ ..] = rest {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, &c) in tail[..n].iter().enumerate() {
            if i < 9 {
                nanos = nanos * 10 + (c - b'0') as u32;
            }
        }
        for _ in n..9 {
            nanos *= 10;
        }
        rest = &tail[n..];
    }
    Some((h, m, s, nanos, rest))
}

/// ISO 8601 / RFC 3339 timestamps (`T` or space between date and time, `Z`, an offset, or no
/// zone = UTC), with any number of fraction digits.
pub(crate) fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') {
        return None;
    }
    let d = date(&b[..10])?;
    let (h, m, sec, nanos, rest) = clock(&b[11..])?;
    let naive = d.and_hms_nano_opt(h, m, sec.min(59), nanos)?;
    let offset_secs: i64 = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let tail: Vec<u8> = tail.iter().copied().filter(|c| *c != b':').collect();
            if tail.len() != 4 {
                return None;
            }
            let v = (digits(&tail[..2])? * 3600 + digits(&tail[2..])? * 60) as i64;
            if *sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    let utc = naive.checked_sub_signed(chrono::Duration::seconds(offset_secs))?;
    Some(Utc.from_utc_datetime(&utc))
}

/// IIS `date` + `time` columns (UTC).
pub(crate) fn parse_date_time(d: &str, t: &str) -> Option<DateTime<Utc>> {
    let d = date(d.as_bytes())?;
    let (h, m, s, nanos, rest) = clock(t.as_bytes())?;
    if !rest.is_empty() {
        return None;
    }
    let naive: NaiveDateTime = d.and_hms_nano_opt(h, m, s.min(59), nanos)?;
    Some(Utc.from_utc_datetime(&naive))
}

/// Whether a line starts with an ISO date-time (`YYYY-MM-DDTHH:MM:SS` or with a space).
pub(crate) fn starts_with_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
}

/// The leading timestamp token of a text line, if any.
pub(crate) fn leading_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if !starts_with_timestamp(s) {
        return None;
    }
    // Token ends at the first comma, tab or space after the time part.
    let b = s.as_bytes();
    let end = b[11..]
        .iter()
        .position(|c| matches!(c, b',' | b' ' | b'\t' | b';' | b'|'))
        .map(|p| p + 11)
        .unwrap_or(b.len());
    parse_iso(&s[..end])
}

/// Seconds (possibly fractional) since the Unix epoch.
pub(crate) fn from_epoch_secs(v: f64) -> Option<DateTime<Utc>> {
    if !(0.0..=32_503_680_000.0).contains(&v) {
        return None;
    }
    let secs = v.trunc() as i64;
    let nanos = ((v - v.trunc()) * 1e9).round().min(999_999_999.0) as u32;
    DateTime::from_timestamp(secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_variants() {
        let t = parse_iso("2023-01-09T19:00:00.130Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-01-09T19:00:00.130+00:00");
        let t = parse_iso("2019-08-30T12:54:07.8737899Z").unwrap();
        assert_eq!(t.timestamp_subsec_nanos(), 873_789_900);
        let t = parse_iso("2020-10-18 07:50:06.220").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-10-18T07:50:06.220+00:00");
        let t = parse_iso("2021-03-07T16:04:04+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2021-03-07T15:04:04+00:00");
        assert!(parse_iso("2023-13-09T19:00:00Z").is_none());
        assert!(parse_iso("garbage").is_none());
        assert!(parse_iso("2023-01-09T19:00:00Zjunk").is_none());
    }

    #[test]
    fn iis_and_leading() {
        assert_eq!(
            parse_date_time("2023-12-25", "11:54:21")
                .unwrap()
                .to_rfc3339(),
            "2023-12-25T11:54:21+00:00"
        );
        assert!(parse_date_time("2023-12-25", "11:54").is_none());
        let t = leading_timestamp("2021-03-04T10:00:00.123Z Download failed").unwrap();
        assert_eq!(t.timestamp(), 1614852000);
        assert!(leading_timestamp("Download failed").is_none());
    }
}
