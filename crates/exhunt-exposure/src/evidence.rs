//! The server's build from a collection: which sources showed which build, and when.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use exhunt_model::Event;
use serde::{Deserialize, Serialize};

use crate::{Build, ExposureError, parse_build};

/// Where a build value came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceSource {
    /// `ExSetup.exe` file version (inventory, registry export, Health Checker output).
    Exsetup,
    /// Per-row `MajorVersion,MinorVersion,BuildVersion,RevisionVersion` of Exchange logs.
    LogRow,
    /// ECP server/activity log `S:BLD` value.
    EcpBuild,
    /// Exchange log file header `#Version:`.
    LogHeader,
    /// OWA static path in a URL (`/owa/auth/15.2.792/...`): three parts only.
    OwaPath,
}

impl EvidenceSource {
    pub fn label(self) -> &'static str {
        match self {
            EvidenceSource::Exsetup => "ExSetup.exe version",
            EvidenceSource::LogRow => "per-row build columns of Exchange logs",
            EvidenceSource::EcpBuild => "ECP log S:BLD values",
            EvidenceSource::LogHeader => "Exchange log #Version headers",
            EvidenceSource::OwaPath => "OWA static paths in URLs",
        }
    }
}

/// How far a concluded build can be trusted for the security-update level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reliability {
    /// ExSetup.exe version: reflects installed SUs.
    Exact,
    /// Four-part build written by Exchange into its logs; whether SUs bump it is unverified.
    LogReported,
    /// Three parts: the CU is known, the update level is not.
    CuLevel,
    /// No build evidence.
    None,
}

/// One build value seen in one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub source: EvidenceSource,
    pub build: Build,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub count: u64,
    /// Where it was first seen (log source, file, inventory name).
    pub origin: String,
}

/// A stretch of time during which a build was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildPeriod {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub build: Build,
}

/// What the collection says about the server's build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildConclusion {
    pub build: Option<Build>,
    pub source: Option<EvidenceSource>,
    pub reliability: Reliability,
    pub explanation: String,
    /// The build over time, from the best time-stamped source, ordered by start.
    pub timeline: Vec<BuildPeriod>,
    pub timeline_source: Option<EvidenceSource>,
    pub observations: Vec<Observation>,
}

/// Collects build values from events and other artifacts; [`BuildEvidence::conclude`] picks one.
#[derive(Debug, Clone, Default)]
pub struct BuildEvidence {
    seen: BTreeMap<(EvidenceSource, Build), Observation>,
    rejected: u64,
}

const ROW_FIELDS: [&str; 4] = [
    "MajorVersion",
    "MinorVersion",
    "BuildVersion",
    "RevisionVersion",
];
const URL_FIELDS: &[&str] = &[
    "cs-uri-stem",
    "UrlStem",
    "cs-uri",
    "cs(Referer)",
    "cs-referer",
];

impl BuildEvidence {
    pub fn new() -> BuildEvidence {
        BuildEvidence::default()
    }

    fn record(
        &mut self,
        source: EvidenceSource,
        build: Build,
        time: Option<DateTime<Utc>>,
        origin: &str,
    ) {
        let o = self
            .seen
            .entry((source, build))
            .or_insert_with(|| Observation {
                source,
                build,
                first: time,
                last: time,
                count: 0,
                origin: origin.to_string(),
            });
        o.count += 1;
        if let Some(t) = time {
            o.first = Some(o.first.map_or(t, |f| f.min(t)));
            o.last = Some(o.last.map_or(t, |l| l.max(t)));
        }
    }

    /// Fold in what another collector saw (one per artifact when artifacts run in parallel).
    pub fn merge(&mut self, other: BuildEvidence) {
        for ((source, build), o) in other.seen {
            match self.seen.entry((source, build)) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(o);
                }
                std::collections::btree_map::Entry::Occupied(mut e) => {
                    let mine = e.get_mut();
                    mine.count += o.count;
                    mine.first = match (mine.first, o.first) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    mine.last = match (mine.last, o.last) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    // Keep the origin deterministic whatever the merge order.
                    if o.origin < mine.origin {
                        mine.origin = o.origin;
                    }
                }
            }
        }
        self.rejected += other.rejected;
    }

    /// Feed one parsed event: per-row version columns, ECP `S:BLD`, OWA paths in URL fields,
    /// and a `#Version` field if the caller passes header values that way.
    pub fn observe_event(&mut self, ev: &Event<'_>) {
        let origin = ev.source.to_string();
        let row: Vec<Option<&str>> = ROW_FIELDS.iter().map(|f| ev.get(f)).collect();
        if let [Some(a), Some(b), Some(c), Some(d)] = row[..] {
            match parse_build(&format!("{a}.{b}.{c}.{d}")) {
                Ok(build) if build.major >= 8 => {
                    self.record(EvidenceSource::LogRow, build, ev.time, &origin)
                }
                _ => self.rejected += 1,
            }
        }
        if let Some(v) = ev.first_of(&["S:BLD", "S:Bld"]) {
            match parse_build(v) {
                Ok(build) => self.record(EvidenceSource::EcpBuild, build, ev.time, &origin),
                Err(_) => self.rejected += 1,
            }
        }
        if let Some(v) = ev.first_of(&["#Version"]) {
            self.observe_log_header(v, ev.time, &origin);
        }
        for f in URL_FIELDS {
            if let Some(u) = ev.get(f) {
                self.observe_url(u, ev.time, &origin);
            }
        }
    }

    /// A `#Version:` header value (`15.01.2375.007`) of an Exchange log, with the file's time
    /// (its `#Date:` or first row) and path.
    pub fn observe_log_header(&mut self, value: &str, time: Option<DateTime<Utc>>, origin: &str) {
        match parse_build(value) {
            Ok(b) if b.revision.is_some() => {
                self.record(EvidenceSource::LogHeader, b, time, origin)
            }
            _ => self.rejected += 1,
        }
    }

    /// An ECP `S:BLD` value given directly.
    pub fn observe_ecp_build(&mut self, value: &str, time: Option<DateTime<Utc>>, origin: &str) {
        match parse_build(value) {
            Ok(b) => self.record(EvidenceSource::EcpBuild, b, time, origin),
            Err(_) => self.rejected += 1,
        }
    }

    /// A URL or path that may hold an OWA static path (`/owa/auth/15.2.792/themes/...`,
    /// `/owa/15.1.2375/scripts/...`). Only the three-part build is kept.
    pub fn observe_url(&mut self, url: &str, time: Option<DateTime<Utc>>, origin: &str) {
        if let Some(b) = owa_path_build(url) {
            self.record(EvidenceSource::OwaPath, b, time, origin);
        }
    }

    /// An `ExSetup.exe` file version from an inventory, registry or Health Checker text.
    pub fn observe_exsetup(
        &mut self,
        version: &str,
        source_name: &str,
    ) -> Result<Build, ExposureError> {
        let b = parse_build(version)?;
        self.record(EvidenceSource::Exsetup, b, None, source_name);
        Ok(b)
    }

    /// All build values seen, best source first.
    pub fn observations(&self) -> Vec<Observation> {
        self.seen.values().cloned().collect()
    }

    /// Pick the build: ExSetup > per-row log versions > ECP S:BLD > #Version header > OWA path.
    pub fn conclude(&self) -> BuildConclusion {
        let observations = self.observations();
        let best_source = observations.iter().map(|o| o.source).min();
        let Some(source) = best_source else {
            return BuildConclusion {
                build: None,
                source: None,
                reliability: Reliability::None,
                explanation: "no build evidence: no ExSetup.exe version, no Exchange log version \
                              columns or headers, no ECP S:BLD and no OWA static path was seen"
                    .into(),
                timeline: Vec::new(),
                timeline_source: None,
                observations,
            };
        };
        let of = |s: EvidenceSource| observations.iter().filter(move |o| o.source == s);
        // The current build of a source: the one seen last, else the highest.
        let chosen = of(source)
            .max_by_key(|o| (o.last, o.build))
            .expect("source has observations");
        let reliability = match source {
            EvidenceSource::Exsetup => Reliability::Exact,
            EvidenceSource::OwaPath => Reliability::CuLevel,
            _ => Reliability::LogReported,
        };
        let timeline_source = [
            EvidenceSource::LogRow,
            EvidenceSource::EcpBuild,
            EvidenceSource::LogHeader,
            EvidenceSource::OwaPath,
        ]
        .into_iter()
        .find(|s| of(*s).any(|o| o.first.is_some()));
        let mut timeline: Vec<BuildPeriod> = timeline_source
            .map(|s| {
                of(s)
                    .filter_map(|o| {
                        Some(BuildPeriod {
                            from: o.first?,
                            to: o.last?,
                            build: o.build,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        timeline.sort_by_key(|p| (p.from, p.build));

        let mut ex = format!(
            "build {} from {} ({}; {} observation(s){})",
            chosen.build,
            source.label(),
            chosen.origin,
            chosen.count,
            match (chosen.first, chosen.last) {
                (Some(f), Some(l)) => format!(", {} to {}", f.to_rfc3339(), l.to_rfc3339()),
                _ => String::new(),
            }
        );
        ex.push_str(match reliability {
            Reliability::Exact => "; ExSetup.exe's version reflects installed security updates",
            Reliability::LogReported => {
                "; a log-reported build: it is unverified whether security updates change the \
                 version Exchange writes into its logs, so the update level may be understated \
                 (ExSetup.exe's version is authoritative)"
            }
            Reliability::CuLevel => {
                "; an OWA path gives three parts only: the CU is known, the security update \
                 level is not"
            }
            Reliability::None => "",
        });
        let others: Vec<String> = observations
            .iter()
            .filter(|o| o.source != source || o.build != chosen.build)
            .map(|o| format!("{} in {}", o.build, o.source.label()))
            .collect();
        if !others.is_empty() {
            ex.push_str(&format!("; also seen: {}", others.join(", ")));
        }
        let distinct: std::collections::BTreeSet<Build> =
            timeline.iter().map(|p| p.build).collect();
        if distinct.len() > 1 {
            ex.push_str(&format!(
                "; the build changed over time ({} distinct builds in {})",
                distinct.len(),
                timeline_source.map(|s| s.label()).unwrap_or_default()
            ));
        }
        if self.rejected > 0 {
            ex.push_str(&format!(
                "; {} unreadable version value(s) ignored",
                self.rejected
            ));
        }
        BuildConclusion {
            build: Some(chosen.build),
            source: Some(source),
            reliability,
            explanation: ex,
            timeline,
            timeline_source,
            observations,
        }
    }
}

/// The three-part build of an OWA static path inside a URL, if any.
fn owa_path_build(url: &str) -> Option<Build> {
    let lower = url.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("/owa/") {
        let after = &rest[i + 5..];
        let after = after.strip_prefix("auth/").unwrap_or(after);
        let seg = after.split(['/', '?']).next().unwrap_or_default();
        if seg.split('.').count() == 3
            && let Ok(b) = parse_build(seg)
            && b.major >= 14
        {
            return Some(b);
        }
        rest = &rest[i + 4..];
    }
    None
}

/// Build evidence from a stream of parsed events (see [`BuildEvidence::observe_event`]).
pub fn build_from_events<'e, 'a: 'e, I>(events: I) -> BuildConclusion
where
    I: IntoIterator<Item = &'e Event<'a>>,
{
    let mut ev = BuildEvidence::new();
    for e in events {
        ev.observe_event(e);
    }
    ev.conclude()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owa_paths() {
        assert_eq!(
            owa_path_build("/owa/auth/15.2.792/themes/resources/logon.css")
                .unwrap()
                .to_string(),
            "15.2.792"
        );
        assert_eq!(
            owa_path_build("/owa/15.1.2375/scripts/boot.js")
                .unwrap()
                .to_string(),
            "15.1.2375"
        );
        assert!(owa_path_build("/owa/auth/logon.aspx").is_none());
        assert!(owa_path_build("/ecp/15.1.2375/x").is_none());
    }
}
