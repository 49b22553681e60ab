//! Helpers shared by the rule-pack tests: load the built-in pack, fire it on hand-made events.
#![allow(dead_code)]

use std::borrow::Cow;

use exhunt_detect::{Detector, builtin_rule_files};
use exhunt_model::{Event, Locator, LogSource};

/// The built-in pack, asserting that every rule loads.
pub fn detector() -> Detector {
    let (det, diags) = Detector::load(&builtin_rule_files());
    assert!(diags.is_empty(), "built-in rules must all load: {diags:#?}");
    det
}

/// The titles of the rules that fire on one event of log source `ls` with these fields.
pub fn fire(det: &Detector, ls: &LogSource, fields: &[(&str, &str)]) -> Vec<String> {
    let ev = Event {
        time: None,
        locator: Locator::Line(1),
        source: ls,
        fields: fields
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect(),
        raw: Cow::Borrowed(""),
    };
    det.evaluate(&ev)
        .into_iter()
        .map(|h| h.rule.title.clone())
        .collect()
}

pub fn has(titles: &[String], needle: &str) -> bool {
    titles.iter().any(|t| t.contains(needle))
}
