//! EVTX files: the real samples, then truncated and corrupted copies.

mod common;

use std::path::{Path, PathBuf};

use common::{Owned, evtx, shared};
use exhunt_model::Locator;

fn evtx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            evtx_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "evtx") {
            out.push(p);
        }
    }
}

fn sample(name: &str) -> Option<PathBuf> {
    let root = shared()?.join("data/evtx");
    let mut all = Vec::new();
    evtx_files(&root, &mut all);
    Some(
        all.into_iter()
            .find(|p| p.file_name().unwrap().to_string_lossy() == name)
            .unwrap_or_else(|| panic!("{name} not found")),
    )
}

#[test]
fn every_sample_parses() {
    let Some(root) = shared() else { return };
    let mut files = Vec::new();
    evtx_files(&root.join("data/evtx"), &mut files);
    assert!(files.len() >= 15, "{files:?}");
    for f in &files {
        let (ev, stats) = evtx(f);
        assert!(!ev.is_empty(), "{}", f.display());
        assert!(
            stats.warnings.is_empty(),
            "{}: {:?}",
            f.display(),
            stats.warnings
        );
        for e in &ev {
            let Locator::Record(n) = e.locator else {
                panic!("locator {:?}", e.locator)
            };
            assert_eq!(e.must("EventRecordID"), n.to_string());
            assert!(!e.must("Channel").is_empty());
            assert!(e.must("EventID").parse::<u32>().is_ok());
            assert!(!e.must("Computer").is_empty());
            assert!(!e.must("Provider_Name").is_empty());
            let t = e.time.expect("time");
            assert!(t.timestamp() > 1_500_000_000 && t.timestamp() < 1_800_000_000);
            assert_eq!(e.source.product.as_deref(), Some("windows"));
            assert!(e.source.service.is_some());
            assert!(!e.raw.contains('\n'), "raw must be one line");
            let _: serde_json::Value = serde_json::from_str(&e.raw).unwrap();
        }
    }
}

#[test]
fn sysmon_process_creation() {
    let Some(p) = sample("sysmon_10_1_memdump_comsvcs_minidump.evtx") else {
        return;
    };
    let (ev, _) = evtx(&p);
    let pc: Vec<&Owned> = ev
        .iter()
        .filter(|e| e.source.category.as_deref() == Some("process_creation"))
        .collect();
    assert!(!pc.is_empty());
    let hit = pc
        .iter()
        .find(|e| e.must("CommandLine").to_lowercase().contains("comsvcs"))
        .expect("a comsvcs process creation");
    assert_eq!(hit.source.service.as_deref(), Some("sysmon"));
    assert_eq!(hit.must("EventID"), "1");
    assert_eq!(hit.must("Channel"), "Microsoft-Windows-Sysmon/Operational");
    assert!(hit.must("Image").to_lowercase().ends_with(".exe"));
    assert!(!hit.must("ParentImage").is_empty());
    assert_eq!(hit.must("Security_UserID"), "S-1-5-18");
    // The first record of the file.
    let first = &ev[0];
    assert_eq!(first.locator, Locator::Record(32151));
    assert_eq!(first.must("TimeCreated"), "2019-08-30T12:54:07.873789900Z");
    assert_eq!(first.must("ProcessId"), "2576");
    let access = ev.iter().find(|e| e.must("EventID") == "10").unwrap();
    assert_eq!(access.source.category.as_deref(), Some("process_access"));
}

#[test]
fn security_4688_gets_sysmon_aliases() {
    let Some(p) = sample("ID4688-4663-4656-LSASS dump with LSASSY (process).evtx") else {
        return;
    };
    let (ev, _) = evtx(&p);
    let e = ev.iter().find(|e| e.must("EventID") == "4688").unwrap();
    assert_eq!(e.source.service.as_deref(), Some("security"));
    assert_eq!(e.source.category.as_deref(), Some("process_creation"));
    assert_eq!(e.must("Image"), e.must("NewProcessName"));
    // This (older) 4688 has no ParentProcessName, so no ParentImage either.
    assert_eq!(e.get("ParentProcessName"), None);
    assert_eq!(e.get("ParentImage"), None);
    assert_eq!(
        e.must("User"),
        format!(
            "{}\\{}",
            e.must("SubjectDomainName"),
            e.must("SubjectUserName")
        )
    );
    assert!(e.must("CommandLine").contains("comsvc"));
}

#[test]
fn unnamed_data_and_classic_powershell() {
    let Some(p) = sample("ID800-4103-4104-LSASS dump with LSASSY (PowerShell).evtx") else {
        return;
    };
    let (ev, _) = evtx(&p);
    let e800 = ev.iter().find(|e| e.must("EventID") == "800").unwrap();
    assert_eq!(e800.source.service.as_deref(), Some("powershell-classic"));
    assert_eq!(e800.source.category.as_deref(), Some("ps_classic_script"));
    assert!(e800.must("Data[0]").contains("comsvcs.dll, MiniDump"));
    assert!(e800.must("Data").starts_with(e800.must("Data[0]")));
    assert!(e800.must("Data").contains(e800.must("Data[1]")));
    let e4104 = ev.iter().find(|e| e.must("EventID") == "4104").unwrap();
    assert_eq!(e4104.source.service.as_deref(), Some("powershell"));
    assert_eq!(e4104.source.category.as_deref(), Some("ps_script"));
    assert!(e4104.get("ScriptBlockText").is_some());
    let e400 = ev.iter().find(|e| e.must("EventID") == "400").unwrap();
    assert_eq!(e400.source.category.as_deref(), Some("ps_classic_start"));

    let Some(p) = sample("WinDefender_Events_1117_1116_AtomicRedTeam.evtx") else {
        return;
    };
    let (ev, _) = evtx(&p);
    assert_eq!(ev[0].source.service.as_deref(), Some("windefend"));
    assert!(ev.iter().any(|e| {
        e.get("Threat Name")
            .is_some_and(|v| v.contains("Powersploit"))
    }));
}

fn damaged(bytes: &[u8]) -> Result<exhunt_parse::ParseStats, exhunt_parse::ParseError> {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), bytes).unwrap();
    let mut n = 0u64;
    let r = exhunt_parse::parse_evtx(tmp.path(), &mut |e| {
        assert!(e.get("EventID").is_some());
        n += 1;
    });
    if let Ok(s) = &r {
        assert_eq!(s.events, n);
    }
    r
}

#[test]
fn truncated_and_corrupted_files() {
    let Some(p) = sample("discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx") else {
        return;
    };
    let full = std::fs::read(&p).unwrap();
    let (all, _) = evtx(&p);
    assert!(full.len() > 4096 + 3 * 65536);

    // Cut in the middle of the third chunk.
    match damaged(&full[..4096 + 2 * 65536 + 30_000]) {
        Ok(s) => assert!(s.events < all.len() as u64 || !s.warnings.is_empty()),
        Err(e) => assert!(e.to_string().contains("EVTX")),
    }
    // Only part of the file header.
    let err = damaged(&full[..100]).unwrap_err();
    assert!(err.to_string().contains("cannot open"), "{err}");
    // Not EVTX at all.
    let err = damaged(b"this is not an event log, just text").unwrap_err();
    assert!(err.to_string().contains("EVTX"), "{err}");

    // Flip bytes inside the first chunk's records and in its header.
    for (at, len) in [
        (4096 + 20_000, 3000),
        (4096 + 600, 200),
        (4096 + 65536 + 8, 64),
        (4096, 4),
        (0, 8),
    ] {
        let mut bad = full.clone();
        for b in &mut bad[at..at + len] {
            *b ^= 0x5A;
        }
        let r = damaged(&bad);
        if at == 4096 {
            // A broken chunk header: that chunk is skipped with a warning, the others parse.
            let s = r.as_ref().unwrap();
            assert!(
                s.warnings.iter().any(|w| w.contains("chunk")),
                "{:?}",
                s.warnings
            );
            assert!(s.events > 0 && s.events < all.len() as u64);
        }
        if at == 0 {
            assert!(matches!(r, Err(exhunt_parse::ParseError::Evtx { .. })));
        }
        match r {
            Ok(s) => assert!(
                !s.warnings.is_empty() || s.events <= all.len() as u64,
                "corruption at {at} went unnoticed"
            ),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    // A missing file is a read error.
    let err = exhunt_parse::parse_evtx(Path::new("/nonexistent/x.evtx"), &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, exhunt_parse::ParseError::Read { .. }),
        "{err}"
    );
}
