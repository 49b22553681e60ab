//! From findings to an intrusion profile: what was seen, each item pointing at finding ids.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use exhunt_model::Finding;
use serde::{Deserialize, Serialize};

use crate::exchange::ExchangeFacts;
use crate::kb::KnowledgeBase;

/// A tool or malware family seen in the findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolObservation {
    pub name: String,
    /// The ATT&CK software id, when ATT&CK has the tool.
    pub software: Option<String>,
    /// The keyword or tag that showed it.
    pub matched: String,
    pub finding_ids: Vec<String>,
}

/// An indicator match whose publisher tied it to an actor (`ioc_label`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorObservation {
    pub label: String,
    pub source: Option<String>,
    pub value: Option<String>,
    /// The indicator's kind (`sha256`, `ip`, `path_regex`, ...) when the finding names it.
    #[serde(default)]
    pub kind: Option<String>,
    pub finding_ids: Vec<String>,
}

/// An address or domain the attacker used (client of suspicious requests, C&C).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfraObservation {
    pub value: String,
    pub field: String,
    pub finding_ids: Vec<String>,
}

/// A web shell or dropped file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathObservation {
    /// As the finding gave it.
    pub path: String,
    /// Lowercase, `/`-separated, rooted at the drive (`/inetpub/wwwroot/aspnet_client/x.aspx`).
    pub normalized: String,
    pub finding_ids: Vec<String>,
}

/// A CVE seen exploited, with its earliest time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CveObservation {
    pub cve: String,
    pub earliest: Option<DateTime<Utc>>,
    pub finding_ids: Vec<String>,
}

/// The earliest exploitation of one vulnerability family, against its patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingObservation {
    /// ProxyLogon, ProxyShell, ... (from the curated facts), or the CVE itself.
    pub campaign: String,
    pub cves: Vec<String>,
    pub earliest: DateTime<Utc>,
    /// For ProxyLogon: pre-patch / post-patch against 2021-03-02; otherwise "unknown".
    pub relative_to_patch: String,
    pub finding_ids: Vec<String>,
}

/// What the findings show of the intrusion, as evidence for attribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntrusionProfile {
    pub finding_count: usize,
    /// Technique id (upper case, `T1505.003`) → finding ids.
    pub techniques: BTreeMap<String, Vec<String>>,
    /// Tactic short name → finding ids.
    pub tactics: BTreeMap<String, Vec<String>>,
    pub cves: Vec<CveObservation>,
    pub tools: Vec<ToolObservation>,
    pub indicators: Vec<IndicatorObservation>,
    pub infrastructure: Vec<InfraObservation>,
    pub paths: Vec<PathObservation>,
    pub timing: Vec<TimingObservation>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub patch_release: Option<DateTime<Utc>>,
}

/// Tool keywords kept as data (`data/tool-keywords.json`, embedded).
const TOOL_KEYWORDS: &str = include_str!("../data/tool-keywords.json");

#[derive(Deserialize)]
struct ToolKeywordsFile {
    tools: Vec<ToolKeywords>,
    family_rule_markers: WordList,
    generic_family_names: NameList,
}

#[derive(Deserialize)]
struct WordList {
    words: Vec<String>,
}

#[derive(Deserialize)]
struct NameList {
    names: Vec<String>,
}

fn tool_keywords_file() -> ToolKeywordsFile {
    serde_json::from_str(TOOL_KEYWORDS).expect("embedded tool-keywords.json is valid")
}

#[derive(Deserialize)]
struct ToolKeywords {
    name: String,
    #[serde(default)]
    attack_software: Option<String>,
    keywords: Vec<String>,
}

/// Names of ATT&CK malware families, recognised in YARA rule names (`APT_MAL_ShadowPad_Loader`,
/// `WEBSHELL_ASPX_reGeorgTunnel`): rule authors name the family a rule finds, so a hit on a
/// dropped file becomes that family's ATT&CK evidence without a keyword list per family.
#[derive(Debug, Clone, Default)]
struct FamilyNames {
    /// Lowercase letters and digits of a name → (software id, ATT&CK name).
    by_key: HashMap<String, (String, String)>,
    longest: usize,
    /// Words that mark a rule as a malware rule; only such rules are searched.
    markers: Vec<String>,
}

/// A primary name shorter than this is too likely to be part of another word.
const MIN_FAMILY_NAME: usize = 5;
/// Aliases are often generic ("Wiper", "Sofacy" is also a group): they must be longer.
const MIN_FAMILY_ALIAS: usize = 7;
/// Words of a rule name joined to match one family name.
const MAX_FAMILY_WORDS: usize = 4;

fn name_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl FamilyNames {
    fn from_kb(kb: &KnowledgeBase, file: ToolKeywordsFile) -> FamilyNames {
        let generic: Vec<String> = file
            .generic_family_names
            .names
            .iter()
            .map(|n| name_key(n))
            .collect();
        let mut by_key = HashMap::new();
        for (sid, sw) in &kb.software {
            if sw.kind != "malware" {
                continue;
            }
            let names = std::iter::once((&sw.name, MIN_FAMILY_NAME))
                .chain(sw.aliases.iter().map(|a| (a, MIN_FAMILY_ALIAS)));
            for (name, min) in names {
                let key = name_key(name);
                if key.len() >= min
                    && key.bytes().any(|b| b.is_ascii_alphabetic())
                    && !generic.contains(&key)
                {
                    // BTreeMap order: the lowest id wins a name two families share.
                    by_key
                        .entry(key)
                        .or_insert_with(|| (sid.clone(), sw.name.clone()));
                }
            }
        }
        let longest = by_key.keys().map(String::len).max().unwrap_or(0);
        let markers = file.family_rule_markers.words;
        FamilyNames {
            by_key,
            longest,
            markers,
        }
    }

    /// Families named by runs of whole words of `rule_name`; words break at non-alphanumerics
    /// and at case changes, so `ShadowPad`, `SHADOWPAD` and `Shadow_Pad` all read the same.
    /// Only a rule name with a malware marker word is searched.
    fn find(&self, rule_name: &str) -> Vec<&(String, String)> {
        let words = split_words(rule_name);
        let mut out = Vec::new();
        if !words.iter().any(|w| self.markers.contains(w)) {
            return out;
        }
        for start in 0..words.len() {
            let mut key = String::new();
            for w in words.iter().skip(start).take(MAX_FAMILY_WORDS) {
                key.push_str(w);
                if key.len() > self.longest {
                    break;
                }
                if let Some(hit) = self.by_key.get(&key)
                    && !out.contains(&hit)
                {
                    out.push(hit);
                }
            }
        }
        out
    }
}

/// Lowercase words of an identifier: split at non-alphanumerics, between a lowercase letter or
/// digit and an uppercase one (`HyperBro`), and before the last capital of an acronym followed
/// by lowercase (`ASPXSpy`).
fn split_words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Field names that carry an address or domain of the other side.
const INFRA_FIELDS: &[&str] = &[
    "c-ip",
    "ClientIpAddress",
    "client-ip",
    "IpAddress",
    "DestinationIp",
    "DestinationHostname",
    "QueryName",
    "SourceIp",
];
/// Field names that carry a file path or a URL path.
const PATH_FIELDS: &[&str] = &[
    "Path",
    "TargetFilename",
    "Image",
    "FileName",
    "cs-uri-stem",
    "UrlStem",
];

/// Lowercase, `/`-separated, drive or collection prefix removed, rooted: `C:\inetpub\x` and the
/// collection's `case.zip!/C/inetpub/x` both become `/inetpub/x`. URL stems of IIS web folders
/// are mapped to their files (`/aspnet_client/x.aspx` → `/inetpub/wwwroot/aspnet_client/x.aspx`).
pub fn normalize_path(p: &str) -> String {
    let p = p.rsplit('!').next().unwrap_or(p);
    let mut s = p
        .trim()
        .replace('\\', "/")
        .to_ascii_lowercase()
        .trim_start_matches('/')
        .to_string();
    let b = s.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        s = s[2..].to_string();
    } else if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b'/' {
        s = s[1..].to_string();
    }
    if !s.starts_with('/') {
        s.insert(0, '/');
    }
    if s.starts_with("/aspnet_client/") {
        s = format!("/inetpub/wwwroot{s}");
    }
    s
}

/// Whether a normalized path matches a curated pattern (see `WebshellFact::pattern`).
pub(crate) fn path_matches(normalized: &str, pattern: &str) -> bool {
    let pat = pattern.to_ascii_lowercase().replace('\\', "/");
    if pat.starts_with('/') {
        normalized == pat
    } else {
        normalized.ends_with(&format!("/{pat}"))
    }
}

fn is_public_ip(v: &str) -> bool {
    let Ok(ip) = v.parse::<std::net::IpAddr>() else {
        return false;
    };
    match ip {
        std::net::IpAddr::V4(a) => {
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast())
        }
        std::net::IpAddr::V6(a) => !(a.is_loopback() || a.is_unspecified()),
    }
}

fn looks_like_domain(v: &str) -> bool {
    v.contains('.')
        && !v.contains(['/', '\\', ' '])
        && v.chars().any(|c| c.is_ascii_alphabetic())
        && v.rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

fn field_str<'a>(f: &'a Finding, name: &str) -> Option<&'a str> {
    f.fields
        .get(name)
        .or_else(|| {
            f.fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty() && *v != "-")
}

/// Finding ids cited per evidence item: enough to check it, and the profile (and
/// `attribution.json`) stays small when a noisy rule fires tens of thousands of times.
pub const MAX_CITED_FINDINGS: usize = 25;

/// Records that finding `id` shows a tool, keyed by its ATT&CK id (by its name without one). The
/// first sighting says what matched it; a real name replaces the bare id a tag left as the name.
fn observe_tool(
    tools: &mut BTreeMap<String, ToolObservation>,
    name: &str,
    software: Option<&str>,
    matched: impl FnOnce() -> String,
    id: &str,
) {
    let e = tools
        .entry(software.unwrap_or(name).to_string())
        .or_insert_with(|| ToolObservation {
            name: name.to_string(),
            software: software.map(str::to_string),
            matched: matched(),
            finding_ids: Vec::new(),
        });
    if e.software.as_deref() == Some(e.name.as_str()) {
        e.name = name.to_string();
    }
    push_id(&mut e.finding_ids, id);
}

fn push_id(ids: &mut Vec<String>, id: &str) {
    if ids.len() < MAX_CITED_FINDINGS && !ids.iter().any(|x| x == id) {
        ids.push(id.to_string());
    }
}

/// Build the intrusion profile of a set of findings.
pub fn profile(findings: &[Finding]) -> IntrusionProfile {
    profile_with(findings, &ExchangeFacts::embedded())
}

/// [`profile`] with explicit curated facts (their tool keywords and CVE families are used).
pub fn profile_with(findings: &[Finding], facts: &ExchangeFacts) -> IntrusionProfile {
    let mut b = ProfileBuilder::with_facts(facts.clone());
    for f in findings {
        b.add(f);
    }
    b.finish()
}

/// The intrusion profile built one finding at a time, for findings streamed from disk.
pub struct ProfileBuilder {
    facts: ExchangeFacts,
    p: IntrusionProfile,
    cves: BTreeMap<String, CveObservation>,
    tools: BTreeMap<String, ToolObservation>,
    indicators: BTreeMap<(String, Option<String>), IndicatorObservation>,
    infra: BTreeMap<String, InfraObservation>,
    paths: BTreeMap<String, PathObservation>,
    /// Tool name, ATT&CK software id, lowercase keywords.
    table: Vec<(String, Option<String>, Vec<String>)>,
    /// Every keyword of `table`, searched in one pass over each field (a finding's fields can
    /// be kilobytes: searching them keyword by keyword dominated the profile's cost).
    keywords: aho_corasick::AhoCorasick,
    /// Scratch: which keyword ids the current finding shows.
    seen: Vec<bool>,
    /// ATT&CK malware families, looked up in YARA rule names (empty without a knowledge base).
    families: FamilyNames,
}

impl Default for ProfileBuilder {
    fn default() -> Self {
        Self::with_facts(ExchangeFacts::embedded())
    }
}

impl ProfileBuilder {
    /// The builder a scan uses: the knowledge base's curated facts, plus its malware families
    /// recognised by name in YARA rule names.
    pub fn for_kb(kb: &KnowledgeBase) -> Self {
        Self::new(kb.exchange.clone(), Some(kb))
    }

    pub fn with_facts(facts: ExchangeFacts) -> Self {
        Self::new(facts, None)
    }

    fn new(facts: ExchangeFacts, kb: Option<&KnowledgeBase>) -> Self {
        let p = IntrusionProfile {
            finding_count: 0,
            patch_release: Some(facts.patch_release),
            ..Default::default()
        };
        let cves: BTreeMap<String, CveObservation> = BTreeMap::new();
        let tools: BTreeMap<String, ToolObservation> = BTreeMap::new();
        let indicators: BTreeMap<(String, Option<String>), IndicatorObservation> = BTreeMap::new();
        let infra: BTreeMap<String, InfraObservation> = BTreeMap::new();
        let paths: BTreeMap<String, PathObservation> = BTreeMap::new();

        // The tool table: the shipped keywords plus the curated facts' keywords.
        let mut file = tool_keywords_file();
        let mut table: Vec<(String, Option<String>, Vec<String>)> = std::mem::take(&mut file.tools)
            .into_iter()
            .map(|t| (t.name, t.attack_software, t.keywords))
            .collect();
        for c in &facts.clusters {
            for t in &c.tools {
                let covered = table
                    .iter()
                    .any(|(n, _, k)| *n == t.name || k.iter().any(|x| t.keywords.contains(x)));
                if !t.keywords.is_empty() && !covered {
                    table.push((
                        t.name.clone(),
                        t.attack_software.clone(),
                        t.keywords.clone(),
                    ));
                }
            }
        }

        let keyword_text: Vec<String> = table
            .iter()
            .flat_map(|(_, _, k)| k.iter().map(|x| x.to_ascii_lowercase()))
            .collect();
        let keywords = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keyword_text)
            .expect("tool keywords form an automaton");
        let seen = vec![false; keyword_text.len()];
        ProfileBuilder {
            facts,
            p,
            cves,
            tools,
            indicators,
            infra,
            paths,
            table,
            keywords,
            seen,
            families: kb.map_or_else(FamilyNames::default, |kb| FamilyNames::from_kb(kb, file)),
        }
    }

    pub fn add(&mut self, f: &Finding) {
        let ProfileBuilder {
            p,
            cves,
            tools,
            indicators,
            infra,
            paths,
            table,
            keywords,
            seen,
            families,
            ..
        } = self;
        p.finding_count += 1;
        let id = f.id.as_str();
        if let Some(t) = f.time {
            p.first_seen = Some(p.first_seen.map_or(t, |x| x.min(t)));
            p.last_seen = Some(p.last_seen.map_or(t, |x| x.max(t)));
        }
        for tag in &f.tags {
            let tag = tag.trim().to_ascii_lowercase();
            if let Some(rest) = tag.strip_prefix("attack.") {
                let b = rest.as_bytes();
                if b.first() == Some(&b't') && b.get(1).is_some_and(|c| c.is_ascii_digit()) {
                    push_id(
                        p.techniques.entry(rest.to_ascii_uppercase()).or_default(),
                        id,
                    );
                } else if b.first() == Some(&b's') && b.get(1).is_some_and(|c| c.is_ascii_digit()) {
                    let sid = rest.to_ascii_uppercase();
                    observe_tool(tools, &sid, Some(&sid), || format!("tag {tag}"), id);
                } else if !(b.first() == Some(&b'g')
                    && b.get(1).is_some_and(|c| c.is_ascii_digit()))
                {
                    push_id(p.tactics.entry(rest.to_string()).or_default(), id);
                }
            } else if let Some(rest) = tag.strip_prefix("cve.") {
                let cve = format!("CVE-{}", rest.to_ascii_uppercase());
                let e = cves.entry(cve.clone()).or_insert_with(|| CveObservation {
                    cve,
                    earliest: None,
                    finding_ids: Vec::new(),
                });
                if let Some(t) = f.time {
                    e.earliest = Some(e.earliest.map_or(t, |x| x.min(t)));
                }
                push_id(&mut e.finding_ids, id);
            }
        }

        // Tools: keywords in the rule title and in the finding's string fields.
        seen.iter_mut().for_each(|x| *x = false);
        let mut search = |text: &str| {
            for m in keywords.find_overlapping_iter(text) {
                seen[m.pattern().as_usize()] = true;
            }
        };
        search(&f.rule.title);
        for (k, v) in &f.fields {
            if k == "ioc_label" || k == "ioc_source" {
                continue;
            }
            if let Some(s) = v.as_str() {
                search(s);
            }
        }
        // Keyword ids follow the table's order (entry by entry, keyword by keyword).
        let mut next_id = 0;
        for (name, sid, kws) in table.iter() {
            let first_id = next_id;
            next_id += kws.len();
            let found = kws
                .iter()
                .enumerate()
                .find(|(i, _)| seen[first_id + i])
                .map(|(_, k)| k);
            if let Some(kw) = found {
                observe_tool(tools, name, sid.as_deref(), || kw.clone(), id);
            }
        }

        // Families named by a YARA rule: the rule name is the last part of its id.
        if let Some(path) = f.rule.id.strip_prefix("yara:") {
            let rule_name = path.rsplit('/').next().unwrap_or(path);
            for (sid, name) in families.find(rule_name) {
                observe_tool(
                    tools,
                    name,
                    Some(sid),
                    || format!("YARA rule {rule_name}"),
                    id,
                );
            }
        }

        if let Some(label) = field_str(f, "ioc_label") {
            let source = field_str(f, "ioc_source").map(str::to_string);
            let value = field_str(f, "ioc_value")
                .or_else(|| field_str(f, "ioc"))
                .map(str::to_string);
            let e = indicators
                .entry((label.to_string(), source.clone()))
                .or_insert_with(|| IndicatorObservation {
                    label: label.to_string(),
                    source,
                    value,
                    kind: field_str(f, "ioc_kind").map(str::to_string),
                    finding_ids: Vec::new(),
                });
            push_id(&mut e.finding_ids, id);
        }

        for name in INFRA_FIELDS {
            if let Some(v) = field_str(f, name) {
                let v = v.trim().to_ascii_lowercase();
                if is_public_ip(&v)
                    || (v.parse::<std::net::IpAddr>().is_err() && looks_like_domain(&v))
                {
                    let e = infra.entry(v.clone()).or_insert_with(|| InfraObservation {
                        value: v.clone(),
                        field: name.to_string(),
                        finding_ids: Vec::new(),
                    });
                    push_id(&mut e.finding_ids, id);
                }
            }
        }

        for name in PATH_FIELDS {
            if let Some(v) = field_str(f, name) {
                if *name == "FileName" && !v.contains(['/', '\\']) && field_str(f, "Path").is_some()
                {
                    continue;
                }
                let n = normalize_path(v);
                let e = paths.entry(n.clone()).or_insert_with(|| PathObservation {
                    path: v.to_string(),
                    normalized: n,
                    finding_ids: Vec::new(),
                });
                push_id(&mut e.finding_ids, id);
            }
        }
    }

    pub fn finish(self) -> IntrusionProfile {
        let ProfileBuilder {
            facts,
            mut p,
            cves,
            tools,
            indicators,
            infra,
            paths,
            ..
        } = self;
        let facts = &facts;
        // Timing: the earliest exploitation of each vulnerability family.
        let mut families: BTreeMap<String, TimingObservation> = BTreeMap::new();
        for c in cves.values() {
            let Some(t) = c.earliest else { continue };
            let fam = facts
                .family_of(&c.cve)
                .map(str::to_string)
                .unwrap_or_else(|| c.cve.clone());
            let e = families
                .entry(fam.clone())
                .or_insert_with(|| TimingObservation {
                    campaign: fam.clone(),
                    cves: Vec::new(),
                    earliest: t,
                    relative_to_patch: String::new(),
                    finding_ids: Vec::new(),
                });
            e.cves.push(c.cve.clone());
            if t < e.earliest {
                e.earliest = t;
            }
            for id in &c.finding_ids {
                push_id(&mut e.finding_ids, id);
            }
        }
        for (fam, mut t) in families {
            t.relative_to_patch = if fam == "ProxyLogon" {
                if t.earliest < facts.patch_release {
                    "pre-patch".into()
                } else {
                    "post-patch".into()
                }
            } else {
                "unknown".into()
            };
            p.timing.push(t);
        }

        p.cves = cves.into_values().collect();
        p.tools = tools.into_values().collect();
        p.indicators = indicators.into_values().collect();
        p.infrastructure = infra.into_values().collect();
        p.paths = paths.into_values().collect();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_across_forms() {
        assert_eq!(
            normalize_path(r"C:\inetpub\wwwroot\aspnet_client\aspnet.aspx"),
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx"
        );
        assert_eq!(
            normalize_path("case.zip!/C/inetpub/wwwroot/aspnet_client/Aspnet.aspx"),
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx"
        );
        assert_eq!(
            normalize_path("/aspnet_client/aspnet.aspx"),
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx"
        );
        assert!(path_matches(
            "/inetpub/wwwroot/aspnet_client/aspnet.aspx",
            "inetpub/wwwroot/aspnet_client/aspnet.aspx"
        ));
        assert!(path_matches("/mscoree.dll", "/mscoree.dll"));
        assert!(!path_matches("/windows/mscoree.dll", "/mscoree.dll"));
    }

    #[test]
    fn identifiers_split_into_words_at_case_changes() {
        assert_eq!(
            split_words("APT_MAL_ShadowPad_Loader"),
            ["apt", "mal", "shadow", "pad", "loader"]
        );
        assert_eq!(
            split_words("WEBSHELL_ASPX_reGeorgTunnel"),
            ["webshell", "aspx", "re", "georg", "tunnel"]
        );
        assert_eq!(split_words("ASPXSpy"), ["aspx", "spy"]);
        assert_eq!(split_words("gh0st-RAT v2"), ["gh0st", "rat", "v2"]);
        assert!(split_words("__").is_empty());
    }

    #[test]
    fn yara_rule_names_name_attack_malware_families() {
        let kb = KnowledgeBase::embedded();
        let families = FamilyNames::from_kb(&kb, tool_keywords_file());
        let ids = |rule: &str| -> Vec<String> {
            families
                .find(rule)
                .into_iter()
                .map(|(id, _)| id.clone())
                .collect()
        };
        assert_eq!(ids("APT_MAL_ShadowPad_Loader"), ["S0596"]);
        assert_eq!(ids("APT_SHADOWPAD_Mar21"), ["S0596"]);
        assert_eq!(ids("HKTL_HyperBroLoader"), ["S0398"]);
        assert_eq!(ids("WEBSHELL_ASPX_reGeorgTunnel"), ["S1187"]);
        assert_eq!(ids("WEBSHELL_ASPX_Neo_reGeorg"), ["S1189", "S1187"]);
        assert_eq!(ids("APT_WEBSHELL_OwaAuth_Backdoor"), ["S0072"]);
        // Short or generic words name nothing: "Net" is a tool, "wiper" only an alias.
        assert!(
            ids("SUSP_Net_Use_Wiper_Generic").is_empty(),
            "{:?}",
            ids("SUSP_Net_Use_Wiper_Generic")
        );
        assert!(ids("WEBSHELL_ASPX_SimpleSeeSharp").is_empty());
        // Tools are not looked up: anyone can run them.
        assert!(ids("HKTL_Mimikatz_Generic").is_empty());
    }

    #[test]
    fn a_yara_hit_becomes_the_familys_tool_observation() {
        let kb = KnowledgeBase::embedded();
        let mut b = ProfileBuilder::for_kb(&kb);
        let finding = |id: &str, rule_id: &str| Finding {
            id: id.into(),
            rule: exhunt_model::RuleRef {
                id: rule_id.into(),
                title: "YARA hit".into(),
                level: "high".into(),
                source: rule_id.into(),
            },
            tags: Vec::new(),
            time: None,
            host: None,
            evidence: Vec::new(),
            fields: Default::default(),
        };
        b.add(&finding("f1", "yara:community/APT_MAL_HyperBro_Loader"));
        b.add(&finding("f2", "yara:community/APT_MAL_HyperBro_Config"));
        // Not a YARA rule: a Sigma title naming a family is not a hit on the family.
        b.add(&finding("f3", "sigma:APT_MAL_ShadowPad_Loader"));
        let p = b.finish();
        assert_eq!(p.tools.len(), 1, "{:?}", p.tools);
        assert_eq!(p.tools[0].software.as_deref(), Some("S0398"));
        assert_eq!(p.tools[0].name, "HyperBro");
        assert_eq!(p.tools[0].finding_ids, ["f1", "f2"]);
        // Without a knowledge base the builder looks up no family.
        let mut b = ProfileBuilder::default();
        b.add(&finding("f1", "yara:community/APT_MAL_Dtrack_Loader"));
        assert!(b.finish().tools.is_empty());
    }
}
