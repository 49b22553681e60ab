//! The curated, cited facts on Exchange exploitation campaigns (`data/exchange-campaigns.json`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const EMBEDDED: &str = include_str!("../data/exchange-campaigns.json");

/// A public report or statement a fact comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub publisher: String,
    pub date: String,
    pub title: String,
    pub url: Option<String>,
    /// Admiralty source reliability: A (government), B (vendor research), C.
    pub reliability: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iocs: Option<String>,
}

/// "Actor X exploited CVEs Y from date Z", with the window the fact applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exploitation {
    /// ProxyLogon, ProxyShell, ProxyNotShell.
    pub campaign: String,
    pub cves: Vec<String>,
    pub first_seen: String,
    pub until: String,
    /// pre-patch, post-patch, post-disclosure.
    pub relative_to_patch: String,
    pub first_seen_precision: String,
    pub statement: String,
    pub source: String,
}

impl Exploitation {
    pub fn from(&self) -> DateTime<Utc> {
        day(&self.first_seen)
    }
    /// End of the window: the end of the `until` day.
    pub fn until(&self) -> DateTime<Utc> {
        day(&self.until) + chrono::Duration::days(1)
    }
}

fn day(s: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A web shell or dropped file path a report ties to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebshellFact {
    /// Lowercase, `/`-separated. A leading `/` anchors it at the drive root; otherwise it
    /// matches the end of a path on a component boundary.
    pub pattern: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A tool a report says the cluster used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolFact {
    pub name: String,
    /// Lowercase substrings that show the tool in a command line, path or rule title.
    #[serde(default)]
    pub keywords: Vec<String>,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_software: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A C&C or exploitation address or domain a report ties to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Infrastructure {
    pub value: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub role: String,
    pub source: String,
}

/// One actor or activity cluster as the reports describe its Exchange exploitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeCluster {
    pub key: String,
    pub name: String,
    /// The ATT&CK group the reporting source names, when it is in ATT&CK.
    pub attack_id: Option<String>,
    pub named_by: String,
    #[serde(default)]
    pub exploitation: Vec<Exploitation>,
    #[serde(default)]
    pub webshells: Vec<WebshellFact>,
    #[serde(default)]
    pub tools: Vec<ToolFact>,
    #[serde(default)]
    pub infrastructure: Vec<Infrastructure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A government or vendor statement linking activity or an intrusion set to a state, quoted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateStatement {
    pub subject: String,
    /// The ATT&CK group the statement names, if it names one.
    pub intrusion_set: Option<String>,
    pub state_entity: String,
    /// The statement's own words, as far as the reference quotes them.
    pub quote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_context: Option<String>,
    pub quote_is_partial: bool,
    pub estimative_wording: Option<String>,
    pub source: String,
}

/// The whole curated file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeFacts {
    pub about: String,
    pub patch_release: DateTime<Utc>,
    pub reliability_scale: String,
    pub sources: BTreeMap<String, Source>,
    pub clusters: Vec<ExchangeCluster>,
    pub state_statements: Vec<StateStatement>,
}

impl ExchangeFacts {
    /// The facts shipped with the crate.
    pub fn embedded() -> ExchangeFacts {
        ExchangeFacts::from_json(EMBEDDED).expect("embedded exchange-campaigns.json is valid")
    }

    pub fn from_json(text: &str) -> Result<ExchangeFacts> {
        serde_json::from_str(text).map_err(|source| Error::Json {
            what: "exchange-campaigns.json".into(),
            source,
        })
    }

    /// Admiralty reliability of a source key ("F" when unknown).
    pub fn reliability(&self, source: &str) -> &str {
        self.sources
            .get(source)
            .map(|s| s.reliability.as_str())
            .unwrap_or("F")
    }

    /// A one-line citation: publisher, date, title, URL.
    pub fn cite(&self, source: &str) -> String {
        match self.sources.get(source) {
            Some(s) => match &s.url {
                Some(u) => format!("{} ({}), \"{}\", {}", s.publisher, s.date, s.title, u),
                None => format!("{} ({}), \"{}\"", s.publisher, s.date, s.title),
            },
            None => source.to_string(),
        }
    }

    /// The campaign family a CVE id belongs to (ProxyLogon, ProxyShell...), if any fact lists it.
    pub fn family_of(&self, cve: &str) -> Option<&str> {
        self.clusters
            .iter()
            .flat_map(|c| c.exploitation.iter())
            .find(|e| e.cves.iter().any(|c| c.eq_ignore_ascii_case(cve)))
            .map(|e| e.campaign.as_str())
    }
}
