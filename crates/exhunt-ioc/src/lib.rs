//! Indicators of compromise for Exchange intrusions: one model, importers and fast matching.
//!
//! * [`Indicator`] is the single model (hash, file name, path pattern, IP, CIDR, domain, URL,
//!   user agent) with publisher, reference, actor label and validity window.
//! * [`load`] reads a file in any supported format (exhunt CSV, MSTIC feed, Volexity CSV,
//!   STIX 2.1, MISP, signature-base lists, ESET README, CISA CHIRP YAML, hash lists).
//! * [`IocSet::builtin`] holds the curated packs of the repository's `iocs/` folder.
//! * [`IocSet::match_event`] / [`IocSet::match_file`] find indicators; [`finding_for_hit`] and
//!   [`finding_for_event_hit`] turn hits into findings.

mod import;
mod matcher;
mod model;

pub use import::{
    IocError, KNOWN_ACTORS, Loaded, actor_in, load, load_str, parse_chirp_yaml, parse_eset_readme,
    parse_exhunt_csv, parse_hash_list, parse_misp, parse_mstic_csv, parse_plain_network_list,
    parse_signature_base_filenames, parse_stix, parse_volexity_csv, split_source, stix_comparisons,
};
pub use matcher::{IocHit, IocSet, parse_cidr};
pub use model::{
    Indicator, IndicatorKind, literal_path_pattern, parse_time, path_regex_pattern, refang,
};

use chrono::{DateTime, Utc};
use exhunt_model::{Event, Evidence, Finding, RuleRef};
use sha2::{Digest, Sha256};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_packs.rs"));
}

pub use builtin::BUILTIN_PACKS;

/// The indicators of the built-in packs, with the messages of rows that were skipped.
pub fn builtin_indicators() -> Loaded {
    let mut all = Vec::new();
    let mut warnings = Vec::new();
    for (name, text) in BUILTIN_PACKS {
        match parse_exhunt_csv(text, &format!("iocs/{name}")) {
            Ok((v, w)) => {
                all.extend(v);
                warnings.extend(w);
            }
            Err(e) => warnings.push(e.to_string()),
        }
    }
    (all, warnings)
}

impl IocSet {
    /// The built-in curated packs.
    pub fn builtin() -> IocSet {
        IocSet::new(builtin_indicators().0)
    }

    /// The built-in packs (unless `builtin` is false) plus every file of `extra` (`--ioc FILE`).
    /// Returns the set and warnings (skipped rows, unreadable files are errors).
    pub fn load(
        builtin: bool,
        extra: &[std::path::PathBuf],
    ) -> Result<(IocSet, Vec<String>), IocError> {
        let (mut all, mut warnings) = if builtin {
            builtin_indicators()
        } else {
            (Vec::new(), Vec::new())
        };
        for p in extra {
            let (v, w) = load(p)?;
            all.extend(v);
            warnings.extend(w);
        }
        let set = IocSet::new(all);
        warnings.extend(set.warnings().iter().cloned());
        Ok((set, warnings))
    }
}

/// A stable rule id for an indicator: `ioc-<kind>-<16 hex of sha256(kind, value)>`.
pub fn indicator_rule_id(ind: &Indicator) -> String {
    let mut h = Sha256::new();
    h.update(ind.kind.as_str().as_bytes());
    h.update([0]);
    h.update(ind.value.as_bytes());
    format!(
        "ioc-{}-{}",
        ind.kind.as_str(),
        hex::encode(&h.finalize()[..8])
    )
}

/// The value as shown in titles: path patterns made from literal paths are shown readably.
fn display_value(hit: &IocHit) -> String {
    let ind = &hit.indicator;
    match ind.kind {
        IndicatorKind::PathPattern | IndicatorKind::UserAgent => hit.value.clone(),
        _ => ind.value.clone(),
    }
}

/// Level of a hit: `high` for hashes, names, paths, domains and URLs; `medium` for IPs and user
/// agents (shared infrastructure, spoofable) and for path patterns seen only in a requested URL.
pub fn hit_level(hit: &IocHit) -> &'static str {
    let k = hit.indicator.kind;
    let url_field = ["cs-uri-stem", "UrlStem", "c-uri"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(&hit.field));
    if !k.is_strong() || (k == IndicatorKind::PathPattern && url_field) {
        "medium"
    } else {
        "high"
    }
}

/// A finding for an indicator hit, with its evidence (the event's line/record or the file).
pub fn finding_for_hit(
    hit: &IocHit,
    evidence: Evidence,
    time: Option<DateTime<Utc>>,
    host: Option<String>,
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> Finding {
    let ind = &hit.indicator;
    let rule_id = indicator_rule_id(ind);
    let who = match &ind.label {
        Some(l) => format!("{}: {l}", ind.publisher),
        None => ind.publisher.clone(),
    };
    let title = format!(
        "Indicator match: {} {} ({who})",
        ind.kind.display(),
        exhunt_model::truncate_excerpt(&display_value(hit), 200)
    );
    fields.insert("ioc_kind".into(), ind.kind.as_str().into());
    fields.insert("ioc_value".into(), ind.value.clone().into());
    fields.insert("ioc_field".into(), hit.field.clone().into());
    fields.insert("ioc_matched".into(), hit.value.clone().into());
    fields.insert("ioc_source".into(), ind.publisher.clone().into());
    fields.insert("ioc_reference".into(), ind.reference.clone().into());
    if let Some(l) = &ind.label {
        fields.insert("ioc_label".into(), l.clone().into());
    }
    if let Some(d) = &ind.description {
        fields.insert("ioc_description".into(), d.clone().into());
    }
    let evidence = vec![evidence];
    let mut tags = vec!["ioc".to_string(), format!("ioc.{}", ind.kind.as_str())];
    if let Some(l) = &ind.label {
        for part in l.split(',') {
            let slug: String = part
                .trim()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if !slug.is_empty() {
                tags.push(format!("actor.{slug}"));
            }
        }
    }
    Finding {
        id: exhunt_detect::finding_id(&rule_id, &evidence),
        rule: RuleRef {
            id: rule_id,
            title,
            level: hit_level(hit).to_string(),
            source: format!("ioc:{}", ind.publisher),
        },
        tags,
        time,
        host,
        evidence,
        fields,
    }
}

/// A finding for a hit on an event: the event's evidence and fields, as the Sigma stage does.
pub fn finding_for_event_hit(
    hit: &IocHit,
    ev: &Event<'_>,
    src: &exhunt_detect::EvidenceSource<'_>,
    host: Option<String>,
) -> Finding {
    finding_for_hit(
        hit,
        exhunt_detect::evidence_for(ev, src),
        ev.time,
        host,
        exhunt_detect::fields_json(ev),
    )
}

/// A finding for a hit on a file (from [`IocSet::match_file`]).
pub fn finding_for_file_hit(hit: &IocHit, path: &str, sha256: &str) -> Finding {
    let mut fields = serde_json::Map::new();
    fields.insert("Path".into(), path.into());
    fields.insert(
        "FileName".into(),
        path.rsplit(['/', '\\', '!']).next().unwrap_or(path).into(),
    );
    fields.insert("sha256".into(), sha256.into());
    finding_for_hit(
        hit,
        Evidence {
            path: path.to_string(),
            sha256: sha256.to_string(),
            line: None,
            record: None,
            excerpt: format!(
                "{} {} = {}",
                hit.field,
                hit.indicator.kind.as_str(),
                hit.value
            ),
        },
        None,
        None,
        fields,
    )
}
