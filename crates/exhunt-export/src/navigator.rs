//! `navigator-layer.json`: an ATT&CK Navigator layer (format 4.5) of the techniques seen.

use std::io::Write;

use serde_json::{Value, json};

use crate::{Fail, Input};

pub(crate) const GRADIENT: [&str; 3] = ["#fff3c4", "#ff9a3c", "#c0171c"];

pub(crate) fn layer(input: &Input) -> Value {
    let uses = &input.agg.uses;
    let max = uses.values().map(|u| u.findings).max().unwrap_or(1).max(1);
    let mut techniques = Vec::new();
    for u in uses.values() {
        let has_subs =
            !u.id.contains('.') && uses.keys().any(|k| k.starts_with(&format!("{}.", u.id)));
        let rules: Vec<&str> = u.rules.iter().map(String::as_str).collect();
        let comment = format!(
            "{} finding(s) from rule(s): {}",
            u.findings,
            rules.join("; ")
        );
        let mut metadata = vec![json!({"name": "findings", "value": u.findings.to_string()})];
        for r in &rules {
            metadata.push(json!({"name": "rule", "value": r}));
        }
        let tactics: Vec<Option<&str>> = if u.tactics.is_empty() {
            vec![None]
        } else {
            u.tactics.iter().map(|t| Some(t.as_str())).collect()
        };
        for tactic in tactics {
            let mut t = serde_json::Map::new();
            t.insert("techniqueID".into(), u.id.clone().into());
            if let Some(tactic) = tactic {
                t.insert("tactic".into(), tactic.into());
            }
            t.insert("score".into(), (u.findings as u64).into());
            t.insert("comment".into(), comment.clone().into());
            t.insert("enabled".into(), true.into());
            t.insert("metadata".into(), Value::Array(metadata.clone()));
            t.insert("showSubtechniques".into(), has_subs.into());
            techniques.push(Value::Object(t));
        }
    }
    let v = &input.summary.verdict;
    let description = format!(
        "Techniques seen by exhunt {} in {}: {} (score = number of findings).",
        input.summary.version,
        if input.summary.roots.is_empty() {
            "the collection".to_string()
        } else {
            input.summary.roots.join(", ")
        },
        v.level.headline()
    );
    json!({
        "name": "exhunt: techniques seen",
        "versions": {"attack": "18", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": description,
        "filters": {"platforms": ["Windows"]},
        "sorting": 3,
        "layout": {
            "layout": "side",
            "aggregateFunction": "max",
            "showID": true,
            "showName": true,
            "showAggregateScores": false,
            "countUnscored": false
        },
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": GRADIENT, "minValue": 0, "maxValue": max},
        "legendItems": [
            {"label": "seen once", "color": GRADIENT[0]},
            {"label": format!("seen in {max} findings"), "color": GRADIENT[2]}
        ],
        "metadata": [
            {"name": "generator", "value": "exhunt"},
            {"name": "verdict", "value": v.level.headline()},
            {"name": "findings", "value": input.len().to_string()}
        ],
        "showTacticRowBackground": false,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false
    })
}

pub(crate) fn render(input: &Input, w: &mut dyn Write) -> Result<(), Fail> {
    serde_json::to_writer_pretty(&mut *w, &layer(input))?;
    w.write_all(b"\n")?;
    Ok(())
}
