//! exhunt and pySigma agree on which rules of the community corpus (and of a set of broken
//! rules written here) are valid Sigma.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use exhunt_detect::{Detector, rule_files_in};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.is_dir().then_some(p)
}

fn pysigma_available() -> bool {
    let ok = |c: &mut Command| c.output().map(|o| o.status.success()).unwrap_or(false);
    if ok(Command::new("python3").args(["-c", "import sigma.collection"])) {
        return true;
    }
    // CI installs it in .ci/run; try once here too for a developer machine.
    let _ = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "pysigma"])
        .output();
    ok(Command::new("python3").args(["-c", "import sigma.collection"]))
}

fn broken_rules(dir: &Path) {
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "valid.yml",
        "title: Valid\nid: 5f1c2d4e-1111-4a4a-8b8b-000000000001\nstatus: test\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method: POST\n  condition: sel\nlevel: low\n",
    );
    write(
        "undefined_identifier.yml",
        "title: Undefined identifier\nid: 5f1c2d4e-1111-4a4a-8b8b-000000000002\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method: POST\n  condition: sel and other\nlevel: low\n",
    );
    write(
        "unknown_modifier.yml",
        "title: Unknown modifier\nid: 5f1c2d4e-1111-4a4a-8b8b-000000000003\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method|frobnicate: POST\n  condition: sel\nlevel: low\n",
    );
    write("not_yaml.yml", "title: [unclosed\ndetection: {\n");
    write(
        "no_condition.yml",
        "title: No condition\nid: 5f1c2d4e-1111-4a4a-8b8b-000000000004\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-method: POST\nlevel: low\n",
    );
}

#[test]
fn exhunt_and_pysigma_agree_on_which_rules_parse() {
    let Some(shared) = shared() else {
        eprintln!("SKIP: ../shared not found");
        return;
    };
    if !pysigma_available() {
        eprintln!(
            "SKIP: pySigma (pip package pysigma) is not installed and could not be installed"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    broken_rules(tmp.path());
    let mut dirs: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| shared.join("data/sigma").join(d))
        .collect();
    dirs.push(tmp.path().to_path_buf());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/pysigma_parse_check.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(&dirs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    let canon = |p: &str| std::fs::canonicalize(p).unwrap().display().to_string();
    let pysigma_bad: BTreeSet<String> = verdicts
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| canon(k))
        .collect();

    let mut files = Vec::new();
    for d in &dirs {
        files.extend(rule_files_in(d).unwrap());
    }
    let (det, diags) = Detector::load(&files);
    let exhunt_bad: BTreeSet<String> = diags.iter().map(|d| canon(&d.path)).collect();
    println!(
        "corpus + fixtures: {} files; exhunt loaded {} rules, {} files with problems; pySigma: {} files with problems",
        files.len(),
        det.detection_rule_count(),
        exhunt_bad.len(),
        pysigma_bad.len()
    );
    let only_exhunt: Vec<_> = exhunt_bad.difference(&pysigma_bad).collect();
    let only_pysigma: Vec<_> = pysigma_bad.difference(&exhunt_bad).collect();
    assert!(
        only_exhunt.is_empty() && only_pysigma.is_empty(),
        "disagreement\nrejected only by exhunt: {only_exhunt:#?}\nrejected only by pySigma: {only_pysigma:#?}"
    );
    // The fixtures make sure the comparison has teeth: both reject the four broken files.
    let broken: BTreeSet<String> = [
        "undefined_identifier.yml",
        "unknown_modifier.yml",
        "not_yaml.yml",
        "no_condition.yml",
    ]
    .iter()
    .map(|n| canon(&tmp.path().join(n).display().to_string()))
    .collect();
    assert!(
        broken.is_subset(&exhunt_bad),
        "exhunt accepted a broken fixture: {exhunt_bad:#?}"
    );
    assert!(!exhunt_bad.contains(&canon(&tmp.path().join("valid.yml").display().to_string())));
    // At least 99% of the community corpus loads.
    let corpus = files.len() - 5;
    let corpus_bad = exhunt_bad.len() - broken.len();
    assert!(
        corpus_bad * 100 <= corpus,
        "{corpus_bad} of {corpus} corpus rules do not load"
    );
}
