//! The verdict: did it happen, through which chain, in which phases, from where.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use exhunt_model::Finding;
use serde::{Deserialize, Serialize};

/// The phases of an Exchange intrusion, in the order they happen.
pub const PHASES: &[&str] = &[
    "probing",
    "exploitation",
    "webshell",
    "post-exploitation",
    "data-theft",
];

/// The phases a finding belongs to, from its ATT&CK and CVE tags.
pub fn phases_of(tags: &[String]) -> Vec<&'static str> {
    // `p` itself or a sub-tag of it (`attack.t1505` covers `attack.t1505.003`), any case;
    // called for every finding, so no allocation.
    let has = |p: &str| {
        tags.iter().any(|t| {
            t.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
                && matches!(t.as_bytes().get(p.len()), None | Some(b'.'))
        })
    };
    let mut out = Vec::new();
    if has("attack.reconnaissance") || has("attack.t1595") {
        out.push("probing");
    }
    if has("attack.initial-access") || has("attack.initial_access") || has("attack.t1190") {
        out.push("exploitation");
    }
    if has("attack.t1505") {
        out.push("webshell");
    }
    if has("attack.credential-access")
        || has("attack.credential_access")
        || has("attack.discovery")
        || has("attack.lateral-movement")
        || has("attack.lateral_movement")
        || has("attack.t1003")
        || has("attack.t1059")
        || has("attack.privilege-escalation")
    {
        out.push("post-exploitation");
    }
    if has("attack.collection")
        || has("attack.exfiltration")
        || has("attack.t1114")
        || has("attack.t1560")
    {
        out.push("data-theft");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictLevel {
    NoEvidence,
    Probed,
    ExploitationAttempted,
    Compromised,
}

impl VerdictLevel {
    pub fn headline(&self) -> &'static str {
        match self {
            VerdictLevel::NoEvidence => "NO EVIDENCE OF COMPROMISE in what was read",
            VerdictLevel::Probed => "PROBED: scanning or probing seen, no exploitation",
            VerdictLevel::ExploitationAttempted => "EXPLOITATION ATTEMPTED: no sign of success",
            VerdictLevel::Compromised => "COMPROMISED: exploitation with follow-on activity",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseSpan {
    pub phase: String,
    pub findings: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressCount {
    pub address: String,
    pub findings: u64,
    pub first: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub level: VerdictLevel,
    pub statement: String,
    pub chains: Vec<String>,
    pub cves: Vec<String>,
    pub phases: Vec<PhaseSpan>,
    pub attacker_addresses: Vec<AddressCount>,
}

#[derive(Deserialize)]
struct ChainFile {
    chains: Vec<Chain>,
}

#[derive(Deserialize)]
struct Chain {
    name: String,
    cves: Vec<String>,
}

fn chains() -> &'static [Chain] {
    static CHAINS: OnceLock<Vec<Chain>> = OnceLock::new();
    CHAINS.get_or_init(|| {
        serde_json::from_str::<ChainFile>(include_str!("../data/chains.json"))
            .expect("data/chains.json is valid")
            .chains
    })
}

fn is_serious(f: &Finding) -> bool {
    matches!(f.rule.level.as_str(), "high" | "critical")
}

fn address_of(f: &Finding) -> Option<String> {
    let field = |n: &str| f.fields.get(n).and_then(|v| v.as_str());
    // On the Exchange back-end site (444, or 81 for HTTP) the client is the front end, not the
    // origin of the request.
    if matches!(field("s-port"), Some("444") | Some("81")) {
        return None;
    }
    let server = field("s-ip");
    exhunt_model::CLIENT_IP_FIELDS
        .iter()
        .find_map(|n| f.fields.get(*n).and_then(|v| v.as_str()))
        .map(|v| {
            // HttpProxy chains proxies in one column, separated by spaces: the first is the client.
            v.split([' ', ',']).next().unwrap_or(v).trim().to_string()
        })
        .filter(|v| !v.is_empty() && v != "-")
        .filter(|v| Some(v.as_str()) != server)
        .filter(|v| !matches!(v.as_str(), "127.0.0.1" | "::1"))
}

/// Decide the verdict from the findings.
pub fn verdict(findings: &[Finding]) -> Verdict {
    let mut b = VerdictBuilder::default();
    for f in findings {
        b.add(f);
    }
    b.finish()
}

/// The verdict built one finding at a time, for findings streamed from disk.
#[derive(Debug, Default)]
pub struct VerdictBuilder {
    spans: BTreeMap<&'static str, PhaseSpan>,
    cves: BTreeSet<String>,
    addresses: BTreeMap<String, AddressCount>,
    serious_phases: BTreeSet<&'static str>,
    findings: u64,
}

impl VerdictBuilder {
    pub fn add(&mut self, f: &Finding) {
        let VerdictBuilder {
            spans,
            cves,
            addresses,
            serious_phases,
            findings,
        } = self;
        *findings += 1;
        let phases = phases_of(&f.tags);
        for p in &phases {
            let span = spans.entry(p).or_insert_with(|| PhaseSpan {
                phase: p.to_string(),
                findings: 0,
                first: None,
                last: None,
            });
            span.findings += 1;
            if let Some(t) = f.time {
                span.first = Some(span.first.map_or(t, |x| x.min(t)));
                span.last = Some(span.last.map_or(t, |x| x.max(t)));
            }
            if is_serious(f) {
                serious_phases.insert(p);
            }
        }
        for t in &f.tags {
            if let Some(rest) = t.strip_prefix("cve.") {
                cves.insert(format!("CVE-{}", rest.to_ascii_uppercase()));
            }
        }
        if is_serious(f)
            && let Some(a) = address_of(f)
        {
            let e = addresses.entry(a.clone()).or_insert(AddressCount {
                address: a,
                findings: 0,
                first: None,
            });
            e.findings += 1;
            if let Some(t) = f.time {
                e.first = Some(e.first.map_or(t, |x| x.min(t)));
            }
        }
    }

    pub fn finish(self) -> Verdict {
        let VerdictBuilder {
            spans,
            cves,
            addresses,
            serious_phases,
            findings,
        } = self;
        let chains: Vec<String> = chains()
            .iter()
            .filter(|c| c.cves.iter().any(|cve| cves.contains(cve)))
            .map(|c| c.name.clone())
            .collect();
        let followed_up = ["webshell", "post-exploitation", "data-theft"]
            .iter()
            .any(|p| serious_phases.contains(p));
        let level = if followed_up {
            VerdictLevel::Compromised
        } else if serious_phases.contains("exploitation") || spans.contains_key("exploitation") {
            VerdictLevel::ExploitationAttempted
        } else if spans.contains_key("probing") || findings > 0 {
            VerdictLevel::Probed
        } else {
            VerdictLevel::NoEvidence
        };
        let phases: Vec<PhaseSpan> = PHASES
            .iter()
            .filter_map(|p| spans.get(p).cloned())
            .collect();
        let mut attacker_addresses: Vec<AddressCount> = addresses.into_values().collect();
        attacker_addresses
            .sort_by(|a, b| b.findings.cmp(&a.findings).then(a.address.cmp(&b.address)));
        let statement = match level {
        VerdictLevel::NoEvidence => "No rule matched. Check the coverage of the logs read (time ranges per artifact kind) before concluding.".to_string(),
        _ => {
            let first = phases.iter().filter_map(|p| p.first).min();
            let via = if chains.is_empty() { String::new() } else { format!(" via {}", chains.join(" + ")) };
            format!(
                "{}{}; first evidence {}; {} serious phase(s): {}.",
                level.headline().split(':').next().unwrap_or(""),
                via,
                first.map(crate::rfc3339).unwrap_or_else(|| "without timestamp".into()),
                serious_phases.len(),
                PHASES.iter().filter(|p| serious_phases.contains(*p)).cloned().collect::<Vec<_>>().join(", ")
            )
        }
    };
        Verdict {
            level,
            statement,
            chains,
            cves: cves.into_iter().collect(),
            phases,
            attacker_addresses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exhunt_model::RuleRef;

    fn finding(level: &str, tags: &[&str], ip: &str) -> Finding {
        let mut fields = serde_json::Map::new();
        fields.insert("c-ip".into(), ip.into());
        Finding {
            id: "x".into(),
            rule: RuleRef {
                id: "r".into(),
                title: "t".into(),
                level: level.into(),
                source: "s".into(),
            },
            tags: tags.iter().map(|s| s.to_string()).collect(),
            time: Some("2021-03-02T03:00:00Z".parse().unwrap()),
            host: None,
            evidence: vec![],
            fields,
        }
    }

    #[test]
    fn levels() {
        assert_eq!(verdict(&[]).level, VerdictLevel::NoEvidence);
        let probe = finding(
            "medium",
            &["attack.reconnaissance", "attack.t1595.002"],
            "1.2.3.4",
        );
        assert_eq!(
            verdict(std::slice::from_ref(&probe)).level,
            VerdictLevel::Probed
        );
        let ssrf = finding("critical", &["attack.t1190", "cve.2021-26855"], "5.6.7.8");
        let v = verdict(&[probe.clone(), ssrf.clone()]);
        assert_eq!(v.level, VerdictLevel::ExploitationAttempted);
        assert_eq!(v.chains, vec!["ProxyLogon"]);
        let shell = finding("high", &["attack.t1505.003"], "5.6.7.8");
        let v = verdict(&[probe, ssrf, shell]);
        assert_eq!(v.level, VerdictLevel::Compromised);
        assert_eq!(v.attacker_addresses[0].address, "5.6.7.8");
        assert_eq!(v.attacker_addresses[0].findings, 2);
        assert_eq!(
            v.phases
                .iter()
                .map(|p| p.phase.as_str())
                .collect::<Vec<_>>(),
            vec!["probing", "exploitation", "webshell"]
        );
    }
}
