//! Detection: Sigma rules over exhunt's normalized events.
//!
//! The Sigma language itself (parsing, modifiers, conditions, correlations) is handled by the
//! `rsigma-parser` and `rsigma-eval` crates; this crate adds what exhunt needs around them:
//! - loading rule files from the built-in pack and user folders, with a [`RuleDiagnostic`] for
//!   every rule that cannot run (nothing is dropped silently);
//! - routing each event to the rules whose `logsource` fits it (exhunt's own log-source names
//!   for Exchange logs: `product: exchange`, `service: httpproxy`, ...);
//! - a two-phase evaluation: [`Detector::evaluate`] is stateless and runs in parallel across
//!   files; correlation rules run afterwards in [`Detector::correlate`], over the (few) events
//!   that matched a rule a correlation refers to, sorted by time, so correlations see all
//!   sources of a scan in order;
//! - turning matches into [`exhunt_model::Finding`]s with their evidence.

mod event;
mod logsources;
mod rules;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use exhunt_model::{Event, Evidence, Finding, Locator, RuleRef};
use rayon::prelude::*;
use rsigma_eval::{CorrelationConfig, CorrelationEngine, CorrelationEventMode, EvaluationResult};
use sha2::{Digest, Sha256};

pub use event::SigmaEvent;
pub use rules::{
    DiagnosticKind, RuleDiagnostic, RuleFile, RuleMeta, builtin_rule_files, rule_files_in,
};

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("cannot read rules from {path}: {reason} (give a folder of Sigma .yml files)")]
    RuleDir { path: PathBuf, reason: String },
}

/// Longest raw excerpt kept as evidence, in bytes.
pub const EXCERPT_MAX: usize = 4096;
/// Most events a correlation finding cites as evidence.
pub const CORRELATION_EVIDENCE_MAX: usize = 500;

/// One rule that matched one event.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: Arc<RuleMeta>,
    /// False for rules that only feed a correlation (`generate: false`, Sigma's default).
    pub report: bool,
    /// True when some correlation rule refers to this rule.
    pub feeds_correlation: bool,
    pub result: EvaluationResult,
}

/// An event kept for the correlation pass: its fields, its time and the caller's reference.
#[derive(Debug, Clone)]
pub struct CorrelationInput {
    pub time: DateTime<Utc>,
    pub fields: Vec<(String, String)>,
    pub detections: Vec<EvaluationResult>,
    /// The caller's handle for the event (used to cite it as evidence).
    pub reference: usize,
}

/// A correlation rule that fired, with every contributing event the caller handed in.
#[derive(Debug, Clone)]
pub struct CorrelationHit {
    pub rule: Arc<RuleMeta>,
    pub group_key: Vec<(String, String)>,
    pub aggregated_value: f64,
    pub references: Vec<usize>,
}

/// Which rules of the given files to run.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Lowest level to run (`informational` < `low` < `medium` < `high` < `critical`).
    pub min_level: Option<String>,
    /// Statuses to run (`stable`, `test`, `experimental`, ...); empty = all.
    pub statuses: Vec<String>,
    /// Run only rules carrying at least one of these tags (or a sub-technique of one); empty = all.
    pub tags: Vec<String>,
}

/// Rank of a Sigma level, for `min_level`.
pub fn level_rank(level: &str) -> u8 {
    match level.to_ascii_lowercase().as_str() {
        "informational" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => 2,
    }
}

impl LoadOptions {
    fn admits(&self, meta: &RuleMeta) -> bool {
        if let Some(min) = &self.min_level
            && level_rank(&meta.level) < level_rank(min)
        {
            return false;
        }
        if !self.statuses.is_empty()
            && !self.statuses.iter().any(|s| {
                meta.status
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(s))
            })
        {
            return false;
        }
        if !self.tags.is_empty()
            && !self.tags.iter().any(|want| {
                let want = want.to_ascii_lowercase();
                meta.tags.iter().any(|t| {
                    let t = t.to_ascii_lowercase();
                    t == want || t.starts_with(&format!("{want}."))
                })
            })
        {
            return false;
        }
        true
    }
}

/// The loaded rule set, ready to evaluate events.
pub struct Detector {
    /// Unique per loaded detector: the key of the per-thread route cache.
    id: u64,
    /// Correlation rules only; detection runs in the per-route engines.
    engine: CorrelationEngine,
    /// One detection engine per distinct rule log source, so an event is only ever evaluated
    /// against rules whose log source can fit it (an IIS line never meets the Windows rules).
    routes: Vec<Route>,
    metas: HashMap<String, Arc<RuleMeta>>,
    /// Rule keys and names referenced by correlations.
    correlated: HashSet<String>,
    /// Rule keys whose matches are not reported on their own.
    silent: HashSet<String>,
    detection_rules: usize,
    correlation_rules: usize,
    filtered_out: usize,
}

impl Detector {
    /// Load every rule of `files`. Rules that do not parse or cannot be compiled are reported
    /// in the returned diagnostics; the rest are loaded.
    pub fn load(files: &[RuleFile]) -> (Detector, Vec<RuleDiagnostic>) {
        Self::load_with(files, &LoadOptions::default())
    }

    /// Like [`Detector::load`], running only the rules `opts` admits. Rules left out by the
    /// options are counted in [`Detector::filtered_out`], not reported as diagnostics.
    pub fn load_with(files: &[RuleFile], opts: &LoadOptions) -> (Detector, Vec<RuleDiagnostic>) {
        let config = CorrelationConfig {
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: CORRELATION_EVIDENCE_MAX,
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(config);
        let mut routes: Vec<Route> = Vec::new();
        let mut diags = Vec::new();
        let mut metas = HashMap::new();
        let mut names = HashMap::new();
        let mut correlated = HashSet::new();
        let mut generating = HashSet::new();
        let mut detection_rules = 0;
        let mut correlation_rules = 0;
        let mut seen_keys: HashMap<String, String> = HashMap::new();
        let mut filtered_out = 0;
        let mut filtered_keys: HashSet<String> = HashSet::new();

        // Parsing and compiling dominate start-up: both run in parallel, and each route's index
        // is built once over its whole batch (adding rules one by one rebuilds it repeatedly).
        let parsed: Vec<(&RuleFile, rsigma_parser::SigmaCollection)> = files
            .par_iter()
            .map(|f| {
                let mut file_diags = Vec::new();
                let collection = rules::parse_file(f, &mut file_diags);
                (f, collection, file_diags)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(f, collection, file_diags)| {
                diags.extend(file_diags);
                (f, collection)
            })
            .collect();
        // Correlations name their rules by id or name; the correlation engine must know those
        // rules to map detections onto correlations (detection itself runs in the routes).
        let referenced: HashSet<&str> = parsed
            .iter()
            .flat_map(|(_, c)| c.correlations.iter())
            .flat_map(|c| c.rules.iter().map(String::as_str))
            .collect();
        // Detection rules first, then correlations (which must refer to loaded rules), then
        // filters (which rewrite loaded rules), whatever the order of the files.
        // Which rules to load, and the log-source copies of each.
        struct Candidate<'r> {
            file: &'r RuleFile,
            rule: &'r rsigma_parser::SigmaRule,
            meta: RuleMeta,
            copies: Result<Vec<(usize, rsigma_parser::SigmaRule)>, String>,
        }
        let mut candidates: Vec<Candidate<'_>> = Vec::new();
        for (file, collection) in &parsed {
            for rule in &collection.rules {
                let meta = RuleMeta::from_rule(rule, &file.source);
                if let Some(first) = seen_keys.get(&meta.key) {
                    diags.push(RuleDiagnostic {
                        path: file.display_path.clone(),
                        rule: Some(rule.title.clone()),
                        kind: DiagnosticKind::Unsupported,
                        reason: format!(
                            "duplicate rule id {} (already loaded from {first}); rule skipped",
                            meta.key
                        ),
                    });
                    continue;
                }
                if !opts.admits(&meta) {
                    filtered_out += 1;
                    filtered_keys.insert(meta.key.clone());
                    if let Some(name) = &rule.name {
                        filtered_keys.insert(name.clone());
                    }
                    continue;
                }
                seen_keys.insert(meta.key.clone(), file.display_path.clone());
                let copies = logsources::expand(rule).map(|copies| {
                    copies
                        .into_iter()
                        .map(|c| (Route::for_rule(&mut routes, &c.logsource), c))
                        .collect()
                });
                candidates.push(Candidate {
                    file,
                    rule,
                    meta,
                    copies,
                });
            }
        }
        // The copies move into the compile jobs, so each is freed as soon as it is compiled.
        let jobs: Vec<_> = candidates
            .iter_mut()
            .map(|c| std::mem::replace(&mut c.copies, Ok(Vec::new())))
            .collect();
        let compiled: Vec<Result<Vec<(usize, rsigma_eval::CompiledRule)>, String>> = jobs
            .into_par_iter()
            .map(|copies| {
                copies?
                    .into_iter()
                    .map(|(route, copy)| {
                        rsigma_eval::compile_rule(&copy)
                            .map(|r| (route, r))
                            .map_err(|e| e.to_string())
                    })
                    .collect()
            })
            .collect();
        let mut batches: Vec<Vec<rsigma_eval::CompiledRule>> =
            routes.iter().map(|_| Vec::new()).collect();
        for (c, compiled) in candidates.into_iter().zip(compiled) {
            let feeds_correlation = c.rule.id.as_deref().is_some_and(|i| referenced.contains(i))
                || c.rule
                    .name
                    .as_deref()
                    .is_some_and(|n| referenced.contains(n));
            let added = compiled.and_then(|copies| {
                if feeds_correlation {
                    engine.add_rule(c.rule).map_err(|e| e.to_string())?;
                }
                Ok(copies)
            });
            match added {
                Ok(copies) => {
                    for (route, rule) in copies {
                        batches[route].push(rule);
                    }
                    detection_rules += 1;
                    if let Some(name) = &c.rule.name {
                        names.insert(name.clone(), c.meta.key.clone());
                    }
                    metas.insert(c.meta.key.clone(), Arc::new(c.meta));
                }
                Err(e) => diags.push(RuleDiagnostic {
                    path: c.file.display_path.clone(),
                    rule: Some(c.rule.title.clone()),
                    kind: DiagnosticKind::Unsupported,
                    reason: e,
                }),
            }
        }
        routes
            .par_iter_mut()
            .zip(batches)
            .for_each(|(route, batch)| route.engine.extend_compiled_rules(batch));
        for (file, collection) in &parsed {
            for corr in &collection.correlations {
                let meta = RuleMeta::from_correlation(corr, &file.source);
                if !opts.admits(&meta) || corr.rules.iter().any(|r| filtered_keys.contains(r)) {
                    filtered_out += 1;
                    continue;
                }
                let missing: Vec<&String> = corr
                    .rules
                    .iter()
                    .filter(|r| !metas.contains_key(*r) && !names.contains_key(*r))
                    .collect();
                if !missing.is_empty() {
                    diags.push(RuleDiagnostic {
                        path: file.display_path.clone(),
                        rule: Some(corr.title.clone()),
                        kind: DiagnosticKind::Unsupported,
                        reason: format!(
                            "correlation refers to rules that are not loaded: {}",
                            missing
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                    continue;
                }
                match engine.add_correlation(corr) {
                    Ok(()) => {
                        correlation_rules += 1;
                        if let Some(name) = &corr.name {
                            names.insert(name.clone(), meta.key.clone());
                        }
                        for r in &corr.rules {
                            correlated.insert(r.clone());
                            if corr.generate {
                                generating.insert(r.clone());
                            }
                        }
                        metas.insert(meta.key.clone(), Arc::new(meta));
                    }
                    Err(e) => diags.push(RuleDiagnostic {
                        path: file.display_path.clone(),
                        rule: Some(corr.title.clone()),
                        kind: DiagnosticKind::Unsupported,
                        reason: e.to_string(),
                    }),
                }
            }
        }
        for (file, collection) in &parsed {
            for filter in &collection.filters {
                if let Err(e) = apply_filter(&mut routes, filter) {
                    diags.push(RuleDiagnostic {
                        path: file.display_path.clone(),
                        rule: Some(filter.title.clone()),
                        kind: DiagnosticKind::Unsupported,
                        reason: e,
                    });
                }
            }
        }
        // Resolve names to keys so both spellings of a reference are recognised.
        let resolved: Vec<String> = correlated
            .iter()
            .filter_map(|r| names.get(r).cloned())
            .collect();
        correlated.extend(resolved);
        let resolved_gen: Vec<String> = generating
            .iter()
            .filter_map(|r| names.get(r).cloned())
            .collect();
        generating.extend(resolved_gen);
        let silent = correlated
            .iter()
            .filter(|k| !generating.contains(*k))
            .cloned()
            .collect();

        (
            Detector {
                id: NEXT_DETECTOR_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                engine,
                routes,
                metas,
                correlated,
                silent,
                detection_rules,
                correlation_rules,
                filtered_out,
            },
            diags,
        )
    }

    pub fn detection_rule_count(&self) -> usize {
        self.detection_rules
    }

    pub fn correlation_rule_count(&self) -> usize {
        self.correlation_rules
    }

    /// Rules the load options left out.
    pub fn filtered_out(&self) -> usize {
        self.filtered_out
    }

    /// Every loaded rule's description, sorted by key.
    pub fn rules(&self) -> Vec<Arc<RuleMeta>> {
        let mut v: Vec<_> = self.metas.values().cloned().collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Evaluate one event against the rules whose log source fits it. Stateless: call it from
    /// as many threads as you like.
    pub fn evaluate(&self, ev: &Event<'_>) -> Vec<Hit> {
        let sigma_event = SigmaEvent::new(ev);
        let results = self.with_routes(ev.source, |routes| {
            let mut results = Vec::new();
            for &route in routes {
                results.extend(self.routes[route].engine.evaluate(&sigma_event));
            }
            results
        });
        let mut hits: Vec<Hit> = results
            .into_iter()
            .filter_map(|result| {
                let key =
                    rules::rule_key(result.header.rule_id.as_deref(), &result.header.rule_title);
                let meta = self.metas.get(&key)?.clone();
                let feeds = self.correlated.contains(&key);
                let report = !self.silent.contains(&key);
                Some(Hit {
                    rule: meta,
                    report,
                    feeds_correlation: feeds,
                    result,
                })
            })
            .collect();
        hits.sort_by(|a, b| a.rule.key.cmp(&b.rule.key));
        // A rule loaded as several log-source copies can only match through one of them, but
        // keep the invariant explicit: one hit per rule and event.
        hits.dedup_by(|a, b| a.rule.key == b.rule.key);
        hits
    }

    /// Run the correlation rules over the events that fed them. Inputs are processed in time
    /// order (ties broken by reference) so the outcome does not depend on thread scheduling.
    pub fn correlate(&mut self, mut inputs: Vec<CorrelationInput>) -> Vec<CorrelationHit> {
        inputs.sort_by(|a, b| a.time.cmp(&b.time).then(a.reference.cmp(&b.reference)));
        // (rule key, group key) -> hit with merged references
        let mut merged: BTreeMap<(String, Vec<(String, String)>), CorrelationHit> = BTreeMap::new();
        for input in inputs {
            let mut fields: Vec<(String, String)> = input
                .fields
                .into_iter()
                .filter(|(k, _)| k != "id")
                .collect();
            // rsigma cites contributing events by their `id` field.
            fields.insert(0, ("id".to_string(), input.reference.to_string()));
            let kv = rsigma_eval::KvEvent::new(fields);
            let out =
                self.engine
                    .process_with_detections(&kv, input.detections, input.time.timestamp());
            for result in out {
                let Some(body) = result.as_correlation() else {
                    continue;
                };
                let key =
                    rules::rule_key(result.header.rule_id.as_deref(), &result.header.rule_title);
                let Some(meta) = self.metas.get(&key).cloned() else {
                    continue;
                };
                let refs: Vec<usize> = body
                    .event_refs
                    .iter()
                    .flatten()
                    .filter_map(|r| r.id.as_deref()?.parse().ok())
                    .collect();
                let entry = merged
                    .entry((key, body.group_key.clone()))
                    .or_insert_with(|| CorrelationHit {
                        rule: meta,
                        group_key: body.group_key.clone(),
                        aggregated_value: body.aggregated_value,
                        references: Vec::new(),
                    });
                entry.aggregated_value = entry.aggregated_value.max(body.aggregated_value);
                entry.references.extend(refs);
            }
        }
        merged
            .into_values()
            .map(|mut hit| {
                hit.references.sort_unstable();
                hit.references.dedup();
                hit.references.truncate(CORRELATION_EVIDENCE_MAX);
                hit
            })
            .collect()
    }
}

static NEXT_DETECTOR_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The rules of one log source (product, service, category) in their own engine.
struct Route {
    logsource: rsigma_parser::LogSource,
    engine: rsigma_eval::Engine,
}

impl Route {
    /// The index of the route for a rule's log source, creating it when new.
    fn for_rule(routes: &mut Vec<Route>, ls: &rsigma_parser::LogSource) -> usize {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
            (None, None) => true,
            _ => false,
        };
        if let Some(i) = routes.iter().position(|r| {
            same(&r.logsource.product, &ls.product)
                && same(&r.logsource.service, &ls.service)
                && same(&r.logsource.category, &ls.category)
        }) {
            return i;
        }
        routes.push(Route {
            logsource: rsigma_parser::LogSource {
                product: ls.product.clone(),
                service: ls.service.clone(),
                category: ls.category.clone(),
                ..Default::default()
            },
            engine: rsigma_eval::Engine::new(),
        });
        routes.len() - 1
    }

    /// Whether events of this log source can match the route's rules: every key the rules set
    /// equals the event's.
    fn admits(&self, ev: &exhunt_model::LogSource) -> bool {
        let fits = |rule: &Option<String>, event: &Option<String>| match rule {
            None => true,
            Some(r) => event.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(r)),
        };
        fits(&self.logsource.product, &ev.product)
            && fits(&self.logsource.service, &ev.service)
            && fits(&self.logsource.category, &ev.category)
    }
}

/// Filters rewrite the detection rules they target, wherever those rules are.
fn apply_filter(routes: &mut [Route], filter: &rsigma_parser::FilterRule) -> Result<(), String> {
    for r in routes.iter_mut() {
        r.engine.apply_filter(filter).map_err(|e| e.to_string())?;
    }
    Ok(())
}

impl Detector {
    /// The routes an event of log source `ls` must be evaluated against, computed once per
    /// distinct log source and thread.
    fn with_routes<R>(&self, ls: &exhunt_model::LogSource, f: impl FnOnce(&[usize]) -> R) -> R {
        event::with_cached_routes(
            self.id,
            ls,
            || {
                self.routes
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.admits(ls))
                    .map(|(i, _)| i)
                    .collect()
            },
            f,
        )
    }
}

/// Where an event came from, to cite it as evidence.
#[derive(Debug, Clone)]
pub struct EvidenceSource<'a> {
    pub path: &'a str,
    pub sha256: &'a str,
}

/// Build evidence for an event of an artifact.
pub fn evidence_for(ev: &Event<'_>, src: &EvidenceSource<'_>) -> Evidence {
    let (line, record) = match ev.locator {
        Locator::Line(n) => (Some(n), None),
        Locator::Record(n) => (None, Some(n)),
        Locator::File => (None, None),
    };
    Evidence {
        path: src.path.to_string(),
        sha256: src.sha256.to_string(),
        line,
        record,
        excerpt: exhunt_model::truncate_excerpt(ev.raw.trim_end_matches(['\r', '\n']), EXCERPT_MAX),
    }
}

/// The event's fields as a JSON object, bounded in size.
pub fn fields_json(ev: &Event<'_>) -> serde_json::Map<String, serde_json::Value> {
    const MAX_FIELDS: usize = 200;
    const MAX_VALUE: usize = 2048;
    let mut map = serde_json::Map::new();
    for (k, v) in ev.fields.iter().take(MAX_FIELDS) {
        if v.is_empty() || map.contains_key(k.as_ref()) {
            continue;
        }
        map.insert(
            k.to_string(),
            serde_json::Value::String(exhunt_model::truncate_excerpt(v, MAX_VALUE)),
        );
    }
    map
}

/// A finding id that depends only on the rule and the evidence locations.
pub fn finding_id(rule_key: &str, evidence: &[Evidence]) -> String {
    let mut h = Sha256::new();
    h.update(rule_key.as_bytes());
    for e in evidence {
        h.update([0u8]);
        h.update(e.path.as_bytes());
        h.update([0u8]);
        h.update(e.sha256.as_bytes());
        h.update(format!("{:?}", e.locator()).as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// Build the finding for a hit on one event.
pub fn finding_for_hit(
    hit: &Hit,
    ev: &Event<'_>,
    src: &EvidenceSource<'_>,
    host: Option<String>,
) -> Finding {
    let evidence = vec![evidence_for(ev, src)];
    finding_from_parts(&hit.rule, ev.time, host, evidence, fields_json(ev))
}

/// Assemble a finding from its parts (also used for correlation findings).
pub fn finding_from_parts(
    rule: &RuleMeta,
    time: Option<DateTime<Utc>>,
    host: Option<String>,
    evidence: Vec<Evidence>,
    fields: serde_json::Map<String, serde_json::Value>,
) -> Finding {
    Finding {
        id: finding_id(&rule.key, &evidence),
        rule: RuleRef {
            id: rule.key.clone(),
            title: rule.title.clone(),
            level: rule.level.clone(),
            source: rule.source.clone(),
        },
        tags: rule.tags.clone(),
        time,
        host,
        evidence,
        fields,
    }
}
