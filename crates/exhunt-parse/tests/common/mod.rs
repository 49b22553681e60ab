//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use exhunt_model::{ArtifactKind, Event, Locator, LogSource};
use exhunt_parse::{ParseStats, parse_evtx, parse_text};

/// `/work/shared` (the fixtures), or `None` with a SKIP note when it is not there.
pub fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: ../shared not found");
        None
    }
}

/// An event copied out of the sink.
#[derive(Debug, Clone)]
pub struct Owned {
    pub time: Option<DateTime<Utc>>,
    pub locator: Locator,
    pub source: LogSource,
    pub fields: Vec<(String, String)>,
    pub raw: String,
}

impl Owned {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn must(&self, k: &str) -> &str {
        self.get(k)
            .unwrap_or_else(|| panic!("field {k} missing in {:?}", self.fields))
    }
}

fn own(e: &Event<'_>) -> Owned {
    Owned {
        time: e.time,
        locator: e.locator,
        source: e.source.clone(),
        fields: e
            .fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        raw: e.raw.to_string(),
    }
}

pub fn text(kind: &ArtifactKind, bytes: &[u8]) -> (Vec<Owned>, ParseStats) {
    let mut out = Vec::new();
    let stats = parse_text(kind, "test.log", bytes, &mut |e| out.push(own(e))).unwrap();
    assert_eq!(stats.events, out.len() as u64);
    (out, stats)
}

pub fn evtx(path: &std::path::Path) -> (Vec<Owned>, ParseStats) {
    let mut out = Vec::new();
    let stats = parse_evtx(path, &mut |e| out.push(own(e)))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(stats.events, out.len() as u64);
    (out, stats)
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}
