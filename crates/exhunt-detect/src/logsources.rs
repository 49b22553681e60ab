//! Rewriting rule log sources onto exhunt's events, from the data file `data/logsources.json`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rsigma_eval::Pipeline;
use rsigma_parser::SigmaRule;
use serde::Deserialize;

#[derive(Deserialize)]
struct MapFile {
    expansions: Vec<Expansion>,
}

#[derive(Deserialize)]
struct Expansion {
    when: BTreeMap<String, String>,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(skip)]
    pipeline: Option<Pipeline>,
}

fn map() -> &'static MapFile {
    static MAP: OnceLock<MapFile> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m: MapFile = serde_json::from_str(include_str!("../data/logsources.json"))
            .expect("data/logsources.json is valid");
        for e in &mut m.expansions {
            for t in &mut e.targets {
                if !t.fields.is_empty() {
                    // JSON is YAML: express the renaming as an rsigma (pySigma-style) pipeline.
                    let yaml = serde_json::json!({
                        "name": "exhunt log-source field mapping",
                        "transformations": [{"type": "field_name_mapping", "mapping": t.fields}]
                    })
                    .to_string();
                    t.pipeline = Some(
                        rsigma_eval::parse_pipeline(&yaml).expect("field mapping pipeline parses"),
                    );
                }
            }
        }
        m
    })
}

fn rule_value<'a>(rule: &'a SigmaRule, key: &str) -> Option<&'a str> {
    match key {
        "product" => rule.logsource.product.as_deref(),
        "service" => rule.logsource.service.as_deref(),
        "category" => rule.logsource.category.as_deref(),
        other => rule.logsource.custom.get(other).map(String::as_str),
    }
}

fn set(slot: &mut Option<String>, value: &Option<String>) {
    if let Some(v) = value {
        *slot = if v.is_empty() { None } else { Some(v.clone()) };
    }
}

/// The copies of `rule` to load: the rule itself when no expansion applies, else one copy per
/// target of the first expansion whose `when` matches.
pub(crate) fn expand(rule: &SigmaRule) -> Result<Vec<SigmaRule>, String> {
    let Some(exp) = map().expansions.iter().find(|e| {
        e.when
            .iter()
            .all(|(k, v)| rule_value(rule, k).is_some_and(|r| r.eq_ignore_ascii_case(v)))
    }) else {
        return Ok(vec![rule.clone()]);
    };
    let mut out = Vec::with_capacity(exp.targets.len());
    for t in &exp.targets {
        let mut copy = rule.clone();
        set(&mut copy.logsource.product, &t.product);
        set(&mut copy.logsource.service, &t.service);
        set(&mut copy.logsource.category, &t.category);
        if let Some(p) = &t.pipeline {
            rsigma_eval::apply_pipelines(std::slice::from_ref(p), &mut copy)
                .map_err(|e| format!("log-source field mapping failed: {e}"))?;
        }
        out.push(copy);
    }
    Ok(out)
}
