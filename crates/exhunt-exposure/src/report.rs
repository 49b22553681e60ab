//! `exposure.json`: the build, its assessment now, and exposure at each exploitation time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Assessment, Build, BuildConclusion, EvidenceSource, ExposureAtTime, Reliability, assess,
    missing_at,
};

/// Whether the server lacked the fix when an exploitation finding happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExploitationExposure {
    pub finding_id: String,
    pub cve: String,
    pub time: DateTime<Utc>,
    /// The build taken for that moment, if any.
    pub build_at_time: Option<Build>,
    pub exposure: ExposureAtTime,
    pub explanation: String,
}

/// The whole exposure picture of one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExposureReport {
    pub build: Option<Build>,
    pub build_source: Option<EvidenceSource>,
    pub reliability: Reliability,
    pub build_explanation: String,
    /// The assessment of the concluded (current) build.
    pub assessment: Option<Assessment>,
    pub timeline: Vec<crate::BuildPeriod>,
    pub exploitation: Vec<ExploitationExposure>,
}

/// The build in effect at `t` and how it was chosen; `before_first` when `t` precedes every
/// observation (or no time-stamped evidence exists) and the build is a later one.
fn build_at(c: &BuildConclusion, t: DateTime<Utc>) -> Option<(Build, String, bool)> {
    let covering: Vec<&crate::BuildPeriod> = c
        .timeline
        .iter()
        .filter(|p| p.from <= t && t <= p.to)
        .collect();
    if let Some(lowest) = covering.iter().map(|p| p.build).min() {
        let why = if covering.len() > 1 {
            format!("{lowest} seen at that time (several builds overlap then; the lowest is used)")
        } else {
            format!("{lowest} seen at that time")
        };
        return Some((lowest, why, false));
    }
    if let Some(p) = c.timeline.iter().filter(|p| p.to < t).max_by_key(|p| p.to) {
        return Some((
            p.build,
            format!("{} last seen before then ({})", p.build, p.to.to_rfc3339()),
            false,
        ));
    }
    if let Some(p) = c.timeline.first() {
        return Some((
            p.build,
            format!(
                "no build evidence that early; the earliest observed build {} (from {}) is used as an upper bound",
                p.build,
                p.from.to_rfc3339()
            ),
            true,
        ));
    }
    c.build.map(|b| {
        (
            b,
            format!(
                "no time-stamped build evidence; the current build {b} is used as an upper bound"
            ),
            true,
        )
    })
}

/// Build the exposure report from a build conclusion and exploitation findings
/// `(cve, time, finding id)`.
pub fn exposure_report(
    conclusion: &BuildConclusion,
    exploitation: &[(String, DateTime<Utc>, String)],
) -> ExposureReport {
    let mut rows = Vec::new();
    for (cve, time, id) in exploitation {
        let (build, exposure, explanation) = match build_at(conclusion, *time) {
            None => (
                None,
                ExposureAtTime::Unknown,
                "no build evidence".to_string(),
            ),
            Some((b, why, upper_bound)) => {
                let state = missing_at(&b, cve, *time);
                let (state, verdict) = match state {
                    ExposureAtTime::Missing { fix_released } => (
                        state,
                        if fix_released {
                            "the fix was missing although it had been released".to_string()
                        } else {
                            "the fix was missing and had not been released yet".to_string()
                        },
                    ),
                    // A later build that has the fix says nothing about the earlier build.
                    ExposureAtTime::Fixed if upper_bound => (
                        ExposureAtTime::Unknown,
                        "that later build has the fix; the build at the time is unknown"
                            .to_string(),
                    ),
                    ExposureAtTime::Fixed => (state, "the build had the fix".to_string()),
                    ExposureAtTime::NotApplicable => {
                        (state, format!("{cve} does not concern this product"))
                    }
                    ExposureAtTime::Unknown => (
                        state,
                        "the build number cannot tell (unknown build, revision unknown, or a \
                         configuration-dependent CVE)"
                            .to_string(),
                    ),
                };
                (Some(b), state, format!("{why}: {verdict}"))
            }
        };
        rows.push(ExploitationExposure {
            finding_id: id.clone(),
            cve: cve.clone(),
            time: *time,
            build_at_time: build,
            exposure,
            explanation,
        });
    }
    ExposureReport {
        build: conclusion.build,
        build_source: conclusion.source,
        reliability: conclusion.reliability,
        build_explanation: conclusion.explanation.clone(),
        assessment: conclusion.build.as_ref().map(assess),
        timeline: conclusion.timeline.clone(),
        exploitation: rows,
    }
}
