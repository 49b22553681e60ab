//! The built-in pack against real webshell samples, our benign set and our positive fixtures;
//! third-party rule compatibility; timeouts, the size cap and the cache.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use exhunt_yara::{
    RuleFile, YaraEngine, YaraOptions, builtin_rule_files, finding_for_match, read_rule_dir,
};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!("SKIP: ../shared not found");
        None
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn builtin() -> &'static YaraEngine {
    static E: OnceLock<YaraEngine> = OnceLock::new();
    E.get_or_init(|| {
        let (e, diags) = YaraEngine::from_files(&builtin_rule_files(), &YaraOptions::default())
            .expect("built-in pack compiles");
        assert!(
            diags.is_empty(),
            "built-in rules must compile cleanly: {diags:#?}"
        );
        e
    })
}

fn rules_for(engine: &YaraEngine, data: &[u8], path: &str) -> Vec<String> {
    let scan = engine.scan_data(data, path);
    assert!(scan.warnings.is_empty(), "{path}: {:?}", scan.warnings);
    scan.matches.iter().map(|m| m.rule.clone()).collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn builtin_rules_have_required_meta() {
    let e = builtin();
    assert!(e.rule_count() >= 20, "only {} rules", e.rule_count());
    for f in builtin_rule_files() {
        // every public rule: description, reference, author, date, attack
        for block in f.source.split("\nrule ").skip(1) {
            let name = block.split_whitespace().next().unwrap();
            for key in [
                "description",
                "reference",
                "author = \"exhunt team\"",
                "date",
                "attack = \"attack.",
            ] {
                assert!(
                    block.contains(key),
                    "{}: rule {name} lacks meta {key}",
                    f.origin
                );
            }
        }
    }
}

/// Every sample of ../shared/data/webshells is an ASP.NET page (C# or VB.NET `.aspx`, stored as
/// `.txt`); there is no PHP/JSP/classic-ASP sample to exclude. Each must be flagged.
#[test]
fn every_aspnet_webshell_sample_is_flagged() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("data/webshells");
    let mut flagged = 0;
    let mut checked = 0;
    for p in files_under(&dir) {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("LICENSE") {
            continue;
        }
        let data = std::fs::read(&p).unwrap();
        let text = String::from_utf8_lossy(&data);
        // ASP.NET: a .aspx name and server-side .NET code; anything else would be excluded here.
        let is_aspnet = name.contains(".aspx")
            && (text.contains("runat=\"server\"") || text.contains("<%@ Page"));
        assert!(
            is_aspnet,
            "{name}: not an ASP.NET sample; decide how to treat it"
        );
        checked += 1;
        // Scan as the webshell it was: the .txt storage suffix removed.
        let shown = name
            .trim_end_matches(".txt")
            .trim_end_matches(".txt")
            .to_string();
        let rules = rules_for(
            builtin(),
            &data,
            &format!("inetpub/wwwroot/aspnet_client/{shown}"),
        );
        println!("{}: {rules:?}", p.strip_prefix(&dir).unwrap().display());
        assert!(
            !rules.is_empty(),
            "{}: no built-in rule matched",
            p.display()
        );
        flagged += 1;
    }
    println!("webshell samples: {flagged}/{checked} flagged");
    assert!(checked >= 10);
}

#[test]
fn benign_exchange_and_iis_files_raise_nothing() {
    let dir = fixtures().join("benign");
    let mut n = 0;
    for p in files_under(&dir) {
        let data = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy();
        for shown in [
            format!(
                "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/{name}"
            ),
            format!("C/inetpub/wwwroot/aspnet_client/{name}"),
        ] {
            let rules = rules_for(builtin(), &data, &shown);
            assert!(rules.is_empty(), "{shown}: false positive {rules:?}");
        }
        n += 1;
    }
    assert!(n >= 8);
}

#[test]
fn written_positives_hit_their_rules() {
    let dir = fixtures().join("malicious");
    let expect: &[(&str, &str)] = &[
        (
            "chopper-oneliner.aspx",
            "exhunt_chopper_jscript_eval_request",
        ),
        ("chopper-base64.aspx", "exhunt_chopper_base64_eval"),
        ("oab-vdir-chopper.txt", "exhunt_oab_vdir_config_script"),
        ("godzilla-like.aspx", "exhunt_godzilla_aspx"),
        ("behinder-like.aspx", "exhunt_behinder_aspx"),
        ("streamwriter.aspx", "exhunt_aspx_streamwriter_request"),
        ("uploader.aspx", "exhunt_aspx_uploader"),
        ("assembly-loader.ashx", "exhunt_aspx_assembly_load_request"),
    ];
    for (file, rule) in expect {
        let data = std::fs::read(dir.join(file)).unwrap();
        let rules = rules_for(
            builtin(),
            &data,
            &format!("FrontEnd/HttpProxy/owa/auth/{file}"),
        );
        assert!(
            rules.iter().any(|r| r == rule),
            "{file}: expected {rule}, got {rules:?}"
        );
    }
}

#[test]
fn proxyshell_pst_and_der_shells() {
    // PST header, then the script as plain text (what the export writes).
    let mut pst = b"!BDN\x0e\x4b\x00\x00SMPR".to_vec();
    pst.extend(std::iter::repeat_n(0u8, 500));
    pst.extend(b"<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"a\"],\"unsafe\");}</script>");
    let rules = rules_for(builtin(), &pst, "FrontEnd/HttpProxy/owa/auth/x.aspx");
    assert!(
        rules.contains(&"exhunt_proxyshell_pst_aspx".to_string()),
        "{rules:?}"
    );
    // Encoded form only (the mailed bytes): "<script" through the inverse permutation.
    let mut pst2 = b"!BDN\x00\x00\x00\x00".to_vec();
    pst2.extend([0x95, 0xD6, 0x54, 0x86, 0xB7, 0x69, 0x14]);
    let rules = rules_for(builtin(), &pst2, "case/x.pst");
    assert!(
        rules.contains(&"exhunt_proxyshell_pst_aspx".to_string()),
        "{rules:?}"
    );
    // A genuine PST export outside web folders with no script: nothing.
    let rules = rules_for(
        builtin(),
        b"!BDN\x00\x00\x00\x00plain mailbox data",
        "exports/mailbox.pst",
    );
    assert!(rules.is_empty(), "{rules:?}");
    // DER certificate request with a script in its subject.
    let mut der = vec![0x30, 0x82, 0x02, 0x10, 0x30, 0x82, 0x01, 0xf8];
    der.extend(
        b"\x0c\x40<script language='JScript' runat='server'>eval(Request['a'],'unsafe')</script>",
    );
    let rules = rules_for(builtin(), &der, "aspnet_client/cert.aspx");
    assert!(
        rules.contains(&"exhunt_proxyshell_der_csr_aspx".to_string()),
        "{rules:?}"
    );
    // A normal DER certificate stored as .cer: nothing.
    let rules = rules_for(
        builtin(),
        &[0x30, 0x82, 0x03, 0x00, 0x30, 0x82, 0x02, 0xe8, 0xa0, 0x03],
        "certs/a.cer",
    );
    assert!(rules.is_empty(), "{rules:?}");
}

/// A minimal PE image: MZ, e_lfanew = 0x40, "PE\0\0", then our strings.
fn fake_pe(strings: &[&str], wide: &[&str]) -> Vec<u8> {
    let mut pe = vec![0u8; 0x40];
    pe[0] = b'M';
    pe[1] = b'Z';
    pe[0x3c] = 0x40;
    pe.extend(b"PE\0\0");
    pe.extend(std::iter::repeat_n(0u8, 0x100));
    for s in strings {
        pe.extend(s.as_bytes());
        pe.push(0);
    }
    for s in wide {
        for u in s.encode_utf16() {
            pe.extend(u.to_le_bytes());
        }
        pe.extend([0, 0]);
    }
    pe
}

#[test]
fn compiled_app_web_dll_with_jscript_eval() {
    let pe = fake_pe(
        &[
            "App_Web_ab12cd34",
            "Microsoft.JScript",
            "JScriptEvaluate",
            "System.Web.UI.Page",
        ],
        &["~/aspnet_client/system_web/log.aspx"],
    );
    let rules = rules_for(
        builtin(),
        &pe,
        "Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/root/1/2/App_Web_ab12cd34.dll",
    );
    assert!(
        rules.contains(&"exhunt_compiled_page_jscript_eval".to_string()),
        "{rules:?}"
    );
    // An ordinary compiled Exchange page: nothing.
    let ok = fake_pe(
        &["App_Web_logon01", "System.Web.UI.Page", "get_Request"],
        &["~/auth/logon.aspx"],
    );
    let rules = rules_for(
        builtin(),
        &ok,
        "Temporary ASP.NET Files/owa/1/2/App_Web_logon01.dll",
    );
    assert!(rules.is_empty(), "{rules:?}");
}

#[test]
fn third_party_corpus_compiles_or_is_diagnosed() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("data/yara");
    let (files, read_diags) = read_rule_dir(&dir).unwrap();
    assert!(read_diags.is_empty(), "{read_diags:?}");
    let opts = YaraOptions {
        builtin: false,
        ..YaraOptions::default()
    };
    let start = std::time::Instant::now();
    let (engine, diags) = YaraEngine::from_files(&files, &opts).unwrap();
    let mut fully = 0;
    for f in &files {
        let diag = diags.iter().find(|d| d.path == f.origin);
        let loaded = engine.loaded_files().contains(&f.origin);
        match diag {
            Some(d) => {
                assert!(!d.reason.trim().is_empty(), "{}: empty reason", f.origin);
                println!(
                    "DIAG {} (some rules loaded: {loaded}): {}",
                    f.origin,
                    d.reason.lines().next().unwrap_or("")
                );
            }
            None => {
                assert!(loaded, "{}: neither compiled nor diagnosed", f.origin);
                fully += 1;
            }
        }
    }
    println!(
        "third-party corpus: {} files, {fully} compiled, {} with reasons, {} rules, {:?}",
        files.len(),
        diags.len(),
        engine.rule_count(),
        start.elapsed()
    );
    assert_eq!(fully + diags.len(), files.len());
    assert!(engine.rule_count() > 100);
    // The user rules are namespaced by folder and file.
    let m = engine
        .scan_data(
            b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"x\"],\"unsafe\");%>",
            "a.aspx",
        )
        .matches;
    assert!(m.iter().all(|m| m.namespace.starts_with("yara/")), "{m:?}");
}

#[test]
fn a_broken_file_is_reported_and_others_still_load() {
    let files = vec![
        RuleFile {
            origin: "user/bad.yar".into(),
            namespace: "user/bad".into(),
            source: "rule bad { strings: $a = \"x\" condition: $b }".into(),
        },
        RuleFile {
            origin: "user/good.yar".into(),
            namespace: "user/good".into(),
            source: "rule good { strings: $a = \"exhunt-marker\" condition: $a }".into(),
        },
    ];
    let (e, diags) = YaraEngine::from_files(
        &files,
        &YaraOptions {
            builtin: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].path, "user/bad.yar");
    assert!(diags[0].reason.contains("$b"), "{}", diags[0].reason);
    assert!(
        diags[0].reason.contains("user/bad.yar:1:"),
        "line/column expected: {}",
        diags[0].reason
    );
    let m = e.scan_bytes(b"..exhunt-marker..").unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].namespace, "user/good");
    assert_eq!(m[0].strings[0].offset, 2);
}

#[test]
fn timeout_is_a_warning_not_a_panic() {
    let files = vec![RuleFile {
        origin: "slow.yar".into(),
        namespace: "slow".into(),
        source: "rule slow { condition: for any i in (0..filesize) : ( for any j in (0..filesize) : ( uint8(i) == 1 and uint8(j) == 2 ) ) }".into(),
    }];
    let opts = YaraOptions {
        builtin: false,
        timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let (e, diags) = YaraEngine::from_files(&files, &opts).unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    let data = vec![0u8; 4 * 1024 * 1024];
    let start = std::time::Instant::now();
    let scan = e.scan_data(&data, "big.bin");
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(scan.matches.is_empty());
    assert_eq!(scan.warnings.len(), 1, "{:?}", scan.warnings);
    assert!(
        scan.warnings[0].message.contains("timed out"),
        "{:?}",
        scan.warnings
    );
    // and the engine still works afterwards
    assert!(e.scan_bytes(b"x").unwrap().is_empty());
}

#[test]
fn files_over_the_cap_are_skipped_with_a_warning() {
    let opts = YaraOptions {
        size_cap: 1024,
        ..Default::default()
    };
    let (e, _) = YaraEngine::from_files(&builtin_rule_files(), &opts).unwrap();
    let data = vec![b'a'; 2048];
    let scan = e.scan_data(&data, "inetpub/big.aspx");
    assert!(scan.skipped);
    assert!(
        scan.warnings[0]
            .message
            .contains("skipped: larger than the cap"),
        "{:?}",
        scan.warnings
    );
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), &data).unwrap();
    let scan = e.scan_file(tmp.path(), "inetpub/big2.aspx");
    assert!(scan.skipped && scan.warnings[0].path == "inetpub/big2.aspx");
    let scan = e.scan_reader(&data[..], data.len() as u64, "zip!/big3.aspx");
    assert!(scan.skipped);
}

#[test]
fn compiled_rules_are_cached() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = builtin_rule_files();
    files.push(RuleFile {
        origin: "user/bad.yar".into(),
        namespace: "user/bad".into(),
        source: "rule bad { condition: nope }".into(),
    });
    let opts = YaraOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let (a, da) = YaraEngine::from_files(&files, &opts).unwrap();
    assert!(!a.from_cache());
    let (b, db) = YaraEngine::from_files(&files, &opts).unwrap();
    assert!(b.from_cache());
    assert_eq!(a.rule_count(), b.rule_count());
    assert_eq!(da, db, "diagnostics survive the cache");
    let sample = std::fs::read(fixtures().join("malicious/chopper-oneliner.aspx")).unwrap();
    assert_eq!(
        rules_for(&a, &sample, "x.aspx"),
        rules_for(&b, &sample, "x.aspx")
    );
    // A changed source is a new key.
    files.pop();
    let (c, _) = YaraEngine::from_files(&files, &opts).unwrap();
    assert!(!c.from_cache());
}

#[test]
fn finding_carries_source_tags_level_and_escaped_strings() {
    let data = std::fs::read(fixtures().join("malicious/chopper-oneliner.aspx")).unwrap();
    let scan = builtin().scan_data(&data, "C/inetpub/wwwroot/aspnet_client/x.aspx");
    let m = scan
        .matches
        .iter()
        .find(|m| m.rule == "exhunt_chopper_jscript_eval_request")
        .unwrap();
    let f = finding_for_match(
        m,
        "C/inetpub/wwwroot/aspnet_client/x.aspx",
        "ab".repeat(32).as_str(),
        data.len() as u64,
    );
    assert_eq!(
        f.rule.source,
        "yara:builtin/chopper/exhunt_chopper_jscript_eval_request"
    );
    assert_eq!(f.rule.level, "critical");
    assert!(
        f.tags.contains(&"attack.t1505.003".to_string()),
        "{:?}",
        f.tags
    );
    assert_eq!(f.fields["FileName"], "x.aspx");
    assert!(
        f.evidence[0].excerpt.contains("$eval_req@"),
        "{}",
        f.evidence[0].excerpt
    );
    assert!(
        f.evidence[0].excerpt.contains("eval(Request.Item["),
        "{}",
        f.evidence[0].excerpt
    );
    let again = finding_for_match(
        m,
        "C/inetpub/wwwroot/aspnet_client/x.aspx",
        "ab".repeat(32).as_str(),
        data.len() as u64,
    );
    assert_eq!(f.id, again.id);
}

#[test]
fn real_baselines_judge_files() {
    let Some(shared) = shared() else { return };
    let (b, warnings) = exhunt_yara::Baselines::load_dir(&shared.join("data/baselines")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    println!("baselines: {} rows, builds {:?}", b.len(), b.builds());
    assert!(b.builds().contains(&"15.1.2176.2"));
    let rel = exhunt_yara::exchange_relpath(
        "case.zip!/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx",
    )
    .unwrap();
    let good = "49194ca2dc5ff65a4e4438b3b68d11d63ed72e12cf72b76949733f4b5196a9b2";
    assert_eq!(
        b.verdict("15.1.2176.2", &rel, good),
        exhunt_yara::BaselineVerdict::KnownGood
    );
    assert!(matches!(
        b.verdict("15.1.2176.2", &rel, &"0".repeat(64)),
        exhunt_yara::BaselineVerdict::ChangedKnownFile { .. }
    ));
    assert_eq!(
        b.verdict(
            "15.1.2176.2",
            r"\FrontEnd\HttpProxy\owa\auth\OutlookEN.aspx",
            good
        ),
        exhunt_yara::BaselineVerdict::UnknownForBuild
    );
    assert_eq!(
        b.verdict("15.2.1118.7", &rel, good),
        exhunt_yara::BaselineVerdict::BuildNotInBaseline
    );
}
