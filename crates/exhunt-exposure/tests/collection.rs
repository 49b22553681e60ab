//! Build evidence from events, exposure over time, and applicationHost.config.

use std::borrow::Cow;

use chrono::{DateTime, TimeZone, Utc};
use exhunt_exposure::{
    BuildEvidence, ConfigState, EpState, EvidenceSource, ExposureAtTime, Reliability,
    TokenChecking, assess, build_from_events, config_from_application_host, exposure_report,
    parse_build,
};
use exhunt_model::{Event, Locator, LogSource};

fn t(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 3, d, h, 0, 0).unwrap()
}

fn event<'a>(src: &'a LogSource, time: DateTime<Utc>, fields: &[(&'a str, &'a str)]) -> Event<'a> {
    Event {
        time: Some(time),
        locator: Locator::Line(5),
        source: src,
        fields: fields
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect(),
        raw: Cow::Borrowed(""),
    }
}

fn row<'a>(src: &'a LogSource, time: DateTime<Utc>, rev: &'a str) -> Event<'a> {
    event(
        src,
        time,
        &[
            ("MajorVersion", "15"),
            ("MinorVersion", "2"),
            ("BuildVersion", "792"),
            ("RevisionVersion", rev),
            ("UrlStem", "/owa/"),
        ],
    )
}

#[test]
fn per_row_versions_win_and_changes_are_reported() {
    let proxy = LogSource::new("exchange", Some("httpproxy"), None);
    let iis = LogSource::new("windows", Some("iis"), Some("webserver"));
    let ecp = LogSource::new("exchange", Some("ecp-server"), None);
    let events = vec![
        row(&proxy, t(1, 10), "3"),
        row(&proxy, t(3, 9), "3"),
        row(&proxy, t(8, 12), "10"),
        row(&proxy, t(20, 12), "10"),
        event(
            &iis,
            t(2, 0),
            &[(
                "cs-uri-stem",
                "/owa/auth/15.2.792/themes/resources/logon.css",
            )],
        ),
        event(&ecp, t(2, 0), &[("S:BLD", "15.2.792.3")]),
    ];
    let mut ev = BuildEvidence::new();
    for e in &events {
        ev.observe_event(e);
    }
    ev.observe_log_header(
        "15.02.0792.003",
        Some(t(1, 0)),
        "HttpProxy/Owa/HttpProxy_2021030101-1.LOG",
    );
    let c = ev.conclude();
    assert_eq!(c.source, Some(EvidenceSource::LogRow));
    assert_eq!(
        c.build.unwrap().to_string(),
        "15.2.792.10",
        "the latest seen build"
    );
    assert_eq!(c.reliability, Reliability::LogReported);
    assert!(c.explanation.contains("unverified"), "{}", c.explanation);
    assert!(
        c.explanation.contains("changed over time"),
        "{}",
        c.explanation
    );
    assert_eq!(c.timeline_source, Some(EvidenceSource::LogRow));
    assert_eq!(c.timeline.len(), 2);
    assert_eq!(c.timeline[0].build.to_string(), "15.2.792.3");
    assert_eq!(c.timeline[0].from, t(1, 10));
    assert_eq!(c.timeline[0].to, t(3, 9));
    assert_eq!(c.timeline[1].build.to_string(), "15.2.792.10");
    for s in [
        EvidenceSource::OwaPath,
        EvidenceSource::EcpBuild,
        EvidenceSource::LogHeader,
    ] {
        assert!(
            c.observations.iter().any(|o| o.source == s),
            "{s:?} not recorded"
        );
    }
    // The pure-function form gives the same answer.
    let c2 = build_from_events(events.iter());
    assert_eq!(c2.build, c.build);
}

#[test]
fn exsetup_beats_logs_and_owa_path_is_cu_level() {
    let iis = LogSource::new("windows", Some("iis"), Some("webserver"));
    let owa = [event(
        &iis,
        t(2, 0),
        &[("cs-uri-stem", "/owa/15.1.2375/scripts/boot.js")],
    )];
    let c = build_from_events(owa.iter());
    assert_eq!(c.source, Some(EvidenceSource::OwaPath));
    assert_eq!(c.reliability, Reliability::CuLevel);
    assert_eq!(c.build.unwrap().to_string(), "15.1.2375");
    let mut ev = BuildEvidence::new();
    ev.observe_event(&owa[0]);
    ev.observe_log_header("15.01.2375.007", Some(t(2, 0)), "x.LOG");
    assert_eq!(ev.conclude().source, Some(EvidenceSource::LogHeader));
    ev.observe_exsetup("15.1.2375.37", "inventory/ExSetup.txt")
        .unwrap();
    let c = ev.conclude();
    assert_eq!(c.source, Some(EvidenceSource::Exsetup));
    assert_eq!(c.reliability, Reliability::Exact);
    assert_eq!(c.build.unwrap().to_string(), "15.1.2375.37");
    assert!(c.explanation.contains("inventory/ExSetup.txt"));
    assert!(ev.observe_exsetup("not a version", "x").is_err());
    let none = BuildEvidence::new().conclude();
    assert!(none.build.is_none());
    assert_eq!(none.reliability, Reliability::None);
}

#[test]
fn exposure_report_uses_the_build_at_each_finding() {
    let proxy = LogSource::new("exchange", Some("httpproxy"), None);
    let events = [
        row(&proxy, t(1, 0), "3"),
        row(&proxy, t(5, 0), "3"),
        row(&proxy, t(9, 0), "10"),
        row(&proxy, t(30, 0), "10"),
    ];
    let c = build_from_events(events.iter());
    let findings = vec![
        (
            "CVE-2021-26855".to_string(),
            t(1, 12),
            "f-before-patch-release".to_string(),
        ),
        (
            "CVE-2021-26855".to_string(),
            t(6, 12),
            "f-patch-out-not-installed".to_string(),
        ),
        (
            "CVE-2021-26855".to_string(),
            t(12, 0),
            "f-after-install".to_string(),
        ),
        (
            "CVE-2021-26855".to_string(),
            Utc.with_ymd_and_hms(2021, 2, 1, 0, 0, 0).unwrap(),
            "f-early".to_string(),
        ),
    ];
    let r = exposure_report(&c, &findings);
    assert_eq!(r.build.unwrap().to_string(), "15.2.792.10");
    assert_eq!(
        r.exploitation[0].exposure,
        ExposureAtTime::Missing {
            fix_released: false
        }
    );
    assert_eq!(
        r.exploitation[1].exposure,
        ExposureAtTime::Missing { fix_released: true }
    );
    assert_eq!(
        r.exploitation[1].build_at_time.unwrap().to_string(),
        "15.2.792.3"
    );
    assert_eq!(r.exploitation[2].exposure, ExposureAtTime::Fixed);
    // Before any evidence: the earliest build lacked the fix, so the earlier one did too.
    assert_eq!(
        r.exploitation[3].exposure,
        ExposureAtTime::Missing {
            fix_released: false
        }
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["exploitation"][0]["exposure"]["state"], "missing");
    assert_eq!(json["exploitation"][0]["exposure"]["fix_released"], false);
    assert_eq!(json["assessment"]["cu"], "CU8");

    // Only a current, patched ExSetup build: an earlier finding cannot be judged.
    let mut ev = BuildEvidence::new();
    ev.observe_exsetup("15.2.792.10", "ExSetup").unwrap();
    let r = exposure_report(&ev.conclude(), &findings[..1]);
    assert_eq!(r.exploitation[0].exposure, ExposureAtTime::Unknown);
}

const APPHOST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <sites>
      <site name="Default Web Site" id="1" serverAutoStart="true">
        <application path="/owa" applicationPool="MSExchangeOWAAppPool">
          <virtualDirectory path="/" physicalPath="C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa" />
        </application>
      </site>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <rewrite>
      <globalRules />
    </rewrite>
  </system.webServer>
  <location path="Default Web Site">
    <system.webServer>
      <rewrite>
        <rules>
          <rule name="X-AnonResource-Backend Abort - inbound" stopProcessing="false">
            <match url=".*" />
            <conditions><add input="{HTTP_COOKIE}" pattern="(.*)X-AnonResource-Backend(.*)" /></conditions>
            <action type="AbortRequest" />
          </rule>
          <rule name="X-BEResource Abort - inbound" stopProcessing="true">
            <match url=".*" />
            <conditions><add input="{HTTP_COOKIE}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+)" /></conditions>
            <action type="AbortRequest" />
          </rule>
          <rule name="PowerShell - inbound">
            <match url=".*" />
            <conditions><add input="{UrlDecode:{REQUEST_URI}}" pattern=".*autodiscover.*powershell.*" /></conditions>
            <action type="AbortRequest" />
          </rule>
        </rules>
      </rewrite>
    </system.webServer>
  </location>
  <location path="Default Web Site/EWS">
    <system.webServer>
      <security>
        <authentication>
          <windowsAuthentication enabled="true" useKernelMode="false">
            <extendedProtection tokenChecking="Require" />
          </windowsAuthentication>
        </authentication>
      </security>
    </system.webServer>
  </location>
  <location path="Default Web Site/owa">
    <system.webServer>
      <security>
        <authentication>
          <windowsAuthentication enabled="true"><extendedProtection tokenChecking="Allow" /></windowsAuthentication>
        </authentication>
      </security>
    </system.webServer>
  </location>
  <location path="Default Web Site/ecp">
    <system.webServer>
      <security>
        <authentication>
          <windowsAuthentication enabled="true"><extendedProtection /></windowsAuthentication>
        </authentication>
      </security>
    </system.webServer>
  </location>
  <location path="Exchange Back End/EWS">
    <system.webServer>
      <security><authentication><windowsAuthentication enabled="true"><extendedProtection tokenChecking="Require" /></windowsAuthentication></authentication></security>
    </system.webServer>
  </location>
</configuration>
"#;

#[test]
fn application_host_config() {
    let cfg = config_from_application_host(APPHOST).unwrap();
    let tc = |loc: &str| {
        cfg.extended_protection
            .iter()
            .find(|v| v.location == loc)
            .map(|v| (v.token_checking, v.explicit))
            .unwrap()
    };
    assert_eq!(tc("Default Web Site/EWS"), (TokenChecking::Require, true));
    assert_eq!(tc("Default Web Site/owa"), (TokenChecking::Allow, true));
    assert_eq!(tc("Default Web Site/ecp"), (TokenChecking::None, false));
    assert_eq!(tc("Exchange Back End/EWS"), (TokenChecking::Require, true));
    assert_eq!(cfg.ep_state, EpState::Partial, "ecp has no EP");
    assert_eq!(cfg.rewrite_rules.len(), 3);
    assert!(
        cfg.rewrite_rules
            .iter()
            .all(|r| r.location == "Default Web Site" && r.direction == "inbound")
    );
    let mitigated: Vec<&str> = cfg.mitigations.iter().map(|m| m.cve.as_str()).collect();
    assert_eq!(mitigated, ["CVE-2021-26855", "CVE-2022-41040"]);

    // Refines the assessment: ProxyLogon SSRF mitigated, EP not (partial).
    let mut a = assess(&parse_build("15.2.792.3").unwrap());
    a.apply_config(&cfg);
    let pl = a
        .missing
        .iter()
        .find(|m| m.cve == "CVE-2021-26855")
        .unwrap();
    assert!(
        pl.mitigated_by
            .as_deref()
            .unwrap()
            .contains("X-BEResource Abort - inbound")
    );
    assert!(
        a.missing
            .iter()
            .find(|m| m.cve == "CVE-2021-26857")
            .unwrap()
            .mitigated_by
            .is_none()
    );
    // CVE-2026-42897 (also missing) has no rule here: the EOMT item stays open.
    let eomt = a
        .needs_config
        .iter()
        .find(|d| d.setting == "eems-eomt-mitigation")
        .unwrap();
    assert!(eomt.cves.contains(&"CVE-2026-42897".to_string()));
    assert_eq!(eomt.state, ConfigState::NeedsConfigurationEvidence);
    assert!(eomt.detail.contains("some"), "{}", eomt.detail);

    // EP on everywhere → CVE-2024-21410 mitigated on a build that supports EP.
    let on = APPHOST
        .replace("<extendedProtection />", "<extendedProtection tokenChecking=\"Allow\" />")
        .replace(
            "<location path=\"Default Web Site/owa\">\n    <system.webServer>",
            "<location path=\"Default Web Site/owa\">\n    <system.webServer><rewrite><outboundRules>\
             <rule name=\"EOMT OWA CSP - outbound\" preCondition=\"EOMT OWA SPA HTML shell - precondition\">\
             <match serverVariable=\"RESPONSE_Content_Security_Policy\" pattern=\"(.*)\" />\
             <action type=\"Rewrite\" value=\"{R:1}; script-src-attr 'none'\" /></rule></outboundRules></rewrite>",
        );
    let cfg = config_from_application_host(&on).unwrap();
    assert_eq!(cfg.ep_state, EpState::Enabled);
    assert!(cfg.mitigations.iter().any(|m| m.cve == "CVE-2024-21410"));
    let mut a = assess(&parse_build("15.2.1544.4").unwrap());
    let ep = |a: &exhunt_exposure::Assessment| {
        a.needs_config
            .iter()
            .find(|d| d.setting == "extended-protection")
            .unwrap()
            .clone()
    };
    assert_eq!(ep(&a).state, ConfigState::NeedsConfigurationEvidence);
    assert!(ep(&a).cves.contains(&"CVE-2024-21410".to_string()));
    a.apply_config(&cfg);
    assert_eq!(ep(&a).state, ConfigState::Mitigated);
    // A build too old for EP stays unprotected whatever the config says.
    let mut old = assess(&parse_build("15.2.792.3").unwrap());
    old.apply_config(&cfg);
    assert_eq!(ep(&old).state, ConfigState::NotMitigated);
    let csp = cfg
        .rewrite_rules
        .iter()
        .find(|r| r.direction == "outbound")
        .unwrap();
    assert_eq!(csp.location, "Default Web Site/owa");
    assert_eq!(csp.eomt_cves, ["CVE-2026-42897"]);
    let eomt = old
        .needs_config
        .iter()
        .find(|d| d.setting == "eems-eomt-mitigation")
        .unwrap();
    assert_eq!(eomt.state, ConfigState::Mitigated);

    assert!(config_from_application_host("<configuration><location").is_err());
    let bare = config_from_application_host("<configuration/>").unwrap();
    assert_eq!(bare.ep_state, EpState::NotConfigured);
    assert!(bare.rewrite_rules.is_empty());
}
