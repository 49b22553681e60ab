//! Exchange CSV logs: the real extracted examples and hand-made damaged inputs.

mod common;

use common::{Owned, shared, text, utc};
use exhunt_model::{ArtifactKind, ExchangeLog, Locator};

fn kind_of(bytes: &[u8]) -> ArtifactKind {
    let s = String::from_utf8_lossy(bytes);
    let lt = s
        .lines()
        .find_map(|l| l.strip_prefix("#Log-type:"))
        .expect("fixture has #Log-type");
    ArtifactKind::ExchangeLog(ExchangeLog::from_log_type(lt))
}

fn fixture(name: &str) -> Option<(Vec<Owned>, exhunt_parse::ParseStats)> {
    let dir = shared()?.join("data/formats/extracted_examples");
    let bytes = std::fs::read(dir.join(name)).unwrap();
    Some(text(&kind_of(&bytes), &bytes))
}

#[test]
fn every_extracted_example_parses() {
    let Some(root) = shared() else { return };
    let dir = root.join("data/formats/extracted_examples");
    let expected = [
        ("AgentLog", "agent-log"),
        ("Autodiscover__HttpProxy", "httpproxy"),
        ("ECPActivity", "ecp-activity"),
        ("ECPServer", "ecp-server"),
        ("Eas__HttpProxy", "httpproxy"),
        ("Ecp__HttpProxy", "httpproxy"),
        ("Ews_2023", "ews"),
        ("Ews__HttpProxy", "httpproxy"),
        ("MSGTRK", "message-tracking"),
        ("Mapi__HttpProxy", "httpproxy"),
        ("Owa__HttpProxy", "httpproxy"),
        ("PowerShell__HttpProxy", "httpproxy"),
        ("RECV", "smtp-receive-protocol-log"),
        ("RpcHttp__HttpProxy", "httpproxy"),
        ("Rps_Cmdlet", "rps-cmdlet"),
        ("audit", "audit"),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let (events, stats) = text(&kind_of(&bytes), &bytes);
        let want = expected
            .iter()
            .find(|(p, _)| name.starts_with(p))
            .unwrap_or_else(|| panic!("no expectation for {name}"))
            .1;
        assert!(!events.is_empty(), "{name}: no events");
        assert!(stats.warnings.is_empty(), "{name}: {:?}", stats.warnings);
        let (lo, hi) = (utc("2022-09-01T00:00:00Z"), utc("2023-02-01T00:00:00Z"));
        for e in &events {
            assert_eq!(e.source.product.as_deref(), Some("exchange"), "{name}");
            assert_eq!(e.source.service.as_deref(), Some(want), "{name}");
            assert_eq!(e.source.category, None);
            let t = e
                .time
                .unwrap_or_else(|| panic!("{name}: event without time"));
            assert!(t > lo && t < hi, "{name}: {t}");
            assert!(matches!(e.locator, Locator::Line(n) if n >= 2));
        }
        assert_eq!(stats.first, events.iter().filter_map(|e| e.time).min());
        assert_eq!(stats.last, events.iter().filter_map(|e| e.time).max());
        seen += 1;
    }
    assert_eq!(seen, expected.len());
}

#[test]
fn httpproxy_fields() {
    let Some((ev, _)) = fixture("Autodiscover__HttpProxy_2023010919-1.LOG") else {
        return;
    };
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(e.locator, Locator::Line(6));
    assert_eq!(e.time, Some(utc("2023-01-09T19:00:00.130Z")));
    assert_eq!(e.must("Protocol"), "Autodiscover");
    assert_eq!(e.must("UrlStem"), "/autodiscover/autodiscover.xml");
    assert_eq!(e.must("ClientIpAddress"), "95.1.2.3");
    assert_eq!(
        e.must("AnchorMailbox"),
        "Sid~S-1-5-21-123456789-9876543211-123456798-4343"
    );
    assert_eq!(e.must("AuthenticatedUser"), "DOMAIN\\username");
    assert_eq!(e.must("RoutingStatus"), "CafeV1");
    assert_eq!(e.must("Organization"), "");
    assert_eq!(e.fields.len(), 74);
    assert!(e.raw.starts_with("2023-01-09T19:00:00.130Z,5e58f5e5"));

    let Some((ev, _)) = fixture("Ecp__HttpProxy_2023010611-1.LOG") else {
        return;
    };
    assert_eq!(
        ev[0].must("AnchorMailbox"),
        "ServerVersion~Version 15.0 (Build 0.0)"
    );
    assert_eq!(ev[0].must("UserAgent"), "Mozilla/5.0 zgrab/0.x");
    assert_eq!(ev[0].must("IsAuthenticated"), "false");

    let Some((ev, _)) = fixture("Mapi__HttpProxy_2023010601-1.LOG") else {
        return;
    };
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[0].must("UrlStem"), "/mapi/emsmdb/");
    assert_eq!(
        ev[0].must("UrlQuery"),
        "?mailboxId=1234567-4444-1234-4567-123456789987@domain.test"
    );

    let Some((ev, _)) = fixture("Eas__HttpProxy_2023011116-1.LOG") else {
        return;
    };
    assert!(ev[0].must("GenericErrors").contains("retourné"));
}

#[test]
fn ecp_event_data() {
    let Some((ev, _)) = fixture("ECPServer20230111-1.LOG") else {
        return;
    };
    let e = &ev[0];
    assert_eq!(e.must("S:CMD"), "Get-InboxRule");
    assert_eq!(
        e.must("S:URL"),
        "/ecp/RulesEditor/InboxRules.svc/GetList?msExchEcpCanary=CANARY"
    );
    assert_eq!(e.must("S:BLD"), "15.1.2375.7");
    assert_eq!(e.must("S:EX"), "");
    assert_eq!(e.must("EventId"), "ECP.Request");
    assert!(e.must("EventData").starts_with("S:TIME=13;"));

    let Some((ev, _)) = fixture("ECPActivity_11500_20230111-1.LOG") else {
        return;
    };
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1].must("S:URL"), "https://localhost:444/ecp/logoff.aspx");
    assert_eq!(ev[1].must("S:Bld"), "15.1.2375.7");
}

#[test]
fn quoted_fields_with_commas() {
    let Some((ev, _)) = fixture("Rps_Cmdlet_2023011116-1.LOG") else {
        return;
    };
    let e = &ev[0];
    assert_eq!(e.must("Cmdlet"), "Get-Mailbox");
    assert_eq!(e.must("Parameters"), "-ResultSize \"1\"");
    assert_eq!(e.must("NonPiiParameters"), "-ResultSize \"1\"");
    assert_eq!(e.must("ProcessName"), "w3wp#MSExchangePowerShellAppPool");
    assert_eq!(e.time, Some(utc("2023-01-11T01:01:19.898Z")));

    let Some((ev, _)) = fixture("MSGTRKMS2022091915-1.LOG") else {
        return;
    };
    assert_eq!(ev[0].must("event-id"), "NOTIFYMAPI");
    assert_eq!(ev[1].must("event-id"), "RECEIVE");
    assert_eq!(ev[1].must("message-subject"), "MAIL SUBJECT");
    assert_eq!(ev[1].must("recipient-address"), "user.name4@gmail.com");
    assert!(ev[1].must("source-context").contains(", Mailbox:33345678"));
    assert_eq!(ev[1].must("schema-version"), "15.01.2375.007");

    let Some((ev, _)) = fixture("audit20230111-1.LOG") else {
        return;
    };
    assert!(ev[0].must("Data").contains(r#""Operation":"Set-Mailbox""#));
    assert_eq!(ev[0].must("Operation"), "Set-Mailbox");
    assert_eq!(ev[0].must("Scope"), "Online");

    let Some((ev, _)) = fixture("RECV2023011116-1.LOG") else {
        return;
    };
    assert!(ev[0].must("data").contains("Wed, 11 Jan 2023"));
}

const ECP_HEAD: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n#Log-type: ECP Server Log\r\n#Date: 2021-04-06T14:00:00.000Z\r\n#Fields: TimeStamp,ServerName,EventId,EventData\r\n";

fn ecp() -> ArtifactKind {
    ArtifactKind::ExchangeLog(ExchangeLog::EcpServer)
}

#[test]
fn ecp_quoted_cmd_and_multiline_field() {
    let log = format!(
        "{ECP_HEAD}2021-04-06T14:54:38.677Z,WIN-03FG,ECP.Request,\"S:TIME=4365;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://o/#x''.Identity=''87fc''';S:URL=/ecp/DDI/DDIService.svc/SetObject?a=%5D:444/ecp/lkO.js;S:EX=\"\r\n\
         2021-04-06T14:55:00.000Z,WIN-03FG,ECP.Request,\"S:CMD=Get-Foo;S:EX=line one\r\nline, two\"\r\n\
         2021-04-06T14:56:00.000Z,WIN-03FG,ECP.Request,S:CMD=Get-Bar\r\n"
    );
    let (ev, stats) = text(&ecp(), log.as_bytes());
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);
    assert_eq!(ev.len(), 3);
    assert_eq!(
        ev[0].must("S:CMD"),
        "Set-OabVirtualDirectory.ExternalUrl='http://o/#x'.Identity='87fc'"
    );
    assert!(ev[0].must("S:URL").ends_with("%5D:444/ecp/lkO.js"));
    assert_eq!(ev[1].must("S:EX"), "line one\nline, two");
    assert_eq!(ev[1].locator, Locator::Line(7));
    assert_eq!(ev[2].locator, Locator::Line(9));
    assert_eq!(ev[2].must("S:CMD"), "Get-Bar");
}

#[test]
fn truncated_at_eof_gives_partial_event_and_warning() {
    // Fewer columns at EOF.
    let log = format!("{ECP_HEAD}2021-04-06T14:56:00.000Z,WIN-03FG,ECP.Req");
    let (ev, stats) = text(&ecp(), log.as_bytes());
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].must("EventId"), "ECP.Req");
    assert_eq!(ev[0].get("EventData"), None);
    assert!(
        stats
            .warnings
            .iter()
            .any(|w| w.contains("line 6 truncated")),
        "{:?}",
        stats.warnings
    );

    // Unterminated quote at EOF.
    let log = format!("{ECP_HEAD}2021-04-06T14:56:00.000Z,WIN-03FG,ECP.Request,\"S:CMD=Get-Ba");
    let (ev, stats) = text(&ecp(), log.as_bytes());
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].must("S:CMD"), "Get-Ba");
    assert!(
        stats
            .warnings
            .iter()
            .any(|w| w.contains("line 6 truncated")),
        "{:?}",
        stats.warnings
    );

    // Unterminated quote mid-file: the next timestamped line starts a new record.
    let log = format!(
        "{ECP_HEAD}2021-04-06T14:56:00.000Z,W,E,\"S:CMD=Get-Ba\n2021-04-06T14:57:00.000Z,W,E,S:CMD=Ok\n"
    );
    let (ev, stats) = text(&ecp(), log.as_bytes());
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1].must("S:CMD"), "Ok");
    assert_eq!(ev[1].locator, Locator::Line(7));
    assert_eq!(stats.warnings.len(), 1, "{:?}", stats.warnings);
}

#[test]
fn header_changes_mid_file_and_bare_header() {
    let log = "DateTime,A,B\n2023-01-01T00:00:00Z,a1,b1\n#Fields: DateTime,B,C,D\n2023-01-01T00:00:01Z,b2,c2,d2\n";
    let kind = ArtifactKind::ExchangeLog(ExchangeLog::RpsHttp);
    let (ev, stats) = text(&kind, log.as_bytes());
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].source.service.as_deref(), Some("rps-http"));
    assert_eq!(ev[0].must("A"), "a1");
    assert_eq!(ev[1].get("A"), None);
    assert_eq!(ev[1].must("D"), "d2");
    assert_eq!(ev[1].time, Some(utc("2023-01-01T00:00:01Z")));
}

#[test]
fn oab_generator_text_and_csv() {
    let kind = ArtifactKind::ExchangeLog(ExchangeLog::OabGenerator);
    let log = "#Software: Microsoft Exchange Server\n\
        2021-03-03T02:10:11.123Z Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx' needs to be removed\n\
        plain text without time\n";
    let (ev, stats) = text(&kind, log.as_bytes());
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].source.service.as_deref(), Some("oab-generator"));
    assert_eq!(ev[0].time, Some(utc("2021-03-03T02:10:11.123Z")));
    assert!(
        ev[0]
            .must("Message")
            .contains("Download failed and temporary file 'C:\\inetpub")
    );
    assert_eq!(ev[1].time, None);
    assert_eq!(ev[1].locator, Locator::Line(3));

    let log = "#Fields: DateTime,Level,Text\n2021-03-03T02:10:11Z,Error,\"Download failed and temporary file 'x.aspx' needs to be removed\"\n";
    let (ev, _) = text(&kind, log.as_bytes());
    assert_eq!(
        ev[0].must("Message"),
        "Error,Download failed and temporary file 'x.aspx' needs to be removed"
    );
}

#[test]
fn binary_junk_does_not_panic() {
    let mut junk = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..200_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        junk.push((x >> 16) as u8);
    }
    for kind in [
        ecp(),
        ArtifactKind::ExchangeLog(ExchangeLog::HttpProxy),
        ArtifactKind::IisW3c,
        ArtifactKind::EventJsonl,
    ] {
        let mut with_header = ECP_HEAD.as_bytes().to_vec();
        with_header.extend_from_slice(&junk);
        for input in [&junk, &with_header] {
            let mut n = 0;
            let stats =
                exhunt_parse::parse_text(&kind, "junk", input.as_slice(), &mut |_| n += 1).unwrap();
            assert!(!stats.warnings.is_empty(), "{kind:?}");
            assert!(stats.warnings.len() <= 21);
        }
    }
}

#[test]
fn huge_line_is_capped() {
    let mut log = ECP_HEAD.to_string();
    log.push_str("2021-04-06T14:56:00.000Z,W,E,S:CMD=");
    log.push_str(&"A".repeat(3 << 20));
    log.push_str("\n2021-04-06T14:57:00.000Z,W,E,S:CMD=Next\n");
    let (ev, stats) = text(&ecp(), log.as_bytes());
    assert_eq!(ev.len(), 2);
    assert!(ev[0].raw.len() <= exhunt_parse::MAX_LINE_BYTES);
    assert!(ev[0].must("S:CMD").len() > 1000);
    assert_eq!(ev[1].must("S:CMD"), "Next");
    assert_eq!(ev[1].locator, Locator::Line(7));
    assert!(
        stats
            .warnings
            .iter()
            .any(|w| w.contains("line 6") && w.contains("cut"))
    );
}

#[test]
fn utf16le_exchange_log() {
    let log = format!(
        "{ECP_HEAD}2021-04-06T14:56:00.000Z,SRV,ECP.Request,S:CMD=Get-Mailbox;S:URL=/ecp/é\r\n"
    );
    let mut bytes = vec![0xFF, 0xFE];
    for u in log.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let (ev, stats) = text(&ecp(), &bytes);
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].must("S:CMD"), "Get-Mailbox");
    assert_eq!(ev[0].must("S:URL"), "/ecp/é");
    assert_eq!(ev[0].must("ServerName"), "SRV");
}

#[test]
fn warnings_are_capped() {
    let mut log = ECP_HEAD.to_string();
    for _ in 0..100 {
        log.push_str("2021-04-06T14:56:00.000Z,W\n");
    }
    let (ev, stats) = text(&ecp(), log.as_bytes());
    assert_eq!(ev.len(), 100);
    assert_eq!(stats.warnings.len(), 21);
    assert!(stats.warnings[20].starts_with("80 more"));
}

#[test]
fn not_a_text_kind_is_an_error() {
    let err =
        exhunt_parse::parse_text(&ArtifactKind::Evtx, "x.evtx", &b""[..], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("x.evtx"));
}

#[test]
fn random_csv_shapes_never_panic() {
    let alphabet: [&str; 14] = [
        ",",
        "\"",
        "'",
        ";",
        "=",
        ":",
        "S:CMD=",
        "\n",
        "\r\n",
        "é",
        "#Fields: A,EventData\n",
        "x",
        "2021-04-06T14:56:00.000Z",
        "''",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..3000 {
        let mut s = ECP_HEAD.to_string();
        for _ in 0..(x % 60) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        for kind in [
            ecp(),
            ArtifactKind::ExchangeLog(ExchangeLog::OabGenerator),
            ArtifactKind::IisW3c,
        ] {
            let mut n = 0u64;
            let stats = exhunt_parse::parse_text(&kind, "r", s.as_bytes(), &mut |e| {
                assert!(matches!(e.locator, Locator::Line(l) if l >= 1));
                n += 1;
            })
            .unwrap();
            assert_eq!(stats.events, n);
        }
    }
}
