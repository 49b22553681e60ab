//! The Sigma language as exhunt runs it: modifiers, keywords, conditions, log-source routing and
//! expansion, rule filters, and correlations across sources.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use exhunt_detect::{CorrelationInput, Detector, LoadOptions, RuleFile};
use exhunt_model::{Event, Locator, LogSource};

fn file(name: &str, text: &str) -> RuleFile {
    RuleFile {
        source: format!("sigma:test/{name}"),
        display_path: name.to_string(),
        text: text.to_string(),
    }
}

fn load(rules: &[(&str, &str)]) -> Detector {
    let files: Vec<RuleFile> = rules.iter().map(|(n, t)| file(n, t)).collect();
    let (det, diags) = Detector::load(&files);
    assert!(diags.is_empty(), "{diags:#?}");
    det
}

fn titles(det: &Detector, ls: &LogSource, fields: &[(&str, &str)]) -> Vec<String> {
    let ev = Event {
        time: None,
        locator: Locator::Line(1),
        source: ls,
        fields: fields
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect(),
        raw: Cow::Borrowed(""),
    };
    det.evaluate(&ev)
        .into_iter()
        .map(|h| h.rule.title.clone())
        .collect()
}

fn rule(title: &str, logsource: &str, detection: &str) -> String {
    format!(
        "title: {title}\nid: {}\nstatus: test\nlevel: high\nlogsource:\n{logsource}\ndetection:\n{detection}\n",
        uuid_for(title)
    )
}

fn uuid_for(title: &str) -> String {
    // Stable, distinct ids per title for the test rules.
    let h = title
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64));
    format!("00000000-0000-4000-8000-{:012x}", h & 0xffff_ffff_ffff)
}

/// (name, selection YAML, event fields, expected to fire)
type ModifierCase<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], bool);
/// (time, log source, fields)
type TimedEvent<'a> = (&'a str, &'a LogSource, Vec<(&'a str, &'a str)>);

const PROC: &str = "  product: windows\n  category: process_creation";

#[test]
fn value_modifiers() {
    let cases: &[ModifierCase] = &[
        (
            "re with i flag",
            "    CommandLine|re|i: 'invoke-mimikatz'",
            &[("CommandLine", "powershell INVOKE-MIMIKATZ")],
            true,
        ),
        (
            "re case sensitive by default",
            "    CommandLine|re: 'invoke-mimikatz'",
            &[("CommandLine", "INVOKE-MIMIKATZ")],
            false,
        ),
        (
            "windash",
            "    CommandLine|windash|contains: ' -ma '",
            &[("CommandLine", "procdump.exe /ma lsass.exe")],
            true,
        ),
        (
            "base64offset",
            "    CommandLine|base64offset|contains: 'Invoke-Expression'",
            &[("CommandLine", "powershell -enc SW52b2tlLUV4cHJlc3Npb24=")],
            true,
        ),
        (
            "cidr",
            "    IpAddress|cidr: '10.0.0.0/8'",
            &[("IpAddress", "10.20.30.40")],
            true,
        ),
        (
            "cidr miss",
            "    IpAddress|cidr: '10.0.0.0/8'",
            &[("IpAddress", "11.20.30.40")],
            false,
        ),
        (
            "all",
            "    CommandLine|contains|all:\n      - 'comsvcs'\n      - 'MiniDump'",
            &[("CommandLine", "rundll32 comsvcs.dll MiniDump 1 x full")],
            true,
        ),
        (
            "all miss",
            "    CommandLine|contains|all:\n      - 'comsvcs'\n      - 'MiniDump'",
            &[("CommandLine", "rundll32 comsvcs.dll")],
            false,
        ),
        (
            "exists",
            "    ParentCommandLine|exists: true",
            &[("ParentCommandLine", "cmd")],
            true,
        ),
        (
            "exists false",
            "    ParentCommandLine|exists: false",
            &[("ParentCommandLine", "cmd")],
            false,
        ),
        ("gt", "    Size|gt: 100", &[("Size", "150")], true),
        ("lte", "    Size|lte: 100", &[("Size", "150")], false),
        (
            "fieldref",
            "    ParentImage|fieldref: Image",
            &[("ParentImage", "a.exe"), ("Image", "a.exe")],
            true,
        ),
        (
            "wildcards",
            "    Image: '*\\\\w?wp.exe'",
            &[("Image", "C:\\windows\\w3wp.exe")],
            true,
        ),
        (
            "cased",
            "    CommandLine|contains|cased: 'Whoami'",
            &[("CommandLine", "whoami")],
            false,
        ),
        (
            "wide base64",
            "    CommandLine|wide|base64offset|contains: 'ping'",
            &[("CommandLine", "cABpAG4AZwA=")],
            true,
        ),
    ];
    for (name, sel, fields, expected) in cases {
        let text = rule(name, PROC, &format!("  sel:\n{sel}\n  condition: sel"));
        let det = load(&[("r.yml", &text)]);
        let ls = LogSource::new("windows", Some("sysmon"), Some("process_creation"));
        let fired = !titles(&det, &ls, fields).is_empty();
        assert_eq!(fired, *expected, "modifier case {name:?}");
    }
}

#[test]
fn keywords_and_conditions() {
    let text = rule(
        "conditions",
        "  product: windows\n  service: msexchange-management",
        "  keywords:\n    - 'Set-OabVirtualDirectory'\n  sel_a:\n    Data|contains: 'ExternalUrl'\n  sel_b:\n    Data|contains: '<script'\n  filter:\n    Data|contains: 'HealthMailbox'\n  condition: keywords and all of sel_* and not filter",
    );
    let det = load(&[("r.yml", &text)]);
    let ls = LogSource::new("windows", Some("msexchange-management"), None);
    assert_eq!(
        titles(
            &det,
            &ls,
            &[(
                "Data",
                "Set-OabVirtualDirectory -ExternalUrl http://f/<script>"
            )]
        )
        .len(),
        1
    );
    assert!(
        titles(
            &det,
            &ls,
            &[("Data", "Set-OabVirtualDirectory -ExternalUrl http://f/")]
        )
        .is_empty()
    );
    assert!(
        titles(
            &det,
            &ls,
            &[(
                "Data",
                "Set-OabVirtualDirectory -ExternalUrl <script> HealthMailbox"
            )]
        )
        .is_empty()
    );
    // The log source routes: the same fields on another source do not match.
    let other = LogSource::new("windows", Some("application"), None);
    assert!(
        titles(
            &det,
            &other,
            &[(
                "Data",
                "Set-OabVirtualDirectory -ExternalUrl http://f/<script>"
            )]
        )
        .is_empty()
    );
}

#[test]
fn umbrella_and_proxy_logsources_are_expanded() {
    let reg = rule(
        "registry umbrella",
        "  product: windows\n  category: registry_event",
        "  sel:\n    TargetObject|contains: '\\CurrentVersion\\Run'\n  condition: sel",
    );
    let proxy = rule(
        "proxy rule",
        "  category: proxy",
        "  sel:\n    c-useragent|contains: 'python-requests'\n    cs-method: POST\n  condition: sel",
    );
    let det = load(&[("reg.yml", &reg), ("proxy.yml", &proxy)]);
    for cat in ["registry_add", "registry_set", "registry_rename"] {
        let ls = LogSource::new("windows", Some("sysmon"), Some(cat));
        assert_eq!(
            titles(
                &det,
                &ls,
                &[(
                    "TargetObject",
                    "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x"
                )]
            ),
            vec!["registry umbrella"],
            "{cat}"
        );
    }
    let hp = LogSource::new("exchange", Some("httpproxy"), None);
    assert_eq!(
        titles(
            &det,
            &hp,
            &[("UserAgent", "python-requests/2.25.1"), ("Method", "POST")]
        ),
        vec!["proxy rule"]
    );
    assert!(
        titles(
            &det,
            &hp,
            &[("UserAgent", "python-requests/2.25.1"), ("Method", "GET")]
        )
        .is_empty()
    );
}

#[test]
fn filters_by_level_status_and_tag() {
    let a = "title: A\nid: 00000000-0000-4000-8000-00000000000a\nstatus: stable\nlevel: low\ntags: [attack.t1505.003]\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method: POST\n  condition: sel\n";
    let b = "title: B\nid: 00000000-0000-4000-8000-00000000000b\nstatus: experimental\nlevel: high\ntags: [attack.t1190]\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method: POST\n  condition: sel\n";
    let files = [file("a.yml", a), file("b.yml", b)];
    let count = |opts: LoadOptions| {
        let (d, diags) = Detector::load_with(&files, &opts);
        assert!(diags.is_empty());
        (d.detection_rule_count(), d.filtered_out())
    };
    assert_eq!(count(LoadOptions::default()), (2, 0));
    assert_eq!(
        count(LoadOptions {
            min_level: Some("medium".into()),
            ..Default::default()
        }),
        (1, 1)
    );
    assert_eq!(
        count(LoadOptions {
            statuses: vec!["stable".into()],
            ..Default::default()
        }),
        (1, 1)
    );
    assert_eq!(
        count(LoadOptions {
            tags: vec!["attack.t1505".into()],
            ..Default::default()
        }),
        (1, 1)
    );
    assert_eq!(
        count(LoadOptions {
            tags: vec!["attack.t1505.003".into()],
            ..Default::default()
        }),
        (1, 1)
    );
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Correlations see events from several files: an SSRF row in the HttpProxy log and a web shell
/// request in the IIS log, from one client, in order.
#[test]
fn correlations_across_two_source_files() {
    let base_a = "title: SSRF\nid: 00000000-0000-4000-8000-0000000000a1\nname: ssrf\nlevel: high\nlogsource:\n  product: exchange\n  service: httpproxy\ndetection:\n  sel:\n    AnchorMailbox|startswith: 'ServerInfo~'\n  condition: sel\n";
    let base_b = "title: Shell request\nid: 00000000-0000-4000-8000-0000000000b1\nname: shell\nlevel: medium\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-uri-stem|startswith: '/aspnet_client/'\n  condition: sel\n";
    let temporal = "title: SSRF then shell\nid: 00000000-0000-4000-8000-0000000000c1\nlevel: critical\ncorrelation:\n  type: temporal_ordered\n  rules:\n    - ssrf\n    - shell\n  aliases:\n    client:\n      ssrf: ClientIpAddress\n      shell: c-ip\n  group-by:\n    - client\n  timespan: 1h\n";
    let count = "title: Many shell requests\nid: 00000000-0000-4000-8000-0000000000d1\nlevel: high\ncorrelation:\n  type: event_count\n  rules:\n    - shell\n  group-by:\n    - c-ip\n  timespan: 10m\n  condition:\n    gte: 3\n";
    let distinct = "title: Many distinct shells\nid: 00000000-0000-4000-8000-0000000000e1\nlevel: high\ncorrelation:\n  type: value_count\n  rules:\n    - shell\n  group-by:\n    - c-ip\n  timespan: 10m\n  condition:\n    field: cs-uri-stem\n    gte: 3\n";
    let mut det = load(&[
        ("a.yml", base_a),
        ("b.yml", base_b),
        ("t.yml", temporal),
        ("c.yml", count),
        ("d.yml", distinct),
    ]);

    let hp = LogSource::new("exchange", Some("httpproxy"), None);
    let iis = LogSource::new("windows", Some("iis"), Some("webserver"));
    // (time, source, fields): the SSRF comes from the proxy log file, the shells from IIS.
    let events: Vec<TimedEvent> = vec![
        (
            "2021-03-02T03:00:00Z",
            &hp,
            vec![
                (
                    "AnchorMailbox",
                    "ServerInfo~EXCH01:444/ecp/proxyLogon.ecp?#",
                ),
                ("ClientIpAddress", "5.6.7.8"),
            ],
        ),
        (
            "2021-03-02T03:10:00Z",
            &iis,
            vec![
                ("cs-uri-stem", "/aspnet_client/a.aspx"),
                ("c-ip", "5.6.7.8"),
            ],
        ),
        (
            "2021-03-02T03:11:00Z",
            &iis,
            vec![
                ("cs-uri-stem", "/aspnet_client/a.aspx"),
                ("c-ip", "5.6.7.8"),
            ],
        ),
        (
            "2021-03-02T03:12:00Z",
            &iis,
            vec![
                ("cs-uri-stem", "/aspnet_client/b.aspx"),
                ("c-ip", "5.6.7.8"),
            ],
        ),
        // another client, shells only: no temporal correlation for it
        (
            "2021-03-02T03:13:00Z",
            &iis,
            vec![
                ("cs-uri-stem", "/aspnet_client/a.aspx"),
                ("c-ip", "9.9.9.9"),
            ],
        ),
    ];
    let mut inputs = Vec::new();
    // Hand them over in reverse order: correlate() must order by time itself.
    for (i, (time, ls, fields)) in events.iter().enumerate().rev() {
        let ev = Event {
            time: Some(t(time)),
            locator: Locator::Line(i as u64 + 1),
            source: ls,
            fields: fields
                .iter()
                .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
                .collect(),
            raw: Cow::Borrowed(""),
        };
        let hits = det.evaluate(&ev);
        assert!(hits.iter().all(|h| h.feeds_correlation));
        inputs.push(CorrelationInput {
            time: t(time),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            detections: hits.into_iter().map(|h| h.result).collect(),
            reference: i,
        });
    }
    let out = det.correlate(inputs);
    let find = |title: &str| {
        out.iter()
            .filter(|h| h.rule.title == title)
            .collect::<Vec<_>>()
    };
    let temporal_hits = find("SSRF then shell");
    assert_eq!(temporal_hits.len(), 1, "{out:#?}");
    assert!(
        temporal_hits[0].references.contains(&0),
        "the SSRF row is cited"
    );
    assert!(
        temporal_hits[0]
            .references
            .iter()
            .any(|r| (1..=3).contains(r))
    );
    let count_hits = find("Many shell requests");
    assert_eq!(count_hits.len(), 1);
    assert_eq!(
        count_hits[0].group_key,
        vec![("c-ip".to_string(), "5.6.7.8".to_string())]
    );
    assert_eq!(count_hits[0].references, vec![1, 2, 3]);
    // value_count: only two distinct pages from 5.6.7.8
    assert!(find("Many distinct shells").is_empty());
}
