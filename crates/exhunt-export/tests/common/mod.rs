//! A hand-made scan folder: several findings of each phase of a ProxyLogon intrusion, one
//! finding carrying XSS payloads in its user agent, URL and excerpt, one whose excerpt is a
//! spreadsheet formula, context rows, and (optionally) attribution.json and exposure.json in
//! the shapes the attribution and exposure crates write.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use exhunt_model::{Evidence, Finding, RuleRef, Warning};
use exhunt_report::{ArtifactStat, ContextEvent, Summary};
use serde_json::{Map, Value, json};

pub const XSS_UA: &str = "<script>alert(1)</script>";
pub const XSS_URL: &str = "/owa/auth/<img src=x onerror=alert(2)>.aspx";
pub const XSS_QUERY: &str = "u=javascript:alert(3)";
pub const XSS_WARNING: &str = "<svg onload=alert(5)>";
pub const FORMULA: &str = "=cmd|' /C calc'!A0";

fn fields(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn finding(
    id: &str,
    title: &str,
    level: &str,
    tags: &[&str],
    time: Option<&str>,
    path: &str,
    line: Option<u64>,
    record: Option<u64>,
    excerpt: &str,
    f: Map<String, Value>,
) -> Finding {
    Finding {
        id: id.to_string(),
        rule: RuleRef {
            id: format!("rule-{id}"),
            title: title.to_string(),
            level: level.to_string(),
            source: "sigma:builtin/test.yml".into(),
        },
        tags: tags.iter().map(|t| t.to_string()).collect(),
        time: time.map(|t| t.parse().expect("time")),
        host: Some("EXCH01.contoso.local".into()),
        evidence: vec![Evidence {
            path: path.to_string(),
            sha256: "a".repeat(64),
            line,
            record,
            excerpt: excerpt.to_string(),
        }],
        fields: f,
    }
}

fn iis(
    ip: &str,
    method: &str,
    stem: &str,
    query: &str,
    ua: &str,
    status: &str,
) -> Map<String, Value> {
    fields(&[
        ("s-ip", "10.10.1.20"),
        ("cs-method", method),
        ("cs-uri-stem", stem),
        ("cs-uri-query", query),
        ("s-port", "443"),
        ("c-ip", ip),
        ("cs(User-Agent)", ua),
        ("sc-status", status),
    ])
}

fn sysmon(cmd: &str, image: &str, parent: &str) -> Map<String, Value> {
    fields(&[
        ("EventID", "1"),
        ("Computer", "EXCH01.contoso.local"),
        ("CommandLine", cmd),
        ("Image", image),
        ("ParentImage", parent),
        ("User", "NT AUTHORITY\\SYSTEM"),
        ("ProcessId", "4242"),
    ])
}

const IIS_LOG: &str = "C/inetpub/logs/LogFiles/W3SVC1/u_ex210302.log";
const PROXY_LOG: &str = "C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp/HttpProxy_2021030202-1.LOG";
const SYSMON: &str = "EventLogs/Microsoft-Windows-Sysmon%4Operational.jsonl";
const CHOPPER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)";
const SHELL_HASH: &str = "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0";

pub fn findings() -> Vec<Finding> {
    let mut out = vec![
        finding(
            "f01",
            "Request for a Short Random Script Name Under OWA or ECP (ProxyLogon Probe)",
            "medium",
            &[
                "attack.reconnaissance",
                "attack.t1595.002",
                "cve.2021-26855",
            ],
            Some("2021-03-01T17:42:08Z"),
            IIS_LOG,
            Some(1088),
            None,
            "2021-03-01 17:42:08 10.10.1.20 GET /owa/auth/x.js - 443 - 167.99.168.251 python-requests/2.25.1 500 0 0 423",
            iis(
                "167.99.168.251",
                "GET",
                "/owa/auth/x.js",
                "-",
                "python-requests/2.25.1",
                "500",
            ),
        ),
        finding(
            "f02",
            "Sweep for Web Shell Names From One Client",
            "high",
            &["attack.reconnaissance", "attack.t1595.003"],
            Some("2021-03-03T09:14:02Z"),
            IIS_LOG,
            Some(380),
            None,
            "2021-03-03 09:14:02 10.10.1.20 GET /aspnet_client/shell.aspx - 443 - 5.254.43.18 python-requests/2.25.1 404 0 0 20",
            iis(
                "5.254.43.18",
                "GET",
                "/aspnet_client/shell.aspx",
                "-",
                "python-requests/2.25.1",
                "404",
            ),
        ),
        finding(
            "f03",
            "ProxyLogon SSRF - Unauthenticated Request Routed to a Back-End Path (CVE-2021-26855)",
            "critical",
            &["attack.initial-access", "attack.t1190", "cve.2021-26855"],
            Some("2021-03-02T02:57:22.796Z"),
            PROXY_LOG,
            Some(8),
            None,
            "2021-03-02T02:57:22.796Z,4f77dd76,15,2,792,3,,Ecp,mail.contoso.com,/ecp/wAR.js,,FBA,false,,,ServerInfo~EXCH01.contoso.local:444/mapi/emsmdb/?#,ExchangeServicesClient/0.0.0.0,104.140.114.110",
            fields(&[
                ("ClientIpAddress", "104.140.114.110"),
                ("UrlStem", "/ecp/wAR.js"),
                ("Method", "POST"),
                ("HttpStatus", "200"),
                ("UserAgent", "ExchangeServicesClient/0.0.0.0"),
                (
                    "AnchorMailbox",
                    "ServerInfo~EXCH01.contoso.local:444/mapi/emsmdb/?#",
                ),
            ]),
        ),
        finding(
            "f04",
            "ProxyLogon Virtual Directory Reset Through SSRF (CVE-2021-27065)",
            "critical",
            &["attack.initial-access", "attack.t1190", "cve.2021-27065"],
            Some("2021-03-02T02:57:37Z"),
            PROXY_LOG,
            Some(9),
            None,
            "2021-03-02T02:57:37.000Z,POST,/ecp/DDI/DDIService.svc/SetObject,ResetOAB,104.140.114.110",
            fields(&[
                ("ClientIpAddress", "104.140.114.110"),
                ("UrlStem", "/ecp/DDI/DDIService.svc/SetObject"),
                ("Method", "POST"),
                ("HttpStatus", "200"),
            ]),
        ),
        finding(
            "f05",
            "Exchange Unified Messaging Error With InvalidCastException (CVE-2021-26857)",
            "high",
            &["attack.initial-access", "attack.t1190", "cve.2021-26857"],
            Some("2021-03-02T02:49:31Z"),
            "EventLogs/Application.jsonl",
            None,
            Some(48273),
            "{\"EventID\":1148,\"Provider\":\"MSExchange Unified Messaging\",\"Data\":\"System.InvalidCastException\"}",
            fields(&[("EventID", "1148"), ("Computer", "EXCH01.contoso.local")]),
        ),
        finding(
            "f06",
            "Successful POST to an Unexpected Page in a Web Shell Folder",
            "high",
            &["attack.persistence", "attack.t1505.003"],
            Some("2021-03-02T03:01:00Z"),
            IIS_LOG,
            Some(2210),
            None,
            "2021-03-02 03:01:00 10.10.1.20 POST /aspnet_client/shell.aspx - 443 - 104.140.114.110 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) 200 0 0 31",
            iis(
                "104.140.114.110",
                "POST",
                "/aspnet_client/shell.aspx",
                "-",
                CHOPPER_UA,
                "200",
            ),
        ),
        finding(
            "f07",
            "Successful POST to an Unexpected Page in a Web Shell Folder",
            "high",
            &["attack.persistence", "attack.t1505.003"],
            Some("2021-03-02T03:12:40Z"),
            IIS_LOG,
            Some(2290),
            None,
            "2021-03-02 03:12:40 10.10.1.20 POST /aspnet_client/shell.aspx - 443 - 157.230.221.198 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) 200 0 0 28",
            iis(
                "157.230.221.198",
                "POST",
                "/aspnet_client/shell.aspx",
                "-",
                CHOPPER_UA,
                "200",
            ),
        ),
        finding(
            "f08",
            "Unexpected ASP.NET Page in an Exchange or IIS Web Folder",
            "high",
            &["attack.persistence", "attack.t1505.003"],
            None,
            "C/inetpub/wwwroot/aspnet_client/shell.aspx",
            None,
            None,
            "C/inetpub/wwwroot/aspnet_client/shell.aspx (70 bytes, web-content)",
            fields(&[
                ("Path", "C/inetpub/wwwroot/aspnet_client/shell.aspx"),
                ("FileName", "shell.aspx"),
                ("Sha256", SHELL_HASH),
            ]),
        ),
        finding(
            "f09",
            "China Chopper Command Wrapper in a Command Line",
            "critical",
            &["attack.execution", "attack.t1059.003", "attack.t1505.003"],
            Some("2021-03-02T03:12:39.987Z"),
            SYSMON,
            Some(101),
            None,
            "{\"EventID\":1,\"CommandLine\":\"cmd /c cd /d C:\\\\inetpub\\\\wwwroot\\\\aspnet_client&whoami&echo [S]&cd&echo [E]\"}",
            sysmon(
                "cmd /c cd /d \"C:\\inetpub\\wwwroot\\aspnet_client\"&whoami&echo [S]&cd&echo [E]",
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
            ),
        ),
        finding(
            "f10",
            "LSASS Memory Dump With comsvcs.dll MiniDump or ProcDump",
            "critical",
            &["attack.credential-access", "attack.t1003.001"],
            Some("2021-03-02T03:20:00Z"),
            SYSMON,
            Some(110),
            None,
            "{\"EventID\":1,\"CommandLine\":\"C:\\\\root\\\\procdump64.exe -accepteula -ma lsass.exe C:\\\\root\\\\lsass.dmp\"}",
            sysmon(
                "C:\\root\\procdump64.exe -accepteula -ma lsass.exe C:\\root\\lsass.dmp",
                "C:\\root\\procdump64.exe",
                "C:\\Windows\\System32\\cmd.exe",
            ),
        ),
        finding(
            "f11",
            "Exchange or IIS Worker Process Spawned a Shell or Recon Tool",
            "high",
            &[
                "attack.discovery",
                "attack.t1087.003",
                "attack.execution",
                "attack.t1059.001",
            ],
            Some("2021-03-02T03:25:00Z"),
            SYSMON,
            Some(115),
            None,
            "{\"EventID\":1,\"CommandLine\":\"powershell -c Get-Mailbox\"}",
            sysmon(
                "powershell.exe -c \"Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn; Get-Mailbox\"",
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                "C:\\Windows\\System32\\cmd.exe",
            ),
        ),
        finding(
            "f12",
            "Archiver Writing to a Staging Folder on an Exchange Server",
            "high",
            &["attack.collection", "attack.t1560.001", "attack.t1074.001"],
            Some("2021-03-02T03:44:34.955Z"),
            SYSMON,
            Some(120),
            None,
            "{\"EventID\":1,\"CommandLine\":\"7z.exe a -t7z C:\\\\ProgramData\\\\it.7z C:\\\\root\\\\lsass.dmp\"}",
            sysmon(
                "\"C:\\Program Files\\7-Zip\\7z.exe\" a -t7z -pinfected C:\\ProgramData\\it.7z C:\\root\\lsass.dmp",
                "C:\\Program Files\\7-Zip\\7z.exe",
                "C:\\Windows\\System32\\cmd.exe",
            ),
        ),
        finding(
            "f13",
            "Mailbox Export Request Written to a Share or Web Folder",
            "critical",
            &["attack.collection", "attack.t1114.001"],
            Some("2021-03-02T03:59:01Z"),
            SYSMON,
            Some(122),
            None,
            "{\"EventID\":1,\"CommandLine\":\"New-MailboxExportRequest -Mailbox ceo -FilePath \\\\\\\\EXCH01\\\\c$\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\ceo.pst\"}",
            sysmon(
                "powershell New-MailboxExportRequest -Mailbox ceo -FilePath \\\\EXCH01\\c$\\inetpub\\wwwroot\\aspnet_client\\ceo.pst",
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                "C:\\Windows\\System32\\cmd.exe",
            ),
        ),
        finding(
            "f14",
            "Archive, Dump or PST Downloaded From an Exchange Web Folder",
            "high",
            &["attack.exfiltration", "attack.t1041"],
            Some("2021-03-02T04:11:17Z"),
            IIS_LOG,
            Some(2900),
            None,
            "2021-03-02 04:11:17 10.10.1.20 GET /aspnet_client/ceo.pst - 443 - 86.105.18.116 curl/7.68.0 200 0 0 9120",
            iis(
                "86.105.18.116",
                "GET",
                "/aspnet_client/ceo.pst",
                "-",
                "curl/7.68.0",
                "200",
            ),
        ),
    ];
    // Attacker-controlled strings in every place a report shows them.
    let mut xss = iis("157.230.221.198", "POST", XSS_URL, XSS_QUERY, XSS_UA, "200");
    xss.insert(
        "<b onmouseover=alert(4)>".into(),
        Value::from("\"'><script>alert(6)</script>"),
    );
    out.push(finding(
        "f15",
        "Request for an Unexpected ASP.NET Page in a Web Shell Folder",
        "high",
        &["attack.persistence", "attack.t1505.003"],
        Some("2021-03-02T03:30:00Z"),
        IIS_LOG,
        Some(2500),
        None,
        &format!("2021-03-02 03:30:00 10.10.1.20 POST {XSS_URL} {XSS_QUERY} 443 - 157.230.221.198 {XSS_UA} 200 0 0 12"),
        xss,
    ));
    out.push(finding(
        "f16",
        "Request for a Short Random Script Name Under OWA or ECP (ProxyLogon Probe)",
        "medium",
        &["attack.reconnaissance", "attack.t1595.002"],
        Some("2021-03-02T05:00:00Z"),
        IIS_LOG,
        Some(3100),
        None,
        FORMULA,
        iis(
            "167.99.168.251",
            "GET",
            "/ecp/y.js",
            "-",
            "python-requests/2.25.1",
            "404",
        ),
    ));
    exhunt_report::sort_findings(&mut out);
    out
}

pub fn context() -> Vec<ContextEvent> {
    vec![
        ContextEvent {
            time: Some("2021-03-02T02:57:20Z".parse().unwrap()),
            path: IIS_LOG.into(),
            line: Some(2200),
            record: None,
            source: "iis-w3c product:windows category:webserver".into(),
            excerpt: "2021-03-02 02:57:20 10.10.1.20 GET /owa/auth/logon.aspx - 443 - 104.140.114.110 - 200 0 0 5".into(),
        },
        ContextEvent {
            time: Some("2021-03-02T03:00:59Z".parse().unwrap()),
            path: IIS_LOG.into(),
            line: Some(2209),
            record: None,
            source: "iis-w3c product:windows category:webserver".into(),
            excerpt: "=HYPERLINK(\"http://example.invalid\")".into(),
        },
        ContextEvent {
            time: Some("2021-03-02T03:12:41Z".parse().unwrap()),
            path: SYSMON.into(),
            line: Some(102),
            record: None,
            source: "event-jsonl product:windows service:sysmon".into(),
            excerpt: "{\"EventID\":1,\"CommandLine\":\"whoami\"}".into(),
        },
    ]
}

pub fn summary(findings: &[Finding]) -> Summary {
    let mut by_level: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_tag: BTreeMap<String, u64> = BTreeMap::new();
    for f in findings {
        *by_level.entry(f.rule.level.clone()).or_default() += 1;
        *by_rule.entry(f.rule.title.clone()).or_default() += 1;
        for t in &f.tags {
            *by_tag.entry(t.clone()).or_default() += 1;
        }
    }
    let t = |s: &str| Some(s.parse().unwrap());
    let artifacts = vec![
        ArtifactStat {
            path: IIS_LOG.into(),
            kind: "iis-w3c".into(),
            sha256: "a".repeat(64),
            bytes: 2_536_510,
            events: 10_306,
            first: t("2021-02-26T00:00:18Z"),
            last: t("2021-03-03T23:55:42Z"),
        },
        ArtifactStat {
            path: PROXY_LOG.into(),
            kind: "exchange-httpproxy".into(),
            sha256: "b".repeat(64),
            bytes: 6_510_550,
            events: 5_444,
            first: t("2021-02-26T00:00:18.803Z"),
            last: t("2021-03-03T23:55:42.577Z"),
        },
        ArtifactStat {
            path: SYSMON.into(),
            kind: "event-jsonl".into(),
            sha256: "c".repeat(64),
            bytes: 370_268,
            events: 305,
            first: t("2021-02-26T00:09:42.063Z"),
            last: t("2021-03-03T22:45:58.221Z"),
        },
    ];
    Summary {
        tool: "exhunt".into(),
        version: "0.1.0".into(),
        roots: vec!["cases/contoso-exch01".into()],
        verdict: exhunt_report::verdict(findings),
        artifacts_read: 3,
        events_parsed: 16_055,
        bytes_read: 9_417_328,
        artifacts_by_kind: exhunt_report::totals_by_kind(&artifacts),
        rules_loaded: 40,
        rule_problems: vec![],
        findings_total: findings.len() as u64,
        findings_by_level: by_level,
        findings_by_rule: by_rule,
        findings_by_tag: by_tag,
        findings_dropped: BTreeMap::new(),
        artifacts,
        warnings: vec![
            Warning::new("EventLogs/Security.evtx", "truncated record 812: skipped"),
            Warning::new("C/inetpub/evil.log", XSS_WARNING),
        ],
    }
}

pub fn attribution() -> Value {
    let ev = |label: &str, lr: f64, ids: &[&str]| json!({"evidence": label, "label": label, "log_lr": lr, "reason": format!("{label} is reported for this actor"), "finding_ids": ids});
    json!({
        "headline": "HAFNIUM is likely (72%) behind this intrusion, with moderate confidence.",
        "insufficient_evidence": false,
        "attack_version": "18.1",
        "method": "Analysis of Competing Hypotheses with smoothed likelihood ratios",
        "params": {},
        "hypotheses_considered": 174,
        "hypotheses": [
            {
                "rank": 1, "id": "G0125", "kind": "attack-group", "name": "HAFNIUM",
                "display_name": "HAFNIUM (ATT&CK) / Silk Typhoon (Microsoft)",
                "names_by_source": [{"source": "attack", "names": ["HAFNIUM", "Operation Exchange Marauder"]}, {"source": "microsoft", "names": ["Silk Typhoon"]}],
                "posterior": 0.72, "likelihood": "likely", "likelihood_words": "likely",
                "confidence": "moderate", "confidence_basis": "two independent strong items; tools are shared",
                "log_score": 4.1,
                "supporting": [ev("Exploitation before the 2021-03-02 patch", 1.9, &["f03", "f04"]), ev("China Chopper web shell", 0.4, &["f09"]), ev("procdump of LSASS", 0.6, &["f10"])],
                "contradicting": [ev("No Covenant seen", -0.2, &[])],
                "non_diagnostic": ["T1190 Exploit Public-Facing Application (seen with most groups)"],
                "state_statements": [{
                    "statement": {"subject": "HAFNIUM", "intrusion_set": "G0125", "state_entity": "PRC Ministry of State Security", "quote": "cyber actors affiliated with the MSS <i>exploited</i> Microsoft Exchange", "quote_is_partial": true, "estimative_wording": "with a high degree of confidence", "source": "White House statement, 2021-07-19"},
                    "citation": "whitehouse-2021-07-19"
                }]
            },
            {
                "rank": 2, "id": "G0027", "kind": "attack-group", "name": "Threat Group-3390",
                "display_name": "Threat Group-3390 (ATT&CK) / APT27 / LuckyMouse",
                "names_by_source": [{"source": "attack", "names": ["APT27", "LuckyMouse"]}],
                "posterior": 0.11, "likelihood": "very-unlikely", "likelihood_words": "very unlikely",
                "confidence": "low", "confidence_basis": "few items discriminate",
                "log_score": 2.2,
                "supporting": [ev("Exploitation before the 2021-03-02 patch", 1.2, &["f03"])],
                "contradicting": [ev("No HyperBro or SysUpdate seen", -0.9, &[])],
                "non_diagnostic": []
            },
            {
                "rank": 3, "id": "unknown-actor", "kind": "unknown-actor", "name": "An actor not in the catalogue",
                "display_name": "An actor not in the catalogue", "names_by_source": [],
                "posterior": 0.12, "likelihood": "very-unlikely", "likelihood_words": "very unlikely",
                "confidence": "low", "confidence_basis": "baseline", "log_score": 0.0,
                "supporting": [], "contradicting": [], "non_diagnostic": []
            },
            {
                "rank": 4, "id": "post-patch-opportunist", "kind": "post-patch-opportunist", "name": "Post-patch opportunist",
                "display_name": "Post-patch opportunist", "names_by_source": [],
                "posterior": 0.05, "likelihood": "very-unlikely", "likelihood_words": "very unlikely",
                "confidence": "moderate", "confidence_basis": "exploitation predates the patch", "log_score": -1.0,
                "supporting": [], "contradicting": [ev("Exploitation before the 2021-03-02 patch", -2.0, &["f03"])], "non_diagnostic": []
            }
        ],
        "evidence": [],
        "sensitivity": ["Without the pre-patch timing, HAFNIUM drops to roughly even chance."],
        "context_statements": [],
        "notice": "Attribution is an estimate; state links are quoted, never computed."
    })
}

pub fn exposure() -> Value {
    json!({
        "build": "15.2.792.3",
        "build_source": "log-row",
        "reliability": "log-reported",
        "build_explanation": "15.2.792.3 from the per-row build columns of 5444 HttpProxy rows",
        "assessment": {
            "build": "15.2.792.3", "product": "Exchange Server 2019", "product_id": "2019",
            "cu": "CU8", "cu_release_date": "2020-12-15", "update_level": "CU RTM", "known": true,
            "status": "known",
            "missing": [
                {"cve": "CVE-2021-26855", "fixed_by": "Mar21SU (15.2.792.10)", "update": "Mar21SU", "fixed_by_build": "15.2.792.10", "release_date": "2021-03-02", "date_precision": "day", "campaigns": ["ProxyLogon"], "known_exploited": true, "certainty": "certain"},
                {"cve": "CVE-2021-34473", "fixed_by": "Apr21SU (15.2.792.13)", "update": "Apr21SU", "fixed_by_build": "15.2.792.13", "release_date": "2021-04-13", "date_precision": "day", "campaigns": ["ProxyShell"], "known_exploited": true, "certainty": "certain"}
            ],
            "needs_config": [{"cves": ["CVE-2022-24516"], "setting": "extended-protection", "known_exploited": false, "state": "needs-configuration-evidence", "detail": "collect applicationHost.config"}],
            "notes": []
        },
        "timeline": [],
        "exploitation": [
            {"finding_id": "f03", "cve": "CVE-2021-26855", "time": "2021-03-02T02:57:22.796Z", "build_at_time": "15.2.792.3", "exposure": {"state": "missing", "fix_released": false}, "explanation": "15.2.792.3 seen at that time: the fix was missing and had not been released yet"}
        ]
    })
}

/// Write the scan folder into `dir`.
pub fn write_case(dir: &Path, with_optional: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let findings = findings();
    exhunt_report::write_findings_jsonl(&dir.join("findings.jsonl"), &findings).unwrap();
    exhunt_report::write_summary(&dir.join("summary.json"), &summary(&findings)).unwrap();
    exhunt_report::write_timeline_csv(&dir.join("timeline.csv"), &findings, &context()).unwrap();
    for name in ["attribution.json", "exposure.json"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    if with_optional {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
        std::fs::write(dir.join("attribution.json"), pretty(&attribution())).unwrap();
        std::fs::write(dir.join("exposure.json"), pretty(&exposure())).unwrap();
    }
}

/// `target/exhunt-export-test/<name>`, created fresh.
pub fn out_dir(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/exhunt-export-test");
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether `python3` can import `module`, installing `package` with pip when it cannot.
pub fn python_module(module: &str, package: &str) -> bool {
    let has = || {
        Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if has() {
        return true;
    }
    let _ = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", package])
        .status();
    has()
}
