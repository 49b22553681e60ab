//! The ATT&CK vocabulary the exports need: tactics in kill-chain order and a small table of the
//! techniques exhunt's built-in rules (and common Exchange intrusions) use, with their names.
//!
//! Names and tactic assignments are those of MITRE ATT&CK Enterprise (v18). A technique missing
//! here still appears in every output, named by its id and placed under the tactics its findings
//! are tagged with.

use std::collections::{BTreeMap, BTreeSet};

use exhunt_model::Finding;

/// Enterprise tactics in matrix order: (short name, id, display name).
pub const TACTICS: &[(&str, &str, &str)] = &[
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resource-development", "TA0042", "Resource Development"),
    ("initial-access", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilege-escalation", "TA0004", "Privilege Escalation"),
    ("defense-evasion", "TA0005", "Defense Evasion"),
    ("credential-access", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateral-movement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("command-and-control", "TA0011", "Command and Control"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("impact", "TA0040", "Impact"),
];

/// Technique id → (name, tactics).
const TECHNIQUES: &[(&str, &str, &[&str])] = &[
    ("T1003", "OS Credential Dumping", &["credential-access"]),
    ("T1003.001", "LSASS Memory", &["credential-access"]),
    ("T1003.003", "NTDS", &["credential-access"]),
    ("T1005", "Data from Local System", &["collection"]),
    (
        "T1016",
        "System Network Configuration Discovery",
        &["discovery"],
    ),
    ("T1018", "Remote System Discovery", &["discovery"]),
    (
        "T1021.001",
        "Remote Desktop Protocol",
        &["lateral-movement"],
    ),
    (
        "T1021.002",
        "SMB/Windows Admin Shares",
        &["lateral-movement"],
    ),
    (
        "T1027",
        "Obfuscated Files or Information",
        &["defense-evasion"],
    ),
    ("T1033", "System Owner/User Discovery", &["discovery"]),
    ("T1036", "Masquerading", &["defense-evasion"]),
    ("T1039", "Data from Network Shared Drive", &["collection"]),
    ("T1041", "Exfiltration Over C2 Channel", &["exfiltration"]),
    ("T1046", "Network Service Discovery", &["discovery"]),
    (
        "T1047",
        "Windows Management Instrumentation",
        &["execution"],
    ),
    (
        "T1048",
        "Exfiltration Over Alternative Protocol",
        &["exfiltration"],
    ),
    (
        "T1053.005",
        "Scheduled Task",
        &["execution", "persistence", "privilege-escalation"],
    ),
    ("T1057", "Process Discovery", &["discovery"]),
    ("T1059", "Command and Scripting Interpreter", &["execution"]),
    ("T1059.001", "PowerShell", &["execution"]),
    ("T1059.003", "Windows Command Shell", &["execution"]),
    ("T1069.002", "Domain Groups", &["discovery"]),
    ("T1070", "Indicator Removal", &["defense-evasion"]),
    ("T1070.004", "File Deletion", &["defense-evasion"]),
    ("T1071.001", "Web Protocols", &["command-and-control"]),
    ("T1074.001", "Local Data Staging", &["collection"]),
    (
        "T1078",
        "Valid Accounts",
        &[
            "defense-evasion",
            "persistence",
            "privilege-escalation",
            "initial-access",
        ],
    ),
    ("T1082", "System Information Discovery", &["discovery"]),
    ("T1087.002", "Domain Account", &["discovery"]),
    ("T1087.003", "Email Account", &["discovery"]),
    ("T1090", "Proxy", &["command-and-control"]),
    (
        "T1098",
        "Account Manipulation",
        &["persistence", "privilege-escalation"],
    ),
    ("T1105", "Ingress Tool Transfer", &["command-and-control"]),
    ("T1110", "Brute Force", &["credential-access"]),
    (
        "T1112",
        "Modify Registry",
        &["defense-evasion", "persistence"],
    ),
    ("T1114", "Email Collection", &["collection"]),
    ("T1114.001", "Local Email Collection", &["collection"]),
    ("T1114.002", "Remote Email Collection", &["collection"]),
    (
        "T1133",
        "External Remote Services",
        &["persistence", "initial-access"],
    ),
    ("T1136.001", "Local Account", &["persistence"]),
    (
        "T1140",
        "Deobfuscate/Decode Files or Information",
        &["defense-evasion"],
    ),
    (
        "T1190",
        "Exploit Public-Facing Application",
        &["initial-access"],
    ),
    (
        "T1210",
        "Exploitation of Remote Services",
        &["lateral-movement"],
    ),
    ("T1218.011", "Rundll32", &["defense-evasion"]),
    ("T1505", "Server Software Component", &["persistence"]),
    ("T1505.003", "Web Shell", &["persistence"]),
    (
        "T1543.003",
        "Windows Service",
        &["persistence", "privilege-escalation"],
    ),
    ("T1560", "Archive Collected Data", &["collection"]),
    ("T1560.001", "Archive via Utility", &["collection"]),
    ("T1562.001", "Disable or Modify Tools", &["defense-evasion"]),
    ("T1567", "Exfiltration Over Web Service", &["exfiltration"]),
    (
        "T1567.002",
        "Exfiltration to Cloud Storage",
        &["exfiltration"],
    ),
    ("T1588.005", "Exploits", &["resource-development"]),
    ("T1595", "Active Scanning", &["reconnaissance"]),
    ("T1595.002", "Vulnerability Scanning", &["reconnaissance"]),
    ("T1595.003", "Wordlist Scanning", &["reconnaissance"]),
];

/// The name and tactics of a technique, when the table has it.
pub fn technique_info(id: &str) -> Option<(&'static str, &'static [&'static str])> {
    TECHNIQUES
        .iter()
        .find(|(t, _, _)| *t == id)
        .map(|(_, n, ts)| (*n, *ts))
}

/// The display name of a technique (its id when unknown).
pub fn technique_name(id: &str) -> String {
    technique_info(id)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| id.to_string())
}

/// The display name of a tactic short name.
pub fn tactic_name(short: &str) -> String {
    TACTICS
        .iter()
        .find(|(s, _, _)| *s == short)
        .map(|(_, _, n)| n.to_string())
        .unwrap_or_else(|| short.to_string())
}

/// Technique ids (upper case, `T1505.003`) tagged on a finding.
pub fn techniques_of(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter_map(|t| {
            let rest = t.to_ascii_lowercase();
            let rest = rest.strip_prefix("attack.t")?;
            let ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.');
            ok.then(|| format!("T{rest}"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Tactic short names (`initial-access`) tagged on a finding.
pub fn tactics_of(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter_map(|t| {
            let rest = t
                .to_ascii_lowercase()
                .strip_prefix("attack.")?
                .replace('_', "-");
            TACTICS.iter().any(|(s, _, _)| *s == rest).then_some(rest)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One technique seen in the findings.
#[derive(Debug, Clone)]
pub struct TechniqueUse {
    pub id: String,
    pub name: String,
    /// Tactic short names the technique is shown under, in matrix order.
    pub tactics: Vec<String>,
    /// Number of findings tagged with it.
    pub findings: usize,
    /// Titles of the rules behind those findings, sorted.
    pub rules: BTreeSet<String>,
}

/// The techniques of a set of findings, by id, gathered one finding at a time (so findings can
/// be streamed; nothing here depends on their order).
///
/// A technique is placed under the tactics of the table that its findings are also tagged
/// with; when the tags name none of them, under all its table tactics; when the table does not
/// know the technique, under the tactics its findings are tagged with (or none).
#[derive(Debug, Default)]
pub struct TechniqueUses {
    uses: BTreeMap<String, TechniqueUse>,
    tagged_tactics: BTreeMap<String, BTreeSet<String>>,
}

impl TechniqueUses {
    pub fn add(&mut self, f: &Finding) {
        let tactics = tactics_of(&f.tags);
        for t in techniques_of(&f.tags) {
            let e = self.uses.entry(t.clone()).or_insert_with(|| TechniqueUse {
                id: t.clone(),
                name: technique_name(&t),
                tactics: Vec::new(),
                findings: 0,
                rules: BTreeSet::new(),
            });
            e.findings += 1;
            if !e.rules.contains(&f.rule.title) {
                e.rules.insert(f.rule.title.clone());
            }
            self.tagged_tactics
                .entry(t)
                .or_default()
                .extend(tactics.iter().cloned());
        }
    }

    pub fn finish(self) -> BTreeMap<String, TechniqueUse> {
        let TechniqueUses {
            uses: mut out,
            tagged_tactics,
        } = self;
        for (id, u) in out.iter_mut() {
            let tagged = tagged_tactics.get(id).cloned().unwrap_or_default();
            let chosen: Vec<String> = match technique_info(id) {
                Some((_, table)) => {
                    let both: Vec<String> = table
                        .iter()
                        .filter(|t| tagged.contains(**t))
                        .map(|t| t.to_string())
                        .collect();
                    if both.is_empty() {
                        table.iter().map(|t| t.to_string()).collect()
                    } else {
                        both
                    }
                }
                None => tagged.into_iter().collect(),
            };
            let mut ordered: Vec<String> = TACTICS
                .iter()
                .filter(|(s, _, _)| chosen.iter().any(|c| c == s))
                .map(|(s, _, _)| s.to_string())
                .collect();
            ordered.dedup();
            u.tactics = ordered;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse() {
        let tags: Vec<String> = [
            "attack.t1505.003",
            "attack.initial-access",
            "attack.credential_access",
            "cve.2021-26855",
            "attack.g0125",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(techniques_of(&tags), vec!["T1505.003"]);
        assert_eq!(
            tactics_of(&tags),
            vec!["credential-access", "initial-access"]
        );
        assert_eq!(technique_name("T1505.003"), "Web Shell");
        assert_eq!(technique_name("T9999"), "T9999");
    }
}
