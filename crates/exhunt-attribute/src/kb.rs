//! The ATT&CK knowledge base: groups, techniques, software, campaigns, per-source aliases.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exchange::ExchangeFacts;
use crate::{Error, Result};

const EMBEDDED: &str = include_str!("../data/kb.json");

/// Which ATT&CK release the knowledge comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttackInfo {
    pub version: Option<String>,
    pub modified: Option<String>,
    pub spec: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Technique {
    #[serde(rename = "n")]
    pub name: String,
    /// Tactic short names (`initial-access`...).
    #[serde(rename = "t", default)]
    pub tactics: Vec<String>,
    /// Groups listing the technique directly, as the generator counted them.
    #[serde(rename = "g", default)]
    pub groups: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Software {
    #[serde(rename = "n")]
    pub name: String,
    /// `malware` or `tool`.
    #[serde(rename = "k")]
    pub kind: String,
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(rename = "g", default)]
    pub groups: usize,
}

/// A report ATT&CK cites: (citation key, date as given, URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation(pub String, pub Option<String>, pub Option<String>);

/// A MISP threat-actor galaxy entry linked to the group by a direct statement of MISP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MispThreatActor {
    pub name: String,
    pub uuid: String,
    /// How the entry was linked (it lists the G-id, or the group's name).
    #[serde(rename = "match")]
    pub how: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A Microsoft naming-map entry linked to the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MicrosoftEntry {
    pub name: String,
    #[serde(default)]
    pub other: Vec<String>,
    pub origin: Option<String>,
    /// How the entry was linked; "(overlap only)" marks a shared alias, not a same-as.
    #[serde(rename = "match")]
    pub how: String,
}

impl MicrosoftEntry {
    /// Whether Microsoft's entry names this very group (not only a shared alias).
    pub fn is_same_as(&self) -> bool {
        !self.how.contains("overlap only")
    }
}

/// Aliases of one group, kept per source and never merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupAliases {
    #[serde(default)]
    pub attack: Vec<String>,
    #[serde(
        rename = "misp-mitre-intrusion-set",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub misp_intrusion_set: Option<Vec<String>>,
    #[serde(
        rename = "misp-threat-actor",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub misp_threat_actor: Vec<MispThreatActor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub microsoft: Vec<MicrosoftEntry>,
}

/// One feature use: technique or software id, with the citations (indexes) behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Use(pub String, pub Vec<usize>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub stix: String,
    pub name: String,
    pub url: String,
    pub aliases: GroupAliases,
    /// The group's own `uses` edges.
    pub uses: Vec<Use>,
    /// Campaigns ATT&CK attributes to the group.
    pub campaigns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub attributed_to: Vec<String>,
    pub uses: Vec<Use>,
    /// Citations of the campaign object itself.
    #[serde(default)]
    pub cites: Vec<usize>,
}

/// The serialized form (`data/kb.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KbFile {
    format: u32,
    notice: Option<String>,
    #[serde(default)]
    attack: AttackInfo,
    #[serde(default)]
    alias_sources: BTreeMap<String, String>,
    #[serde(default)]
    tactics: BTreeMap<String, (Option<String>, String)>,
    techniques: BTreeMap<String, Technique>,
    software: BTreeMap<String, Software>,
    #[serde(default)]
    citations: Vec<Citation>,
    groups: Vec<Group>,
    campaigns: Vec<Campaign>,
}

/// What the scorer needs of one group, derived from its edges and its campaigns.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupProfile {
    /// Technique and software ids, exactly as listed.
    pub exact: HashSet<String>,
    /// Parent techniques of every technique listed (and parents listed directly).
    pub parents: HashSet<String>,
    pub techniques: usize,
    pub software: usize,
}

/// Everything the attribution knows.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    pub attack: AttackInfo,
    /// MITRE's copyright line; `ATTACK-LICENSE.txt` sits beside the data file.
    pub notice: Option<String>,
    pub alias_sources: BTreeMap<String, String>,
    /// Tactic short name → (TA id, name).
    pub tactics: BTreeMap<String, (Option<String>, String)>,
    pub techniques: BTreeMap<String, Technique>,
    pub software: BTreeMap<String, Software>,
    pub citations: Vec<Citation>,
    pub groups: Vec<Group>,
    pub campaigns: Vec<Campaign>,
    pub exchange: ExchangeFacts,
    pub(crate) profiles: Vec<GroupProfile>,
    pub(crate) group_index: HashMap<String, usize>,
}

/// `T1003.001` → `T1003`; a parent or software id maps to itself.
pub(crate) fn parent_of(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

impl KnowledgeBase {
    /// The knowledge base shipped with the crate (ATT&CK as generated, curated Exchange facts).
    pub fn embedded() -> KnowledgeBase {
        KnowledgeBase::from_kb_json(EMBEDDED).expect("embedded kb.json is valid")
    }

    /// Read a knowledge base in the `kb.json` format.
    pub fn from_kb_json(text: &str) -> Result<KnowledgeBase> {
        let f: KbFile = serde_json::from_str(text).map_err(|source| Error::Json {
            what: "kb.json".into(),
            source,
        })?;
        let mut kb = KnowledgeBase {
            attack: f.attack,
            notice: f.notice,
            alias_sources: f.alias_sources,
            tactics: f.tactics,
            techniques: f.techniques,
            software: f.software,
            citations: f.citations,
            groups: f.groups,
            campaigns: f.campaigns,
            exchange: ExchangeFacts::embedded(),
            profiles: Vec::new(),
            group_index: HashMap::new(),
        };
        kb.reindex();
        Ok(kb)
    }

    /// Write the knowledge base in the `kb.json` format (without the curated Exchange facts).
    pub fn to_kb_json(&self) -> String {
        let f = KbFile {
            format: 1,
            notice: self.notice.clone(),
            attack: self.attack.clone(),
            alias_sources: self.alias_sources.clone(),
            tactics: self.tactics.clone(),
            techniques: self.techniques.clone(),
            software: self.software.clone(),
            citations: self.citations.clone(),
            groups: self.groups.clone(),
            campaigns: self.campaigns.clone(),
        };
        serde_json::to_string(&f).expect("serializable")
    }

    pub(crate) fn reindex(&mut self) {
        let camp: HashMap<&str, &Campaign> =
            self.campaigns.iter().map(|c| (c.id.as_str(), c)).collect();
        self.group_index = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i))
            .collect();
        self.profiles = self
            .groups
            .iter()
            .map(|g| {
                let mut p = GroupProfile::default();
                let mut add = |f: &str| {
                    if p.exact.insert(f.to_string()) {
                        if f.starts_with('T') {
                            p.techniques += 1;
                            p.parents.insert(parent_of(f).to_string());
                        } else {
                            p.software += 1;
                        }
                    }
                };
                for u in &g.uses {
                    add(&u.0);
                }
                for cid in &g.campaigns {
                    if let Some(c) = camp.get(cid.as_str()) {
                        for u in &c.uses {
                            add(&u.0);
                        }
                    }
                }
                p
            })
            .collect();
    }

    /// A group by ATT&CK id.
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.group_index.get(id).map(|&i| &self.groups[i])
    }

    /// The technique and software ids a group is known for (its own and its campaigns' edges).
    pub fn group_features(&self, id: &str) -> BTreeSet<String> {
        self.group_index
            .get(id)
            .map(|&i| self.profiles[i].exact.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many groups use a technique or software (a parent technique counts its sub-techniques).
    pub fn groups_using(&self, feature: &str) -> usize {
        let parent_level = !feature.contains('.') && feature.starts_with('T');
        self.profiles
            .iter()
            .filter(|p| {
                if parent_level {
                    p.parents.contains(feature)
                } else {
                    p.exact.contains(feature)
                }
            })
            .count()
    }

    /// A group whose ATT&CK name or ATT&CK alias is `name` (case-insensitive). Only ATT&CK's own
    /// names are used, so no other source's alias is followed.
    pub fn group_by_attack_name(&self, name: &str) -> Option<&Group> {
        let n = name.trim();
        self.groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(n))
            .or_else(|| self.groups.iter().find(|g| g.name.eq_ignore_ascii_case(n)))
            .or_else(|| {
                self.groups
                    .iter()
                    .find(|g| g.aliases.attack.iter().any(|a| a.eq_ignore_ascii_case(n)))
            })
    }

    /// The knowledge base with one campaign left out, as the issue defines it: the campaign, its
    /// `uses` edges and its `attributed-to` links are gone; its groups keep all their own edges,
    /// even those citing the same reports as the campaign (what the reference notes measured).
    pub fn without_campaign_edges(&self, campaign_id: &str) -> KnowledgeBase {
        let mut kb = self.clone();
        for g in kb.groups.iter_mut() {
            g.campaigns.retain(|x| x != campaign_id);
        }
        kb.campaigns.retain(|x| x.id != campaign_id);
        kb.reindex();
        kb
    }

    /// The knowledge base with one campaign left out, strictly: its edges are gone, and so is
    /// every edge of its groups that is only known from the campaign's own reports (all of the
    /// edge's citations are among the campaign's citations), since such an edge restates the
    /// campaign rather than adding independent knowledge of the group.
    pub fn without_campaign(&self, campaign_id: &str) -> KnowledgeBase {
        let mut kb = self.clone();
        let Some(c) = self.campaigns.iter().find(|c| c.id == campaign_id) else {
            return kb;
        };
        let mut cites: HashSet<usize> = c.cites.iter().copied().collect();
        for u in &c.uses {
            cites.extend(u.1.iter().copied());
        }
        for g in kb.groups.iter_mut() {
            if !g.campaigns.iter().any(|x| x == campaign_id) {
                continue;
            }
            g.campaigns.retain(|x| x != campaign_id);
            g.uses
                .retain(|u| u.1.is_empty() || !u.1.iter().all(|i| cites.contains(i)));
        }
        kb.campaigns.retain(|x| x.id != campaign_id);
        kb.reindex();
        kb
    }

    /// The knowledge base without what one report (citation index `citation`) says of one group:
    /// every edge of the group, or of its campaigns, that only this report supports is gone.
    /// Edges the report shares with other reports stay, since those are known independently.
    /// The benchmark scores such a report's features as a pseudo-campaign of the group.
    pub fn without_report(&self, group_id: &str, citation: usize) -> KnowledgeBase {
        let mut kb = self.clone();
        let only_this = |u: &Use| !u.1.is_empty() && u.1.iter().all(|&i| i == citation);
        let Some(g) = kb.groups.iter_mut().find(|g| g.id == group_id) else {
            return kb;
        };
        g.uses.retain(|u| !only_this(u));
        let campaigns = g.campaigns.clone();
        for c in kb
            .campaigns
            .iter_mut()
            .filter(|c| campaigns.contains(&c.id))
        {
            c.uses.retain(|u| !only_this(u));
        }
        kb.reindex();
        kb
    }

    /// The display name of a feature: `T1505.003 Web Shell`, `S0020 China Chopper`.
    pub fn feature_name(&self, id: &str) -> String {
        if let Some(t) = self.techniques.get(id) {
            if let Some(p) = self
                .techniques
                .get(parent_of(id))
                .filter(|_| id.contains('.'))
            {
                return format!("{id} {}: {}", p.name, t.name);
            }
            return format!("{id} {}", t.name);
        }
        if let Some(s) = self.software.get(id) {
            return format!("{id} {}", s.name);
        }
        id.to_string()
    }
}

// ---- loading a STIX bundle ---------------------------------------------------------------------

#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: String,
    objects: Vec<StixObject>,
}

#[derive(Deserialize)]
struct ExtRef {
    source_name: Option<String>,
    external_id: Option<String>,
    description: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct KillChainPhase {
    kill_chain_name: String,
    phase_name: String,
}

#[derive(Deserialize)]
struct MarkingDef {
    statement: Option<String>,
}

#[derive(Deserialize)]
struct StixObject {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    x_mitre_aliases: Vec<String>,
    #[serde(default)]
    external_references: Vec<ExtRef>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    x_mitre_deprecated: bool,
    #[serde(default)]
    relationship_type: Option<String>,
    #[serde(default)]
    source_ref: Option<String>,
    #[serde(default)]
    target_ref: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    kill_chain_phases: Vec<KillChainPhase>,
    #[serde(default)]
    x_mitre_shortname: Option<String>,
    #[serde(default)]
    x_mitre_version: Option<String>,
    #[serde(default)]
    x_mitre_attack_spec_version: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    first_seen: Option<String>,
    #[serde(default)]
    last_seen: Option<String>,
    #[serde(default)]
    definition: Option<MarkingDef>,
}

impl StixObject {
    fn attack_id(&self) -> Option<&str> {
        self.external_references
            .iter()
            .find(|r| r.source_name.as_deref() == Some("mitre-attack"))
            .and_then(|r| r.external_id.as_deref())
    }
    fn live(&self) -> bool {
        !self.revoked && !self.x_mitre_deprecated
    }
}

fn citation_date(desc: &str) -> Option<String> {
    // "Author. (2021, March 2). Title." → 2021-03-02
    let open = desc.find('(')?;
    let rest = &desc[open + 1..];
    let close = rest.find(')')?;
    let inner = &rest[..close];
    let mut parts = inner.split(',').map(str::trim);
    let year = parts.next()?;
    if year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let Some(md) = parts.next() else {
        return Some(year.to_string());
    };
    let mut md = md.split_whitespace();
    let month = md.next().unwrap_or("").to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let Some(m) = MONTHS.iter().position(|x| *x == month) else {
        return Some(year.to_string());
    };
    match md.next().and_then(|d| d.parse::<u32>().ok()) {
        Some(d) => Some(format!("{year}-{:02}-{d:02}", m + 1)),
        None => Some(format!("{year}-{:02}", m + 1)),
    }
}

/// Load a MITRE ATT&CK Enterprise bundle (STIX 2.0 or 2.1; plain JSON or `.xz`) given at run
/// time, e.g. a newer release than the one shipped. Groups, techniques, software, campaigns and
/// ATT&CK aliases come from the bundle; aliases from other sources (MISP, Microsoft) are taken
/// from the shipped knowledge base for the groups it knows, by ATT&CK id only.
pub fn load_attack_bundle(path: impl AsRef<Path>) -> Result<KnowledgeBase> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let raw = std::fs::read(path).map_err(|source| Error::Io {
        path: shown.clone(),
        source,
    })?;
    let bytes = if raw.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        let mut out = Vec::with_capacity(raw.len() * 16);
        lzma_rs::xz_decompress(&mut std::io::BufReader::new(&raw[..]), &mut out).map_err(|e| {
            Error::Xz {
                path: shown.clone(),
                message: e.to_string(),
            }
        })?;
        out
    } else {
        raw
    };
    let bundle: Bundle = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        what: shown.clone(),
        source,
    })?;
    if bundle.kind != "bundle" {
        return Err(Error::NotABundle {
            what: shown,
            message: format!("type is {:?}", bundle.kind),
        });
    }
    let shipped = KnowledgeBase::embedded();
    let kb = from_bundle(bundle, &shipped);
    if kb.groups.is_empty() {
        return Err(Error::NotABundle {
            what: shown,
            message: "no intrusion-set objects".into(),
        });
    }
    Ok(kb)
}

/// Read a bundle from any reader (plain JSON).
pub fn load_attack_bundle_reader(r: impl Read) -> Result<KnowledgeBase> {
    let bundle: Bundle = serde_json::from_reader(r).map_err(|source| Error::Json {
        what: "bundle".into(),
        source,
    })?;
    Ok(from_bundle(bundle, &KnowledgeBase::embedded()))
}

fn from_bundle(bundle: Bundle, shipped: &KnowledgeBase) -> KnowledgeBase {
    let objs = bundle.objects;
    let mut cit_info: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for o in &objs {
        for r in &o.external_references {
            if let Some(sn) = &r.source_name
                && sn != "mitre-attack"
                && !cit_info.contains_key(sn)
            {
                cit_info.insert(
                    sn.clone(),
                    (
                        r.description.as_deref().and_then(citation_date),
                        r.url.clone(),
                    ),
                );
            }
        }
    }
    let mut citations: Vec<Citation> = Vec::new();
    let mut cit_index: HashMap<String, usize> = HashMap::new();
    let mut cite = |sn: &str| -> usize {
        if let Some(&i) = cit_index.get(sn) {
            return i;
        }
        let (d, u) = cit_info.get(sn).cloned().unwrap_or((None, None));
        citations.push(Citation(sn.to_string(), d, u));
        cit_index.insert(sn.to_string(), citations.len() - 1);
        citations.len() - 1
    };

    let mut attack = AttackInfo::default();
    let mut notice = None;
    let mut tactics = BTreeMap::new();
    let mut techniques = BTreeMap::new();
    let mut software = BTreeMap::new();
    let mut feature_by_stix: HashMap<String, String> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut group_by_stix: HashMap<String, usize> = HashMap::new();
    let mut campaigns: Vec<Campaign> = Vec::new();
    let mut camp_by_stix: HashMap<String, usize> = HashMap::new();

    for o in &objs {
        match o.kind.as_str() {
            "x-mitre-collection" => {
                attack = AttackInfo {
                    version: o.x_mitre_version.clone(),
                    modified: o.modified.clone(),
                    spec: o.x_mitre_attack_spec_version.clone(),
                }
            }
            "marking-definition" => {
                if let Some(d) = &o.definition {
                    notice = d.statement.clone();
                }
            }
            "x-mitre-tactic" if o.live() => {
                if let Some(sn) = &o.x_mitre_shortname {
                    tactics.insert(
                        sn.clone(),
                        (
                            o.attack_id().map(str::to_string),
                            o.name.clone().unwrap_or_default(),
                        ),
                    );
                }
            }
            "attack-pattern" if o.live() => {
                if let Some(id) = o.attack_id() {
                    feature_by_stix.insert(o.id.clone(), id.to_string());
                    techniques.insert(
                        id.to_string(),
                        Technique {
                            name: o.name.clone().unwrap_or_default(),
                            tactics: o
                                .kill_chain_phases
                                .iter()
                                .filter(|k| k.kill_chain_name == "mitre-attack")
                                .map(|k| k.phase_name.clone())
                                .collect(),
                            groups: 0,
                        },
                    );
                }
            }
            "malware" | "tool" if o.live() => {
                if let Some(id) = o.attack_id() {
                    feature_by_stix.insert(o.id.clone(), id.to_string());
                    let name = o.name.clone().unwrap_or_default();
                    software.insert(
                        id.to_string(),
                        Software {
                            aliases: o
                                .x_mitre_aliases
                                .iter()
                                .filter(|a| **a != name)
                                .cloned()
                                .collect(),
                            name,
                            kind: o.kind.clone(),
                            groups: 0,
                        },
                    );
                }
            }
            "intrusion-set" if o.live() => {
                if let Some(id) = o.attack_id() {
                    let name = o.name.clone().unwrap_or_default();
                    let mut aliases = shipped
                        .group(id)
                        .map(|g| g.aliases.clone())
                        .unwrap_or_default();
                    aliases.attack = o.aliases.iter().filter(|a| **a != name).cloned().collect();
                    group_by_stix.insert(o.id.clone(), groups.len());
                    groups.push(Group {
                        id: id.to_string(),
                        stix: o.id.clone(),
                        url: format!("https://attack.mitre.org/groups/{id}"),
                        name,
                        aliases,
                        uses: Vec::new(),
                        campaigns: Vec::new(),
                    });
                }
            }
            "campaign" if o.live() => {
                if let Some(id) = o.attack_id() {
                    let cites: BTreeSet<usize> = o
                        .external_references
                        .iter()
                        .filter(|r| {
                            r.source_name
                                .as_deref()
                                .is_some_and(|s| s != "mitre-attack")
                                && r.description
                                    .as_deref()
                                    .is_some_and(|d| !d.starts_with("(Citation:"))
                        })
                        .map(|r| cite(r.source_name.as_deref().unwrap()))
                        .collect();
                    camp_by_stix.insert(o.id.clone(), campaigns.len());
                    campaigns.push(Campaign {
                        id: id.to_string(),
                        name: o.name.clone().unwrap_or_default(),
                        first_seen: o
                            .first_seen
                            .as_deref()
                            .map(|s| s[..s.len().min(10)].to_string()),
                        last_seen: o
                            .last_seen
                            .as_deref()
                            .map(|s| s[..s.len().min(10)].to_string()),
                        attributed_to: Vec::new(),
                        uses: Vec::new(),
                        cites: cites.into_iter().collect(),
                    });
                }
            }
            _ => {}
        }
    }
    for o in &objs {
        if o.kind != "relationship" || !o.live() {
            continue;
        }
        let (Some(rt), Some(s), Some(t)) = (&o.relationship_type, &o.source_ref, &o.target_ref)
        else {
            continue;
        };
        match rt.as_str() {
            "uses" => {
                let Some(f) = feature_by_stix.get(t) else {
                    continue;
                };
                let mut keys: BTreeSet<usize> = o
                    .external_references
                    .iter()
                    .filter_map(|r| r.source_name.as_deref())
                    .filter(|s| *s != "mitre-attack")
                    .map(&mut cite)
                    .collect();
                if let Some(d) = &o.description {
                    for part in d.split("(Citation: ").skip(1) {
                        if let Some(end) = part.find(')') {
                            let key = &part[..end];
                            if cit_info.contains_key(key) {
                                keys.insert(cite(key));
                            }
                        }
                    }
                }
                let u = Use(f.clone(), keys.into_iter().collect());
                if let Some(&gi) = group_by_stix.get(s) {
                    groups[gi].uses.push(u);
                } else if let Some(&ci) = camp_by_stix.get(s) {
                    campaigns[ci].uses.push(u);
                }
            }
            "attributed-to" => {
                if let (Some(&ci), Some(&gi)) = (camp_by_stix.get(s), group_by_stix.get(t)) {
                    let gid = groups[gi].id.clone();
                    let cid = campaigns[ci].id.clone();
                    campaigns[ci].attributed_to.push(gid);
                    groups[gi].campaigns.push(cid);
                }
            }
            _ => {}
        }
    }
    for g in groups.iter_mut() {
        g.uses.sort_by(|a, b| a.0.cmp(&b.0));
        g.uses.dedup_by(|a, b| a.0 == b.0);
    }
    for c in campaigns.iter_mut() {
        c.uses.sort_by(|a, b| a.0.cmp(&b.0));
        c.uses.dedup_by(|a, b| a.0 == b.0);
    }
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    campaigns.sort_by(|a, b| a.id.cmp(&b.id));
    let mut kb = KnowledgeBase {
        attack,
        notice,
        alias_sources: shipped.alias_sources.clone(),
        tactics,
        techniques,
        software,
        citations,
        groups,
        campaigns,
        exchange: shipped.exchange.clone(),
        profiles: Vec::new(),
        group_index: HashMap::new(),
    };
    kb.reindex();
    let counts: Vec<(String, usize)> = kb
        .techniques
        .keys()
        .chain(kb.software.keys())
        .map(|f| {
            (
                f.clone(),
                kb.profiles.iter().filter(|p| p.exact.contains(f)).count(),
            )
        })
        .collect();
    for (f, n) in counts {
        if let Some(t) = kb.techniques.get_mut(&f) {
            t.groups = n;
        } else if let Some(s) = kb.software.get_mut(&f) {
            s.groups = n;
        }
    }
    kb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citation_dates() {
        assert_eq!(
            citation_date("MSTIC. (2021, March 2). HAFNIUM targeting."),
            Some("2021-03-02".into())
        );
        assert_eq!(citation_date("X. (2020). Y."), Some("2020".into()));
        assert_eq!(citation_date("X. (n.d.). Y."), None);
    }
}
