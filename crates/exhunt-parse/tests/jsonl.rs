//! JSON-lines event exports: OTRF (real), evtx_dump (real records rendered by the evtx crate),
//! Velociraptor and Elastic shapes, all normalized to the same field names.

mod common;

use std::io::Read;

use common::{Owned, shared, text, utc};
use exhunt_model::{ArtifactKind, Locator};

fn jsonl(s: &str) -> (Vec<Owned>, exhunt_parse::ParseStats) {
    text(&ArtifactKind::EventJsonl, s.as_bytes())
}

#[test]
fn otrf_zip() {
    let Some(root) = shared() else { return };
    let f = std::fs::File::open(root.join("data/events-jsonl/psh_lsass_memory_dump_comsvcs.zip"))
        .unwrap();
    let mut zip = zip::ZipArchive::new(f).unwrap();
    let mut member = zip.by_index(0).unwrap();
    let mut data = Vec::new();
    member.read_to_end(&mut data).unwrap();
    let (ev, stats) = text(&ArtifactKind::EventJsonl, &data);
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);
    assert_eq!(ev.len(), 184);
    assert_eq!(ev[0].locator, Locator::Line(1));
    assert_eq!(ev[183].locator, Locator::Line(184));
    for e in &ev {
        assert_eq!(e.must("Computer"), "WORKSTATION5");
        assert!(e.must("EventID").parse::<u32>().is_ok());
        assert!(!e.must("Channel").is_empty());
        assert!(!e.must("Provider_Name").is_empty());
        assert!(!e.must("Message").is_empty());
        assert!(e.time.is_some());
        assert_eq!(e.get("Hostname"), None, "mapped to Computer");
    }
    let sysmon1 = ev
        .iter()
        .find(|e| {
            e.source.category.as_deref() == Some("process_creation") && e.must("EventID") == "1"
        })
        .unwrap();
    assert_eq!(sysmon1.source.service.as_deref(), Some("sysmon"));
    assert!(sysmon1.must("CommandLine").contains("comsvcs.dll MiniDump"));
    assert_eq!(sysmon1.must("Image"), "C:\\Windows\\System32\\rundll32.exe");
    assert_eq!(sysmon1.time, Some(utc("2020-10-18T07:50:05.917Z")));
    assert_eq!(sysmon1.must("TimeCreated"), "2020-10-18T07:50:05.917Z");
    assert_eq!(sysmon1.must("Task"), "1");

    let sec = ev.iter().find(|e| e.must("EventID") == "4688").unwrap();
    assert_eq!(sec.source.service.as_deref(), Some("security"));
    assert_eq!(sec.source.category.as_deref(), Some("process_creation"));
    assert_eq!(sec.must("Image"), "C:\\Windows\\System32\\rundll32.exe");
    assert!(sec.must("ParentImage").ends_with("powershell.exe"));
    assert_eq!(sec.must("User"), "WORKSTATION5\\wardog");
    let access = ev.iter().find(|e| e.must("EventID") == "10").unwrap();
    assert_eq!(access.source.category.as_deref(), Some("process_access"));
    assert!(access.get("GrantedAccess").is_some());
}

/// The first record of the comsvcs Sysmon sample as evtx_dump JSON, in both attribute styles.
fn evtx_dump_lines() -> Option<Vec<String>> {
    let root = shared()?;
    let p = root.join("data/evtx/evtx-attack-samples/sysmon_10_1_memdump_comsvcs_minidump.evtx");
    let mut out = Vec::new();
    for separate in [false, true] {
        let mut parser = evtx::EvtxParser::from_path(&p).unwrap().with_configuration(
            evtx::ParserSettings::new()
                .separate_json_attributes(separate)
                .indent(true),
        );
        let rec = parser.records_json().next().unwrap().unwrap();
        // Pretty JSON → one line, as a JSONL export holds it.
        let v: serde_json::Value = serde_json::from_str(&rec.data).unwrap();
        out.push(serde_json::to_string(&v).unwrap());
    }
    Some(out)
}

const VELOCIRAPTOR: &str = r#"{"System":{"Provider":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"},"EventID":{"Value":1},"Version":5,"Level":4,"Task":1,"Opcode":0,"Keywords":"0x8000000000000000","TimeCreated":{"SystemTime":1567169647.8737899},"EventRecordID":32151,"Correlation":{},"Execution":{"ProcessID":3292,"ThreadID":928},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"MSEDGEWIN10","Security":{"UserID":"S-1-5-18"}},"EventData":{"RuleName":"","ProcessId":2576,"Image":"C:\\Windows\\System32\\cscript.exe","CommandLine":"cscript  c:\\ProgramData\\memdump.vbs notepad.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe"},"Message":"Process Create:\r\nRuleName: "}"#;

const ELASTIC: &str = r#"{"@timestamp":"2019-08-30T12:54:07.873Z","event":{"code":"1","provider":"Microsoft-Windows-Sysmon","kind":"event"},"host":{"name":"msedgewin10.lab"},"message":"Process Create:\nRuleName: ","winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","computer_name":"MSEDGEWIN10","event_id":1,"provider_name":"Microsoft-Windows-Sysmon","record_id":32151,"task":"1","level":"4","keywords":["0x8000000000000000"],"user":{"identifier":"S-1-5-18"},"event_data":{"RuleName":"","ProcessId":"2576","Image":"C:\\Windows\\System32\\cscript.exe","CommandLine":"cscript  c:\\ProgramData\\memdump.vbs notepad.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe"}}}"#;

#[test]
fn all_shapes_normalize_alike() {
    let Some(dump) = evtx_dump_lines() else {
        return;
    };
    assert!(dump[1].contains("Provider_attributes"));
    assert!(dump[0].contains("#attributes"));
    let input = format!("{}\n{}\n{VELOCIRAPTOR}\n\n{ELASTIC}\n", dump[0], dump[1]);
    let (ev, stats) = jsonl(&input);
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);
    assert_eq!(ev.len(), 4);
    assert_eq!(ev[3].locator, Locator::Line(5));
    let want_time = utc("2019-08-30T12:54:07.873Z");
    for (i, e) in ev.iter().enumerate() {
        let ctx = format!("shape {i}: {:?}", e.fields);
        assert_eq!(e.must("EventID"), "1", "{ctx}");
        assert_eq!(
            e.must("Channel"),
            "Microsoft-Windows-Sysmon/Operational",
            "{ctx}"
        );
        assert_eq!(e.must("Provider_Name"), "Microsoft-Windows-Sysmon", "{ctx}");
        assert_eq!(e.must("Computer"), "MSEDGEWIN10", "{ctx}");
        assert_eq!(e.must("EventRecordID"), "32151", "{ctx}");
        assert_eq!(e.must("Level"), "4", "{ctx}");
        assert_eq!(e.must("Task"), "1", "{ctx}");
        assert_eq!(e.must("Keywords"), "0x8000000000000000", "{ctx}");
        assert_eq!(e.must("Security_UserID"), "S-1-5-18", "{ctx}");
        assert_eq!(
            e.must("Image"),
            "C:\\Windows\\System32\\cscript.exe",
            "{ctx}"
        );
        assert_eq!(
            e.must("ParentImage"),
            "C:\\Windows\\System32\\cmd.exe",
            "{ctx}"
        );
        assert_eq!(e.must("ProcessId"), "2576", "{ctx}");
        assert_eq!(e.must("RuleName"), "", "{ctx}");
        assert!(e.must("CommandLine").contains("memdump.vbs"), "{ctx}");
        assert!(
            e.must("TimeCreated").starts_with("2019-08-30T12:54:07.87"),
            "{ctx}"
        );
        let dt = (e.time.unwrap() - want_time).num_milliseconds().abs();
        assert!(dt <= 1, "{ctx}");
        assert_eq!(e.source.service.as_deref(), Some("sysmon"));
        assert_eq!(e.source.category.as_deref(), Some("process_creation"));
        assert_eq!(e.locator, Locator::Line([1, 2, 3, 5][i]));
    }
    assert_eq!(ev[0].must("TimeCreated"), "2019-08-30T12:54:07.873789900Z");
    assert_eq!(ev[1].must("TimeCreated"), ev[0].must("TimeCreated"));
    assert!(ev[2].must("Message").starts_with("Process Create:"));
    assert!(ev[3].must("Message").starts_with("Process Create:"));
    assert_eq!(ev[0].get("Message"), None);
}

#[test]
fn bad_json_lines_are_warnings() {
    let input = format!("{ELASTIC}\n{{not json\n[1,2]\n{VELOCIRAPTOR}");
    let (ev, stats) = jsonl(&input);
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1].locator, Locator::Line(4));
    assert_eq!(stats.warnings.len(), 2, "{:?}", stats.warnings);
    assert!(stats.warnings[0].starts_with("line 2"));
    assert!(stats.warnings[1].starts_with("line 3"));
}

#[test]
fn unnamed_data_in_jsonl() {
    let line = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"MSExchange CmdletLogs"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":1},"Level":4,"Channel":"MSExchange Management","Computer":"EX01","EventRecordID":9,"TimeCreated":{"#attributes":{"SystemTime":"2021-03-06T10:00:00Z"}}},"EventData":{"Data":{"#text":["New-MailboxExportRequest","-Mailbox 'a' -FilePath '\\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\x.aspx'","EX\\admin"]}}}}"##;
    let (ev, _) = jsonl(line);
    let e = &ev[0];
    assert_eq!(e.source.service.as_deref(), Some("msexchange-management"));
    assert_eq!(e.must("Data[0]"), "New-MailboxExportRequest");
    assert!(e.must("Data[1]").contains("aspnet_client"));
    assert_eq!(e.must("Data[2]"), "EX\\admin");
    assert_eq!(e.must("Data").lines().count(), 3);
    assert_eq!(e.time, Some(utc("2021-03-06T10:00:00Z")));
}
