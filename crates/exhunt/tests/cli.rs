//! The `exhunt` binary end to end: exit codes, hostile input, determinism, evidence untouched.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn exhunt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exhunt"))
        .args(args)
        .output()
        .expect("run exhunt")
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: ../shared not found");
        None
    }
}

const HTTPPROXY_HEADER: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.02.0792.003\r\n#Log-type: HttpProxy Logs\r\n#Date: 2021-03-02T03:00:00.000Z\r\n#Fields: DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie\r\n";

fn ssrf_row(time: &str, anchor: &str) -> String {
    format!(
        "{time},0b3c1c0e-0000-4000-8000-000000000001,15,2,792,3,,Ecp,mail.contoso.com,/ecp/y.js,,,false,,,{anchor},ExchangeServicesClient/0.0.0.0,104.140.114.110,EXCH01,241,241,,POST,Proxy,EXCH01.contoso.local:444,15.02.0792.000,IntraForest,X-BEResource-Cookie,\r\n"
    )
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A small collection with one SSRF row, in a folder layout like the server's.
fn small_case(root: &Path) {
    let mut log = String::from(HTTPPROXY_HEADER);
    log.push_str(&ssrf_row(
        "2021-03-02T03:14:07.123Z",
        "ServerInfo~EXCH01.contoso.local:444/ecp/proxyLogon.ecp?#",
    ));
    write(
        &root.join("Logging/HttpProxy/Ecp/HttpProxy_2021030203-1.LOG"),
        log.as_bytes(),
    );
}

fn hash_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walk(root) {
        out.push((
            e.display().to_string(),
            std::fs::read(&e).unwrap_or_default(),
        ));
    }
    out.sort();
    out
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                out.push(p);
            }
        }
    }
    out
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn scan_finds_ssrf_with_evidence_and_leaves_input_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    small_case(&case);
    let before = hash_tree(&case);
    let out = tmp.path().join("out");
    let o = exhunt(&[
        "scan",
        case.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--timings",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(before, hash_tree(&case), "the scan changed its input");
    // The scratch files findings and context spill into are gone; the stages were timed.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.ends_with(".spill"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    for stage in ["load Sigma rules", "parse and detect", "exports"] {
        assert!(stderr.contains(&format!("timing: {stage}")), "{stderr}");
    }

    let findings = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    let f: serde_json::Value = serde_json::from_str(findings.lines().next().unwrap()).unwrap();
    assert!(
        f["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "cve.2021-26855")
    );
    let ev = &f["evidence"][0];
    assert_eq!(
        ev["path"],
        "Logging/HttpProxy/Ecp/HttpProxy_2021030203-1.LOG"
    );
    assert_eq!(ev["line"], 6);
    assert!(
        ev["excerpt"]
            .as_str()
            .unwrap()
            .contains("ServerInfo~EXCH01")
    );
    assert_eq!(ev["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(f["time"], "2021-03-02T03:14:07.123Z");
    assert_eq!(f["fields"]["ClientIpAddress"], "104.140.114.110");

    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("VERDICT"), "{stdout}");
    assert!(stdout.contains("104.140.114.110"), "{stdout}");
    let s = summary(&out);
    assert_eq!(s["verdict"]["chains"][0], "ProxyLogon");
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert!(timeline.starts_with("datetime,timestamp_desc,message"));
}

#[test]
fn exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    small_case(&case);
    let out = tmp.path().join("out");
    // usage errors
    assert_eq!(exhunt(&["scan"]).status.code(), Some(2));
    assert_eq!(exhunt(&["frobnicate"]).status.code(), Some(2));
    let missing = exhunt(&[
        "scan",
        "/nonexistent/collection",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/collection"));
    // findings with --fail-on-findings
    let o = exhunt(&[
        "scan",
        case.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fail-on-findings",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // a clean collection exits 0 even with --fail-on-findings
    let clean = tmp.path().join("clean");
    write(
        &clean.join("Logging/HttpProxy/Ecp/HttpProxy_2021030203-1.LOG"),
        HTTPPROXY_HEADER.as_bytes(),
    );
    let o = exhunt(&[
        "scan",
        clean.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fail-on-findings",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
    // output inside the evidence is refused
    let inside = case.join("out");
    let o = exhunt(&[
        "scan",
        case.to_str().unwrap(),
        "--out",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("inside the input"));
}

#[test]
fn same_input_gives_byte_identical_output() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    small_case(&case);
    if let Some(shared) = shared() {
        let evtx = shared.join("data/evtx/evtx-attack-samples");
        for e in std::fs::read_dir(evtx).unwrap().flatten() {
            std::fs::copy(e.path(), case.join(e.file_name())).unwrap();
        }
    }
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    for out in [&a, &b] {
        let o = exhunt(&[
            "scan",
            case.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(o.status.code(), Some(0));
    }
    for f in ["findings.jsonl", "timeline.csv", "summary.json"] {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(!x.is_empty());
        // summary.json names the output-independent roots only, so the files compare whole.
        assert_eq!(x, y, "{f} differs between two runs");
    }
}

#[test]
fn hostile_input_gives_warnings_and_a_partial_result() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    small_case(&case);
    // A CSV log cut mid-line.
    let mut cut = String::from(HTTPPROXY_HEADER);
    cut.push_str(&ssrf_row(
        "2021-03-02T04:00:00.000Z",
        "ServerInfo~EXCH01.contoso.local:444/mapi/emsmdb/?#",
    ));
    cut.push_str("2021-03-02T04:00:01.000Z,0b3c1c0e-0000-4000-8000-0000000000");
    write(
        &case.join("Logging/HttpProxy/Ecp/HttpProxy_2021030204-1.LOG"),
        cut.as_bytes(),
    );
    // Binary junk with a log's name.
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    write(
        &case.join("Logging/HttpProxy/Owa/HttpProxy_2021030205-1.LOG"),
        &junk,
    );
    // Corrupt and truncated EVTX.
    if let Some(shared) = shared() {
        let real = std::fs::read(
            shared.join("data/evtx/evtx-attack-samples/sysmon_10_1_memdump_comsvcs_minidump.evtx"),
        )
        .unwrap();
        write(&case.join("winevt/truncated.evtx"), &real[..real.len() / 3]);
        let mut flipped = real.clone();
        for b in flipped[5000..9000].iter_mut() {
            *b ^= 0x5a;
        }
        write(&case.join("winevt/corrupt.evtx"), &flipped);
        let mut bad_header = real.clone();
        bad_header[8..16].copy_from_slice(&[0xff; 8]);
        write(&case.join("winevt/badheader.evtx"), &bad_header[..600]);
    }
    // A zip with a traversal entry and a bomb, given as a second root.
    let zip_path = tmp.path().join("kape.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("../../evil.aspx", opts).unwrap();
        z.write_all(b"<%@ Page Language=\"Jscript\"%>").unwrap();
        z.start_file("C/inetpub/logs/LogFiles/W3SVC1/bomb.log", opts)
            .unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            z.write_all(&zeros).unwrap();
        }
        z.start_file("Logging/HttpProxy/Ecp/HttpProxy_2021030206-1.LOG", opts)
            .unwrap();
        let mut log = String::from(HTTPPROXY_HEADER);
        log.push_str(&ssrf_row("2021-03-02T06:00:00.000Z", "ServerInfo~EXCH01.contoso.local:444/ecp/DDI/DDIService.svc/GetObject?schema=OABVirtualDirectory#"));
        z.write_all(log.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let out = tmp.path().join("out");
    let o = exhunt(&[
        "scan",
        case.to_str().unwrap(),
        zip_path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let s = summary(&out);
    let warnings: Vec<String> = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{}: {}",
                w["path"].as_str().unwrap(),
                w["message"].as_str().unwrap()
            )
        })
        .collect();
    let any = |path: &str| warnings.iter().any(|w| w.contains(path));
    assert!(any("HttpProxy_2021030204-1.LOG"), "cut line: {warnings:#?}");
    assert!(any("Owa/HttpProxy_2021030205-1.LOG"), "junk: {warnings:#?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("evil.aspx") && w.contains("escapes")),
        "{warnings:#?}"
    );
    assert!(any("bomb.log"), "bomb: {warnings:#?}");
    if shared().is_some() {
        assert!(any("badheader.evtx"), "{warnings:#?}");
    }
    // The rest of the scan went on: findings from the cut log, the intact log and the zip.
    let findings = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    assert!(findings.contains("HttpProxy_2021030203-1.LOG"));
    assert!(findings.contains("HttpProxy_2021030204-1.LOG"));
    assert!(findings.contains("kape.zip!/Logging/HttpProxy/Ecp/HttpProxy_2021030206-1.LOG"));
}

#[test]
fn inventory_lists_kinds_and_unrecognised_files() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    small_case(&case);
    write(&case.join("notes/readme.bin"), &[0u8, 1, 2, 3, 250, 251]);
    let o = exhunt(&["inventory", case.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("exchange-httpproxy"), "{text}");
    assert!(text.contains("notes/readme.bin"), "{text}");
    let o = exhunt(&["inventory", "--json", case.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kinds"]["exchange-httpproxy"]["events"], 1);
    assert_eq!(
        v["kinds"]["exchange-httpproxy"]["first"],
        "2021-03-02T03:14:07.123Z"
    );
}

#[test]
fn rules_check_reports_broken_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rules");
    write(&dir.join("good.yml"), b"title: Good\nid: 11111111-1111-4111-8111-111111111111\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method: POST\n  condition: sel\nlevel: low\n");
    write(
        &dir.join("broken.yml"),
        b"title: Broken\nlogsource: [\ndetection: {\n",
    );
    write(&dir.join("badcond.yml"), b"title: Bad condition\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method: POST\n  condition: sel and nothere\nlevel: low\n");
    let o = exhunt(&["rules", "check", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("broken.yml"), "{text}");
    assert!(
        text.contains("badcond.yml") || text.contains("Bad condition"),
        "{text}"
    );
    let o = exhunt(&["rules", "check"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
