//! IIS W3C logs.

mod common;

use common::{text, utc};
use exhunt_model::{ArtifactKind, Locator};

const LOG: &str = "\u{FEFF}2023-12-25 11:00:00 10.0.0.1 GET /orphan - 443\r\n\
#Software: Microsoft Internet Information Services 10.0\r\n\
#Version: 1.0\r\n\
#Date: 2023-12-25 11:00:00\r\n\
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n\
2023-12-25 11:54:21 10.10.130.5 GET /owa/auth/aKdMadOeT.aspx cmd=whoami 443 - 1.2.3.4 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 142\r\n\
2021-03-03 02:13:48 10.10.4.102 POST /autodiscover/autodiscover.json @evil.tld/powershell/?X-Rps-CAT=x&Email=autodiscover/autodiscover.json%3F@evil.tld 443 lab.local\\EXCHANGE$ 5.6.7.8 python-requests/2.25 https://a/b+c 200 0 0 64\r\n\
2021-03-03 02:13:49 10.10.4.102 GET /ecp/x.js - 443 - 5.6.7.8 extra-value Mozilla/5.0 - 200 0 0 64\r\n\
not-a-date 02:13:49 10.10.4.102 GET /ecp/y.js\r\n\
#Software: Microsoft Internet Information Services 10.0\r\n\
#Fields: time date c-ip cs-method cs-uri-stem cs(Host) sc-status\r\n\
03:00:00 2021-03-04 9.9.9.9 GET /rpc/ mail.example.com 401\r\n";

#[test]
fn iis_w3c_with_header_change_and_bad_lines() {
    let (ev, stats) = text(&ArtifactKind::IisW3c, LOG.as_bytes());
    assert_eq!(ev.len(), 4, "{ev:#?}");
    for e in &ev {
        assert_eq!(e.source.product.as_deref(), Some("windows"));
        assert_eq!(e.source.service.as_deref(), Some("iis"));
        assert_eq!(e.source.category.as_deref(), Some("webserver"));
    }
    let a = &ev[0];
    assert_eq!(a.locator, Locator::Line(6));
    assert_eq!(a.time, Some(utc("2023-12-25T11:54:21Z")));
    assert_eq!(a.must("cs-method"), "GET");
    assert_eq!(a.must("cs-uri-stem"), "/owa/auth/aKdMadOeT.aspx");
    assert_eq!(a.must("cs-uri-query"), "cmd=whoami");
    assert_eq!(a.must("cs-uri"), "/owa/auth/aKdMadOeT.aspx?cmd=whoami");
    assert_eq!(a.must("cs-username"), "");
    assert_eq!(a.must("cs(Referer)"), "");
    assert_eq!(
        a.must("cs(User-Agent)"),
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    );
    assert_eq!(
        a.must("cs-user-agent"),
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    );
    assert_eq!(a.must("c-ip"), "1.2.3.4");
    assert_eq!(a.must("sc-status"), "200");
    assert!(a.raw.contains("Mozilla/5.0+(Windows"));

    let b = &ev[1];
    assert_eq!(b.must("cs-username"), "lab.local\\EXCHANGE$");
    assert_eq!(b.must("cs-referer"), "https://a/b c");
    assert!(
        b.must("cs-uri")
            .starts_with("/autodiscover/autodiscover.json?@evil.tld/powershell/?X-Rps-CAT")
    );
    // The stem/query keep their `+` and `%` encodings.
    assert!(b.must("cs-uri-query").contains("%3F@evil.tld"));

    // Wrong column count: kept with a warning, fields by position.
    let c = &ev[2];
    assert_eq!(c.locator, Locator::Line(8));
    assert_eq!(c.must("cs-uri"), "/ecp/x.js");
    assert!(
        stats
            .warnings
            .iter()
            .any(|w| w.contains("line 8") && w.contains("16 values"))
    );
    assert!(
        stats.warnings.iter().any(|w| w.contains("line 9")),
        "{:?}",
        stats.warnings
    );
    assert!(
        stats
            .warnings
            .iter()
            .any(|w| w.contains("before any #Fields") && w.contains("line 1"))
    );

    // After the header change.
    let d = &ev[3];
    assert_eq!(d.locator, Locator::Line(12));
    assert_eq!(d.time, Some(utc("2021-03-04T03:00:00Z")));
    assert_eq!(d.must("cs-host"), "mail.example.com");
    assert_eq!(d.must("cs(Host)"), "mail.example.com");
    assert_eq!(d.must("cs-uri"), "/rpc/");
    assert_eq!(d.get("s-port"), None);
    assert_eq!(stats.first, Some(utc("2021-03-03T02:13:48Z")));
    assert_eq!(stats.last, Some(utc("2023-12-25T11:54:21Z")));
    assert_eq!(stats.warnings.len(), 3, "{:?}", stats.warnings);
}

#[test]
fn iis_utf16le() {
    let mut bytes = vec![0xFF, 0xFE];
    for u in LOG.trim_start_matches('\u{FEFF}').encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let (ev, _) = text(&ArtifactKind::IisW3c, &bytes);
    assert_eq!(ev.len(), 4);
    assert_eq!(
        ev[0].must("cs-user-agent"),
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    );
}
