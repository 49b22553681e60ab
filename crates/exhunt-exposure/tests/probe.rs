//! The live probe against a fake HTTP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use exhunt_exposure::{ExposureError, ProbeOptions, probe};

const LOGON_HTML: &str = r#"<!DOCTYPE html><html><head><title>Outlook</title>
<link rel="shortcut icon" href="/owa/auth/15.2.792/themes/resources/favicon.ico" type="image/x-icon">
<link type="text/css" rel="stylesheet" href="/owa/auth/15.2.792/themes/resources/logon.css">
</head><body><form action="/owa/auth.owa" method="POST" name="logonForm"></form></body></html>"#;

const MANIFEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<asmv1:assembly xsi:schemaLocation="urn:schemas-microsoft-com:asm.v1 assembly.adaptive.xsd" manifestVersion="1.0" xmlns:asmv1="urn:schemas-microsoft-com:asm.v1" xmlns="urn:schemas-microsoft-com:asm.v2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="15.2.792.10" publicKeyToken="b1d1a6c45aa418ce" language="neutral" processorArchitecture="msil" xmlns="urn:schemas-microsoft-com:asm.v1" />
  <description asmv2:publisher="Microsoft Corporation" asmv2:product="Microsoft Exchange eDiscovery PST Export Tool" xmlns="urn:schemas-microsoft-com:asm.v1" xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" />
</asmv1:assembly>"#;

/// Serve `handler(path) -> (status, extra headers, body)` for `n` connections.
fn serve(handler: fn(&str) -> (u16, &'static str, &'static str)) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for stream in l.incoming().take(16) {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, headers, body) = handler(&path);
            let reason = if status == 200 { "OK" } else { "Not Found" };
            let _ = write!(
                s,
                "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

fn exchange(path: &str) -> (u16, &'static str, &'static str) {
    match path {
        "/owa/auth/logon.aspx" => (
            200,
            "Content-Type: text/html\r\nX-OWA-Version: 15.2.792.3\r\n",
            LOGON_HTML,
        ),
        "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application" => (
            200,
            "Content-Type: application/x-ms-application\r\n",
            MANIFEST,
        ),
        _ => (404, "", "not found"),
    }
}

#[test]
fn reads_every_source_and_picks_the_best() {
    let base = serve(exchange);
    let r = probe(&format!("{base}/"), &ProbeOptions::default()).unwrap();
    let by = |src: &str| {
        r.observations
            .iter()
            .find(|o| o.source == src)
            .map(|o| o.build.to_string())
            .unwrap_or_else(|| panic!("{src} not read: {:?}", r.observations))
    };
    assert_eq!(by("owa-static-path"), "15.2.792");
    assert_eq!(by("x-owa-version"), "15.2.792.3");
    assert_eq!(by("ecp-exporttool-manifest"), "15.2.792.10");
    assert_eq!(r.best.to_string(), "15.2.792.10");
    assert_eq!(r.best_source, "ecp-exporttool-manifest");
    assert_eq!(r.assessment.cu.as_deref(), Some("CU8"));
    assert_eq!(r.assessment.update_level.as_deref(), Some("Mar21SU"));
    assert_eq!(r.requests.len(), 2);
}

#[test]
fn owa_path_only_is_cu_level() {
    fn h(path: &str) -> (u16, &'static str, &'static str) {
        if path == "/owa/auth/logon.aspx" {
            (200, "", LOGON_HTML)
        } else {
            (404, "", "")
        }
    }
    let r = probe(&serve(h), &ProbeOptions::default()).unwrap();
    assert_eq!(r.best.to_string(), "15.2.792");
    assert!(r.assessment.update_level.is_none());
}

#[test]
fn nothing_disclosed_is_a_clear_error() {
    fn h(_: &str) -> (u16, &'static str, &'static str) {
        (404, "", "no")
    }
    let err = probe(&serve(h), &ProbeOptions::default()).unwrap_err();
    assert!(
        matches!(err, ExposureError::NoVersionDisclosed { .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("disclosed no Exchange version"), "{msg}");
    assert!(msg.contains("HTTP 404"), "{msg}");
}

#[test]
fn a_silent_server_times_out() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    // Accept and hold connections without ever answering.
    thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for s in l.incoming().take(4).flatten() {
            held.push(s);
        }
        thread::sleep(Duration::from_secs(10));
    });
    let opts = ProbeOptions {
        timeout: Duration::from_millis(300),
        insecure: false,
    };
    let start = Instant::now();
    let err = probe(&format!("http://{addr}"), &opts).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(matches!(err, ExposureError::ProbeFailed { .. }), "{err}");
    assert!(err.to_string().to_lowercase().contains("timeout"), "{err}");
}

#[test]
fn bad_urls_are_refused() {
    for u in ["mail.example.com", "ftp://x.example", ""] {
        assert!(
            matches!(
                probe(u, &ProbeOptions::default()),
                Err(ExposureError::BadUrl { .. })
            ),
            "{u}"
        );
    }
    assert_eq!(ProbeOptions::default().timeout, Duration::from_secs(10));
    assert!(!ProbeOptions::default().insecure);
}
