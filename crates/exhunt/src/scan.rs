//! Wiring of the pipeline: collect -> parse -> detect -> (correlate) -> report.
//!
//! Artifacts are processed in parallel (rayon, one artifact per task); each task streams its
//! artifact through the parser into the detector and keeps only what matched, so memory depends on
//! the number of findings, not on the size of the logs. Results are merged in artifact order and
//! sorted, so the output does not depend on thread scheduling.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use exhunt_collect::{Artifact, Collection, HashingReader};
use exhunt_detect::{CorrelationInput, Detector, EvidenceSource, Hit};
use exhunt_model::{ArtifactKind, Event, Evidence, Finding, Locator, LogSource, Warning};
use exhunt_report::{ArtifactStat, ContextEvent};
use rayon::prelude::*;

/// Most findings kept per rule; the rest are counted in the summary.
pub const MAX_FINDINGS_PER_RULE: u64 = 20_000;
/// Most events kept for the correlation pass.
const MAX_CORRELATION_INPUTS: usize = 1_000_000;
/// Events shown before and after each finding's evidence in the timeline.
const CONTEXT_EVENTS: usize = 2;
/// Bytes of a file's start shown as `Magic` in its inventory event.
const MAGIC_BYTES: usize = 8;

/// The outcome of reading one artifact.
pub struct ArtifactOutcome {
    pub stat: ArtifactStat,
    pub build_evidence: exhunt_exposure::BuildEvidence,
    /// The text of an IIS `applicationHost.config`, when this artifact is one.
    pub application_host: Option<String>,
    pub findings: Vec<Finding>,
    pub correlation: Vec<PendingCorrelation>,
    pub context: Vec<ContextEvent>,
    pub warnings: Vec<Warning>,
}

/// An event that fed a correlation rule, kept with its evidence.
pub struct PendingCorrelation {
    pub input: CorrelationInput,
    pub evidence: Evidence,
    pub time: DateTime<Utc>,
    pub host: Option<String>,
}

/// What evaluates the artifacts of a scan; every part is optional (the inventory runs none).
#[derive(Clone, Copy, Default)]
pub struct Engines<'a> {
    pub detector: Option<&'a Detector>,
    pub iocs: Option<&'a exhunt_ioc::IocSet>,
    pub yara: Option<&'a exhunt_yara::YaraEngine>,
}

/// Counts findings per rule across threads, to keep memory bounded on noisy rules.
pub struct FindingBudget {
    counts: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl FindingBudget {
    pub fn new() -> Self {
        FindingBudget {
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// True when this rule may still add a finding.
    fn take(&self, rule: &str) -> bool {
        let counter = {
            let mut map = self.counts.lock().expect("budget lock");
            map.entry(rule.to_string()).or_default().clone()
        };
        counter.fetch_add(1, Ordering::Relaxed) < MAX_FINDINGS_PER_RULE
    }

    /// Findings over the cap, per rule.
    pub fn dropped(&self) -> BTreeMap<String, u64> {
        let map = self.counts.lock().expect("budget lock");
        map.iter()
            .filter_map(|(k, v)| {
                let n = v.load(Ordering::Relaxed);
                (n > MAX_FINDINGS_PER_RULE).then(|| (k.clone(), n - MAX_FINDINGS_PER_RULE))
            })
            .collect()
    }
}

/// Where a scan's findings and context events go as they are found: spill files beside the
/// outputs, so memory does not grow with the number of findings.
pub struct Stores {
    pub findings: exhunt_report::FindingStore,
    pub context: exhunt_report::ContextStore,
}

impl Stores {
    /// Spill files in `dir` (the output folder); they are removed when the stores are dropped.
    pub fn create(dir: &std::path::Path) -> Result<Self, exhunt_report::ReportError> {
        let pid = std::process::id();
        Ok(Stores {
            findings: exhunt_report::FindingStore::create(
                &dir.join(format!(".exhunt-findings-{pid}.spill")),
            )?,
            context: exhunt_report::ContextStore::create(
                &dir.join(format!(".exhunt-context-{pid}.spill")),
            )?,
        })
    }
}

/// What a scan produced before it is written out.
pub struct ScanResult {
    pub artifacts: Vec<ArtifactStat>,
    pub build_evidence: exhunt_exposure::BuildEvidence,
    pub application_host: Option<String>,
    /// The findings and context events, when the caller gave stores.
    pub stores: Option<Stores>,
    pub warnings: Vec<Warning>,
    pub dropped: BTreeMap<String, u64>,
}

/// Run every artifact of the collection through parse and detect, then the correlations.
/// Findings and context events go into `stores` (dropped when `None`, as for the inventory).
pub fn run(
    collection: &Collection,
    detector: Option<&mut Detector>,
    iocs: Option<&exhunt_ioc::IocSet>,
    yara: Option<&exhunt_yara::YaraEngine>,
    window: TimeWindow,
    progress: &indicatif::ProgressBar,
    stores: Option<Stores>,
) -> Result<ScanResult, exhunt_report::ReportError> {
    let budget = FindingBudget::new();
    let engines = Engines {
        detector: detector.as_deref(),
        iocs,
        yara,
    };
    let stores = stores.map(Mutex::new);
    let store_error: Mutex<Option<exhunt_report::ReportError>> = Mutex::new(None);
    // Largest artifacts first, one task each: a chunk of artifacts run in sequence on one thread
    // cannot be stolen, and a big log left for the end keeps one core busy alone.
    let mut schedule: Vec<&Artifact> = collection.artifacts.iter().collect();
    schedule.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    let mut outcomes: Vec<(&str, ArtifactOutcome)> = schedule
        .into_par_iter()
        .with_max_len(1)
        .map(|artifact| {
            let mut out = process_artifact(artifact, engines, &budget, window);
            let findings = std::mem::take(&mut out.findings);
            let context = std::mem::take(&mut out.context);
            if let Some(stores) = &stores {
                let mut s = stores.lock().expect("stores lock");
                let pushed = findings
                    .iter()
                    .try_for_each(|f| s.findings.push(f))
                    .and_then(|()| context.iter().try_for_each(|c| s.context.push(c)));
                if let Err(e) = pushed {
                    store_error.lock().expect("error lock").get_or_insert(e);
                }
            }
            progress.inc(artifact.size.max(1));
            (artifact.path.as_str(), out)
        })
        .collect();
    // Back in collection order (sorted by path), so what is merged below does not depend on
    // the schedule.
    outcomes.sort_by(|a, b| a.0.cmp(b.0));
    if let Some(e) = store_error.into_inner().expect("error lock") {
        return Err(e);
    }

    let mut artifacts = Vec::with_capacity(outcomes.len());
    let mut warnings = collection.warnings.clone();
    let mut pending: Vec<PendingCorrelation> = Vec::new();
    let mut correlation_overflow = false;
    let mut build_evidence = exhunt_exposure::BuildEvidence::new();
    let mut application_host = None;
    for (_, o) in outcomes {
        artifacts.push(o.stat);
        build_evidence.merge(o.build_evidence);
        if application_host.is_none() {
            application_host = o.application_host;
        }
        warnings.extend(o.warnings);
        for p in o.correlation {
            if pending.len() < MAX_CORRELATION_INPUTS {
                pending.push(p);
            } else {
                correlation_overflow = true;
            }
        }
    }
    if correlation_overflow {
        warnings.push(Warning::new(
            "",
            format!(
                "more than {MAX_CORRELATION_INPUTS} events fed correlation rules; the rest were not correlated (narrow the rule set or the input)"
            ),
        ));
    }
    let mut stores = stores.map(|s| s.into_inner().expect("stores lock"));
    if let Some(det) = detector {
        for f in correlate(det, pending) {
            if let Some(s) = &mut stores {
                s.findings.push(&f)?;
            }
        }
    }
    warnings.sort();
    warnings.dedup();
    Ok(ScanResult {
        artifacts,
        build_evidence,
        application_host,
        stores,
        warnings,
        dropped: budget.dropped(),
    })
}

fn correlate(det: &mut Detector, pending: Vec<PendingCorrelation>) -> Vec<Finding> {
    let mut evidence = Vec::with_capacity(pending.len());
    let inputs: Vec<CorrelationInput> = pending
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut input = p.input;
            input.reference = i;
            evidence.push((p.evidence, p.time, p.host));
            input
        })
        .collect();
    det.correlate(inputs)
        .into_iter()
        .map(|hit| {
            let evs: Vec<Evidence> = hit
                .references
                .iter()
                .filter_map(|r| evidence.get(*r).map(|e| e.0.clone()))
                .collect();
            let first = hit
                .references
                .iter()
                .filter_map(|r| evidence.get(*r).map(|e| e.1))
                .min();
            let host = hit
                .references
                .iter()
                .find_map(|r| evidence.get(*r).and_then(|e| e.2.clone()));
            let mut fields = serde_json::Map::new();
            for (k, v) in &hit.group_key {
                fields.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
            fields.insert(
                "aggregated_value".into(),
                serde_json::json!(hit.aggregated_value),
            );
            fields.insert("events".into(), serde_json::json!(evs.len()));
            exhunt_detect::finding_from_parts(&hit.rule, first, host, evs, fields)
        })
        .collect()
}

/// Per-artifact state of the detection sink.
struct Sink<'d> {
    detector: Option<&'d Detector>,
    iocs: Option<&'d exhunt_ioc::IocSet>,
    budget: &'d FindingBudget,
    path: String,
    source_label: String,
    /// Findings whose evidence still lacks the artifact's hash (known only at the end).
    findings: Vec<Finding>,
    correlation: Vec<PendingCorrelation>,
    context: Vec<ContextEvent>,
    /// The last events before the current one, as cheap reusable slots (most events are never
    /// shown, so a full `ContextEvent` is only built when a finding needs its neighbours).
    recent: VecDeque<RecentEvent>,
    /// Spare slots, to reuse their buffers.
    spare: Vec<RecentEvent>,
    /// How many following events still go to the context.
    after: usize,
    build_evidence: exhunt_exposure::BuildEvidence,
    /// Events seen, for sampling the build evidence.
    seen: u64,
    window: TimeWindow,
}

/// `--from`/`--to`: events outside are parsed (and counted) but not evaluated.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeWindow {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeWindow {
    fn admits(&self, t: Option<DateTime<Utc>>) -> bool {
        match t {
            // Files of the inventory carry no time: always in.
            None => true,
            Some(t) => self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t <= to),
        }
    }
}

/// A recently seen event, kept in case the next one is a finding.
#[derive(Default)]
struct RecentEvent {
    time: Option<DateTime<Utc>>,
    locator: Locator,
    source: LogSource,
    raw: String,
}

/// Bytes of a recent event kept for the timeline context (cut on a char boundary later).
const CONTEXT_RAW_MAX: usize = 2048;

/// One event in this many feeds the build evidence: the build changes at most a few times in a
/// collection, and reading the version columns of every row would cost more than it tells.
const BUILD_SAMPLE_EVERY: u64 = 64;

impl<'d> Sink<'d> {
    fn new(
        engines: Engines<'d>,
        budget: &'d FindingBudget,
        artifact: &Artifact,
        window: TimeWindow,
    ) -> Self {
        Sink {
            detector: engines.detector,
            iocs: engines.iocs,
            budget,
            path: artifact.path.clone(),
            source_label: artifact.kind.label(),
            findings: Vec::new(),
            correlation: Vec::new(),
            context: Vec::new(),
            recent: VecDeque::with_capacity(CONTEXT_EVENTS + 1),
            spare: Vec::with_capacity(CONTEXT_EVENTS + 1),
            after: 0,
            build_evidence: exhunt_exposure::BuildEvidence::new(),
            seen: 0,
            window,
        }
    }

    fn context_from_recent(&self, r: &RecentEvent) -> ContextEvent {
        let (line, record) = locator_parts(r.locator);
        ContextEvent {
            time: r.time,
            path: self.path.clone(),
            line,
            record,
            source: format!("{} {}", self.source_label, r.source),
            excerpt: exhunt_model::truncate_excerpt(r.raw.trim_end(), 1024),
        }
    }

    fn context_of(&self, ev: &Event<'_>) -> ContextEvent {
        let (line, record) = locator_parts(ev.locator);
        ContextEvent {
            time: ev.time,
            path: self.path.clone(),
            line,
            record,
            source: format!("{} {}", self.source_label, ev.source),
            excerpt: exhunt_model::truncate_excerpt(ev.raw.trim_end(), 1024),
        }
    }

    fn on_event(&mut self, ev: &Event<'_>) {
        if self.seen.is_multiple_of(BUILD_SAMPLE_EVERY) {
            self.build_evidence.observe_event(ev);
        }
        self.seen += 1;
        if self.detector.is_none() && self.iocs.is_none() {
            return;
        }
        if !self.window.admits(ev.time) {
            return;
        }
        let src = EvidenceSource {
            path: &self.path,
            sha256: "",
        };
        let mut reported = false;
        if let Some(iocs) = self.iocs {
            for hit in iocs.match_event(ev) {
                let host = ev.first_of(exhunt_model::HOST_FIELDS).map(str::to_string);
                let f = exhunt_ioc::finding_for_event_hit(&hit, ev, &src, host);
                if self.budget.take(&f.rule.id) {
                    self.findings.push(f);
                    reported = true;
                }
            }
        }
        let hits: Vec<Hit> = match self.detector {
            Some(det) => det.evaluate(ev),
            None => Vec::new(),
        };
        for hit in &hits {
            if hit.report && self.budget.take(&hit.rule.key) {
                let host = ev.first_of(exhunt_model::HOST_FIELDS).map(str::to_string);
                self.findings
                    .push(exhunt_detect::finding_for_hit(hit, ev, &src, host));
                reported = true;
            }
        }
        let feeding: Vec<_> = hits
            .iter()
            .filter(|h| h.feeds_correlation)
            .map(|h| h.result.clone())
            .collect();
        if !feeding.is_empty()
            && let Some(time) = ev.time
        {
            self.correlation.push(PendingCorrelation {
                input: CorrelationInput {
                    time,
                    fields: ev
                        .fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    detections: feeding,
                    reference: 0,
                },
                evidence: exhunt_detect::evidence_for(ev, &src),
                time,
                host: ev.first_of(exhunt_model::HOST_FIELDS).map(str::to_string),
            });
        }
        if reported {
            while let Some(r) = self.recent.pop_front() {
                let c = self.context_from_recent(&r);
                self.context.push(c);
                self.spare.push(r);
            }
            self.after = CONTEXT_EVENTS;
        } else if self.after > 0 {
            self.after -= 1;
            let c = self.context_of(ev);
            self.context.push(c);
        } else if CONTEXT_EVENTS > 0 {
            let mut slot = if self.recent.len() == CONTEXT_EVENTS {
                self.recent.pop_front().expect("full ring")
            } else {
                self.spare.pop().unwrap_or_default()
            };
            slot.time = ev.time;
            slot.locator = ev.locator;
            if slot.source != *ev.source {
                slot.source = ev.source.clone();
            }
            slot.raw.clear();
            let mut end = ev.raw.len().min(CONTEXT_RAW_MAX);
            while !ev.raw.is_char_boundary(end) {
                end -= 1;
            }
            slot.raw.push_str(&ev.raw[..end]);
            self.recent.push_back(slot);
        }
    }

    fn finish(
        mut self,
        sha256: &str,
    ) -> (
        Vec<Finding>,
        Vec<PendingCorrelation>,
        Vec<ContextEvent>,
        exhunt_exposure::BuildEvidence,
    ) {
        for f in &mut self.findings {
            for e in &mut f.evidence {
                e.sha256 = sha256.to_string();
            }
            f.id = exhunt_detect::finding_id(&f.rule.id, &f.evidence);
        }
        for p in &mut self.correlation {
            p.evidence.sha256 = sha256.to_string();
        }
        (
            self.findings,
            self.correlation,
            self.context,
            self.build_evidence,
        )
    }
}

fn locator_parts(l: Locator) -> (Option<u64>, Option<u64>) {
    match l {
        Locator::Line(n) => (Some(n), None),
        Locator::Record(n) => (None, Some(n)),
        Locator::File => (None, None),
    }
}

fn warn(path: &str, msg: impl Into<String>) -> Warning {
    Warning::new(path, msg)
}

/// Read one artifact: hash it, parse it if it is a log, evaluate its events (or, for a plain
/// file, its inventory event).
pub fn process_artifact(
    artifact: &Artifact,
    engines: Engines<'_>,
    budget: &FindingBudget,
    window: TimeWindow,
) -> ArtifactOutcome {
    let mut stat = ArtifactStat {
        path: artifact.path.clone(),
        kind: artifact.kind.label(),
        bytes: artifact.size,
        ..ArtifactStat::default()
    };
    let mut warnings = Vec::new();
    let mut sink = Sink::new(engines, budget, artifact, window);
    let mut file_findings: Vec<Finding> = Vec::new();
    let mut application_host = None;
    let sha: String;
    match &artifact.kind {
        ArtifactKind::Evtx => {
            let local = match artifact.materialize() {
                Ok(l) => l,
                Err(e) => {
                    warnings.push(warn(&artifact.path, e.to_string()));
                    return empty(stat, warnings);
                }
            };
            sha = match std::fs::File::open(local.path()).and_then(exhunt_collect::sha256_reader) {
                Ok((h, _)) => h,
                Err(e) => {
                    warnings.push(warn(&artifact.path, format!("cannot hash: {e}")));
                    String::new()
                }
            };
            match exhunt_parse::parse_evtx(local.path(), &mut |ev| sink.on_event(ev)) {
                Ok(stats) => {
                    apply_stats(&mut stat, &stats, &artifact.path, &mut warnings);
                }
                Err(e) => warnings.push(warn(&artifact.path, e.to_string())),
            }
        }
        kind if kind.is_log() => {
            let reader = match artifact.open() {
                Ok(r) => r,
                Err(e) => {
                    warnings.push(warn(&artifact.path, e.to_string()));
                    return empty(stat, warnings);
                }
            };
            let mut hashing = HashingReader::new(reader);
            let result = {
                let buffered = BufReader::with_capacity(256 * 1024, &mut hashing);
                exhunt_parse::parse_text(kind, &artifact.path, buffered, &mut |ev| {
                    sink.on_event(ev)
                })
            };
            match result {
                Ok(stats) => apply_stats(&mut stat, &stats, &artifact.path, &mut warnings),
                Err(e) => warnings.push(warn(&artifact.path, e.to_string())),
            }
            // The parser may stop before the end (an error); hash the whole file regardless.
            if let Err(e) = std::io::copy(&mut hashing, &mut std::io::sink()) {
                warnings.push(warn(
                    &artifact.path,
                    format!("read failed while hashing: {e}"),
                ));
            }
            sha = hashing.finish();
        }
        _ => {
            let hashes = match hash_file_artifact(artifact) {
                Ok(x) => x,
                Err(e) => {
                    warnings.push(warn(&artifact.path, e));
                    return empty(stat, warnings);
                }
            };
            let magic = hashes.magic;
            sha = hashes.sha256;
            if let Some(iocs) = engines.iocs {
                for hit in iocs.match_file(&artifact.path, &sha, &hashes.sha1, &hashes.md5) {
                    file_findings.push(exhunt_ioc::finding_for_file_hit(
                        &hit,
                        &artifact.path,
                        &sha,
                    ));
                }
            }
            if let Some(yara) = engines.yara {
                match artifact.open() {
                    Ok(reader) => {
                        let scan = yara.scan_reader(reader, artifact.size, &artifact.path);
                        warnings.extend(scan.warnings);
                        for m in &scan.matches {
                            file_findings.push(exhunt_yara::finding_for_match(
                                m,
                                &artifact.path,
                                &sha,
                                artifact.size,
                            ));
                        }
                    }
                    Err(e) => warnings.push(warn(&artifact.path, e.to_string())),
                }
            }
            let ls = LogSource::new("exhunt", Some("inventory"), None);
            let ev = inventory_event(artifact, &sha, &magic, &ls);
            sink.on_event(&ev);
        }
    }
    stat.sha256 = sha.clone();
    if artifact
        .path
        .to_ascii_lowercase()
        .ends_with("applicationhost.config")
        && artifact.size < 16 << 20
    {
        let mut text = String::new();
        match artifact.open().and_then(|mut r| {
            r.read_to_string(&mut text)
                .map_err(|e| exhunt_collect::CollectError::Read {
                    path: artifact.path.clone(),
                    source: e,
                })
        }) {
            Ok(_) => application_host = Some(text),
            Err(e) => warnings.push(warn(&artifact.path, e.to_string())),
        }
    }
    let (mut findings, correlation, context, build_evidence) = sink.finish(&sha);
    findings.extend(
        file_findings
            .into_iter()
            .filter(|f| budget.take(&f.rule.id)),
    );
    ArtifactOutcome {
        stat,
        build_evidence,
        application_host,
        findings,
        correlation,
        context,
        warnings,
    }
}

fn empty(stat: ArtifactStat, warnings: Vec<Warning>) -> ArtifactOutcome {
    ArtifactOutcome {
        stat,
        build_evidence: exhunt_exposure::BuildEvidence::new(),
        application_host: None,
        findings: Vec::new(),
        correlation: Vec::new(),
        context: Vec::new(),
        warnings,
    }
}

fn apply_stats(
    stat: &mut ArtifactStat,
    stats: &exhunt_parse::ParseStats,
    path: &str,
    warnings: &mut Vec<Warning>,
) {
    stat.events = stats.events;
    stat.first = stats.first;
    stat.last = stats.last;
    warnings.extend(stats.warnings.iter().map(|w| warn(path, w.clone())));
}

/// The hashes indicator lists use (publishers still share SHA-1 and MD5) and the first bytes.
struct FileHashes {
    sha256: String,
    sha1: String,
    md5: String,
    magic: Vec<u8>,
}

fn hash_file_artifact(artifact: &Artifact) -> Result<FileHashes, String> {
    use md5::Digest as _;
    let mut reader = artifact.open().map_err(|e| e.to_string())?;
    let mut sha256 = sha2::Sha256::default();
    let mut sha1 = sha1::Sha1::new();
    let mut md5 = md5::Md5::new();
    let mut magic = Vec::with_capacity(MAGIC_BYTES);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read failed: {e}")),
        };
        let chunk = &buf[..n];
        if magic.len() < MAGIC_BYTES {
            let take = (MAGIC_BYTES - magic.len()).min(n);
            magic.extend_from_slice(&chunk[..take]);
        }
        sha2::Digest::update(&mut sha256, chunk);
        sha1.update(chunk);
        md5.update(chunk);
    }
    Ok(FileHashes {
        sha256: hex::encode(sha2::Digest::finalize(sha256)),
        sha1: hex::encode(sha1.finalize()),
        md5: hex::encode(md5.finalize()),
        magic,
    })
}

/// The event that stands for a plain file in the inventory (rules with
/// `product: exhunt, service: inventory` match it).
fn inventory_event<'a>(
    artifact: &'a Artifact,
    sha: &str,
    magic: &[u8],
    ls: &'a LogSource,
) -> Event<'a> {
    let name = artifact
        .path
        .rsplit(['/', '!'])
        .next()
        .unwrap_or(&artifact.path)
        .to_string();
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let fields: Vec<(Cow<'a, str>, Cow<'a, str>)> = vec![
        ("Path".into(), Cow::Borrowed(artifact.path.as_str())),
        ("FileName".into(), name.into()),
        ("Extension".into(), ext.into()),
        ("FileClass".into(), artifact.file_class.label().into()),
        ("Size".into(), artifact.size.to_string().into()),
        ("Sha256".into(), sha.to_string().into()),
        ("Magic".into(), hex::encode(magic).into()),
    ];
    Event {
        time: None,
        locator: Locator::File,
        source: ls,
        raw: Cow::Owned(format!(
            "{} ({} bytes, sha256 {}, {})",
            artifact.path,
            artifact.size,
            sha,
            artifact.file_class.label()
        )),
        fields,
    }
}

/// Findings for files under the Exchange install folder that the known-good baseline of the
/// server's build does not vouch for.
pub fn baseline_findings(
    artifacts: &[ArtifactStat],
    baselines: &exhunt_yara::Baselines,
    build: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in artifacts {
        if a.kind != "file" || a.sha256.is_empty() {
            continue;
        }
        let Some(rel) = exhunt_yara::exchange_relpath(&a.path) else {
            continue;
        };
        let (key, title, level, why) = match baselines.verdict(build, &rel, &a.sha256) {
            exhunt_yara::BaselineVerdict::ChangedKnownFile { expected } => (
                "baseline-changed-file",
                "Exchange File Differs From the Known-Good Baseline of Its Build",
                "high",
                format!("expected one of {}", expected.join(", ")),
            ),
            exhunt_yara::BaselineVerdict::UnknownForBuild => (
                "baseline-unknown-file",
                "File Not Shipped With This Exchange Build",
                "medium",
                "the baseline of this build has no file at this path".to_string(),
            ),
            _ => continue,
        };
        let rule = exhunt_detect::RuleMeta {
            key: key.to_string(),
            title: title.to_string(),
            level: level.to_string(),
            status: Some("stable".into()),
            tags: vec!["attack.persistence".into(), "attack.t1505.003".into()],
            source: format!("baseline:{build}"),
            description: None,
            is_correlation: false,
        };
        let mut fields = serde_json::Map::new();
        fields.insert("Path".into(), a.path.clone().into());
        fields.insert("ExchangeRelPath".into(), rel.clone().into());
        fields.insert("Build".into(), build.into());
        fields.insert("BaselineVerdict".into(), why.clone().into());
        let evidence = vec![Evidence {
            path: a.path.clone(),
            sha256: a.sha256.clone(),
            line: None,
            record: None,
            excerpt: format!("{rel}: sha256 {} ({why})", a.sha256),
        }];
        out.push(exhunt_detect::finding_from_parts(
            &rule, None, None, evidence, fields,
        ));
    }
    out
}
