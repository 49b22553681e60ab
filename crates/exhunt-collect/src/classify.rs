//! Content-based classification of one artifact from its display path and first bytes.

use exhunt_model::{ArtifactKind, ExchangeLog};

use crate::FileClass;

/// How many bytes of an artifact [`classify`] looks at.
pub const HEAD_LEN: usize = 4096;

/// Classify an artifact from its display path and its first bytes (up to [`HEAD_LEN`]).
///
/// The content decides; the path only breaks ties (the folder of an Exchange log whose header
/// lacks `#Log-type:`) and sorts files that are not logs into a [`FileClass`].
pub fn classify(path: &str, head: &[u8]) -> (ArtifactKind, FileClass) {
    let head = &head[..head.len().min(HEAD_LEN)];
    if let Some(kind) = classify_log(path, head) {
        return (kind, FileClass::Log);
    }
    (ArtifactKind::File, file_class(path, head))
}

/// Whether the file name says it is a log (`.log`, `.evtx`, any case).
pub(crate) fn named_like_log(path: &str) -> bool {
    let ext = extension(path);
    ext == "log" || ext == "evtx"
}

fn classify_log(path: &str, head: &[u8]) -> Option<ArtifactKind> {
    if head.starts_with(b"ElfFile\0") {
        return Some(ArtifactKind::Evtx);
    }
    let text = decode_text(head)?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return None;
    }
    if text.starts_with('{') {
        return is_event_json_line(text).then_some(ArtifactKind::EventJsonl);
    }
    classify_text_log(path, text)
}

/// Decode the head as text: UTF-8 (with or without BOM) or UTF-16 with a BOM. `None` when the
/// bytes are clearly binary (NUL bytes or many control characters in a non-UTF-16 head).
fn decode_text(head: &[u8]) -> Option<String> {
    if let Some(rest) = head.strip_prefix(&[0xFF, 0xFE]) {
        return Some(decode_utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = head.strip_prefix(&[0xFE, 0xFF]) {
        return Some(decode_utf16(rest, u16::from_be_bytes));
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if !looks_textual(head) {
        return None;
    }
    Some(String::from_utf8_lossy(head).into_owned())
}

fn decode_utf16(bytes: &[u8], conv: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| conv([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// No NUL, and at most 1 % other control characters (tab, CR, LF, FF allowed). A UTF-8 sequence
/// cut by the head boundary is fine.
fn looks_textual(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return true;
    }
    if memchr::memchr(0, bytes).is_some() {
        return false;
    }
    let controls = bytes
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C) || b == 0x7F)
        .count();
    if controls * 100 > bytes.len() {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        // Allow a cut multi-byte sequence at the end, or Latin-1 text (mostly ASCII).
        Err(e) => {
            e.error_len().is_none() || {
                let high = bytes.iter().filter(|&&b| b >= 0x80).count();
                high * 10 < bytes.len()
            }
        }
    }
}

/// The first line is one JSON object carrying keys of a Windows event.
fn is_event_json_line(text: &str) -> bool {
    let line = text.lines().next().unwrap_or("");
    if line.trim() == "{" {
        // Pretty-printed JSON, not JSON lines.
        return false;
    }
    const KEYS: &[&str] = &[
        "Event",
        "System",
        "EventID",
        "EventId",
        "EventRecordID",
        "winlog",
        "event.code",
        "EventCode",
    ];
    KEYS.iter().any(|k| has_json_key(line, k))
        || (has_json_key(line, "event") && line.contains("\"code\""))
}

fn has_json_key(line: &str, key: &str) -> bool {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    while let Some(pos) = line[from..].find(&needle) {
        let after = &line[from + pos + needle.len()..];
        if after.trim_start().starts_with(':') {
            return true;
        }
        from += pos + needle.len();
    }
    false
}

/// Text logs: IIS W3C and Exchange CSV logs (with `#` directives and/or a bare CSV header).
fn classify_text_log(path: &str, text: &str) -> Option<ArtifactKind> {
    let mut software: Option<&str> = None;
    let mut log_type: Option<&str> = None;
    let mut fields: Option<&str> = None;
    let mut bare_header: Option<&str> = None;
    let mut lines = text.lines().peekable();
    // A bare CSV header line may come before the directives.
    if let Some(first) = lines.peek()
        && !first.starts_with('#')
        && looks_like_csv_header(first)
    {
        bare_header = Some(first);
        lines.next();
    }
    for line in lines.take(32) {
        let Some(directive) = line.strip_prefix('#') else {
            break;
        };
        let (name, value) = match directive.split_once(':') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => continue,
        };
        match name.to_ascii_lowercase().as_str() {
            "software" => software = Some(value),
            "log-type" => log_type = Some(value),
            "fields" => fields = Some(value),
            _ => {}
        }
    }

    if software.is_some_and(|s| s.starts_with("Microsoft Internet Information Services"))
        || fields.is_some_and(is_iis_fields)
    {
        return Some(ArtifactKind::IisW3c);
    }
    if let Some(lt) = log_type.filter(|v| !v.is_empty()) {
        return Some(ArtifactKind::ExchangeLog(ExchangeLog::from_log_type(lt)));
    }
    let folder = folder_hint(path);
    if matches!(folder, Some(ExchangeLog::OabGenerator)) {
        // The OAB generator log's container format is unverified: any text will do.
        return Some(ArtifactKind::ExchangeLog(ExchangeLog::OabGenerator));
    }
    let columns = fields.or(bare_header).map(csv_columns).unwrap_or_default();
    let exchange_software = software.is_some_and(|s| s.starts_with("Microsoft Exchange"));
    if columns.is_empty() && !exchange_software {
        return None;
    }
    if let Some(log) = columns_hint(&columns).or(folder) {
        return Some(ArtifactKind::ExchangeLog(log));
    }
    if exchange_software {
        let name = parent_folder(path).unwrap_or("unknown");
        return Some(ArtifactKind::ExchangeLog(ExchangeLog::Other(
            name.to_string(),
        )));
    }
    None
}

fn is_iis_fields(fields: &str) -> bool {
    let names: Vec<&str> = fields.split_whitespace().collect();
    let has = |n: &str| names.iter().any(|f| f.eq_ignore_ascii_case(n));
    (has("date") || has("time")) && has("cs-uri-stem")
}

/// A bare CSV header of an Exchange log: comma separated identifiers, the first a time column.
fn looks_like_csv_header(line: &str) -> bool {
    let cols = csv_columns(line);
    if cols.len() < 3 {
        return false;
    }
    let time_first = ["datetime", "timestamp", "date-time", "time"]
        .iter()
        .any(|t| cols[0].eq_ignore_ascii_case(t));
    time_first
        && cols.iter().all(|c| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_".contains(ch))
        })
}

fn csv_columns(line: &str) -> Vec<&str> {
    line.trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect()
}

/// The Exchange log family told by a column set.
fn columns_hint(cols: &[&str]) -> Option<ExchangeLog> {
    let has = |n: &str| cols.iter().any(|c| c.eq_ignore_ascii_case(n));
    if has("ProtocolAction") && has("UrlStem") && has("AnchorMailbox") {
        Some(ExchangeLog::HttpProxy)
    } else if has("SoapAction") {
        Some(ExchangeLog::Ews)
    } else if has("ClientInfo") && has("CommandName") {
        Some(ExchangeLog::RpsHttp)
    } else if has("Cmdlet") && has("Parameters") {
        Some(ExchangeLog::RpsCmdlet)
    } else if has("event-id") && has("message-id") {
        Some(ExchangeLog::MessageTracking)
    } else {
        None
    }
}

/// The Exchange log family told by the folders of a display path.
fn folder_hint(path: &str) -> Option<ExchangeLog> {
    let lower = path.replace('\\', "/").to_ascii_lowercase();
    let dirs: Vec<&str> = lower.split('/').collect();
    let dirs = &dirs[..dirs.len().saturating_sub(1)];
    let has = |n: &str| dirs.contains(&n);
    let file = lower.rsplit('/').next().unwrap_or("");
    if has("oabgeneratorlog") {
        Some(ExchangeLog::OabGenerator)
    } else if has("httpproxy") {
        Some(ExchangeLog::HttpProxy)
    } else if has("ecp") && has("server") {
        Some(ExchangeLog::EcpServer)
    } else if has("ecp") && has("activity") {
        Some(ExchangeLog::EcpActivity)
    } else if has("cmdletinfra") || file.starts_with("rps_") {
        if has("http") || file.starts_with("rps_http") {
            Some(ExchangeLog::RpsHttp)
        } else {
            Some(ExchangeLog::RpsCmdlet)
        }
    } else if has("ews") {
        Some(ExchangeLog::Ews)
    } else if has("messagetracking") {
        Some(ExchangeLog::MessageTracking)
    } else {
        None
    }
}

fn parent_folder(path: &str) -> Option<&str> {
    let mut parts = path.rsplit(['/', '\\']);
    parts.next();
    parts.next().filter(|p| !p.is_empty() && !p.ends_with('!'))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn extension(path: &str) -> String {
    let name = file_name(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

const WEB_EXTS: &[&str] = &[
    "aspx", "ashx", "asmx", "asax", "ascx", "asp", "axd", "cshtml", "vbhtml", "master", "svc",
    "js", "css", "htm", "html", "xap", "resx", "soap", "php", "jsp",
];
const ARCHIVE_EXTS: &[&str] = &[
    "zip", "7z", "rar", "cab", "gz", "tgz", "tar", "xz", "bz2", "zst", "lzh", "arj", "iso", "vhd",
    "vhdx",
];
const EXEC_EXTS: &[&str] = &[
    "exe", "dll", "sys", "scr", "com", "cpl", "ocx", "msi", "ps1", "psm1", "bat", "cmd", "vbs",
    "vbe", "hta", "wsf", "jse",
];
const CONFIG_EXTS: &[&str] = &[
    "config",
    "xml",
    "ini",
    "inf",
    "json",
    "yaml",
    "yml",
    "reg",
    "properties",
    "conf",
    "cfg",
    "manifest",
];
/// Folders whose `.config` files are web configuration (a planted `web.config` is a webshell).
const WEB_DIRS: &[&str] = &[
    "frontend",
    "clientaccess",
    "inetpub",
    "wwwroot",
    "aspnet_client",
    "owa",
    "ecp",
];

/// The class of a file that is not a log.
fn file_class(path: &str, head: &[u8]) -> FileClass {
    let ext = extension(path);
    let e = ext.as_str();
    if head.starts_with(b"MDMP")
        || head.starts_with(b"PAGEDU64")
        || head.starts_with(b"PAGEDUMP")
        || e == "dmp"
        || e == "mdmp"
    {
        return FileClass::MemoryDump;
    }
    const ARCHIVE_MAGIC: &[&[u8]] = &[
        b"PK\x03\x04",
        b"PK\x05\x06",
        b"PK\x07\x08",
        b"7z\xBC\xAF\x27\x1C",
        b"Rar!\x1A\x07",
        b"MSCF\0\0\0\0",
        b"\x1F\x8B",
        b"\xFD7zXZ\0",
        b"\x28\xB5\x2F\xFD",
    ];
    if ARCHIVE_MAGIC.iter().any(|m| head.starts_with(m)) || ARCHIVE_EXTS.contains(&e) {
        return FileClass::Archive;
    }
    if head.starts_with(b"MZ") || head.starts_with(b"\x7FELF") || EXEC_EXTS.contains(&e) {
        return FileClass::Executable;
    }
    let text = decode_text(head);
    let text = text
        .as_deref()
        .map(|t| t.trim_start_matches('\u{feff}').trim_start());
    if WEB_EXTS.contains(&e) || text.is_some_and(|t| t.starts_with("<%@") || t.starts_with("<%")) {
        return FileClass::WebContent;
    }
    if e == "config" {
        let lower = path.replace('\\', "/").to_ascii_lowercase();
        let in_web_dir = lower.split('/').any(|d| WEB_DIRS.contains(&d));
        if file_name(&lower) == "web.config" || in_web_dir {
            return FileClass::WebContent;
        }
        return FileClass::Config;
    }
    if CONFIG_EXTS.contains(&e) {
        return FileClass::Config;
    }
    FileClass::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_header_then_directives() {
        let t = "DateTime,StartTime,RequestId,ClientInfo,CommandName\r\n#Software: Microsoft Exchange Server\r\n#Fields: DateTime,StartTime\r\n";
        assert_eq!(
            classify(
                "Logging/CmdletInfra/Powershell-Proxy/Http/Rps_Http_2023.LOG",
                t.as_bytes()
            )
            .0,
            ArtifactKind::ExchangeLog(ExchangeLog::RpsHttp)
        );
    }

    #[test]
    fn utf16_log_type() {
        let s = "#Software: Microsoft Exchange Server\r\n#Log-type: EWS Logs\r\n";
        let mut b = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(
            classify("x.LOG", &b).0,
            ArtifactKind::ExchangeLog(ExchangeLog::Ews)
        );
    }

    #[test]
    fn file_classes() {
        assert_eq!(
            classify("a/b/shell.aspx", b"hello").1,
            FileClass::WebContent
        );
        assert_eq!(
            classify("a/b/x.txt", b"<%@ Page Language=\"C#\" %>").1,
            FileClass::WebContent
        );
        assert_eq!(
            classify("a/x.bin", b"MDMP\x93\xa7").1,
            FileClass::MemoryDump
        );
        assert_eq!(classify("a/x.bin", b"MZ\x90\0").1, FileClass::Executable);
        assert_eq!(classify("a/x.dat", b"PK\x03\x04").1, FileClass::Archive);
        assert_eq!(
            classify("inetpub/wwwroot/web.config", b"<configuration>").1,
            FileClass::WebContent
        );
        assert_eq!(
            classify(
                "Windows/System32/inetsrv/config/applicationHost.config",
                b"<c>"
            )
            .1,
            FileClass::Config
        );
        assert_eq!(classify("notes.txt", b"hello").1, FileClass::Other);
        assert_eq!(classify("notes.txt", b"hello").0, ArtifactKind::File);
    }

    #[test]
    fn json_lines_need_event_keys() {
        assert_eq!(
            classify("x.json", br#"{"EventID":4688,"Channel":"Security"}"#).0,
            ArtifactKind::EventJsonl
        );
        assert_eq!(
            classify("x.json", br#"{"name":"package","version":"1"}"#).0,
            ArtifactKind::File
        );
        assert_eq!(
            classify("x.json", b"{\n  \"Event\": 1\n}").0,
            ArtifactKind::File
        );
    }
}
