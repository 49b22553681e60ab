//! The exports of a hand-made scan folder: determinism, escaping, formats and validators.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use base64::Engine;
use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

const OUTPUTS: &[&str] = &[
    "report.html",
    "exhunt.stix.json",
    "navigator-layer.json",
    "timeline.jsonl",
    "findings.csv",
];

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn case(with_optional: bool) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    write_case(t.path(), with_optional);
    let r = exhunt_export::write_all(t.path()).unwrap();
    assert_eq!(r.written.len(), OUTPUTS.len());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    t
}

#[test]
fn outputs_are_byte_identical_for_the_same_input() {
    let a = case(true);
    let b = case(true);
    for name in OUTPUTS {
        assert_eq!(
            std::fs::read(a.path().join(name)).unwrap(),
            std::fs::read(b.path().join(name)).unwrap(),
            "{name} differs between two runs"
        );
    }
    // Running again over its own outputs changes nothing either.
    exhunt_export::write_all(a.path()).unwrap();
    for name in OUTPUTS {
        assert_eq!(read(a.path(), name), read(b.path(), name), "{name} rerun");
    }
}

#[test]
fn works_without_attribution_and_exposure() {
    let t = case(false);
    let html = read(t.path(), "report.html");
    assert!(html.contains("Attribution not available"));
    assert!(html.contains("Exposure not available"));
    assert!(!html.contains("id=\"attribution-table\""));
    let stix: Value = serde_json::from_str(&read(t.path(), "exhunt.stix.json")).unwrap();
    let types: BTreeSet<&str> = stix["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert!(!types.contains("intrusion-set"));
    assert!(types.contains("report"));
}

#[test]
fn missing_summary_is_recomputed_and_bad_optional_files_are_warned_about() {
    let t = tempfile::tempdir().unwrap();
    write_case(t.path(), false);
    std::fs::remove_file(t.path().join("summary.json")).unwrap();
    std::fs::write(t.path().join("attribution.json"), "{not json").unwrap();
    let r = exhunt_export::write_all(t.path()).unwrap();
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    let html = read(t.path(), "report.html");
    assert!(html.contains("COMPROMISED"));
    // An empty folder is an error that says what is missing.
    let empty = tempfile::tempdir().unwrap();
    let e = exhunt_export::write_all(empty.path()).unwrap_err();
    assert!(e.to_string().contains("findings.jsonl"), "{e}");
}

#[test]
fn html_escapes_every_string_and_allows_only_its_own_script() {
    let t = case(true);
    let html = read(t.path(), "report.html");
    for raw in [
        XSS_UA,
        "<img src=x",
        "<b onmouseover",
        "<script>alert(6)",
        XSS_WARNING,
        "<i>exploited</i>",
    ] {
        assert!(!html.contains(raw), "unescaped {raw}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("u=javascript:alert(3)"));
    assert!(!html.contains("href=\"javascript"));
    assert_eq!(html.matches("<script").count(), 1, "one script element");
    // The CSP allows exactly that script by hash.
    let start = html.find("<script>").unwrap() + "<script>".len();
    let end = html[start..].find("</script>").unwrap() + start;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&html[start..end]));
    let csp_start = html
        .find("http-equiv=\"Content-Security-Policy\" content=\"")
        .unwrap();
    let csp = &html[csp_start..csp_start + html[csp_start..].find("\">").unwrap()];
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );
    for d in [
        "default-src 'none'",
        "img-src data:",
        "connect-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(d), "{d} in {csp}");
    }
    // Nothing is loaded from elsewhere.
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("href=\"http"));
    for id in [
        "verdict",
        "timeline-chart",
        "attack-matrix",
        "attribution-table",
        "findings-table",
        "exposure",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "#{id}");
    }
    // Content of the sections.
    assert!(html.contains("CVE-2021-26855"));
    assert!(html.contains("157.230.221.198"));
    assert!(html.contains("HAFNIUM"));
    assert!(html.contains("15.2.792.3"));
    assert!(html.contains("T1505.003"));
}

#[test]
fn timeline_jsonl_round_trips() {
    let t = case(true);
    let text = read(t.path(), "timeline.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), findings().len() + context().len());
    let mut last: Option<String> = None;
    let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
    for line in &lines {
        let v: Value = serde_json::from_str(line).expect("line parses");
        assert_eq!(&serde_json::to_string(&v).unwrap(), line, "re-serialised");
        for k in ["datetime", "timestamp_desc", "message"] {
            assert!(v.get(k).is_some(), "{k} in {line}");
        }
        if let Some(dt) = v["datetime"].as_str() {
            assert_eq!(v["@timestamp"].as_str(), Some(dt));
            if let Some(prev) = &last {
                assert!(prev.as_str() <= dt, "time order");
            }
            last = Some(dt.to_string());
        } else {
            assert!(last.is_none(), "untimed events come first");
        }
        if let Some(id) = v["exhunt.finding_id"].as_str() {
            by_id.insert(id.to_string(), v.clone());
        }
    }
    let xss = &by_id["f15"];
    assert_eq!(xss["user_agent.original"], XSS_UA);
    assert_eq!(xss["url.path"], XSS_URL);
    assert_eq!(xss["url.query"], XSS_QUERY);
    assert_eq!(xss["source.ip"], "157.230.221.198");
    assert_eq!(xss["http.request.method"], "POST");
    assert_eq!(xss["http.response.status_code"], 200);
    assert_eq!(xss["threat.technique.id"][0], "T1505.003");
    let cmd = &by_id["f10"];
    assert!(
        cmd["process.command_line"]
            .as_str()
            .unwrap()
            .contains("procdump64")
    );
    assert_eq!(
        cmd["process.parent.executable"],
        "C:\\Windows\\System32\\cmd.exe"
    );
    assert_eq!(cmd["event.severity"], 99);
    assert_eq!(by_id["f08"]["file.hash.sha256"].as_str().unwrap().len(), 64);
    // Context rows carry their text as it was, not the CSV's formula guard.
    assert!(text.contains("\"event.original\":\"=HYPERLINK("));
}

#[test]
fn findings_csv_neutralises_formulas() {
    let t = case(false);
    let mut rdr = csv::Reader::from_path(t.path().join("findings.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let excerpt = headers.iter().position(|h| h == "excerpt").unwrap();
    let mut rows = 0;
    let mut guarded = false;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        rows += 1;
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?}"
            );
        }
        if &rec[excerpt] == "'=cmd|' /C calc'!A0" {
            guarded = true;
        }
    }
    assert_eq!(rows, findings().len());
    assert!(guarded, "the formula excerpt is kept, with a guard");
}

#[test]
fn stix_bundle_is_consistent_and_validates() {
    let t = case(true);
    let path = t.path().join("exhunt.stix.json");
    let b: Value = serde_json::from_str(&read(t.path(), "exhunt.stix.json")).unwrap();
    assert_eq!(b["type"], "bundle");
    let objects = b["objects"].as_array().unwrap();
    let ids: BTreeSet<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), objects.len(), "ids are unique");
    let of = |ty: &str| -> Vec<&Value> { objects.iter().filter(|o| o["type"] == ty).collect() };
    // Every reference resolves.
    for o in objects {
        for (k, v) in o.as_object().unwrap() {
            let refs: Vec<&str> = if k.ends_with("_ref") {
                vec![v.as_str().unwrap()]
            } else if k.ends_with("_refs") {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect()
            } else {
                vec![]
            };
            for r in refs {
                assert!(ids.contains(r), "{k} -> {r} dangles");
            }
        }
        assert!(o["created"].as_str().unwrap_or("2021").starts_with("2021"));
    }
    let patterns: Vec<&str> = of("indicator")
        .iter()
        .map(|o| o["pattern"].as_str().unwrap())
        .collect();
    assert!(patterns.contains(&"[ipv4-addr:value = '157.230.221.198']"));
    assert!(
        patterns
            .iter()
            .any(|p| p.starts_with("[file:hashes.'SHA-256' = 'b75f163c"))
    );
    assert_eq!(of("sighting").len(), patterns.len());
    let names = |ty: &str| -> BTreeSet<String> {
        of(ty)
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names("malware").contains("China Chopper"));
    assert!(names("tool").contains("ProcDump"));
    assert!(names("tool").contains("7-Zip"));
    assert!(names("vulnerability").contains("CVE-2021-27065"));
    assert!(names("attack-pattern").contains("Web Shell"));
    assert_eq!(
        names("intrusion-set").len(),
        2,
        "groups only, not the unknown actor"
    );
    let attributed: Vec<i64> = of("relationship")
        .iter()
        .filter(|r| r["relationship_type"] == "attributed-to")
        .map(|r| r["confidence"].as_i64().unwrap())
        .collect();
    assert_eq!(attributed, vec![72, 11]);
    let report = of("report");
    assert_eq!(report.len(), 1);
    assert_eq!(
        report[0]["object_refs"].as_array().unwrap().len(),
        objects.len() - 1
    );

    if !python_module("stix2validator", "stix2-validator") {
        println!("SKIP: stix2-validator not installable; structural checks only");
        return;
    }
    let script = "import sys\nfrom stix2validator import validate_file, ValidationOptions\n\
        r = validate_file(sys.argv[1], ValidationOptions(version='2.1'))\n\
        errs = [(o.object_id, str(e)) for o in r.object_results for e in o.errors]\n\
        warns = [(o.object_id, str(w)) for o in r.object_results for w in o.warnings]\n\
        [print('ERROR', i, e) for i, e in errs]\n\
        import collections\n\
        c = collections.Counter(w.split('}')[0] + '}' for _, w in warns)\n\
        [print('WARNING', k, n, 'object(s), e.g.', next(w for _, w in warns if w.startswith(k))) for k, n in sorted(c.items())]\n\
        sys.exit(0 if r.is_valid and not errs else 1)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "stix2-validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fields of ATT&CK Navigator layer format 4.5 that exhunt writes.
const LAYER_SCHEMA: &str = r##"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["name", "versions", "domain", "techniques"],
  "additionalProperties": false,
  "definitions": {
    "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$"},
    "metadata": {"type": "array", "items": {"type": "object", "required": ["name", "value"],
      "additionalProperties": false,
      "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}}
  },
  "properties": {
    "name": {"type": "string", "minLength": 1},
    "versions": {"type": "object", "required": ["attack", "navigator", "layer"],
      "additionalProperties": false,
      "properties": {"attack": {"type": "string"}, "navigator": {"type": "string"},
        "layer": {"const": "4.5"}}},
    "domain": {"enum": ["enterprise-attack", "mobile-attack", "ics-attack"]},
    "description": {"type": "string"},
    "filters": {"type": "object", "additionalProperties": false,
      "properties": {"platforms": {"type": "array", "items": {"type": "string"}}}},
    "sorting": {"enum": [0, 1, 2, 3]},
    "layout": {"type": "object", "additionalProperties": false, "properties": {
      "layout": {"enum": ["side", "flat", "mini"]},
      "aggregateFunction": {"enum": ["average", "min", "max", "sum"]},
      "showID": {"type": "boolean"}, "showName": {"type": "boolean"},
      "showAggregateScores": {"type": "boolean"}, "countUnscored": {"type": "boolean"},
      "expandedSubtechniques": {"enum": ["none", "annotated", "all"]}}},
    "hideDisabled": {"type": "boolean"},
    "techniques": {"type": "array", "items": {"type": "object", "required": ["techniqueID"],
      "additionalProperties": false,
      "properties": {
        "techniqueID": {"type": "string", "pattern": "^T[0-9]{4}(\\.[0-9]{3})?$"},
        "tactic": {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$"},
        "score": {"type": "number"},
        "color": {"$ref": "#/definitions/color"},
        "comment": {"type": "string"},
        "enabled": {"type": "boolean"},
        "metadata": {"$ref": "#/definitions/metadata"},
        "links": {"type": "array"},
        "showSubtechniques": {"type": "boolean"}}}},
    "gradient": {"type": "object", "required": ["colors", "minValue", "maxValue"],
      "additionalProperties": false,
      "properties": {"colors": {"type": "array", "minItems": 2, "items": {"$ref": "#/definitions/color"}},
        "minValue": {"type": "number"}, "maxValue": {"type": "number"}}},
    "legendItems": {"type": "array", "items": {"type": "object", "required": ["label", "color"],
      "additionalProperties": false,
      "properties": {"label": {"type": "string"}, "color": {"$ref": "#/definitions/color"}}}},
    "metadata": {"$ref": "#/definitions/metadata"},
    "links": {"type": "array"},
    "showTacticRowBackground": {"type": "boolean"},
    "tacticRowBackground": {"$ref": "#/definitions/color"},
    "selectTechniquesAcrossTactics": {"type": "boolean"},
    "selectSubtechniquesWithParent": {"type": "boolean"},
    "selectVisibleTechniques": {"type": "boolean"}
  }
}"##;

#[test]
fn navigator_layer_matches_the_layer_schema() {
    let t = case(false);
    let layer: Value = serde_json::from_str(&read(t.path(), "navigator-layer.json")).unwrap();
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert_eq!(layer["versions"]["attack"], "18");
    assert_eq!(layer["domain"], "enterprise-attack");
    let techniques = layer["techniques"].as_array().unwrap();
    let web_shell = techniques
        .iter()
        .find(|t| t["techniqueID"] == "T1505.003")
        .unwrap();
    assert_eq!(web_shell["tactic"], "persistence");
    assert_eq!(web_shell["score"], 5);
    assert!(
        web_shell["comment"]
            .as_str()
            .unwrap()
            .contains("China Chopper")
    );
    assert_eq!(
        layer["gradient"]["maxValue"], 5,
        "max score is the web shell's"
    );

    if !python_module("jsonschema", "jsonschema") {
        println!("SKIP: python jsonschema not installable; field checks only");
        return;
    }
    let schema = t.path().join("layer-schema.json");
    std::fs::write(&schema, LAYER_SCHEMA).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             s = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))\n\
             jsonschema.Draft7Validator.check_schema(s)\n\
             errs = list(jsonschema.Draft7Validator(s).iter_errors(d))\n\
             [print(list(e.path), e.message) for e in errs]\n\
             sys.exit(1 if errs else 0)\n",
        ])
        .arg(&schema)
        .arg(t.path().join("navigator-layer.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "layer schema: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A scan with more findings than the page lists keeps the most severe in the table, says so,
/// and still writes every finding to findings.csv.
#[test]
fn html_table_is_bounded_to_the_most_severe_findings() {
    let dir = out_dir("bounded");
    let base = findings();
    let mut many = Vec::new();
    let mut i = 0usize;
    while many.len() <= exhunt_export::MAX_HTML_FINDINGS + 50 {
        let mut f = base[i % base.len()].clone();
        f.id = format!("{:032x}", many.len());
        many.push(f);
        i += 1;
    }
    std::fs::create_dir_all(&dir).unwrap();
    exhunt_report::write_findings_jsonl(&dir.join("findings.jsonl"), &many).unwrap();
    exhunt_report::write_summary(&dir.join("summary.json"), &summary(&many)).unwrap();
    exhunt_export::write_all(&dir).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let rows = html.matches("<tr id=\"f-").count();
    assert!(
        html.contains(&format!(
            "the {} most severe of {} findings",
            exhunt_export::MAX_HTML_FINDINGS,
            many.len()
        )),
        "no bound note"
    );
    assert_eq!(rows, exhunt_export::MAX_HTML_FINDINGS);
    let csv = std::fs::read_to_string(dir.join("findings.csv")).unwrap();
    assert!(csv.lines().count() > many.len());
}
