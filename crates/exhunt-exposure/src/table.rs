//! The cited build table (`data/builds.json`), loaded once and indexed.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Build;

const DATA: &str = include_str!("../data/builds.json");

/// How sure a release date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    Day,
    /// Only the month is known; the date given is a documented stand-in.
    Month,
}

/// The whole table as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    pub about: String,
    pub snapshot: String,
    /// Source key → citation text; every row names its sources by these keys.
    pub sources: BTreeMap<String, String>,
    pub proxylogon_cves: Vec<String>,
    pub products: Vec<Product>,
    pub updates: Vec<Update>,
    pub cves: Vec<CveInfo>,
}

/// One product line (Exchange 2013, 2016, 2019, SE, 2010 SP3).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub major: u16,
    pub minor: u16,
    /// `build`: a CU is identified by the third number (2013 and later); `minor`: all builds of
    /// the major.minor belong to the one service pack listed (2010, whose rollups bump the build).
    pub cu_by: String,
    #[serde(default)]
    pub build_from: Option<u32>,
    #[serde(default)]
    pub build_below: Option<u32>,
    #[serde(default)]
    pub end_of_support: Option<NaiveDate>,
    #[serde(default)]
    pub notes: Option<String>,
    pub cus: Vec<Cu>,
}

/// A cumulative update (or RTM / service pack) and the updates released for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cu {
    pub name: String,
    pub build: Build,
    pub date: NaiveDate,
    pub date_precision: DatePrecision,
    pub sources: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    pub updates: Vec<CuUpdate>,
}

/// A security or hotfix update as released for one CU: its build there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CuUpdate {
    pub update: String,
    pub build: Build,
    pub sources: Vec<String>,
    /// The March 2021 SU for an out-of-support CU: fixes only the four ProxyLogon CVEs.
    #[serde(default)]
    pub proxylogon_only: bool,
    /// Other build numbers published for the same package.
    #[serde(default)]
    pub also_seen_as: Vec<Build>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A security update (SU) or hotfix update (HU), across products.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    pub name: String,
    pub kind: String,
    pub date: NaiveDate,
    pub date_precision: DatePrecision,
    /// `patch-tuesday`, `out-of-band` or `unknown-day`.
    pub date_basis: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub kb: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub notes_date: Option<String>,
    pub cves: Vec<UpdateCve>,
}

/// A CVE an update fixes, limited to some products when `products` is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateCve {
    pub cve: String,
    #[serde(default)]
    pub products: Option<Vec<String>>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub requires_config: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Facts about one CVE: campaign names and known exploitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CveInfo {
    pub id: String,
    pub campaigns: Vec<String>,
    pub known_exploited: bool,
    #[serde(default)]
    pub kev_sources: Vec<String>,
    #[serde(default)]
    pub kev_added: Option<NaiveDate>,
    #[serde(default)]
    pub requires_config: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl UpdateCve {
    pub fn applies_to(&self, product: &str) -> bool {
        self.products
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|p| p == product))
    }
}

impl Product {
    /// Whether a build number belongs to this product line.
    pub fn matches(&self, b: &Build) -> bool {
        b.major == self.major
            && b.minor == self.minor
            && self.build_from.is_none_or(|f| b.build >= f)
            && self.build_below.is_none_or(|u| b.build < u)
    }
}

impl Table {
    pub fn update(&self, name: &str) -> Option<&Update> {
        self.updates.iter().find(|u| u.name == name)
    }

    pub fn cve(&self, id: &str) -> Option<&CveInfo> {
        self.cves.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    pub fn product_for(&self, b: &Build) -> Option<&Product> {
        self.products.iter().find(|p| p.matches(b))
    }

    pub fn is_proxylogon(&self, cve: &str) -> bool {
        self.proxylogon_cves.iter().any(|c| c == cve)
    }
}

/// The build table compiled into the crate.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(DATA).unwrap_or_else(|e| {
            panic!("exhunt-exposure data/builds.json is invalid ({e}); fix the data file")
        })
    })
}
