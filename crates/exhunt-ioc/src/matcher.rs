//! Fast matching of indicators against events and files.
//!
//! Each event field is looked at only if its name says which kind of value it carries (IP fields
//! for IPs, user-agent fields for UAs...). Exact kinds are one hash lookup per candidate value;
//! CIDRs are checked only for values that parse as IPs; paths go through one `RegexSet`; user
//! agents, URLs and domains in free text through Aho-Corasick automata. Nothing is allocated for
//! an event that matches nothing (normalisation uses stack or thread-local buffers).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use exhunt_model::Event;
use regex::RegexSet;

use crate::model::{Indicator, IndicatorKind};

/// One indicator found in an event field or a file property.
#[derive(Debug, Clone, PartialEq)]
pub struct IocHit {
    pub indicator: Arc<Indicator>,
    /// The event field (`c-ip`, `cs(User-Agent)`...) or, for files, `sha256`/`path`/`FileName`.
    pub field: String,
    /// The value that matched (the single hop of a multi-hop field, the hash...).
    pub value: String,
}

/// What a field carries, decided from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldClass {
    Ip,
    UserAgent,
    /// A URL path (`/owa/auth/x.aspx`): mapped to the file it serves, then path patterns.
    UrlPath,
    /// A file path: path patterns and file names.
    FilePath,
    /// Free text that can hold paths, URLs and domains (command lines).
    Text,
    Host,
    Url,
    Hashes,
}

const FIELD_CLASSES: &[(&str, FieldClass)] = &[
    ("c-ip", FieldClass::Ip),
    ("ClientIpAddress", FieldClass::Ip),
    ("client-ip", FieldClass::Ip),
    ("ClientIp", FieldClass::Ip),
    ("IpAddress", FieldClass::Ip),
    ("DestinationIp", FieldClass::Ip),
    ("SourceIp", FieldClass::Ip),
    ("SourceAddress", FieldClass::Ip),
    ("DestAddress", FieldClass::Ip),
    ("X-Forwarded-For", FieldClass::Ip),
    ("XForwardedFor", FieldClass::Ip),
    ("ForwardedFor", FieldClass::Ip),
    ("cs(X-Forwarded-For)", FieldClass::Ip),
    ("x-forwarded-for", FieldClass::Ip),
    ("original-client-ip", FieldClass::Ip),
    ("OriginalClientIp", FieldClass::Ip),
    ("RemoteIpAddress", FieldClass::Ip),
    ("cs(User-Agent)", FieldClass::UserAgent),
    ("cs-user-agent", FieldClass::UserAgent),
    ("UserAgent", FieldClass::UserAgent),
    ("User-Agent", FieldClass::UserAgent),
    ("ClientInfo", FieldClass::UserAgent),
    ("ClientInfoString", FieldClass::UserAgent),
    ("cs-uri-stem", FieldClass::UrlPath),
    ("UrlStem", FieldClass::UrlPath),
    ("c-uri", FieldClass::UrlPath),
    ("TargetFilename", FieldClass::FilePath),
    ("TargetFileName", FieldClass::FilePath),
    ("Image", FieldClass::FilePath),
    ("ParentImage", FieldClass::FilePath),
    ("ImageLoaded", FieldClass::FilePath),
    ("ImagePath", FieldClass::FilePath),
    ("NewProcessName", FieldClass::FilePath),
    ("ParentProcessName", FieldClass::FilePath),
    ("FilePath", FieldClass::FilePath),
    ("CommandLine", FieldClass::Text),
    ("ParentCommandLine", FieldClass::Text),
    ("ScriptBlockText", FieldClass::Text),
    ("cs-host", FieldClass::Host),
    ("cs(Host)", FieldClass::Host),
    ("QueryName", FieldClass::Host),
    ("DestinationHostname", FieldClass::Host),
    ("Url", FieldClass::Url),
    ("cs(Referer)", FieldClass::Url),
    ("Hashes", FieldClass::Hashes),
    ("Hash", FieldClass::Hashes),
    ("sha256", FieldClass::Hashes),
    ("sha1", FieldClass::Hashes),
    ("md5", FieldClass::Hashes),
];

fn classify(name: &str) -> Option<FieldClass> {
    // Called for every field of every event (HttpProxy rows have ~90): most names are no
    // indicator field, and the shape filter rejects them without comparing names.
    if !SHAPE_FILTER.may_contain(name.as_bytes()) {
        return None;
    }
    FIELD_CLASSES
        .iter()
        .find(|(n, _)| n.len() == name.len() && n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
}

/// A bit per (length, first and last letter) of the names in [`FIELD_CLASSES`], so most names
/// are rejected with a few loads and no comparison (1,024 bits for ~50 names: few false hits).
struct ShapeFilter([u64; 16]);

impl ShapeFilter {
    const fn build() -> Self {
        let mut bits = [0u64; 16];
        let mut i = 0;
        while i < FIELD_CLASSES.len() {
            let bit = Self::bit(FIELD_CLASSES[i].0.as_bytes());
            bits[bit / 64] |= 1 << (bit % 64);
            i += 1;
        }
        ShapeFilter(bits)
    }

    const fn bit(name: &[u8]) -> usize {
        if name.is_empty() {
            return 0;
        }
        let first = name[0].to_ascii_lowercase() as usize;
        let last = name[name.len() - 1].to_ascii_lowercase() as usize;
        (name.len() * 131 + first * 31 + last) % 1024
    }

    fn may_contain(&self, name: &[u8]) -> bool {
        let bit = Self::bit(name);
        !name.is_empty() && self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
}

static SHAPE_FILTER: ShapeFilter = ShapeFilter::build();

/// Parse `a.b.c.d/len` or `v6/len`; the network address is masked.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = s.trim().split_once('/')?;
    let ip: IpAddr = a.trim().parse().ok()?;
    let len: u8 = l.trim().parse().ok()?;
    let ip = ip.to_canonical();
    match ip {
        IpAddr::V4(v4) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            Some((IpAddr::V4((u32::from(v4) & mask).into()), len))
        }
        IpAddr::V6(v6) if len <= 128 => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            Some((IpAddr::V6((u128::from(v6) & mask).into()), len))
        }
        _ => None,
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(n)
        }
        _ => false,
    }
}

/// Parse one hop of an address field: `1.2.3.4`, `1.2.3.4:443`, `[::1]:443`, `::ffff:1.2.3.4`.
fn parse_ip_token(t: &str) -> Option<IpAddr> {
    let t = t.trim().trim_matches(['"', '\'']);
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest
            .split(']')
            .next()?
            .parse::<IpAddr>()
            .ok()
            .map(|i| i.to_canonical());
    }
    // v4 with port
    if t.matches(':').count() == 1 {
        return t
            .split(':')
            .next()?
            .parse::<IpAddr>()
            .ok()
            .map(|i| i.to_canonical());
    }
    None
}

thread_local! {
    static BUF: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A set of indicators ready for matching.
#[derive(Debug, Default)]
pub struct IocSet {
    indicators: Vec<Arc<Indicator>>,
    hashes: HashMap<String, Vec<u32>>,
    ips: HashMap<IpAddr, Vec<u32>>,
    cidrs: Vec<(IpAddr, u8, u32)>,
    domains: HashMap<String, Vec<u32>>,
    file_names: HashMap<String, Vec<u32>>,
    file_name_lens: Vec<bool>,
    paths: Option<RegexSet>,
    path_ids: Vec<u32>,
    ua: Option<AhoCorasick>,
    ua_ids: Vec<u32>,
    /// URLs and domains as substrings of free text / URL fields.
    text: Option<AhoCorasick>,
    text_ids: Vec<u32>,
    warnings: Vec<String>,
}

fn ua_normalize(s: &str) -> String {
    s.replace('+', " ").trim().to_string()
}

impl IocSet {
    /// Build a set; indicators that cannot be compiled (bad regex) are reported in [`IocSet::warnings`].
    pub fn new(indicators: Vec<Indicator>) -> IocSet {
        let mut set = IocSet::default();
        let mut seen = std::collections::HashSet::new();
        let mut path_patterns = Vec::new();
        let mut ua_patterns = Vec::new();
        let mut text_patterns = Vec::new();
        for ind in indicators {
            // Same kind+value+publisher+label twice: keep one.
            let key = (
                ind.kind,
                ind.value.clone(),
                ind.publisher.clone(),
                ind.label.clone(),
            );
            if !seen.insert(key) {
                continue;
            }
            let idx = set.indicators.len() as u32;
            match ind.kind {
                IndicatorKind::Sha256 | IndicatorKind::Sha1 | IndicatorKind::Md5 => {
                    set.hashes
                        .entry(ind.value.to_ascii_lowercase())
                        .or_default()
                        .push(idx);
                }
                IndicatorKind::Ip => match ind.value.parse::<IpAddr>() {
                    Ok(ip) => set.ips.entry(ip.to_canonical()).or_default().push(idx),
                    Err(_) => {
                        set.warnings
                            .push(format!("indicator {:?} is not an IP; ignored", ind.value));
                        continue;
                    }
                },
                IndicatorKind::Cidr => match parse_cidr(&ind.value) {
                    Some((net, len)) => set.cidrs.push((net, len, idx)),
                    None => {
                        set.warnings
                            .push(format!("indicator {:?} is not a CIDR; ignored", ind.value));
                        continue;
                    }
                },
                IndicatorKind::Domain => {
                    let d = ind.value.trim_end_matches('.').to_ascii_lowercase();
                    set.domains.entry(d.clone()).or_default().push(idx);
                    text_patterns.push((d, idx));
                }
                IndicatorKind::Url => text_patterns.push((ind.value.clone(), idx)),
                IndicatorKind::FileName => {
                    let n = ind.value.to_lowercase();
                    let l = n.len();
                    if set.file_name_lens.len() <= l {
                        set.file_name_lens.resize(l + 1, false);
                    }
                    set.file_name_lens[l] = true;
                    set.file_names.entry(n).or_default().push(idx);
                }
                IndicatorKind::PathPattern => {
                    if regex::Regex::new(&ind.value).is_err() {
                        set.warnings.push(format!(
                            "path pattern {:?} is not a valid regex; ignored",
                            ind.value
                        ));
                        continue;
                    }
                    path_patterns.push((ind.value.clone(), idx));
                }
                IndicatorKind::UserAgent => ua_patterns.push((ua_normalize(&ind.value), idx)),
            }
            set.indicators.push(Arc::new(ind));
        }
        if !path_patterns.is_empty() {
            match RegexSet::new(path_patterns.iter().map(|(p, _)| p.as_str())) {
                Ok(rs) => {
                    set.paths = Some(rs);
                    set.path_ids = path_patterns.iter().map(|(_, i)| *i).collect();
                }
                Err(e) => set
                    .warnings
                    .push(format!("path patterns could not be combined: {e}")),
            }
        }
        let build_ac = |pats: &[(String, u32)]| -> Option<AhoCorasick> {
            if pats.is_empty() {
                return None;
            }
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(pats.iter().map(|(p, _)| p.as_str()))
                .ok()
        };
        set.ua = build_ac(&ua_patterns);
        set.ua_ids = ua_patterns.iter().map(|(_, i)| *i).collect();
        set.text = build_ac(&text_patterns);
        set.text_ids = text_patterns.iter().map(|(_, i)| *i).collect();
        set
    }

    /// All indicators of the set.
    pub fn indicators(&self) -> &[Arc<Indicator>] {
        &self.indicators
    }

    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// Problems met while building (indicators ignored).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Count of indicators per kind.
    pub fn counts(&self) -> std::collections::BTreeMap<IndicatorKind, usize> {
        let mut m = std::collections::BTreeMap::new();
        for i in &self.indicators {
            *m.entry(i.kind).or_insert(0) += 1;
        }
        m
    }

    fn push_hits(
        &self,
        ids: &[u32],
        field: &str,
        value: &str,
        time: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        for &i in ids {
            let ind = &self.indicators[i as usize];
            if !ind.valid_at(time) {
                continue;
            }
            if out
                .iter()
                .any(|h| Arc::ptr_eq(&h.indicator, ind) && h.field == field)
            {
                continue;
            }
            out.push(IocHit {
                indicator: ind.clone(),
                field: field.to_string(),
                value: value.to_string(),
            });
        }
    }

    fn match_ip_field(
        &self,
        field: &str,
        v: &str,
        t: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        if self.ips.is_empty() && self.cidrs.is_empty() {
            return;
        }
        for tok in v.split([' ', ',', ';', '|']) {
            let Some(ip) = parse_ip_token(tok) else {
                continue;
            };
            if let Some(ids) = self.ips.get(&ip) {
                self.push_hits(ids, field, tok.trim(), t, out);
            }
            for &(net, len, idx) in &self.cidrs {
                if in_cidr(ip, net, len) {
                    self.push_hits(&[idx], field, tok.trim(), t, out);
                }
            }
        }
    }

    fn match_hash_value(
        &self,
        field: &str,
        v: &str,
        t: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        let v = v.trim();
        if !matches!(v.len(), 32 | 40 | 64) {
            return;
        }
        let mut buf = [0u8; 64];
        for (d, s) in buf.iter_mut().zip(v.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        let Ok(lower) = std::str::from_utf8(&buf[..v.len()]) else {
            return;
        };
        if let Some(ids) = self.hashes.get(lower) {
            self.push_hits(ids, field, v, t, out);
        }
    }

    fn match_hashes_field(
        &self,
        field: &str,
        v: &str,
        t: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        if self.hashes.is_empty() {
            return;
        }
        for part in v.split([',', ' ', ';']) {
            let h = part.split_once('=').map_or(part, |(_, h)| h);
            self.match_hash_value(field, h, t, out);
        }
    }

    fn match_domain(
        &self,
        field: &str,
        host: &str,
        t: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        if self.domains.is_empty() {
            return;
        }
        let host = host.trim().trim_end_matches('.');
        // strip a port
        let host = match host.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') && p.bytes().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        };
        if host.is_empty() || host.len() > 253 {
            return;
        }
        let mut buf = [0u8; 253];
        for (d, s) in buf.iter_mut().zip(host.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        let Ok(lower) = std::str::from_utf8(&buf[..host.len()]) else {
            return;
        };
        let mut cur = lower;
        loop {
            if let Some(ids) = self.domains.get(cur) {
                self.push_hits(ids, field, host, t, out);
            }
            match cur.split_once('.') {
                Some((_, rest)) if rest.contains('.') => cur = rest,
                _ => break,
            }
        }
    }

    fn match_text(
        &self,
        field: &str,
        v: &str,
        t: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        let Some(ac) = &self.text else { return };
        let bytes = v.as_bytes();
        for m in ac.find_overlapping_iter(v) {
            // Domain/URL boundaries: not glued to a longer name on either side.
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            let glued = |c: Option<u8>| {
                c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            };
            let ind = &self.indicators[self.text_ids[m.pattern().as_usize()] as usize];
            let after_bad = ind.kind == IndicatorKind::Domain && glued(after);
            if glued(before) || after_bad {
                continue;
            }
            self.push_hits(
                &[self.text_ids[m.pattern().as_usize()]],
                field,
                &v[m.start()..m.end()],
                t,
                out,
            );
        }
    }

    fn match_ua(
        &self,
        field: &str,
        v: &str,
        t: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        let Some(ac) = &self.ua else { return };
        let run = |s: &str, out: &mut Vec<IocHit>| {
            for m in ac.find_overlapping_iter(s) {
                self.push_hits(&[self.ua_ids[m.pattern().as_usize()]], field, v, t, out);
            }
        };
        if v.contains('+') {
            BUF.with(|b| {
                let mut b = b.borrow_mut();
                b.clear();
                b.extend(v.chars().map(|c| if c == '+' { ' ' } else { c }));
                run(b.trim(), out);
            });
        } else {
            run(v.trim(), out);
        }
    }

    fn match_path(
        &self,
        field: &str,
        path: &str,
        t: Option<chrono::DateTime<chrono::Utc>>,
        out: &mut Vec<IocHit>,
    ) {
        // path is already normalised (leading '\', backslashes)
        if let Some(rs) = &self.paths
            && rs.is_match(path)
        {
            let ids: Vec<u32> = rs.matches(path).iter().map(|i| self.path_ids[i]).collect();
            self.push_hits(&ids, field, path, t, out);
        }
        if !self.file_names.is_empty() {
            let name = path.rsplit(['\\', '/']).next().unwrap_or(path);
            if self
                .file_name_lens
                .get(name.len())
                .copied()
                .unwrap_or(false)
                && let Some(ids) = self.file_names.get(&name.to_lowercase())
            {
                self.push_hits(ids, field, path, t, out);
            }
        }
    }

    /// Normalise a file path for path patterns (leading `\`, backslashes) into the thread buffer
    /// and run `f` on it.
    fn with_norm_path<R>(raw: &str, url: bool, f: impl FnOnce(&str) -> R) -> R {
        BUF.with(|b| {
            let mut b = b.borrow_mut();
            b.clear();
            if url {
                // A URL path on Exchange maps to the folder that serves it.
                let p = raw.split(['?', '#']).next().unwrap_or(raw);
                let p = p.trim_start_matches('/');
                let first = p.split('/').next().unwrap_or("").to_ascii_lowercase();
                let exchange_vdirs = [
                    "owa",
                    "ecp",
                    "oab",
                    "ews",
                    "autodiscover",
                    "mapi",
                    "rpc",
                    "microsoft-server-activesync",
                    "powershell",
                ];
                if exchange_vdirs.contains(&first.as_str()) {
                    b.push_str("\\FrontEnd\\HttpProxy\\");
                } else {
                    b.push_str("\\inetpub\\wwwroot\\");
                }
                b.extend(p.chars().map(|c| if c == '/' { '\\' } else { c }));
            } else {
                if !raw.starts_with(['\\', '/']) {
                    b.push('\\');
                }
                b.extend(raw.chars().map(|c| if c == '/' { '\\' } else { c }));
            }
            f(&b)
        })
    }

    /// Indicators found in the fields of one event, each field checked only for the kinds it can
    /// carry. Indicators with a validity window are skipped outside it (events without a time
    /// are always checked).
    pub fn match_event(&self, ev: &Event<'_>) -> Vec<IocHit> {
        let mut out = Vec::new();
        if self.indicators.is_empty() {
            return out;
        }
        let t = ev.time;
        for (k, v) in &ev.fields {
            let v = v.as_ref();
            if v.is_empty() || v == "-" {
                continue;
            }
            let Some(class) = classify(k) else { continue };
            match class {
                FieldClass::Ip => self.match_ip_field(k, v, t, &mut out),
                FieldClass::UserAgent => self.match_ua(k, v, t, &mut out),
                FieldClass::UrlPath => {
                    if self.paths.is_some() || !self.file_names.is_empty() {
                        // match_path needs the buffer content; copy-free via a second buffer is
                        // not possible with one thread-local, so the path is matched inside.
                        Self::with_norm_path(v, true, |p| {
                            let mut local = Vec::new();
                            self.match_path(k, p, t, &mut local);
                            out.extend(local);
                        });
                    }
                }
                FieldClass::FilePath => {
                    if self.paths.is_some() || !self.file_names.is_empty() {
                        Self::with_norm_path(v, false, |p| {
                            let mut local = Vec::new();
                            self.match_path(k, p, t, &mut local);
                            out.extend(local);
                        });
                    }
                }
                FieldClass::Text => {
                    self.match_text(k, v, t, &mut out);
                    if let Some(rs) = &self.paths
                        && rs.is_match(v)
                    {
                        let ids: Vec<u32> =
                            rs.matches(v).iter().map(|i| self.path_ids[i]).collect();
                        self.push_hits(&ids, k, v, t, &mut out);
                    }
                }
                FieldClass::Host => self.match_domain(k, v, t, &mut out),
                FieldClass::Url => {
                    self.match_text(k, v, t, &mut out);
                    if let Some(i) = v.find("://") {
                        let host = v[i + 3..].split(['/', '?', '#']).next().unwrap_or("");
                        let host = host.rsplit('@').next().unwrap_or(host);
                        self.match_domain(k, host, t, &mut out);
                        if let Some(ip) = parse_ip_token(host) {
                            // An IP as the host of a URL field is a connection target, not a query value.
                            if let Some(ids) = self.ips.get(&ip) {
                                self.push_hits(ids, k, host, t, &mut out);
                            }
                        }
                    }
                }
                FieldClass::Hashes => self.match_hashes_field(k, v, t, &mut out),
            }
        }
        out
    }

    /// Indicators matching a file: its hashes (any may be empty), its path (patterns) and name.
    /// `path` may be a collection display path (`case.zip!/C/inetpub/...`) or a Windows path.
    pub fn match_file(&self, path: &str, sha256: &str, sha1: &str, md5: &str) -> Vec<IocHit> {
        let mut out = Vec::new();
        for (field, h) in [("sha256", sha256), ("sha1", sha1), ("md5", md5)] {
            if !h.is_empty() {
                self.match_hash_value(field, h, None, &mut out);
            }
        }
        if !path.is_empty() {
            let p = path.replace('!', "\\");
            Self::with_norm_path(&p, false, |p| {
                let mut local = Vec::new();
                self.match_path("path", p, None, &mut local);
                out.extend(local);
            });
            for h in &mut out {
                if h.field == "path" {
                    h.value = path.to_string();
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indicator_field_is_classified_in_any_case_and_others_are_not() {
        for (name, class) in FIELD_CLASSES {
            assert_eq!(classify(name), Some(*class), "{name}");
            assert_eq!(classify(&name.to_ascii_uppercase()), Some(*class), "{name}");
            assert_eq!(classify(&name.to_ascii_lowercase()), Some(*class), "{name}");
        }
        for other in [
            "",
            "x",
            "cs-method",
            "sc-status",
            "EventID",
            "c-ip2",
            "Images",
            "Imag",
        ] {
            assert_eq!(classify(other), None, "{other}");
        }
    }

    #[test]
    fn cidr_and_tokens() {
        let (n, l) = parse_cidr("10.1.2.3/8").unwrap();
        assert_eq!(n.to_string(), "10.0.0.0");
        assert!(in_cidr("10.9.9.9".parse().unwrap(), n, l));
        assert!(!in_cidr("11.0.0.1".parse().unwrap(), n, l));
        assert_eq!(
            parse_ip_token("1.2.3.4:443"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(parse_ip_token("[::1]:443"), Some("::1".parse().unwrap()));
        assert_eq!(
            parse_ip_token("::ffff:1.2.3.4"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(parse_ip_token("host"), None);
    }
}
