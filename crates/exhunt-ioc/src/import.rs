//! Importers: our CSV format, the MSTIC feed, Volexity CSV, STIX 2.1 bundles, MISP events,
//! signature-base lists, ESET's README, CISA CHIRP YAML and plain hash lists.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use serde_json::Value;

use crate::model::{
    Indicator, IndicatorKind, literal_path_pattern, parse_time, path_regex_pattern, refang,
};

/// Errors loading an indicator file.
#[derive(Debug, thiserror::Error)]
pub enum IocError {
    #[error("cannot read indicator file {path}: {source}; check that it exists and is readable")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: format not recognised (expected exhunt CSV `type,value,label,source,valid_from,valid_until`, MSTIC CSV, STIX 2.1 bundle, MISP event JSON, signature-base list, CHIRP YAML or a hash list)"
    )]
    UnknownFormat { path: String },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: invalid CSV: {message}")]
    Csv { path: String, message: String },
}

/// What the loaders return: the indicators and the rows or objects that were skipped, as messages.
pub type Loaded = (Vec<Indicator>, Vec<String>);

/// Load an indicator file, choosing the importer from its content.
pub fn load(path: &Path) -> Result<Loaded, IocError> {
    let bytes = std::fs::read(path).map_err(|source| IocError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    load_str(&text, &path.display().to_string())
}

/// Load indicators from text; `origin` names the file in messages and as the default reference.
pub fn load_str(text: &str, origin: &str) -> Result<Loaded, IocError> {
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    let file_name = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(trimmed).map_err(|source| IocError::Json {
            path: origin.to_string(),
            source,
        })?;
        if v.get("type").and_then(Value::as_str) == Some("bundle") {
            return Ok(parse_stix(&v, origin));
        }
        if v.get("Event").is_some() || v.get("response").is_some() {
            return Ok(parse_misp(&v, origin));
        }
        if let Some(arr) = v.as_array()
            && arr
                .first()
                .is_some_and(|o| o.get("Indicator").is_some() && o.get("IndicatorType").is_some())
        {
            return Ok(parse_mstic_json(arr, origin));
        }
        return Err(IocError::UnknownFormat {
            path: origin.to_string(),
        });
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let first_lower = first.to_ascii_lowercase();
    if first_lower.starts_with("type,value") {
        return parse_exhunt_csv(text, origin);
    }
    if first_lower.starts_with("dateadded,firstseen,indicator,indicatortype") {
        return parse_mstic_csv(text, origin);
    }
    if first_lower.starts_with("value,type") {
        return parse_volexity_csv(text, origin);
    }
    if text.contains("ioc_type:") && text.contains("indicator:") {
        return Ok(parse_chirp_yaml(text, origin));
    }
    if text.contains("|SHA-1") || text.contains("|Ip address") || file_name.ends_with(".adoc") {
        return Ok(parse_eset_readme(text, origin));
    }
    let lower_name = file_name.to_ascii_lowercase();
    if lower_name.contains("filename") {
        return Ok(parse_signature_base_filenames(text, origin));
    }
    if lower_name.contains("c2") {
        return Ok(parse_plain_network_list(text, origin));
    }
    if is_hash(first.split(';').next().unwrap_or("").trim()) {
        return Ok(parse_hash_list(text, origin));
    }
    Err(IocError::UnknownFormat {
        path: origin.to_string(),
    })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit())
}

fn is_hash(s: &str) -> bool {
    matches!(s.len(), 32 | 40 | 64) && is_hex(s)
}

fn hash_kind(s: &str) -> Option<IndicatorKind> {
    if !is_hex(s) {
        return None;
    }
    match s.len() {
        32 => Some(IndicatorKind::Md5),
        40 => Some(IndicatorKind::Sha1),
        64 => Some(IndicatorKind::Sha256),
        _ => None,
    }
}

/// Split an exhunt `source` cell into (publisher, reference URL).
pub fn split_source(s: &str) -> (String, String) {
    let s = s.trim();
    if let Some(i) = s.find("http://").or_else(|| s.find("https://")) {
        let publisher = s[..i]
            .trim()
            .trim_end_matches(['(', '<', '-', ',', ':', '|'])
            .trim();
        let url = s[i..].trim().trim_end_matches([')', '>']).trim();
        return (publisher.to_string(), url.to_string());
    }
    (s.to_string(), String::new())
}

/// Normalise a value of `kind`; `None` if it is not a valid value of that kind.
/// Returns the kind too, since a `path` literal becomes a `PathPattern`.
pub fn normalize(
    kind: IndicatorKind,
    raw: &str,
    literal_path: bool,
) -> Option<(IndicatorKind, String)> {
    let v = refang(raw);
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(match kind {
        IndicatorKind::Sha256 | IndicatorKind::Sha1 | IndicatorKind::Md5 => {
            let k = hash_kind(v)?;
            (k, v.to_ascii_lowercase())
        }
        IndicatorKind::Ip => {
            let ip: IpAddr = v.trim_matches(['[', ']']).parse().ok()?;
            (IndicatorKind::Ip, ip.to_canonical().to_string())
        }
        IndicatorKind::Cidr => {
            let (net, len) = crate::matcher::parse_cidr(v)?;
            (IndicatorKind::Cidr, format!("{net}/{len}"))
        }
        IndicatorKind::Domain => {
            let d = v.trim_end_matches('.').to_ascii_lowercase();
            if d.contains(['/', ' ']) || !d.contains('.') {
                return None;
            }
            (IndicatorKind::Domain, d)
        }
        IndicatorKind::FileName => {
            if v.contains(['\\', '/']) {
                (IndicatorKind::PathPattern, literal_path_pattern(v))
            } else {
                (IndicatorKind::FileName, v.to_string())
            }
        }
        IndicatorKind::PathPattern => {
            let re = if literal_path {
                literal_path_pattern(v)
            } else {
                path_regex_pattern(v)
            };
            regex::Regex::new(&re).ok()?;
            (IndicatorKind::PathPattern, re)
        }
        IndicatorKind::Url => (IndicatorKind::Url, v.to_string()),
        IndicatorKind::UserAgent => (IndicatorKind::UserAgent, v.to_string()),
    })
}

/// exhunt CSV: `type,value,label,source,valid_from,valid_until[,description]`, header required.
/// Types: sha256 sha1 md5 filename path (literal) path_regex ip cidr domain url user_agent.
pub fn parse_exhunt_csv(text: &str, origin: &str) -> Result<Loaded, IocError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| IocError::Csv {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(i + 2, |p| p.line() as usize);
        let get = |n: usize| rec.get(n).map(str::trim).unwrap_or("");
        let type_s = get(0).to_ascii_lowercase();
        let Some(kind) = IndicatorKind::parse(&type_s) else {
            warnings.push(format!(
                "{origin}:{line}: unknown indicator type {:?}; skipped",
                get(0)
            ));
            continue;
        };
        let literal = type_s == "path" || type_s == "filepath" || type_s == "file_path";
        let Some((kind, value)) = normalize(kind, get(1), literal) else {
            warnings.push(format!(
                "{origin}:{line}: invalid {kind} value {:?}; skipped",
                get(1)
            ));
            continue;
        };
        let (mut publisher, mut reference) = split_source(get(3));
        if publisher.is_empty() {
            publisher = origin
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(origin)
                .to_string();
        }
        if reference.is_empty() {
            reference = origin.to_string();
        }
        let mut ind = Indicator::new(kind, value, &publisher, &reference)
            .with_label(Some(get(2)))
            .with_description(Some(get(6)));
        ind.valid_from = parse_time(get(4));
        ind.valid_until = parse_time(get(5));
        out.push(ind);
    }
    Ok((out, warnings))
}

const MSTIC: &str = "Microsoft MSTIC";

/// The MSTIC Exchange feed (`DateAdded,FirstSeen,Indicator,IndicatorType,TLP`).
pub fn parse_mstic_csv(text: &str, origin: &str) -> Result<Loaded, IocError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| IocError::Csv {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        rows.push((
            rec.get(2).unwrap_or("").to_string(),
            rec.get(3).unwrap_or("").to_string(),
            rec.get(1).unwrap_or("").to_string(),
            rec.get(4).unwrap_or("").to_string(),
        ));
    }
    Ok(mstic_rows(rows, origin))
}

fn parse_mstic_json(arr: &[Value], origin: &str) -> Loaded {
    let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let rows = arr
        .iter()
        .map(|o| {
            (
                s(o, "Indicator"),
                s(o, "IndicatorType"),
                s(o, "FirstSeen"),
                s(o, "TLP"),
            )
        })
        .collect();
    mstic_rows(rows, origin)
}

fn mstic_rows(rows: Vec<(String, String, String, String)>, origin: &str) -> Loaded {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (value, typ, first_seen, tlp) in rows {
        let literal = typ.eq_ignore_ascii_case("filepath");
        let Some(kind) = IndicatorKind::parse(&typ) else {
            warnings.push(format!(
                "{origin}: unknown MSTIC IndicatorType {typ:?}; skipped"
            ));
            continue;
        };
        let Some((kind, v)) = normalize(kind, &value, literal) else {
            warnings.push(format!("{origin}: invalid {typ} {value:?}; skipped"));
            continue;
        };
        let mut ind = Indicator::new(kind, v, MSTIC, origin).with_description(Some(&format!(
            "MSTIC Exchange feed {typ} {value} (first seen {first_seen}, TLP {tlp})"
        )));
        ind.valid_from = None;
        out.push(ind);
    }
    (out, warnings)
}

/// Volexity's `indicators.csv` (`value,type,notes`).
pub fn parse_volexity_csv(text: &str, origin: &str) -> Result<Loaded, IocError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| IocError::Csv {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let (value, typ, notes) = (
            rec.get(0).unwrap_or(""),
            rec.get(1).unwrap_or(""),
            rec.get(2).unwrap_or(""),
        );
        let Some(kind) = IndicatorKind::parse(typ) else {
            warnings.push(format!("{origin}: unknown Volexity type {typ:?}; skipped"));
            continue;
        };
        match normalize(kind, value, typ.contains("path")) {
            Some((kind, v)) => out.push(
                Indicator::new(kind, v, "Volexity", origin)
                    .with_label(Some("Operation Exchange Marauder"))
                    .with_description(Some(notes)),
            ),
            None => warnings.push(format!("{origin}: invalid {typ} {value:?}; skipped")),
        }
    }
    Ok((out, warnings))
}

/// A plain hash list (`hash` or `hash;description` per line, `#` comments).
pub fn parse_hash_list(text: &str, origin: &str) -> Loaded {
    let publisher = publisher_from_origin(origin);
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (h, desc) = line.split_once(';').unwrap_or((line, ""));
        match hash_kind(h.trim()) {
            Some(k) => {
                let (label, reference) = label_and_url(desc);
                out.push(
                    Indicator::new(
                        k,
                        h.trim().to_ascii_lowercase(),
                        &publisher,
                        reference.as_deref().unwrap_or(origin),
                    )
                    .with_label(label.as_deref())
                    .with_description(Some(desc)),
                )
            }
            None => warnings.push(format!("{origin}:{}: not a hash: {line:?}; skipped", i + 1)),
        }
    }
    (out, warnings)
}

/// Actor names publishers used for the 2021 Exchange campaigns, most specific first.
pub const KNOWN_ACTORS: &[(&str, &str)] = &[
    ("unclassified shadowpad", "Unclassified ShadowPad"),
    ("unattributed shadowpad", "Unclassified ShadowPad"),
    ("opera cobalt strike", "Opera Cobalt Strike"),
    ("tonto team", "Tonto Team"),
    ("luckymouse", "LuckyMouse"),
    ("calypso", "Calypso"),
    ("winnti", "Winnti Group"),
    ("mikroceen", "Mikroceen"),
    ("websiic", "Websiic"),
    ("dltminer", "DLTMiner"),
    ("tick", "Tick"),
    ("hafnium", "HAFNIUM"),
    ("iis backdoor", "IIS backdoors"),
    ("iis backoor", "IIS backdoors"),
];

/// The actor named in a free-text description, if any.
pub fn actor_in(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    KNOWN_ACTORS.iter().find_map(|(needle, name)| {
        let i = lower.find(needle)?;
        // whole word only ("tick" must not match "ticket")
        let before = lower[..i].chars().next_back();
        let after = lower[i + needle.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        (!word(before) && !word(after)).then(|| name.to_string())
    })
}

fn label_and_url(desc: &str) -> (Option<String>, Option<String>) {
    let url = desc.find("http").map(|i| {
        desc[i..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string()
    });
    (actor_in(desc), url)
}

fn publisher_from_origin(origin: &str) -> String {
    let o = origin.to_ascii_lowercase();
    if o.contains("signature-base") {
        "signature-base".into()
    } else if o.contains("eset") {
        "ESET".into()
    } else if o.contains("mstic") || o.contains("sentinel") {
        MSTIC.into()
    } else if o.contains("volexity") {
        "Volexity".into()
    } else if o.contains("chirp") || o.contains("cisa") {
        "CISA".into()
    } else {
        origin
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(origin)
            .to_string()
    }
}

/// The value lines of a signature-base style list, each with its 1-based line number and the
/// `#` comment line last seen above it (which names the source).
fn commented_values(text: &str) -> Vec<(usize, &str, &str)> {
    let mut out = Vec::new();
    let mut comment = "";
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix('#') {
            Some(c) => comment = c.trim(),
            None => out.push((i + 1, line, comment)),
        }
    }
    out
}

/// An indicator of a commented list: label and reference come from its comment when it has them.
fn commented_indicator(
    kind: IndicatorKind,
    value: String,
    publisher: &str,
    origin: &str,
    comment: &str,
) -> Indicator {
    let (label, url) = label_and_url(comment);
    Indicator::new(kind, value, publisher, url.as_deref().unwrap_or(origin))
        .with_label(label.as_deref())
        .with_description(Some(comment))
}

/// signature-base `filename-iocs.txt` (`regex;score` lines, `#` comment lines naming the source).
pub fn parse_signature_base_filenames(text: &str, origin: &str) -> Loaded {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (n, line, comment) in commented_values(text) {
        let (re, _score) = line.rsplit_once(';').unwrap_or((line, ""));
        match normalize(IndicatorKind::PathPattern, re, false) {
            Some((k, v)) => out.push(commented_indicator(k, v, "signature-base", origin, comment)),
            None => warnings.push(format!(
                "{origin}:{n}: regex not supported by the Rust regex engine: {re:?}; skipped"
            )),
        }
    }
    (out, warnings)
}

/// A plain list of IPs/domains (signature-base `c2-iocs.txt`: `value[;score]`, `#` comments).
pub fn parse_plain_network_list(text: &str, origin: &str) -> Loaded {
    let publisher = publisher_from_origin(origin);
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (n, line, comment) in commented_values(text) {
        let v = line.split(';').next().unwrap_or("").trim();
        let kind = if v.parse::<IpAddr>().is_ok() {
            IndicatorKind::Ip
        } else if v.contains('/') && crate::matcher::parse_cidr(v).is_some() {
            IndicatorKind::Cidr
        } else {
            IndicatorKind::Domain
        };
        match normalize(kind, v, false) {
            Some((k, val)) => out.push(commented_indicator(k, val, &publisher, origin, comment)),
            None => warnings.push(format!("{origin}:{n}: not an IP or domain: {v:?}; skipped")),
        }
    }
    (out, warnings)
}

/// ESET `malware-ioc` README tables (`|`sha1`|detection|details|` and `|`ip/domain`|details|`).
pub fn parse_eset_readme(text: &str, origin: &str) -> Loaded {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let reference = text
        .find("https://www.welivesecurity.com")
        .map(|i| {
            text[i..]
                .split(['[', ' ', '\n'])
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_else(|| origin.to_string());
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with("|`") {
            continue;
        }
        let cells: Vec<&str> = line
            .trim_start_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let value = cells[0].trim_matches('`');
        let details = cells.last().copied().unwrap_or("");
        let detection = if cells.len() >= 3 { cells[1] } else { "" };
        let label = actor_in(details);
        let kind = if hash_kind(value).is_some() {
            IndicatorKind::Sha1
        } else if refang(value).parse::<IpAddr>().is_ok() {
            IndicatorKind::Ip
        } else {
            IndicatorKind::Domain
        };
        let desc = if detection.is_empty() {
            details.to_string()
        } else {
            format!("{detection}: {details}")
        };
        match normalize(kind, value, false) {
            Some((k, v)) => out.push(
                Indicator::new(k, v, "ESET", &reference)
                    .with_label(label.as_deref())
                    .with_description(Some(&desc)),
            ),
            None => warnings.push(format!(
                "{origin}: unreadable table value {value:?}; skipped"
            )),
        }
    }
    (out, warnings)
}

/// CISA CHIRP indicator YAML: `ips:` blocks of network indicators and user agents (`$ua..= "..."`)
/// inside embedded YARA rules. Other indicator types (log-line YARA, event queries) are reported.
pub fn parse_chirp_yaml(text: &str, origin: &str) -> Loaded {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for doc in text.split("\n---") {
        let name = doc
            .lines()
            .find_map(|l| l.trim().strip_prefix("name:"))
            .map(|n| n.trim().trim_matches('"').to_string())
            .unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let reference = doc
            .find("https://")
            .map(|i| {
                doc[i..]
                    .split(['"', ' ', '\n', ')'])
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_else(|| origin.to_string());
        let label = actor_in(&name);
        let mut found = 0usize;
        let mut in_ips = false;
        for l in doc.lines() {
            let t = l.trim();
            if t.starts_with("ips:") {
                in_ips = true;
                continue;
            }
            if in_ips {
                if let Some((k, v)) = normalize(IndicatorKind::Ip, t, false) {
                    out.push(
                        Indicator::new(k, v, "CISA", &reference)
                            .with_label(label.as_deref())
                            .with_description(Some(&name)),
                    );
                    found += 1;
                    continue;
                }
                in_ips = false;
            }
            if let Some(rest) = t.strip_prefix("$ua")
                && let Some((_, val)) = rest.split_once('=')
            {
                let v = val.trim().trim_matches('"');
                if let Some((k, v)) = normalize(IndicatorKind::UserAgent, v, false)
                    && !out.iter().any(|i: &Indicator| i.kind == k && i.value == v)
                {
                    out.push(
                        Indicator::new(k, v, "CISA", &reference)
                            .with_label(label.as_deref())
                            .with_description(Some(&name)),
                    );
                }
                found += 1;
            }
        }
        if found == 0 {
            warnings.push(format!(
                "{origin}: CHIRP indicator {name:?} has no IP or user-agent values; not imported (log-content rules belong to the Sigma/YARA stages)"
            ));
        }
    }
    (out, warnings)
}

/// A STIX 2.1 bundle: `indicator` objects with simple comparison patterns (OR-joined), and
/// `observed-data` objects with SCOs; labels from `indicates` relationships to
/// intrusion-set/threat-actor/malware/campaign objects.
pub fn parse_stix(bundle: &Value, origin: &str) -> Loaded {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let objects: Vec<&Value> = bundle
        .get("objects")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let by_id: HashMap<&str, &Value> = objects
        .iter()
        .filter_map(|o| Some((o.get("id")?.as_str()?, *o)))
        .collect();
    let name_of = |id: &str| -> Option<(&str, String)> {
        let o = by_id.get(id)?;
        let t = o.get("type")?.as_str()?;
        Some((t, o.get("name")?.as_str()?.to_string()))
    };
    let is_actor = |t: &str| {
        matches!(
            t,
            "intrusion-set" | "threat-actor" | "malware" | "campaign" | "tool"
        )
    };
    // indicator/observed-data id -> actor-ish names it indicates or is related to
    let mut labels: HashMap<&str, Vec<String>> = HashMap::new();
    for o in &objects {
        if o.get("type").and_then(Value::as_str) != Some("relationship") {
            continue;
        }
        let rt = o
            .get("relationship_type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (Some(src), Some(dst)) = (
            o.get("source_ref").and_then(Value::as_str),
            o.get("target_ref").and_then(Value::as_str),
        ) else {
            continue;
        };
        if matches!(
            rt,
            "indicates" | "related-to" | "attributed-to" | "based-on"
        ) && let Some((t, n)) = name_of(dst)
            && is_actor(t)
        {
            labels.entry(src).or_default().push(n);
        }
    }
    let publisher_of = |o: &Value| -> String {
        o.get("created_by_ref")
            .and_then(Value::as_str)
            .and_then(name_of)
            .map(|(_, n)| n)
            .unwrap_or_else(|| {
                origin
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(origin)
                    .to_string()
            })
    };
    for o in &objects {
        let t = o.get("type").and_then(Value::as_str).unwrap_or("");
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        let label = labels.get(id).map(|v| v.join(", "));
        let name = o.get("name").and_then(Value::as_str);
        match t {
            "indicator" => {
                let pattern = o.get("pattern").and_then(Value::as_str).unwrap_or("");
                let ptype = o
                    .get("pattern_type")
                    .and_then(Value::as_str)
                    .unwrap_or("stix");
                if ptype != "stix" {
                    warnings.push(format!(
                        "{origin}: {id}: pattern type {ptype} not supported; skipped"
                    ));
                    continue;
                }
                let comps = stix_comparisons(pattern);
                if comps.is_empty() {
                    warnings.push(format!(
                        "{origin}: {id}: pattern not of the supported simple forms ([object:path = 'value'] joined by OR): {pattern}"
                    ));
                }
                for (path, value) in comps {
                    match stix_kind(&path).and_then(|k| normalize(k, &value, true)) {
                        Some((k, v)) => {
                            let mut ind = Indicator::new(k, v, &publisher_of(o), origin)
                                .with_label(label.as_deref())
                                .with_description(name);
                            ind.valid_from = o
                                .get("valid_from")
                                .and_then(Value::as_str)
                                .and_then(parse_time);
                            ind.valid_until = o
                                .get("valid_until")
                                .and_then(Value::as_str)
                                .and_then(parse_time);
                            out.push(ind);
                        }
                        None => warnings.push(format!(
                            "{origin}: {id}: unsupported comparison {path} = {value:?}; skipped"
                        )),
                    }
                }
            }
            "observed-data" => {
                let refs: Vec<&Value> = o
                    .get("object_refs")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| by_id.get(r.as_str()?).copied())
                            .collect()
                    })
                    .unwrap_or_default();
                let embedded: Vec<&Value> = o
                    .get("objects")
                    .and_then(Value::as_object)
                    .map(|m| m.values().collect())
                    .unwrap_or_default();
                for sco in refs.into_iter().chain(embedded) {
                    for (k, v) in sco_values(sco) {
                        if let Some((k, v)) = normalize(k, &v, true) {
                            out.push(
                                Indicator::new(k, v, &publisher_of(o), origin)
                                    .with_label(label.as_deref())
                                    .with_description(Some("STIX observed-data")),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    (out, warnings)
}

fn sco_values(sco: &Value) -> Vec<(IndicatorKind, String)> {
    let t = sco.get("type").and_then(Value::as_str).unwrap_or("");
    let s = |k: &str| sco.get(k).and_then(Value::as_str).map(str::to_string);
    let mut v = Vec::new();
    match t {
        "file" => {
            if let Some(n) = s("name") {
                v.push((IndicatorKind::FileName, n));
            }
            if let Some(h) = sco.get("hashes").and_then(Value::as_object) {
                for (_, hv) in h {
                    if let Some(hv) = hv.as_str()
                        && let Some(k) = hash_kind(hv)
                    {
                        v.push((k, hv.to_string()));
                    }
                }
            }
        }
        "ipv4-addr" | "ipv6-addr" => {
            if let Some(x) = s("value") {
                let k = if x.contains('/') {
                    IndicatorKind::Cidr
                } else {
                    IndicatorKind::Ip
                };
                v.push((k, x));
            }
        }
        "domain-name" => v.extend(s("value").map(|x| (IndicatorKind::Domain, x))),
        "url" => v.extend(s("value").map(|x| (IndicatorKind::Url, x))),
        "directory" => v.extend(s("path").map(|x| (IndicatorKind::PathPattern, x))),
        _ => {}
    }
    v
}

fn stix_kind(path: &str) -> Option<IndicatorKind> {
    let p = path.trim().to_ascii_lowercase().replace('"', "'");
    Some(match p.as_str() {
        "file:hashes.'sha-256'" | "file:hashes.sha256" | "file:hashes.'sha256'" => {
            IndicatorKind::Sha256
        }
        "file:hashes.'sha-1'" | "file:hashes.sha1" | "file:hashes.'sha1'" => IndicatorKind::Sha1,
        "file:hashes.md5" | "file:hashes.'md5'" => IndicatorKind::Md5,
        "file:name" => IndicatorKind::FileName,
        "file:parent_directory_ref.path" | "directory:path" => IndicatorKind::PathPattern,
        "ipv4-addr:value" | "ipv6-addr:value" => IndicatorKind::Ip,
        "domain-name:value" => IndicatorKind::Domain,
        "url:value" => IndicatorKind::Url,
        "network-traffic:extensions.'http-request-ext'.request_header.'user-agent'" => {
            IndicatorKind::UserAgent
        }
        _ => return None,
    })
}

/// The `(object path, value)` pairs of a STIX pattern made of `=` comparisons joined by OR
/// (and by AND inside one bracket, each taken alone). Anything else yields nothing.
pub fn stix_comparisons(pattern: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // find "=" not part of "!="
        let Some(eq) = pattern[i..].find('=').map(|e| e + i) else {
            break;
        };
        if eq > 0 && matches!(bytes[eq - 1], b'!' | b'<' | b'>') {
            i = eq + 1;
            continue;
        }
        // path: back to '[' or OR/AND keyword
        let left = &pattern[..eq];
        let start = left
            .rfind(['[', '('])
            .map(|p| p + 1)
            .unwrap_or(0)
            .max(left.rfind(" OR ").map(|p| p + 4).unwrap_or(0))
            .max(left.rfind(" AND ").map(|p| p + 5).unwrap_or(0));
        let path = left[start..].trim().to_string();
        // value: quoted string after '='
        let rest = pattern[eq + 1..].trim_start();
        let offset = pattern.len() - rest.len();
        if let Some(stripped) = rest.strip_prefix('\'') {
            let mut val = String::new();
            let mut chars = stripped.char_indices();
            let mut end = None;
            while let Some((j, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            val.push(n);
                        }
                    }
                    '\'' => {
                        end = Some(j);
                        break;
                    }
                    _ => val.push(c),
                }
            }
            let Some(end) = end else { break };
            if !path.is_empty() {
                out.push((path, val));
            }
            i = offset + 1 + end + 1;
        } else {
            i = eq + 1;
        }
    }
    out
}

/// A MISP event (`{"Event": ...}` or a `{"response": [...]}` search result).
pub fn parse_misp(v: &Value, origin: &str) -> Loaded {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let events: Vec<&Value> = if let Some(e) = v.get("Event") {
        vec![e]
    } else {
        v.get("response")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.get("Event")).collect())
            .unwrap_or_default()
    };
    for ev in events {
        let publisher = ev
            .get("Orgc")
            .and_then(|o| o.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("MISP")
            .to_string();
        let info = ev.get("info").and_then(Value::as_str).unwrap_or("");
        let reference = format!(
            "{origin} (MISP event {})",
            ev.get("uuid").and_then(Value::as_str).unwrap_or("?")
        );
        let event_label = misp_label(ev);
        let mut attrs: Vec<&Value> = ev
            .get("Attribute")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if let Some(objs) = ev.get("Object").and_then(Value::as_array) {
            for o in objs {
                if let Some(a) = o.get("Attribute").and_then(Value::as_array) {
                    attrs.extend(a.iter());
                }
            }
        }
        for a in attrs {
            if a.get("deleted").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let typ = a.get("type").and_then(Value::as_str).unwrap_or("");
            let value = a.get("value").and_then(Value::as_str).unwrap_or("");
            let pairs: Vec<(IndicatorKind, String)> = match typ {
                "filename|sha256" | "filename|sha1" | "filename|md5" => {
                    let (n, h) = value.split_once('|').unwrap_or((value, ""));
                    vec![
                        (IndicatorKind::FileName, n.into()),
                        (IndicatorKind::Sha256, h.into()),
                    ]
                }
                "ip-dst|port" | "ip-src|port" => {
                    vec![(
                        IndicatorKind::Ip,
                        value.split('|').next().unwrap_or("").into(),
                    )]
                }
                "domain|ip" => {
                    let (d, ip) = value.split_once('|').unwrap_or((value, ""));
                    vec![
                        (IndicatorKind::Domain, d.into()),
                        (IndicatorKind::Ip, ip.into()),
                    ]
                }
                "ip-dst" | "ip-src" => {
                    let k = if value.contains('/') {
                        IndicatorKind::Cidr
                    } else {
                        IndicatorKind::Ip
                    };
                    vec![(k, value.into())]
                }
                "hostname" | "domain" => vec![(IndicatorKind::Domain, value.into())],
                "url" | "uri" => vec![(IndicatorKind::Url, value.into())],
                "user-agent" => vec![(IndicatorKind::UserAgent, value.into())],
                "filename" | "filename-pattern" => vec![(IndicatorKind::FileName, value.into())],
                "sha256" | "sha1" | "md5" => vec![(IndicatorKind::Sha256, value.into())],
                _ => {
                    warnings.push(format!(
                        "{origin}: MISP attribute type {typ:?} not supported; skipped"
                    ));
                    continue;
                }
            };
            let attr_label = misp_label(a).or_else(|| event_label.clone());
            let comment = a
                .get("comment")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty());
            for (k, val) in pairs {
                match normalize(k, &val, true) {
                    Some((k, v)) => {
                        let mut ind = Indicator::new(k, v, &publisher, &reference)
                            .with_label(attr_label.as_deref())
                            .with_description(Some(comment.unwrap_or(info)));
                        ind.valid_from = a
                            .get("first_seen")
                            .and_then(Value::as_str)
                            .and_then(parse_time);
                        ind.valid_until = a
                            .get("last_seen")
                            .and_then(Value::as_str)
                            .and_then(parse_time);
                        out.push(ind);
                    }
                    None => {
                        warnings.push(format!("{origin}: MISP {typ} {val:?} not valid; skipped"))
                    }
                }
            }
        }
    }
    (out, warnings)
}

/// The actor of a MISP event or attribute: galaxy clusters, then `misp-galaxy:` tags.
fn misp_label(o: &Value) -> Option<String> {
    let mut names = Vec::new();
    if let Some(gs) = o.get("Galaxy").and_then(Value::as_array) {
        for g in gs {
            let gtype = g.get("type").and_then(Value::as_str).unwrap_or("");
            if !matches!(
                gtype,
                "threat-actor"
                    | "mitre-intrusion-set"
                    | "microsoft-activity-group"
                    | "malpedia"
                    | "tool"
                    | "mitre-malware"
            ) {
                continue;
            }
            for c in g
                .get("GalaxyCluster")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(v) = c.get("value").and_then(Value::as_str) {
                    names.push(v.to_string());
                }
            }
        }
    }
    for t in o.get("Tag").and_then(Value::as_array).into_iter().flatten() {
        let n = t.get("name").and_then(Value::as_str).unwrap_or("");
        for prefix in [
            "misp-galaxy:threat-actor=",
            "misp-galaxy:mitre-intrusion-set=",
            "misp-galaxy:microsoft-activity-group=",
            "misp-galaxy:malpedia=",
        ] {
            if let Some(v) = n.strip_prefix(prefix) {
                let v = v.trim_matches('"').to_string();
                if !names.contains(&v) {
                    names.push(v);
                }
            }
        }
    }
    (!names.is_empty()).then(|| names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stix_patterns() {
        let c = stix_comparisons(
            "[file:hashes.'SHA-256' = 'ab'] OR [ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'x.com']",
        );
        assert_eq!(
            c,
            vec![
                ("file:hashes.'SHA-256'".to_string(), "ab".to_string()),
                ("ipv4-addr:value".to_string(), "1.2.3.4".to_string()),
                ("domain-name:value".to_string(), "x.com".to_string()),
            ]
        );
        assert_eq!(
            stix_comparisons("[file:name = 'a\\'b.aspx']")[0].1,
            "a'b.aspx"
        );
    }

    #[test]
    fn actor_names_are_whole_words() {
        assert_eq!(
            actor_in("Tick Delphi backdoor C&C server").as_deref(),
            Some("Tick")
        );
        assert_eq!(actor_in("ticket system"), None);
        assert_eq!(
            actor_in("ShadowPad backdoor used by Tonto Team").as_deref(),
            Some("Tonto Team")
        );
    }

    #[test]
    fn exhunt_csv_round_trip() {
        let text = "type,value,label,source,valid_from,valid_until\n\
            ip,104.140.114.110,HAFNIUM,Volexity https://www.volexity.com/x,2021-01-01,\n\
            path,C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx,,MSTIC,,\n\
            bogus,1,,,,\n";
        let (v, w) = parse_exhunt_csv(text, "t.csv").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(w.len(), 1);
        assert_eq!(v[0].publisher, "Volexity");
        assert_eq!(v[0].reference, "https://www.volexity.com/x");
        assert!(v[0].valid_from.is_some());
        assert_eq!(v[1].kind, IndicatorKind::PathPattern);
    }
}
