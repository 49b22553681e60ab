//! Which Exchange security updates is this server missing, then and now.
//!
//! - [`parse_build`] and [`assess`]: a build number against the cited build table
//!   (`data/builds.json`: every 2013/2016/2019/SE CU and SU/HU with dates and fixed CVEs, plus
//!   Exchange 2010 SP3's March 2021 update), with the comparison rules of Microsoft's Health
//!   Checker (an update fixes a build at or past its build for the server's own CU, or past its
//!   build for the newest CU that got it) and the March 2021 special case (SUs for out-of-support
//!   CUs fixed only the four ProxyLogon CVEs).
//! - [`missing_at`]: was a build still missing a CVE's fix at time T, and was the fix out then.
//! - [`BuildEvidence`] / [`build_from_events`]: the server's build (and its changes over time)
//!   from ExSetup versions, per-row log versions, log headers, ECP `S:BLD` and OWA paths.
//! - [`exposure_report`]: build, assessment now, and per exploitation finding whether the build
//!   at that moment lacked the fix.
//! - [`config_from_application_host`]: Extended Protection and EOMT rewrite rules from
//!   `applicationHost.config`, which refine an [`Assessment`] via [`Assessment::apply_config`].
//! - [`probe`]: plain GETs to a live server's OWA logon page and ECP export-tool manifest.
//! - [`render_text`]: the assessment for a terminal.

mod assess;
mod build;
mod config;
mod error;
mod evidence;
mod probe;
mod render;
mod report;
pub mod table;

pub use assess::{
    Assessment, BuildStatus, Certainty, ConfigDependent, ConfigState, EOMT_MITIGATIONS, EP_CVES,
    ExposureAtTime, MissingFix, assess, missing_at,
};
pub use build::{Build, parse_build};
pub use config::{
    ConfigFindings, ConfigMitigation, EpState, RewriteRule, TokenChecking, VdirProtection,
    config_from_application_host,
};
pub use error::ExposureError;
pub use evidence::{
    BuildConclusion, BuildEvidence, BuildPeriod, EvidenceSource, Observation, Reliability,
    build_from_events,
};
pub use probe::{ProbeObservation, ProbeOptions, ProbeResult, probe};
pub use render::render_text;
pub use report::{ExploitationExposure, ExposureReport, exposure_report};
pub use table::table;
