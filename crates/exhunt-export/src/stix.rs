//! `exhunt.stix.json`: a STIX 2.1 bundle of the incident.
//!
//! Every id is a UUIDv5 of the object's identifying content under a fixed exhunt namespace, and
//! every timestamp comes from the findings (first and last finding time), so the bundle is
//! byte-identical for the same scan folder.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::input::Bucket;
use crate::{Fail, Input, ts, varr, vstr};

/// exhunt's fixed namespace for the UUIDv5 of its STIX objects.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f3c_2a41_9b7e_4d15_8c0a_e3d2_5b19_7a64);

/// Time used when no finding has a time: the Unix epoch, fixed.
const NO_TIME: &str = "1970-01-01T00:00:00.000Z";

fn sid(kind: &str, key: &str) -> String {
    format!(
        "{kind}--{}",
        Uuid::new_v5(&NAMESPACE, format!("{kind}|{key}").as_bytes())
    )
}

struct Bundle {
    objects: Vec<Value>,
    created: String,
    modified: String,
    identity: String,
}

impl Bundle {
    /// A new SDO/SRO with the common properties; returns its id.
    fn sdo(&mut self, kind: &str, key: &str, props: Value) -> String {
        let id = sid(kind, key);
        let mut m = Map::new();
        m.insert("type".into(), kind.into());
        m.insert("spec_version".into(), "2.1".into());
        m.insert("id".into(), id.clone().into());
        m.insert("created_by_ref".into(), self.identity.clone().into());
        m.insert("created".into(), self.created.clone().into());
        m.insert("modified".into(), self.modified.clone().into());
        if let Value::Object(p) = props {
            m.extend(p);
        }
        self.objects.push(Value::Object(m));
        id
    }

    fn rel(&mut self, kind: &str, source: &str, target: &str, extra: Value) -> String {
        let mut props = json!({
            "relationship_type": kind,
            "source_ref": source,
            "target_ref": target,
        });
        if let (Value::Object(p), Value::Object(e)) = (&mut props, extra) {
            p.extend(e);
        }
        self.sdo("relationship", &format!("{kind}|{source}|{target}"), props)
    }
}

/// An observed value (address or hash) and the findings that showed it.
struct Observed<'a> {
    pattern: String,
    name: String,
    ids: &'a BTreeSet<String>,
    /// Earliest and latest time among the findings with those ids.
    span: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

fn observed(input: &Input) -> Result<Vec<Observed<'_>>, Fail> {
    static EMPTY: BTreeSet<String> = BTreeSet::new();
    let agg = &input.agg;
    let mut out = Vec::new();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for a in &input.summary.verdict.attacker_addresses {
        let Ok(ip) = a.address.parse::<std::net::IpAddr>() else {
            continue;
        };
        let pattern = match ip {
            std::net::IpAddr::V4(v) => format!("[ipv4-addr:value = '{v}']"),
            std::net::IpAddr::V6(v) => format!("[ipv6-addr:value = '{v}']"),
        };
        // An address listed twice gets its findings once, at its first listing.
        let bucket = agg
            .by_ip
            .get(&a.address)
            .filter(|_| used.insert(a.address.as_str()));
        out.push(Observed {
            pattern,
            name: format!("Attacker address {ip}"),
            ids: bucket.map_or(&EMPTY, |b| &b.ids),
            span: bucket.and_then(span_of),
        });
    }
    for (h, (bucket, names)) in &agg.by_hash {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        out.push(Observed {
            pattern: format!("[file:hashes.'SHA-256' = '{h}']"),
            name: if names.is_empty() {
                format!("Web shell file {h}")
            } else {
                format!("Web shell file {}", names.join(", "))
            },
            ids: &bucket.ids,
            span: span_of(bucket),
        });
    }
    if !agg.ids_unique && !out.is_empty() {
        // Findings sharing an id with an observed one count in its span too: one more pass.
        let mut wanted: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, o) in out.iter().enumerate() {
            for id in o.ids {
                wanted.entry(id.as_str()).or_default().push(i);
            }
        }
        let mut spans: Vec<Option<(DateTime<Utc>, DateTime<Utc>)>> = vec![None; out.len()];
        input.for_each_finding(|_, f| -> Result<(), Fail> {
            if let (Some(t), Some(list)) = (f.time, wanted.get(f.id.as_str())) {
                for &i in list {
                    spans[i] = Some(spans[i].map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
                }
            }
            Ok(())
        })?;
        for (o, s) in out.iter_mut().zip(spans) {
            o.span = s;
        }
    }
    Ok(out)
}

fn span_of(b: &Bucket) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((b.first?, b.last?))
}

/// The bundle as a JSON value.
pub(crate) fn bundle(input: &Input) -> Result<Value, Fail> {
    let range = input.agg.first.zip(input.agg.last);
    let (created, modified) = match range {
        Some((a, b)) => (ts(a), ts(b)),
        None => (NO_TIME.to_string(), NO_TIME.to_string()),
    };
    let identity = sid("identity", "exhunt");
    let mut b = Bundle {
        objects: Vec::new(),
        created,
        modified,
        identity: identity.clone(),
    };
    // The tool's own identity (created_by_ref pointing at itself is allowed).
    b.sdo(
        "identity",
        "exhunt",
        json!({
            "name": "exhunt",
            "description": "Exchange compromise hunter: findings from a triage collection",
            "identity_class": "system",
        }),
    );

    let v = &input.summary.verdict;
    let hosts: BTreeSet<&str> = input.agg.hosts.iter().map(String::as_str).collect();
    let host_label = if hosts.is_empty() {
        "the Exchange server".to_string()
    } else {
        hosts.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    let mut campaign_props = json!({
        "name": format!("Exchange intrusion on {host_label}"),
        "description": v.statement,
    });
    if let Some((first, last)) = range {
        campaign_props["first_seen"] = ts(first).into();
        campaign_props["last_seen"] = ts(last).into();
    }
    let campaign = b.sdo(
        "campaign",
        &format!("incident|{host_label}"),
        campaign_props,
    );

    let host_ids: Vec<String> = hosts
        .iter()
        .map(|h| {
            b.sdo(
                "identity",
                &format!("host|{h}"),
                json!({"name": h, "identity_class": "system", "description": "Exchange server the collection came from"}),
            )
        })
        .collect();

    // Indicators and their sightings.
    for o in observed(input)? {
        let when = o.span;
        let valid_from = when.map(|w| ts(w.0)).unwrap_or_else(|| b.created.clone());
        let ind = b.sdo(
            "indicator",
            &o.pattern,
            json!({
                "name": o.name,
                "indicator_types": ["malicious-activity"],
                "pattern": o.pattern,
                "pattern_type": "stix",
                "valid_from": valid_from,
            }),
        );
        b.rel("indicates", &ind, &campaign, json!({}));
        let mut s = json!({
            "sighting_of_ref": ind,
            "count": o.ids.len().max(1),
            "description": format!(
                "Seen in {} exhunt finding(s): {}",
                o.ids.len(),
                o.ids.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
        if let Some((first, last)) = when {
            s["first_seen"] = ts(first).into();
            s["last_seen"] = ts(last).into();
        }
        if !host_ids.is_empty() {
            s["where_sighted_refs"] = json!(host_ids);
        }
        b.sdo("sighting", &format!("sighting|{ind}"), s);
    }

    // Techniques.
    for u in input.agg.uses.values() {
        let mut ext = json!({
            "source_name": "mitre-attack",
            "external_id": u.id,
        });
        ext["url"] = format!(
            "https://attack.mitre.org/techniques/{}",
            u.id.replace('.', "/")
        )
        .into();
        let mut props = json!({
            "name": u.name,
            "external_references": [ext],
        });
        if !u.tactics.is_empty() {
            props["kill_chain_phases"] = u
                .tactics
                .iter()
                .map(|t| json!({"kill_chain_name": "mitre-attack", "phase_name": t}))
                .collect();
        }
        let ap = b.sdo("attack-pattern", &format!("mitre-attack|{}", u.id), props);
        let rules: Vec<&str> = u.rules.iter().map(String::as_str).collect();
        b.rel(
            "uses",
            &campaign,
            &ap,
            json!({"description": format!("{} finding(s): {}", u.findings, rules.join("; "))}),
        );
    }

    // Malware and tools.
    for t in &input.agg.tools {
        let mut props = json!({"name": t.name});
        if t.malware {
            props["is_family"] = true.into();
            props["malware_types"] = json!(["webshell"]);
        }
        if let Some(s) = t.software_id {
            props["external_references"] = json!([{
                "source_name": "mitre-attack",
                "external_id": s,
                "url": format!("https://attack.mitre.org/software/{s}"),
            }]);
        }
        let kind = if t.malware { "malware" } else { "tool" };
        let id = b.sdo(kind, &format!("{kind}|{}", t.name), props);
        b.rel(
            "uses",
            &campaign,
            &id,
            json!({"description": format!("Seen in finding(s): {}", t.finding_ids.join(", "))}),
        );
    }

    // Vulnerabilities.
    for cve in &v.cves {
        let id = b.sdo(
            "vulnerability",
            &format!("cve|{cve}"),
            json!({
                "name": cve,
                "external_references": [{"source_name": "cve", "external_id": cve}],
            }),
        );
        b.rel("targets", &campaign, &id, json!({}));
    }

    // Attribution hypotheses.
    if let Some(a) = &input.attribution {
        let mut lines = Vec::new();
        for h in varr(a.get("hypotheses")) {
            let name = vstr(h.get("name")).unwrap_or_else(|| "unnamed hypothesis".into());
            let p = h.get("posterior").and_then(Value::as_f64).unwrap_or(0.0);
            let confidence = ((p * 100.0).round() as i64).clamp(0, 100);
            let words = vstr(h.get("likelihood_words")).unwrap_or_default();
            let conf_word = vstr(h.get("confidence")).unwrap_or_default();
            lines.push(format!(
                "{name}: {words} ({:.0}%), {conf_word} confidence",
                p * 100.0
            ));
            let kind = vstr(h.get("kind")).unwrap_or_default();
            if !matches!(kind.as_str(), "attack-group" | "reported-cluster" | "") {
                continue; // the unknown actor and opportunists are no intrusion sets
            }
            let hid = vstr(h.get("id")).unwrap_or_else(|| name.clone());
            let mut aliases: BTreeSet<String> = BTreeSet::new();
            for s in varr(h.get("names_by_source")) {
                for n in varr(s.get("names")) {
                    if let Some(n) = n.as_str() {
                        aliases.insert(n.to_string());
                    }
                }
            }
            let mut props = json!({"name": name});
            if !aliases.is_empty() {
                props["aliases"] = json!(aliases);
            }
            if hid.len() > 1 && hid.starts_with('G') && hid[1..].chars().all(|c| c.is_ascii_digit())
            {
                props["external_references"] = json!([{
                    "source_name": "mitre-attack",
                    "external_id": hid,
                    "url": format!("https://attack.mitre.org/groups/{hid}"),
                }]);
            }
            let is = b.sdo("intrusion-set", &format!("hypothesis|{hid}"), props);
            let basis = vstr(h.get("confidence_basis")).unwrap_or_default();
            b.rel(
                "attributed-to",
                &campaign,
                &is,
                json!({
                    "confidence": confidence,
                    "description": format!(
                        "Hypothesis: {words} ({:.0}%), {conf_word} analytic confidence. {basis}",
                        p * 100.0
                    ),
                }),
            );
        }
        if !lines.is_empty() {
            let headline = vstr(a.get("headline")).unwrap_or_default();
            b.sdo(
                "note",
                "attribution",
                json!({
                    "abstract": "Attribution hypotheses (Analysis of Competing Hypotheses)",
                    "content": format!("{headline}\n{}", lines.join("\n")),
                    "object_refs": [campaign],
                }),
            );
        }
    }

    let refs: Vec<Value> = b
        .objects
        .iter()
        .filter_map(|o| o.get("id").cloned())
        .collect();
    let published = b.modified.clone();
    b.sdo(
        "report",
        "report",
        json!({
            "name": format!("exhunt: {}", v.level.headline()),
            "description": v.statement,
            "report_types": ["threat-report"],
            "published": published,
            "object_refs": refs,
        }),
    );
    let ids: Vec<&str> = b
        .objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str))
        .collect();
    let bundle_id = sid("bundle", &ids.join(","));
    Ok(json!({
        "type": "bundle",
        "id": bundle_id,
        "objects": b.objects,
    }))
}

pub(crate) fn render(input: &Input, w: &mut dyn Write) -> Result<(), Fail> {
    serde_json::to_writer_pretty(&mut *w, &bundle(input)?)?;
    w.write_all(b"\n")?;
    Ok(())
}
