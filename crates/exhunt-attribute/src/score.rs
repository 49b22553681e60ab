//! Analysis of Competing Hypotheses with smoothed likelihood ratios.
//!
//! Every evidence item is scored against every hypothesis as a likelihood ratio relative to
//! "an actor not in the catalogue". For ATT&CK techniques and software the ratio comes from base
//! rates: an actor not in the catalogue shows a feature as often as the share of ATT&CK groups
//! that list it, a group that lists it shows it (ratio = 1 / base rate), and a group that does not
//! list it is treated like that unknown actor (ratio 1), because ATT&CK profiles are partial views
//! and triage sees one server: only positive contradictions count against a group. A
//! sub-technique is scored in two steps, parent then variant, so a group listing a sibling
//! variant gets the parent's share. Feature kinds get separate weights (techniques are many,
//! correlated and barely diagnostic; public tools are shared). Curated Exchange-campaign facts,
//! labelled indicators and exploitation timing are scored against the hypotheses they name,
//! weighted by the reliability of their source and by how easily they are shared or spoofed, and
//! capped. Posteriors are a softmax over the summed log-ratios with a temperature, from a flat
//! prior over named hypotheses plus fixed shares for "unknown actor" and "post-patch
//! opportunist"; a small `model_error` share of the posterior then goes back to that prior, so
//! no hypothesis is stated as certain or ruled out for good.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::exchange::{ExchangeCluster, StateStatement};
use crate::kb::{KnowledgeBase, parent_of};
use crate::profile::{IntrusionProfile, ToolObservation, path_matches};
use crate::render::percent;

/// Tunable constants of the method. `Default` is what the benchmark was run with; the values
/// and their sensitivity are measured by `examples/attribution_bench.rs --sweep`, and chosen on
/// its ~400 single-report pseudo-campaigns (the 24 ATT&CK campaigns stay the test set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Pseudo-count added to how many groups list a feature (and to the rest), so a feature no
    /// group lists has a finite ratio: base rate = (users + a) / (groups + 2a).
    pub base_rate_pseudocount: f64,
    /// Weight of one ATT&CK technique's log-ratio. After the temperature it is 0.2, well below
    /// 1: technique lists are long, correlated and written by the same analysts, so naive Bayes
    /// would count the same behaviour many times (leave-one-campaign-out fits 0.2; see the bench).
    pub w_technique: f64,
    /// How many techniques count as independent. Beyond it, technique items share their weight
    /// as if `n` correlated items carried the evidence of `sqrt(n × this)` independent ones:
    /// each weighs `w_technique × sqrt(this / n)`. A long technique list mostly restates one
    /// intrusion's behaviour from several angles; summed in full, techniques-only rankings
    /// stated "very likely" on evidence that was right three times in four (see the bench).
    #[serde(default = "default_technique_independent_count")]
    pub technique_independent_count: f64,
    /// Weight of one ATT&CK software family's log-ratio. After the temperature it is 1: a named
    /// family is the most diagnostic item ATT&CK has, so it counts in full.
    pub w_software: f64,
    /// Extra factor for software ATT&CK types as "tool" (commercial, open-source or built-in:
    /// anyone can run it), on top of the base rate.
    pub w_public_tool: f64,
    /// Cap on |log LR| per curated fact, and per labelled indicator.
    pub cap_item: f64,
    pub cap_indicator: f64,
    /// Cap on the sum of curated campaign facts (tools, paths, infrastructure): reports cite
    /// each other and one report lists many tools, so they are not independent.
    pub cap_class_campaign: f64,
    /// Curated facts: P(fact | listed cluster) and P(fact | other) per kind.
    pub fact_hit: f64,
    pub fact_miss_tool: f64,
    pub fact_miss_path: f64,
    pub fact_miss_infra: f64,
    pub indicator_hit: f64,
    pub indicator_miss: f64,
    /// Posterior temperature (> 1 flattens), applied to every item. Kept at the value the
    /// curated facts, indicators and timing were set with (the benchmark cannot test those);
    /// the ATT&CK weights above were fitted under it.
    pub temperature: f64,
    pub prior_unknown: f64,
    pub prior_opportunist: f64,
    /// Share of the posterior returned to the prior: the chance that the matrix itself is wrong
    /// about this case (profiles out of date, evidence misread, a false flag). Naive Bayes over
    /// correlated items otherwise states near-certainties (above the 99% that "almost certain"
    /// promises) and rules groups out for good; this keeps every hypothesis at least
    /// `model_error` × its prior, and none above 1 − `model_error` × the others' priors. At
    /// 0.02, "almost certain" was right 94% of the time on the pseudo-campaigns; 0.03 keeps it
    /// above the 95% the word promises.
    #[serde(default = "default_model_error")]
    pub model_error: f64,
}

fn default_model_error() -> f64 {
    Params::default().model_error
}

fn default_technique_independent_count() -> f64 {
    Params::default().technique_independent_count
}

impl Default for Params {
    fn default() -> Self {
        Params {
            base_rate_pseudocount: 0.5,
            w_technique: 0.3,
            technique_independent_count: 10.0,
            w_software: 1.5,
            w_public_tool: 0.5,
            cap_item: 20f64.ln(),
            cap_indicator: 50f64.ln(),
            cap_class_campaign: 100f64.ln(),
            fact_hit: 0.5,
            fact_miss_tool: 0.02,
            fact_miss_path: 0.005,
            fact_miss_infra: 0.003,
            indicator_hit: 0.9,
            indicator_miss: 0.005,
            temperature: 1.5,
            prior_unknown: 0.10,
            prior_opportunist: 0.05,
            model_error: 0.03,
        }
    }
}

/// A software family ATT&CK gives to at least this many groups circulates among actors (China
/// Chopper 9, ShadowPad 8, PlugX 15, Cobalt Strike 29, Mimikatz 51 in ATT&CK 18.1): a curated
/// report naming it for one Exchange cluster does not single that cluster out, so only its
/// ATT&CK base rate weighs it.
const SHARED_FAMILY_GROUPS: usize = 5;

/// ICD 203 likelihood terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    AlmostNoChance,
    VeryUnlikely,
    Unlikely,
    RoughlyEvenChance,
    Likely,
    VeryLikely,
    AlmostCertain,
}

impl Likelihood {
    pub fn from_probability(p: f64) -> Likelihood {
        match p {
            p if p < 0.05 => Likelihood::AlmostNoChance,
            p if p < 0.20 => Likelihood::VeryUnlikely,
            p if p < 0.45 => Likelihood::Unlikely,
            p if p < 0.55 => Likelihood::RoughlyEvenChance,
            p if p < 0.80 => Likelihood::Likely,
            p if p < 0.95 => Likelihood::VeryLikely,
            _ => Likelihood::AlmostCertain,
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            Likelihood::AlmostNoChance => "almost no chance",
            Likelihood::VeryUnlikely => "very unlikely",
            Likelihood::Unlikely => "unlikely",
            Likelihood::RoughlyEvenChance => "roughly even chance",
            Likelihood::Likely => "likely",
            Likelihood::VeryLikely => "very likely",
            Likelihood::AlmostCertain => "almost certain",
        }
    }
    /// The range the word promises, in percent.
    pub fn range(self) -> (u32, u32) {
        match self {
            Likelihood::AlmostNoChance => (1, 5),
            Likelihood::VeryUnlikely => (5, 20),
            Likelihood::Unlikely => (20, 45),
            Likelihood::RoughlyEvenChance => (45, 55),
            Likelihood::Likely => (55, 80),
            Likelihood::VeryLikely => (80, 95),
            Likelihood::AlmostCertain => (95, 99),
        }
    }
    pub const ALL: [Likelihood; 7] = [
        Likelihood::AlmostNoChance,
        Likelihood::VeryUnlikely,
        Likelihood::Unlikely,
        Likelihood::RoughlyEvenChance,
        Likelihood::Likely,
        Likelihood::VeryLikely,
        Likelihood::AlmostCertain,
    ];
}

/// Analytic confidence, reported apart from the likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Moderate,
    High,
}

impl Confidence {
    pub fn word(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Moderate => "moderate",
            Confidence::High => "high",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// An ATT&CK technique seen (from finding tags).
    Technique,
    /// An ATT&CK software family seen.
    Software,
    /// A tool a curated Exchange-campaign report ties to actors.
    CampaignTool,
    /// A web shell or file path a curated report ties to actors.
    CampaignPath,
    /// An address or domain a curated report ties to actors.
    CampaignInfrastructure,
    /// Exploitation time against the campaigns' windows and the patch.
    Timing,
    /// A CVE exploited, time unknown.
    Vulnerability,
    /// An indicator its publisher labelled with an actor.
    Indicator,
}

impl EvidenceKind {
    fn class(self) -> &'static str {
        match self {
            EvidenceKind::Technique => "technique",
            EvidenceKind::Software => "software",
            EvidenceKind::CampaignTool
            | EvidenceKind::CampaignPath
            | EvidenceKind::CampaignInfrastructure => "campaign-fact",
            EvidenceKind::Timing | EvidenceKind::Vulnerability => "timing",
            EvidenceKind::Indicator => "indicator",
        }
    }
    fn strong(self) -> bool {
        !matches!(self, EvidenceKind::Technique | EvidenceKind::Software)
    }
}

/// One item of evidence, as it enters the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub id: String,
    pub kind: EvidenceKind,
    pub label: String,
    /// Admiralty reliability of the source that makes the item diagnostic.
    pub reliability: String,
    /// How easily the item is shared or faked: low, medium, high.
    pub spoofability: String,
    /// The weight its log-likelihood ratios are multiplied by.
    pub weight: f64,
    /// Named hypotheses known to show it, out of all named ones (base rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_rate: Option<String>,
    /// Where the knowledge behind it comes from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<String>,
    pub finding_ids: Vec<String>,
}

/// An evidence item's effect on one hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceScore {
    pub evidence: String,
    pub label: String,
    /// The weighted, capped natural-log likelihood ratio against an unknown actor.
    pub log_lr: f64,
    pub reason: String,
    pub finding_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HypothesisKind {
    /// An ATT&CK intrusion set.
    AttackGroup,
    /// A cluster named in public Exchange reports but not in ATT&CK.
    ReportedCluster,
    /// An actor not in the catalogue.
    UnknownActor,
    /// Opportunistic mass exploitation after the patch.
    PostPatchOpportunist,
}

/// A name of the hypothesis as one source gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameBySource {
    pub source: String,
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HypothesisResult {
    pub rank: usize,
    pub id: String,
    pub kind: HypothesisKind,
    pub name: String,
    /// The ATT&CK name plus names other sources give the same group, each marked with its source.
    pub display_name: String,
    pub names_by_source: Vec<NameBySource>,
    pub posterior: f64,
    pub likelihood: Likelihood,
    pub likelihood_words: String,
    pub confidence: Confidence,
    pub confidence_basis: String,
    /// Sum of the weighted log-likelihood ratios.
    pub log_score: f64,
    /// ATT&CK techniques + software known for the group (sparse profiles score poorly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_size: Option<usize>,
    pub supporting: Vec<EvidenceScore>,
    pub contradicting: Vec<EvidenceScore>,
    pub non_diagnostic: Vec<String>,
    /// Statements by governments or vendors about this intrusion set and a state, quoted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state_statements: Vec<QuotedStatement>,
}

/// A state-level statement with its source, never computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotedStatement {
    pub statement: StateStatement,
    pub citation: String,
}

/// The result of attribution, written as `attribution.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub headline: String,
    pub insufficient_evidence: bool,
    pub attack_version: Option<String>,
    pub method: String,
    pub params: Params,
    pub hypotheses_considered: usize,
    /// The leading hypotheses, plus the unknown-actor and opportunist ones.
    pub hypotheses: Vec<HypothesisResult>,
    pub evidence: Vec<EvidenceItem>,
    /// What would change the ranking (sensitivity of the leader to its strongest items).
    pub sensitivity: Vec<String>,
    /// Statements about the 2021 Exchange compromise and a state, quoted with sources.
    pub context_statements: Vec<QuotedStatement>,
    pub notice: String,
}

// ---- hypotheses ------------------------------------------------------------------------------------

struct Hyp {
    id: String,
    kind: HypothesisKind,
    name: String,
    group: Option<usize>,
    clusters: Vec<usize>,
}

fn hypotheses(kb: &KnowledgeBase) -> Vec<Hyp> {
    let mut hs: Vec<Hyp> = kb
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| Hyp {
            id: g.id.clone(),
            kind: HypothesisKind::AttackGroup,
            name: g.name.clone(),
            group: Some(i),
            clusters: Vec::new(),
        })
        .collect();
    for (ci, c) in kb.exchange.clusters.iter().enumerate() {
        match c.attack_id.as_deref().and_then(|g| kb.group_index.get(g)) {
            Some(&gi) => hs[gi].clusters.push(ci),
            None => hs.push(Hyp {
                id: format!("cluster:{}", c.key),
                kind: HypothesisKind::ReportedCluster,
                name: c.name.clone(),
                group: None,
                clusters: vec![ci],
            }),
        }
    }
    hs.push(Hyp {
        id: "unknown".into(),
        kind: HypothesisKind::UnknownActor,
        name: "An actor not in the catalogue".into(),
        group: None,
        clusters: Vec::new(),
    });
    hs.push(Hyp {
        id: "opportunist".into(),
        kind: HypothesisKind::PostPatchOpportunist,
        name: "An opportunist exploiting after the patch".into(),
        group: None,
        clusters: Vec::new(),
    });
    hs
}

fn reliability_weight(r: &str) -> f64 {
    match r {
        "A" => 1.0,
        "B" => 0.8,
        "C" => 0.5,
        "D" => 0.3,
        _ => 0.2,
    }
}

/// The scored matrix, before it is cut down for output.
struct Matrix {
    hyps: Vec<Hyp>,
    items: Vec<EvidenceItem>,
    /// [hyp][item] weighted, capped log LR.
    cells: Vec<Vec<f64>>,
    reasons: Vec<Vec<String>>,
    scores: Vec<f64>,
    posteriors: Vec<f64>,
}

/// "Listed" hypotheses get `hit`, other named ones `miss`, the unknown actor 1 (log 0); the
/// opportunist gets 1 or the miss ratio. Returns log ratios for each hypothesis.
/// The log-ratio column of a curated fact or labelled indicator that `listed` hypotheses are
/// tied to, times `weight` and capped at ±`cap` per cell.
fn fact_column(
    hyps: &[Hyp],
    listed: &BTreeSet<usize>,
    (hit, miss): (f64, f64),
    opportunist_neutral: bool,
    (weight, cap): (f64, f64),
) -> Vec<f64> {
    let named = hyps
        .iter()
        .filter(|h| {
            matches!(
                h.kind,
                HypothesisKind::AttackGroup | HypothesisKind::ReportedCluster
            )
        })
        .count() as f64;
    let k = listed.len() as f64;
    let avg = (k * hit + (named - k) * miss) / named;
    hyps.iter()
        .enumerate()
        .map(|(i, h)| match h.kind {
            HypothesisKind::UnknownActor => 0.0,
            HypothesisKind::PostPatchOpportunist => {
                if opportunist_neutral {
                    0.0
                } else {
                    (miss / avg).ln()
                }
            }
            _ => {
                if listed.contains(&i) {
                    (hit / avg).ln()
                } else {
                    (miss / avg).ln()
                }
            }
        })
        .map(|v| (weight * v).clamp(-cap, cap))
        .collect()
}

/// Per hypothesis, `reason` for those in `listed` and nothing for the others.
fn listed_reasons(nh: usize, listed: &BTreeSet<usize>, reason: &str) -> Vec<String> {
    (0..nh)
        .map(|hi| {
            if listed.contains(&hi) {
                reason.to_string()
            } else {
                String::new()
            }
        })
        .collect()
}

/// A tool's display name: ATT&CK's name when the observation only carries its id (from a tag).
fn tool_name(kb: &KnowledgeBase, t: &ToolObservation) -> String {
    match t.software.as_ref().and_then(|s| kb.software.get(s)) {
        Some(sw) if t.software.as_ref() == Some(&t.name) => sw.name.clone(),
        _ => t.name.clone(),
    }
}

/// The weight of each of `n` technique items: full up to `technique_independent_count` of them,
/// then shared so that their total grows with the square root of `n`.
fn technique_weight(params: &Params, n: usize) -> f64 {
    let independent = params.technique_independent_count.max(1.0);
    params.w_technique * (independent / (n as f64).max(independent)).sqrt()
}

fn cluster_window(c: &ExchangeCluster) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let from = c.exploitation.iter().map(|e| e.from()).min()?;
    let until = c.exploitation.iter().map(|e| e.until()).max()?;
    Some((from, until))
}

fn build(profile: &IntrusionProfile, kb: &KnowledgeBase, params: &Params) -> Matrix {
    let hyps = hypotheses(kb);
    let nh = hyps.len();
    let mut items: Vec<EvidenceItem> = Vec::new();
    let mut cols: Vec<Vec<f64>> = Vec::new();
    let mut col_reasons: Vec<Vec<String>> = Vec::new();
    let n_groups = kb.groups.len().max(1) as f64;
    let named = hyps
        .iter()
        .filter(|h| {
            matches!(
                h.kind,
                HypothesisKind::AttackGroup | HypothesisKind::ReportedCluster
            )
        })
        .count();
    let incident_time = profile
        .timing
        .iter()
        .map(|t| t.earliest)
        .min()
        .or(profile.first_seen);
    let facts = &kb.exchange;

    let mut push = |item: EvidenceItem, col: Vec<f64>, reasons: Vec<String>| {
        items.push(item);
        cols.push(col);
        col_reasons.push(reasons);
    };

    // ATT&CK features: ln(1 / base rate) for a group that lists the feature, 0 for one that
    // does not (see the module comment). `of` is the population the base rate is taken over.
    let pseudo = params.base_rate_pseudocount;
    let surprise = |users: usize, of: f64| ((of + 2.0 * pseudo) / (users as f64 + pseudo)).ln();
    let attack_citation = || {
        vec![format!(
            "MITRE ATT&CK {}",
            kb.attack.version.clone().unwrap_or_default()
        )]
    };
    let n_listed = |has: &[bool]| has.iter().filter(|&&b| b).count();

    // --- ATT&CK techniques ---------------------------------------------------------------------
    let w_technique = technique_weight(params, profile.techniques.len());
    for (tid, ids) in &profile.techniques {
        let parent = parent_of(tid);
        let is_sub = tid.contains('.');
        // A group lists the parent if it lists it or any of its variants.
        let has_parent: Vec<bool> = kb
            .profiles
            .iter()
            .map(|p| p.parents.contains(parent))
            .collect();
        let has_exact: Vec<bool> = kb
            .profiles
            .iter()
            .map(|p| p.exact.contains(tid.as_str()))
            .collect();
        let parent_users = n_listed(&has_parent);
        let exact_users = if is_sub {
            n_listed(&has_exact)
        } else {
            parent_users
        };
        // Two steps, so a sibling variant still earns the parent's share: how rare the parent
        // is among all groups, then how rare this variant is among the parent's users.
        let parent_lr = surprise(parent_users, n_groups);
        let variant_lr = if is_sub {
            surprise(exact_users, parent_users as f64)
        } else {
            0.0
        };
        let mut col = vec![0.0; nh];
        let mut reasons = vec![String::new(); nh];
        for (hi, h) in hyps.iter().enumerate() {
            let Some(gi) = h.group else { continue };
            if !has_parent[gi] {
                continue;
            }
            let exact = !is_sub || has_exact[gi];
            let v = parent_lr + if exact { variant_lr } else { 0.0 };
            col[hi] = w_technique * v;
            reasons[hi] = if exact {
                format!(
                    "ATT&CK lists it for the group; {exact_users} of {} groups do",
                    kb.groups.len()
                )
            } else {
                format!(
                    "ATT&CK lists another variant of {parent} for the group; {parent_users} of {} groups list {parent}",
                    kb.groups.len()
                )
            };
        }
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::Technique,
                label: kb.feature_name(tid),
                reliability: "A (what was found) / B (ATT&CK group use)".into(),
                spoofability: "high".into(),
                weight: w_technique,
                base_rate: Some(if is_sub {
                    format!(
                        "{exact_users}/{} ATT&CK groups ({parent_users} list {parent})",
                        kb.groups.len()
                    )
                } else {
                    format!("{exact_users}/{} ATT&CK groups", kb.groups.len())
                }),
                citations: attack_citation(),
                finding_ids: ids.clone(),
            },
            col,
            reasons,
        );
    }

    // --- ATT&CK software ------------------------------------------------------------------------
    for t in &profile.tools {
        let Some(sid) = &t.software else { continue };
        let Some(sw) = kb.software.get(sid) else {
            continue;
        };
        let has: Vec<bool> = kb.profiles.iter().map(|p| p.exact.contains(sid)).collect();
        let users = n_listed(&has);
        // Shared families (China Chopper, PlugX...) need no list: their base rate is high.
        let public = sw.kind == "tool";
        let w = params.w_software * if public { params.w_public_tool } else { 1.0 };
        let lr = surprise(users, n_groups);
        let reason = format!(
            "ATT&CK lists {} for the group; {users} groups use it",
            tool_name(kb, t)
        );
        let mut col = vec![0.0; nh];
        let mut reasons = vec![String::new(); nh];
        for (hi, h) in hyps.iter().enumerate() {
            let Some(gi) = h.group else { continue };
            if has[gi] {
                col[hi] = w * lr;
                reasons[hi] = reason.clone();
            }
        }
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::Software,
                label: kb.feature_name(sid),
                reliability: "B".into(),
                spoofability: if public {
                    "high (public tool)".into()
                } else if users as f64 >= 0.05 * n_groups {
                    "high (shared across groups)".into()
                } else {
                    "medium".into()
                },
                weight: w,
                base_rate: Some(format!("{users}/{} ATT&CK groups", kb.groups.len())),
                citations: attack_citation(),
                finding_ids: t.finding_ids.clone(),
            },
            col,
            reasons,
        );
    }

    // --- curated campaign facts -----------------------------------------------------------------
    let time_factor = |c: &ExchangeCluster| -> f64 {
        match (incident_time, cluster_window(c)) {
            (Some(t), Some((from, until)))
                if t < from - Duration::days(365) || t > until + Duration::days(365) =>
            {
                0.3
            }
            _ => 1.0,
        }
    };
    let hyp_of_cluster: HashMap<usize, usize> = hyps
        .iter()
        .enumerate()
        .flat_map(|(hi, h)| h.clusters.iter().map(move |&c| (c, hi)))
        .collect();

    // tools
    for t in &profile.tools {
        if t.software
            .as_deref()
            .is_some_and(|s| kb.groups_using(s) >= SHARED_FAMILY_GROUPS)
        {
            continue;
        }
        let name = tool_name(kb, t);
        let mut listed = BTreeSet::new();
        let mut cites = BTreeSet::new();
        let mut rel = 0.0f64;
        let mut tf = 0.0f64;
        for (ci, c) in facts.clusters.iter().enumerate() {
            for tool in &c.tools {
                let by_id = t.software.is_some() && tool.attack_software == t.software;
                let by_kw = tool.keywords.contains(&t.matched) || tool.name == t.name;
                if by_id || by_kw {
                    listed.insert(hyp_of_cluster[&ci]);
                    cites.insert(format!("{}: {}", c.name, facts.cite(&tool.source)));
                    rel = rel.max(reliability_weight(facts.reliability(&tool.source)));
                    tf = tf.max(time_factor(c));
                }
            }
        }
        if listed.is_empty() {
            if t.software.is_none() {
                // A tool no source ties to an actor: listed as non-diagnostic.
                push(
                    EvidenceItem {
                        id: String::new(),
                        kind: EvidenceKind::CampaignTool,
                        label: format!("{} (matched '{}')", t.name, t.matched),
                        reliability: "A (what was found)".into(),
                        spoofability: "high (public tool)".into(),
                        weight: 0.0,
                        base_rate: Some(format!("0/{named} named hypotheses")),
                        citations: Vec::new(),
                        finding_ids: t.finding_ids.clone(),
                    },
                    vec![0.0; nh],
                    vec![String::new(); nh],
                );
            }
            continue;
        }
        // A tool matched by keyword only may be any build of it; a family ATT&CK names is
        // harder to pass off as someone else's.
        let spoof = if t.software.is_none() { 0.6 } else { 0.9 };
        let w = rel * spoof * tf;
        let col = fact_column(
            &hyps,
            &listed,
            (params.fact_hit, params.fact_miss_tool),
            true,
            (w, params.cap_item),
        );
        let reasons = listed_reasons(
            nh,
            &listed,
            &format!("a report on the Exchange campaigns ties {name} to this actor"),
        );
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::CampaignTool,
                label: format!("{name} in Exchange-campaign reports"),
                reliability: "B".into(),
                spoofability: if spoof < 0.9 {
                    "high (public or shared tool)".into()
                } else {
                    "medium".into()
                },
                weight: w,
                base_rate: Some(format!("{}/{named} named hypotheses", listed.len())),
                citations: cites.into_iter().collect(),
                finding_ids: t.finding_ids.clone(),
            },
            col,
            reasons,
        );
    }

    // paths
    for pobs in &profile.paths {
        let mut listed = BTreeSet::new();
        let mut cites = BTreeSet::new();
        let mut rel = 0.0f64;
        let mut tf = 0.0f64;
        for (ci, c) in facts.clusters.iter().enumerate() {
            for w in &c.webshells {
                if path_matches(&pobs.normalized, &w.pattern) {
                    listed.insert(hyp_of_cluster[&ci]);
                    cites.insert(format!(
                        "{}: {} ({})",
                        c.name,
                        w.pattern,
                        facts.cite(&w.source)
                    ));
                    rel = rel.max(reliability_weight(facts.reliability(&w.source)));
                    tf = tf.max(time_factor(c));
                }
            }
        }
        if listed.is_empty() {
            continue;
        }
        let w = rel * 0.9 * tf;
        let col = fact_column(
            &hyps,
            &listed,
            (params.fact_hit, params.fact_miss_path),
            false,
            (w, params.cap_item),
        );
        let reasons = listed_reasons(
            nh,
            &listed,
            "a report on the Exchange campaigns gives this path for this actor",
        );
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::CampaignPath,
                label: format!("path {}", pobs.path),
                reliability: "B".into(),
                spoofability: "medium (names can be reused)".into(),
                weight: w,
                base_rate: Some(format!("{}/{named} named hypotheses", listed.len())),
                citations: cites.into_iter().collect(),
                finding_ids: pobs.finding_ids.clone(),
            },
            col,
            reasons,
        );
    }

    // infrastructure
    for iobs in &profile.infrastructure {
        let mut listed = BTreeSet::new();
        let mut cites = BTreeSet::new();
        let mut rel = 0.0f64;
        let mut tf = 0.0f64;
        let mut is_ip = false;
        for (ci, c) in facts.clusters.iter().enumerate() {
            for inf in &c.infrastructure {
                if inf.value.eq_ignore_ascii_case(&iobs.value) {
                    listed.insert(hyp_of_cluster[&ci]);
                    cites.insert(format!(
                        "{}: {} ({})",
                        c.name,
                        inf.role,
                        facts.cite(&inf.source)
                    ));
                    rel = rel.max(reliability_weight(facts.reliability(&inf.source)));
                    tf = tf.max(time_factor(c));
                    is_ip = inf.kind == "ipv4";
                }
            }
        }
        if listed.is_empty() {
            continue;
        }
        let spoof = if is_ip { 0.6 } else { 0.9 };
        let w = rel * spoof * tf;
        let col = fact_column(
            &hyps,
            &listed,
            (params.fact_hit, params.fact_miss_infra),
            false,
            (w, params.cap_item),
        );
        let reasons = listed_reasons(
            nh,
            &listed,
            "a report ties this address or domain to this actor",
        );
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::CampaignInfrastructure,
                label: format!("{} {}", iobs.field, iobs.value),
                reliability: if rel >= 0.8 { "B".into() } else { "C".into() },
                spoofability: if is_ip {
                    "medium (VPS and VPN exits are shared)".into()
                } else {
                    "low".into()
                },
                weight: w,
                base_rate: Some(format!("{}/{named} named hypotheses", listed.len())),
                citations: cites.into_iter().collect(),
                finding_ids: iobs.finding_ids.clone(),
            },
            col,
            reasons,
        );
    }

    // labelled indicators
    for ind in &profile.indicators {
        let mut listed = BTreeSet::new();
        if let Some(g) = kb.group_by_attack_name(&ind.label) {
            listed.insert(kb.group_index[&g.id]);
        }
        for (ci, c) in facts.clusters.iter().enumerate() {
            if c.name.eq_ignore_ascii_case(ind.label.trim())
                || c.key.eq_ignore_ascii_case(ind.label.trim())
            {
                listed.insert(hyp_of_cluster[&ci]);
            }
        }
        let label = format!(
            "indicator labelled \"{}\" by {}",
            ind.label,
            ind.source.as_deref().unwrap_or("its publisher")
        );
        if listed.is_empty() {
            push(
                EvidenceItem {
                    id: String::new(),
                    kind: EvidenceKind::Indicator,
                    label: format!("{label}: the label names no known hypothesis"),
                    reliability: "B".into(),
                    spoofability: "medium".into(),
                    weight: 0.0,
                    base_rate: None,
                    citations: ind.source.iter().cloned().collect(),
                    finding_ids: ind.finding_ids.clone(),
                },
                vec![0.0; nh],
                vec![String::new(); nh],
            );
            continue;
        }
        // A path pattern (e.g. any eight-letter page under aspnet_client) matches what many
        // intruders leave; an exact hash, address or domain is specific to what was published.
        let w = if ind
            .kind
            .as_deref()
            .is_some_and(|k| k.contains("regex") || k.contains("pattern"))
        {
            0.3
        } else {
            0.9
        };
        let col = fact_column(
            &hyps,
            &listed,
            (params.indicator_hit, params.indicator_miss),
            false,
            (w, params.cap_indicator),
        );
        let reasons = listed_reasons(
            nh,
            &listed,
            &format!("the indicator's publisher tied it to {}", ind.label),
        );
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::Indicator,
                label,
                reliability: "B".into(),
                spoofability: "medium (indicators can be reused)".into(),
                weight: w,
                base_rate: Some(format!("{}/{named} named hypotheses", listed.len())),
                citations: ind.source.iter().cloned().collect(),
                finding_ids: ind.finding_ids.clone(),
            },
            col,
            reasons,
        );
    }

    // timing
    for t in &profile.timing {
        let mut active = BTreeSet::new();
        let mut cites = BTreeSet::new();
        for (ci, c) in facts.clusters.iter().enumerate() {
            for e in &c.exploitation {
                if e.campaign == t.campaign
                    && t.earliest >= e.from() - Duration::days(2)
                    && t.earliest < e.until()
                {
                    active.insert(hyp_of_cluster[&ci]);
                    cites.insert(format!(
                        "{}: from {} ({})",
                        c.name,
                        e.first_seen,
                        facts.cite(&e.source)
                    ));
                }
            }
        }
        let n_active = active.len().max(1) as f64;
        let patch = facts.patch_release;
        let proxylogon = t.campaign == "ProxyLogon";
        let (la, ln_, lo, regime) = if proxylogon && t.earliest < patch {
            (1.0 + 19.0 / n_active, 0.1, 0.02, "pre-patch")
        } else if proxylogon && t.earliest < patch + Duration::days(120) {
            (1.5, 1.0, 3.0, "post-patch mass exploitation")
        } else if proxylogon {
            (1.0, 1.0, 2.0, "long after the patch")
        } else {
            (2.0, 1.0, 2.0, "known campaign window")
        };
        let w = 0.8;
        let mut col = vec![0.0; nh];
        let mut reasons = vec![String::new(); nh];
        for (hi, h) in hyps.iter().enumerate() {
            let (v, r) = match h.kind {
                HypothesisKind::UnknownActor => (1.0, String::new()),
                HypothesisKind::PostPatchOpportunist => (
                    lo,
                    if regime == "pre-patch" {
                        "exploitation before the patch contradicts opportunistic post-patch exploitation".into()
                    } else {
                        format!("{regime}: most compromises then were opportunistic")
                    },
                ),
                _ if active.contains(&hi) => (
                    la,
                    format!("reported exploiting {} at that time ({regime})", t.campaign),
                ),
                _ => (
                    ln_,
                    if regime == "pre-patch" {
                        format!(
                            "no report has this actor exploiting {} before the patch",
                            t.campaign
                        )
                    } else {
                        String::new()
                    },
                ),
            };
            col[hi] = (w * f64::ln(v)).clamp(-params.cap_item, params.cap_item);
            reasons[hi] = r;
        }
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::Timing,
                label: format!(
                    "{} ({}) exploited from {} ({})",
                    t.campaign,
                    t.cves.join(", "),
                    t.earliest.format("%Y-%m-%dT%H:%MZ"),
                    t.relative_to_patch
                ),
                reliability: "A (log times) / B (campaign windows)".into(),
                spoofability: "low".into(),
                weight: w,
                base_rate: Some(format!(
                    "{}/{named} named hypotheses reported active",
                    active.len()
                )),
                citations: cites.into_iter().collect(),
                finding_ids: t.finding_ids.clone(),
            },
            col,
            reasons,
        );
    }
    // CVEs without a time
    for c in profile.cves.iter().filter(|c| c.earliest.is_none()) {
        let mut listed = BTreeSet::new();
        for (ci, cl) in facts.clusters.iter().enumerate() {
            if cl
                .exploitation
                .iter()
                .any(|e| e.cves.iter().any(|x| x.eq_ignore_ascii_case(&c.cve)))
            {
                listed.insert(hyp_of_cluster[&ci]);
            }
        }
        let col = hyps
            .iter()
            .enumerate()
            .map(|(hi, h)| match h.kind {
                HypothesisKind::PostPatchOpportunist => 0.5f64.mul_add(1.5f64.ln(), 0.0),
                _ if listed.contains(&hi) => 0.5 * 1.5f64.ln(),
                _ => 0.0,
            })
            .collect();
        push(
            EvidenceItem {
                id: String::new(),
                kind: EvidenceKind::Vulnerability,
                label: format!("{} exploited (time unknown)", c.cve),
                reliability: "A".into(),
                spoofability: "low".into(),
                weight: 0.5,
                base_rate: Some(format!(
                    "{}/{named} named hypotheses reported",
                    listed.len()
                )),
                citations: Vec::new(),
                finding_ids: c.finding_ids.clone(),
            },
            col,
            vec![String::new(); nh],
        );
    }

    for (i, it) in items.iter_mut().enumerate() {
        it.id = format!("E{}", i + 1);
    }

    // cells, class caps, scores
    let mut cells = vec![vec![0.0; items.len()]; nh];
    let mut reasons = vec![vec![String::new(); items.len()]; nh];
    for (j, col) in cols.iter().enumerate() {
        for hi in 0..nh {
            cells[hi][j] = col[hi];
            reasons[hi][j] = col_reasons[j][hi].clone();
        }
    }
    // Only curated campaign facts are capped as a class: ATT&CK items are already bounded by
    // their base rates and weights, and capping them flattens the ranking among groups.
    let scores: Vec<f64> = cells
        .iter()
        .map(|row| {
            let (mut campaign, mut rest) = (0.0, 0.0);
            for (j, v) in row.iter().enumerate() {
                match items[j].kind {
                    EvidenceKind::CampaignTool
                    | EvidenceKind::CampaignPath
                    | EvidenceKind::CampaignInfrastructure => campaign += v,
                    _ => rest += v,
                }
            }
            rest + f64::clamp(
                campaign,
                -params.cap_class_campaign,
                params.cap_class_campaign,
            )
        })
        .collect();
    let posteriors = posteriors(&hyps, &scores, params);
    Matrix {
        hyps,
        items,
        cells,
        reasons,
        scores,
        posteriors,
    }
}

fn posteriors(hyps: &[Hyp], scores: &[f64], params: &Params) -> Vec<f64> {
    let named = hyps
        .iter()
        .filter(|h| {
            matches!(
                h.kind,
                HypothesisKind::AttackGroup | HypothesisKind::ReportedCluster
            )
        })
        .count() as f64;
    let rest = (1.0 - params.prior_unknown - params.prior_opportunist).max(0.01);
    let priors: Vec<f64> = hyps
        .iter()
        .map(|h| match h.kind {
            HypothesisKind::UnknownActor => params.prior_unknown,
            HypothesisKind::PostPatchOpportunist => params.prior_opportunist,
            _ => rest / named,
        })
        .collect();
    let prior_sum: f64 = priors.iter().sum();
    let logp: Vec<f64> = priors
        .iter()
        .zip(scores)
        .map(|(prior, s)| prior.max(1e-12).ln() + s / params.temperature)
        .collect();
    let m = logp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = logp.iter().map(|l| (l - m).exp()).sum();
    let e = params.model_error.clamp(0.0, 1.0);
    logp.iter()
        .zip(&priors)
        .map(|(l, prior)| (1.0 - e) * (l - m).exp() / z + e * prior / prior_sum)
        .collect()
}

fn confidence(items: &[EvidenceItem], row: &[f64], kind: HypothesisKind) -> (Confidence, String) {
    if matches!(kind, HypothesisKind::UnknownActor) {
        return (
            Confidence::Low,
            "a residual hypothesis: nothing can support it directly".into(),
        );
    }
    let diag: Vec<usize> = (0..items.len()).filter(|&j| row[j] >= 2f64.ln()).collect();
    let classes: BTreeSet<&str> = diag.iter().map(|&j| items[j].kind.class()).collect();
    let strong_items = diag.iter().filter(|&&j| items[j].kind.strong()).count();
    let has = |c: &str| classes.contains(c);
    let contradicted = row.iter().any(|&v| v <= -(5f64.ln()));
    let mut level = if diag.len() >= 4
        && classes.len() >= 3
        && (has("indicator") || (has("timing") && has("campaign-fact")))
    {
        Confidence::High
    } else if strong_items >= 1 && classes.len() >= 2 || strong_items >= 2 {
        Confidence::Moderate
    } else {
        Confidence::Low
    };
    if contradicted && level > Confidence::Low {
        level = if level == Confidence::High {
            Confidence::Moderate
        } else {
            Confidence::Low
        };
    }
    let basis = format!(
        "{} diagnostic item(s) in {} class(es) [{}]{}{}",
        diag.len(),
        classes.len(),
        classes.iter().cloned().collect::<Vec<_>>().join(", "),
        if strong_items == 0 && !diag.is_empty() {
            "; ATT&CK technique/software overlap only"
        } else {
            ""
        },
        if contradicted {
            "; contradicted by some evidence"
        } else {
            ""
        }
    );
    (level, basis)
}

fn names_by_source(kb: &KnowledgeBase, h: &Hyp) -> (String, Vec<NameBySource>) {
    let mut out = Vec::new();
    let mut display = h.name.clone();
    let mut extra: Vec<String> = Vec::new();
    for &ci in &h.clusters {
        let c = &kb.exchange.clusters[ci];
        let publisher = kb
            .exchange
            .sources
            .get(&c.named_by)
            .map(|s| {
                s.publisher
                    .split([' ', '('])
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_default();
        out.push(NameBySource {
            source: format!("exchange-campaigns ({})", kb.exchange.cite(&c.named_by)),
            names: vec![c.name.clone()],
            note: c.notes.clone(),
        });
        if !c.name.eq_ignore_ascii_case(&h.name) && h.group.is_some() {
            extra.push(format!("{} ({publisher})", c.name));
        }
    }
    if let Some(gi) = h.group {
        let g = &kb.groups[gi];
        out.push(NameBySource {
            source: "MITRE ATT&CK".into(),
            names: std::iter::once(g.name.clone())
                .chain(g.aliases.attack.iter().cloned())
                .collect(),
            note: Some(g.url.clone()),
        });
        if let Some(v) = &g.aliases.misp_intrusion_set {
            out.push(NameBySource {
                source: "MISP galaxy mitre-intrusion-set".into(),
                names: v.clone(),
                note: None,
            });
        }
        for m in &g.aliases.misp_threat_actor {
            out.push(NameBySource {
                source: "MISP galaxy threat-actor".into(),
                names: std::iter::once(m.name.clone())
                    .chain(m.synonyms.iter().cloned())
                    .collect(),
                note: Some(m.how.clone()),
            });
        }
        for m in &g.aliases.microsoft {
            out.push(NameBySource {
                source: "Microsoft naming map".into(),
                names: std::iter::once(m.name.clone())
                    .chain(m.other.iter().cloned())
                    .collect(),
                note: Some(m.how.clone()),
            });
            if m.is_same_as() && !m.name.eq_ignore_ascii_case(&g.name) {
                extra.push(format!("{} (Microsoft)", m.name));
            }
        }
    }
    extra.dedup();
    for e in extra {
        display.push_str(" / ");
        display.push_str(&e);
    }
    (display, out)
}

fn quoted(kb: &KnowledgeBase, s: &StateStatement) -> QuotedStatement {
    QuotedStatement {
        statement: s.clone(),
        citation: kb.exchange.cite(&s.source),
    }
}

/// Rank every hypothesis (ATT&CK groups, reported clusters, unknown, opportunist) by posterior.
pub fn rank_groups(
    profile: &IntrusionProfile,
    kb: &KnowledgeBase,
    params: &Params,
) -> Vec<(String, f64)> {
    let m = build(profile, kb, params);
    let mut v: Vec<(String, f64)> = m
        .hyps
        .iter()
        .zip(&m.posteriors)
        .map(|(h, p)| (h.id.clone(), *p))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Attribute with the default parameters.
pub fn attribute(profile: &IntrusionProfile, kb: &KnowledgeBase) -> Attribution {
    attribute_with(profile, kb, &Params::default())
}

/// How many hypotheses besides the special ones are written out.
const TOP: usize = 10;

pub fn attribute_with(
    profile: &IntrusionProfile,
    kb: &KnowledgeBase,
    params: &Params,
) -> Attribution {
    let m = build(profile, kb, params);
    let mut order: Vec<usize> = (0..m.hyps.len()).collect();
    order.sort_by(|&a, &b| {
        m.posteriors[b]
            .total_cmp(&m.posteriors[a])
            .then_with(|| m.hyps[a].id.cmp(&m.hyps[b].id))
    });
    let rank_of: HashMap<usize, usize> =
        order.iter().enumerate().map(|(r, &h)| (h, r + 1)).collect();
    let mut shown: Vec<usize> = order.iter().take(TOP).copied().collect();
    for (i, h) in m.hyps.iter().enumerate() {
        let special = matches!(
            h.kind,
            HypothesisKind::UnknownActor | HypothesisKind::PostPatchOpportunist
        );
        let supported_cluster = !h.clusters.is_empty() && m.scores[i] > 2f64.ln();
        if (special || supported_cluster) && !shown.contains(&i) {
            shown.push(i);
        }
    }
    shown.sort_by_key(|h| rank_of[h]);

    let results: Vec<HypothesisResult> = shown
        .iter()
        .map(|&hi| {
            let h = &m.hyps[hi];
            let row = &m.cells[hi];
            let mut sup: Vec<EvidenceScore> = Vec::new();
            let mut con: Vec<EvidenceScore> = Vec::new();
            let mut non = Vec::new();
            for (j, it) in m.items.iter().enumerate() {
                let v = row[j];
                let es = EvidenceScore {
                    evidence: it.id.clone(),
                    label: it.label.clone(),
                    log_lr: (v * 1000.0).round() / 1000.0,
                    reason: m.reasons[hi][j].clone(),
                    finding_ids: it.finding_ids.clone(),
                };
                if v >= 1.25f64.ln() {
                    sup.push(es);
                } else if v <= -(1.25f64.ln()) {
                    con.push(es);
                } else {
                    non.push(it.id.clone());
                }
            }
            sup.sort_by(|a, b| b.log_lr.total_cmp(&a.log_lr));
            con.sort_by(|a, b| a.log_lr.total_cmp(&b.log_lr));
            let (confidence, basis) = confidence(&m.items, row, h.kind);
            let (display, names) = names_by_source(kb, h);
            let p = m.posteriors[hi];
            let lk = Likelihood::from_probability(p);
            let (lo, hi_) = lk.range();
            let statements = kb
                .exchange
                .state_statements
                .iter()
                .filter(|s| h.group.is_some() && s.intrusion_set.as_deref() == Some(h.id.as_str()))
                .map(|s| quoted(kb, s))
                .collect();
            HypothesisResult {
                rank: rank_of[&hi],
                id: h.id.clone(),
                kind: h.kind,
                name: h.name.clone(),
                display_name: display,
                names_by_source: names,
                // Rounded for the JSON, but never up to 1: that would read as certainty.
                posterior: ((p * 10000.0).round() / 10000.0).min(if p < 1.0 {
                    0.9999
                } else {
                    1.0
                }),
                likelihood: lk,
                likelihood_words: format!("{} ({lo}-{hi_}%)", lk.word()),
                confidence,
                confidence_basis: basis,
                log_score: (m.scores[hi] * 1000.0).round() / 1000.0,
                profile_size: h.group.map(|g| kb.profiles[g].exact.len()),
                supporting: sup,
                contradicting: con,
                non_diagnostic: non,
                state_statements: statements,
            }
        })
        .collect();

    let top = &results[0];
    let insufficient = top.posterior < 0.55 || top.confidence == Confidence::Low;
    let headline = if m.items.is_empty() {
        "Insufficient evidence for an attribution: the findings carry no technique, tool, indicator or timing evidence.".to_string()
    } else if insufficient {
        format!(
            "Insufficient evidence for an attribution. The leading hypothesis is {}: {} ({}). Confidence in that judgment is {}: {}.",
            top.display_name,
            top.likelihood.word(),
            percent(top.posterior, 0),
            top.confidence.word(),
            top.confidence_basis
        )
    } else {
        format!(
            "It is {} ({}) that {} is behind this intrusion. Confidence in that judgment is {}: {}.",
            top.likelihood.word(),
            percent(top.posterior, 0),
            top.display_name,
            top.confidence.word(),
            top.confidence_basis
        )
    };

    // Sensitivity: remove each of the leader's three strongest items in turn.
    let leader = order[0];
    let mut sensitivity = Vec::new();
    let mut strongest: Vec<usize> = (0..m.items.len())
        .filter(|&j| m.cells[leader][j] > 0.0)
        .collect();
    strongest.sort_by(|&a, &b| m.cells[leader][b].total_cmp(&m.cells[leader][a]));
    for &j in strongest.iter().take(3) {
        let scores: Vec<f64> = m
            .scores
            .iter()
            .enumerate()
            .map(|(hi, s)| s - m.cells[hi][j])
            .collect();
        let post = posteriors(&m.hyps, &scores, params);
        let best = (0..post.len())
            .max_by(|&a, &b| post[a].total_cmp(&post[b]))
            .unwrap();
        let outcome = if best == leader {
            "and still lead".to_string()
        } else {
            format!(
                "and {} would lead ({})",
                m.hyps[best].name,
                percent(post[best], 0)
            )
        };
        sensitivity.push(format!(
            "Without {} ({}), {} would be at {} {outcome}.",
            m.items[j].id,
            m.items[j].label,
            m.hyps[leader].name,
            percent(post[leader], 0),
        ));
    }
    if profile.timing.is_empty() && !profile.cves.is_empty() {
        sensitivity.push("Exploitation times would help: before 2021-03-02 only a few actors were exploiting ProxyLogon.".into());
    }
    if profile.indicators.is_empty() {
        sensitivity.push("No indicator labelled by its publisher was matched; such a match would weigh more than any technique.".into());
    }

    let proxylogon = profile
        .cves
        .iter()
        .any(|c| kb.exchange.family_of(&c.cve) == Some("ProxyLogon"));
    let context_statements = if proxylogon {
        kb.exchange
            .state_statements
            .iter()
            .filter(|s| s.intrusion_set.is_none())
            .map(|s| quoted(kb, s))
            .collect()
    } else {
        Vec::new()
    };

    Attribution {
        headline,
        insufficient_evidence: insufficient || m.items.is_empty(),
        attack_version: kb.attack.version.clone(),
        method: "Analysis of Competing Hypotheses; cells are smoothed likelihood ratios against an uncatalogued actor: ATT&CK techniques (parent, then variant) and software score 1/base rate over all ATT&CK groups for a group that lists them and 1 for one that does not (profiles are partial views), weighted per feature kind; curated Exchange-campaign facts, labelled indicators and exploitation timing are weighted by source reliability and spoofability, capped, time-bounded; posterior by softmax with a temperature, a model-error share returned to the prior; ICD 203 likelihood words; confidence from quantity, diversity and reliability of diagnostic evidence. State links are quoted, never computed.".into(),
        params: params.clone(),
        hypotheses_considered: m.hyps.len(),
        hypotheses: results,
        evidence: m.items,
        sensitivity,
        context_statements,
        notice: kb.notice.clone().unwrap_or_default(),
    }
}
