//! The indicator model shared by every importer and the matcher.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Sha256,
    Sha1,
    Md5,
    /// A file name (no folder), matched case-insensitively against the last path component.
    FileName,
    /// A case-insensitive regular expression over a Windows path (`\` separators); literal paths
    /// are turned into an anchored pattern on import (see [`literal_path_pattern`]).
    PathPattern,
    Ip,
    Cidr,
    /// A domain; also matches its subdomains.
    Domain,
    /// A URL, matched as a case-insensitive substring of URL-bearing fields.
    Url,
    /// A user agent, matched as a substring with IIS `+` encoding ignored.
    UserAgent,
}

impl IndicatorKind {
    /// The name used in our CSV format and in rule ids.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::FileName => "filename",
            IndicatorKind::PathPattern => "path_regex",
            IndicatorKind::Ip => "ip",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::UserAgent => "user_agent",
        }
    }

    /// A human name for titles.
    pub fn display(self) -> &'static str {
        match self {
            IndicatorKind::Sha256 => "SHA-256",
            IndicatorKind::Sha1 => "SHA-1",
            IndicatorKind::Md5 => "MD5",
            IndicatorKind::FileName => "file name",
            IndicatorKind::PathPattern => "path",
            IndicatorKind::Ip => "IP",
            IndicatorKind::Cidr => "network",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "URL",
            IndicatorKind::UserAgent => "user agent",
        }
    }

    /// Whether a hit alone is strong evidence (hashes, names, paths, C2 names) or weak (IPs, UAs).
    pub fn is_strong(self) -> bool {
        !matches!(
            self,
            IndicatorKind::Ip | IndicatorKind::Cidr | IndicatorKind::UserAgent
        )
    }

    /// Parse a type name from our CSV, MSTIC, Volexity, MISP or signature-base vocabularies.
    /// `path` (a literal path) maps to `PathPattern` too; the caller converts the value.
    pub fn parse(s: &str) -> Option<IndicatorKind> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match s.as_str() {
            "sha256" | "sha_256" | "filehash_sha256" => IndicatorKind::Sha256,
            "sha1" | "sha_1" | "filehash_sha1" => IndicatorKind::Sha1,
            "md5" | "filehash_md5" => IndicatorKind::Md5,
            "filename" | "file_name" | "name" => IndicatorKind::FileName,
            "path_regex" | "pathpattern" | "path_pattern" | "regex" | "path" | "filepath"
            | "file_path" => IndicatorKind::PathPattern,
            "ip" | "ipaddress" | "ip_address" | "ipv4" | "ipv6" | "ip_dst" | "ip_src"
            | "ipv4_addr" | "ipv6_addr" => IndicatorKind::Ip,
            "cidr" | "network" | "subnet" => IndicatorKind::Cidr,
            "domain" | "hostname" | "domain_name" | "fqdn" => IndicatorKind::Domain,
            "url" | "uri" => IndicatorKind::Url,
            "user_agent" | "useragent" | "ua" => IndicatorKind::UserAgent,
            _ => return None,
        })
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One indicator of compromise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub kind: IndicatorKind,
    /// Normalised value: hashes lower-case, domains lower-case without a trailing dot, IPs in
    /// canonical form, path patterns as a regex.
    pub value: String,
    /// Who published it: `Microsoft MSTIC`, `Volexity`, `ESET`, `CISA`, ...
    pub publisher: String,
    /// Where it was read from: the publication URL or the file loaded.
    pub reference: String,
    /// The actor or cluster the publisher tied it to (`HAFNIUM`, `Tick`, `LuckyMouse`...).
    pub label: Option<String>,
    /// Free text from the publisher (the row's notes, the indicator's name).
    pub description: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl Indicator {
    pub fn new(
        kind: IndicatorKind,
        value: impl Into<String>,
        publisher: &str,
        reference: &str,
    ) -> Indicator {
        Indicator {
            kind,
            value: value.into(),
            publisher: publisher.to_string(),
            reference: reference.to_string(),
            label: None,
            description: None,
            valid_from: None,
            valid_until: None,
        }
    }

    pub fn with_label(mut self, label: Option<&str>) -> Indicator {
        self.label = label
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string);
        self
    }

    pub fn with_description(mut self, d: Option<&str>) -> Indicator {
        self.description = d
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string);
        self
    }

    /// `publisher + reference`, as one string.
    pub fn source(&self) -> String {
        if self.reference.is_empty() {
            self.publisher.clone()
        } else {
            format!("{} ({})", self.publisher, self.reference)
        }
    }

    /// Whether the indicator applies at `t` (always, when the event carries no time).
    pub fn valid_at(&self, t: Option<DateTime<Utc>>) -> bool {
        let Some(t) = t else { return true };
        self.valid_from.is_none_or(|f| t >= f) && self.valid_until.is_none_or(|u| t <= u)
    }
}

/// Parse a date or date-time as written in feeds: RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`,
/// or a Unix timestamp.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if s.len() >= 9 && s.bytes().all(|c| c.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .ok()
            .and_then(|n| DateTime::from_timestamp(n, 0));
    }
    None
}

/// Undo the usual defanging: `[.]`, `(.)`, `{.}`, `hxxp`, `[:]`.
pub fn refang(s: &str) -> String {
    let mut v = s
        .trim()
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("{.}", ".")
        .replace("[:]", ":")
        .replace("[://]", "://");
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://")] {
        if v.to_ascii_lowercase().starts_with(from) {
            v = format!("{to}{}", &v[from.len()..]);
        }
    }
    v
}

/// The regex for a literal Windows path from a feed: case-insensitive, `/` or `\` separators,
/// the drive letter optional (collections store `C:\x` as `C/x` or `x`), the Exchange install
/// folder optional (kept from `\FrontEnd`/`\ClientAccess`/`\Bin` on), anchored at the end.
pub fn literal_path_pattern(path: &str) -> String {
    let p = path.trim().trim_matches('"').replace('/', "\\");
    let lower = p.to_ascii_lowercase();
    let mut rest = p.as_str();
    for marker in ["\\exchange server\\v15\\", "\\exchange server\\v14\\"] {
        if let Some(i) = lower.find(marker) {
            rest = &p[i + marker.len() - 1..];
            return format!(r"(?i)\\{}$", regex::escape(rest.trim_start_matches('\\')));
        }
    }
    let bytes = rest.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        rest = &rest[2..];
        return format!(
            r"(?i)(?:^|\\)(?:[a-z]:?\\)?{}$",
            regex::escape(rest.trim_start_matches('\\'))
        );
    }
    format!(
        r"(?i)(?:^|\\){}$",
        regex::escape(rest.trim_start_matches('\\'))
    )
}

/// Make a path regex from a feed (signature-base `filename-iocs` style, `\\` separators) usable on
/// collection paths: case-insensitive, a leading drive made optional.
pub fn path_regex_pattern(re: &str) -> String {
    let re = re.trim();
    let re = re.strip_prefix("(?i)").unwrap_or(re);
    let b = re.as_bytes();
    if b.len() >= 4 && b[0].is_ascii_alphabetic() && b[1] == b':' && &re[2..4] == r"\\" {
        return format!(r"(?i)(?:^|\\)(?:[a-z]:?\\)?{}", &re[4..]);
    }
    format!("(?i){re}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_paths_become_anchored_patterns() {
        let re = regex::Regex::new(&literal_path_pattern(
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\bob.aspx",
        ))
        .unwrap();
        assert!(re.is_match(r"\case.zip!\D\Exchange\FrontEnd\HttpProxy\owa\auth\BOB.aspx"));
        assert!(!re.is_match(r"\FrontEnd\HttpProxy\owa\auth\bob.aspx.bak"));
        let re = regex::Regex::new(&literal_path_pattern(
            r"C:\users\public\opera\opera_browser.exe",
        ))
        .unwrap();
        assert!(re.is_match(r"\C\Users\Public\opera\opera_browser.exe"));
        assert!(re.is_match(r"C:\Users\Public\opera\opera_browser.exe"));
        assert!(re.is_match(r"\Users\Public\opera\opera_browser.exe"));
        let re = regex::Regex::new(&path_regex_pattern(
            r"C:\\ProgramData\\COM1\\[^\.]{1,40}\.aspx",
        ))
        .unwrap();
        assert!(re.is_match(r"\x.zip!\C\ProgramData\COM1\a.aspx"));
    }

    #[test]
    fn times_and_refang() {
        assert!(parse_time("2021-03-10").is_some());
        assert!(parse_time("2021-03-05T10:07:29.0421232Z").is_some());
        assert!(parse_time("1615852800").is_some());
        assert_eq!(refang("www.averyspace[.]net"), "www.averyspace.net");
        assert_eq!(refang("hxxp://a[.]b/c"), "http://a.b/c");
    }
}
