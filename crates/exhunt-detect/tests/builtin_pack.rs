//! The built-in pack loads whole, and each rule fires on what it describes and not on the benign
//! near-misses an Exchange server produces every day.

mod common;

use common::*;
use exhunt_model::LogSource;

#[test]
fn pack_loads_with_correlations() {
    let det = detector();
    assert!(det.detection_rule_count() >= 25);
    assert!(det.correlation_rule_count() >= 1);
}

#[test]
fn proxylogon_ssrf_is_graded() {
    let det = detector();
    let ls = httpproxy();
    let hit = fire(
        &det,
        &ls,
        &[
            (
                "AnchorMailbox",
                "ServerInfo~EXCH01.contoso.local:444/ecp/proxyLogon.ecp?#",
            ),
            ("HttpStatus", "241"),
        ],
    );
    assert!(has(&hit, "CVE-2021-26855"), "{hit:?}");
    assert!(has(&hit, "Unauthenticated Request Routed"), "{hit:?}");

    let attempt = fire(
        &det,
        &ls,
        &[(
            "AnchorMailbox",
            "ServerInfo~a]@EXCH01:444/autodiscover/autodiscover.xml?#",
        )],
    );
    assert!(has(&attempt, "Reaching Only Autodiscover"), "{attempt:?}");
    assert!(
        !has(&attempt, "Unauthenticated Request Routed"),
        "{attempt:?}"
    );

    let probe = fire(
        &det,
        &ls,
        &[("AnchorMailbox", "ServerInfo~localhost/ecp/default.flt?")],
    );
    assert!(has(&probe, "Localhost"), "{probe:?}");
    assert!(!has(&probe, "Unauthenticated Request Routed"), "{probe:?}");

    let reset = fire(
        &det,
        &ls,
        &[
            (
                "AnchorMailbox",
                "ServerInfo~EXCH01:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary=x#",
            ),
            ("HttpStatus", "200"),
        ],
    );
    assert!(
        has(&reset, "Virtual Directory Reset Through SSRF"),
        "{reset:?}"
    );

    // Everyday anchors: SMTP, SID, pre-logon ServerVersion, database routing.
    for anchor in [
        "Smtp~alice@contoso.com",
        "Sid~S-1-5-21-1-2-3-1104",
        "ServerVersion~Version 15.2 (Build 792.3)",
        "DatabaseGuid~1f6a",
    ] {
        let benign = fire(
            &det,
            &ls,
            &[
                ("AnchorMailbox", anchor),
                ("UrlStem", "/owa/service.svc"),
                ("HttpStatus", "200"),
            ],
        );
        assert!(benign.is_empty(), "{anchor}: {benign:?}");
    }
}

#[test]
fn ecp_and_management_log_vdir_script() {
    let det = detector();
    let ecp = LogSource::new("exchange", Some("ecp-server"), None);
    let bad = r#"S:TIME=4365;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["x"],"unsafe");}</script>''.Identity=''87fc''';S:REQID="#;
    assert!(has(
        &fire(&det, &ecp, &[("EventData", bad)]),
        "CVE-2021-27065"
    ));
    let good = "S:TIME=13;S:CMD=Set-OabVirtualDirectory.ExternalUrl=''https://mail.contoso.com/OAB''.Identity=''EXCH01\\OAB (Default Web Site)'';S:REQID=";
    assert!(fire(&det, &ecp, &[("EventData", good)]).is_empty());

    let mgmt = LogSource::new("windows", Some("msexchange-management"), None);
    let data = "Set-OabVirtualDirectory\n-ExternalUrl \"http://f/<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"k\"],\"unsafe\");}</script>\" -Identity \"OAB (Default Web Site)\"";
    assert!(has(&fire(&det, &mgmt, &[("Data", data)]), "CVE-2021-27065"));
    let plain = fire(
        &det,
        &mgmt,
        &[(
            "Data",
            "Set-OabVirtualDirectory\n-ExternalUrl \"https://mail.contoso.com/OAB\"",
        )],
    );
    assert!(!has(&plain, "Holding Script"), "{plain:?}");
    assert!(
        has(&plain, "OAB Virtual Directory URL Changed"),
        "{plain:?}"
    );
}

#[test]
fn oab_and_um_signatures() {
    let det = detector();
    let oab = LogSource::new("exchange", Some("oab-generator"), None);
    let bad = r"Download failed and temporary file 'C:\inetpub\wwwroot\aspnet_client\system_web\abc.aspx' needs to be removed";
    assert!(has(
        &fire(&det, &oab, &[("Message", bad)]),
        "CVE-2021-26858"
    ));
    let good = r"Download failed and temporary file 'C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\OAB\Temp\a.tmp' needs to be removed";
    assert!(fire(&det, &oab, &[("Message", good)]).is_empty());

    let app = LogSource::new("windows", Some("application"), None);
    let um = [
        ("Provider_Name", "MSExchange Unified Messaging"),
        ("Level", "2"),
        (
            "Data[0]",
            "System.InvalidCastException: Unable to cast object",
        ),
    ];
    assert!(has(&fire(&det, &app, &um), "CVE-2021-26857"));
    let info = [
        ("Provider_Name", "MSExchange Unified Messaging"),
        ("Level", "4"),
        ("Data[0]", "System.InvalidCastException"),
    ];
    assert!(fire(&det, &app, &info).is_empty());
    let other_error = [
        ("Provider_Name", "MSExchange Unified Messaging"),
        ("Level", "2"),
        ("Data[0]", "The service could not reach the mailbox server"),
    ];
    assert!(fire(&det, &app, &other_error).is_empty());
}

#[test]
fn iis_web_signatures() {
    let det = detector();
    let ls = iis();
    let post_js = fire(
        &det,
        &ls,
        &[
            ("cs-method", "POST"),
            ("cs-uri-stem", "/ecp/y.js"),
            ("sc-status", "200"),
        ],
    );
    assert!(has(&post_js, "POST to a Static"), "{post_js:?}");
    assert!(has(&post_js, "Short Random Script"), "{post_js:?}");
    let get_static = fire(
        &det,
        &ls,
        &[
            ("cs-method", "GET"),
            (
                "cs-uri-stem",
                "/owa/auth/15.2.792/themes/resources/logon.css",
            ),
            ("sc-status", "200"),
        ],
    );
    assert!(get_static.is_empty(), "{get_static:?}");

    let shell = fire(
        &det,
        &ls,
        &[
            ("cs-method", "POST"),
            ("cs-uri-stem", "/aspnet_client/system_web/QBnXmHsT.aspx"),
            ("sc-status", "200"),
        ],
    );
    assert!(has(&shell, "Successful POST"), "{shell:?}");
    assert!(has(&shell, "Unexpected ASP.NET Page"), "{shell:?}");
    let logon = fire(
        &det,
        &ls,
        &[
            ("cs-method", "POST"),
            ("cs-uri-stem", "/owa/auth/logon.aspx"),
            ("sc-status", "200"),
        ],
    );
    assert!(logon.is_empty(), "{logon:?}");

    let reset = fire(
        &det,
        &ls,
        &[
            ("cs-method", "POST"),
            ("cs-uri-stem", "/ecp/DDI/DDIService.svc/SetObject"),
            (
                "cs-uri-query",
                "schema=ResetOABVirtualDirectory&msExchEcpCanary=abc",
            ),
            ("cs-username", "CONTOSO\\EXCH01$"),
            ("s-port", "444"),
        ],
    );
    assert!(
        has(&reset, "Virtual Directory Reset by a Computer Account"),
        "{reset:?}"
    );

    let crawler = fire(
        &det,
        &ls,
        &[
            ("cs-method", "POST"),
            (
                "cs-uri-stem",
                "/owa/auth/Current/themes/resources/logon.css",
            ),
            (
                "cs-user-agent",
                "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            ),
        ],
    );
    assert!(has(&crawler, "Crawler"), "{crawler:?}");
    let crawler_get = fire(
        &det,
        &ls,
        &[
            ("cs-method", "GET"),
            ("cs-uri-stem", "/owa/"),
            ("cs-user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)"),
        ],
    );
    assert!(crawler_get.is_empty(), "{crawler_get:?}");

    let exfil = fire(
        &det,
        &ls,
        &[
            ("cs-method", "GET"),
            ("cs-uri-stem", "/aspnet_client/ceo.pst"),
        ],
    );
    assert!(
        has(&exfil, "Downloaded From an Exchange Web Folder"),
        "{exfil:?}"
    );
    let cmd = fire(
        &det,
        &ls,
        &[
            ("cs-uri-stem", "/owa/auth/x.aspx"),
            ("cs-uri-query", "c=whoami+/all"),
        ],
    );
    assert!(has(&cmd, "Shell Commands"), "{cmd:?}");
}

#[test]
fn process_creation_signatures() {
    let det = detector();
    let ls = proc_creation();
    let chopper = fire(
        &det,
        &ls,
        &[
            ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
            ("Image", "C:\\Windows\\System32\\cmd.exe"),
            (
                "CommandLine",
                "cmd /c cd /d \"C:\\inetpub\\wwwroot\\aspnet_client\"&whoami&echo [S]&cd&echo [E]",
            ),
        ],
    );
    assert!(has(&chopper, "China Chopper"), "{chopper:?}");
    assert!(has(&chopper, "Spawned a Shell"), "{chopper:?}");
    let csc = fire(
        &det,
        &ls,
        &[
            ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
            (
                "Image",
                "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe",
            ),
            (
                "CommandLine",
                "csc.exe /noconfig /fullpaths @\"C:\\Windows\\TEMP\\x.cmdline\"",
            ),
        ],
    );
    assert!(csc.is_empty(), "{csc:?}");

    let dump = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\Windows\\System32\\rundll32.exe"),
            (
                "CommandLine",
                "rundll32.exe C:\\windows\\system32\\comsvcs.dll, MiniDump 680 C:\\root\\lsass.dmp full",
            ),
        ],
    );
    assert!(has(&dump, "LSASS Memory Dump"), "{dump:?}");
    let procdump = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\root\\procdump64.exe"),
            (
                "CommandLine",
                "procdump64.exe -accepteula -ma lsass.exe C:\\root\\lsass.dmp",
            ),
        ],
    );
    assert!(has(&procdump, "LSASS Memory Dump"), "{procdump:?}");

    let zip = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\ProgramData\\7z.exe"),
            (
                "CommandLine",
                "C:\\ProgramData\\7z.exe a C:\\ProgramData\\it.zip C:\\root\\lsass.dmp",
            ),
        ],
    );
    assert!(has(&zip, "Archiver"), "{zip:?}");
    let backup = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\Program Files\\7-Zip\\7z.exe"),
            ("CommandLine", "7z.exe x D:\\backup\\logs.7z -oD:\\restore"),
        ],
    );
    assert!(backup.is_empty(), "{backup:?}");

    let snapin = fire(
        &det,
        &ls,
        &[
            (
                "Image",
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            ),
            (
                "CommandLine",
                "powershell -command \"Add-PSSnapin Microsoft.Exchange.Management.Powershell.SnapIn;Get-Mailbox\"",
            ),
        ],
    );
    assert!(has(&snapin, "Snap-In"), "{snapin:?}");
}

#[test]
fn inventory_signatures() {
    let det = detector();
    let ls = inventory();
    let f = |path: &str, class: &str| {
        let name = path.rsplit('/').next().unwrap();
        fire(
            &det,
            &ls,
            &[("Path", path), ("FileName", name), ("FileClass", class)],
        )
    };
    assert!(has(&f("C/root/lsass.dmp", "memory-dump"), "LSASS"));
    assert!(has(
        &f("C/ProgramData/it.zip", "archive"),
        "Archive Under ProgramData"
    ));
    assert!(f("C/ProgramData/McAfee/Agent/FrameworkConfig.zip", "archive").is_empty());
    assert!(has(
        &f(
            "C/inetpub/wwwroot/aspnet_client/system_web/abcdefgh.aspx",
            "web-content"
        ),
        "Unexpected ASP.NET Page"
    ));
    assert!(has(
        &f(
            "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/shel90.aspx",
            "web-content"
        ),
        "Unexpected ASP.NET Page"
    ));
    assert!(
        f(
            "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx",
            "web-content"
        )
        .is_empty()
    );
    assert!(
        f(
            "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/web.config",
            "config"
        )
        .is_empty()
    );
}

#[test]
fn management_log_caller_position() {
    let det = detector();
    let mgmt = LogSource::new("windows", Some("msexchange-management"), None);
    let system = fire(
        &det,
        &mgmt,
        &[
            ("Data[0]", "Get-Mailbox"),
            ("Data[1]", "-ResultSize \"Unlimited\""),
            ("Data[2]", "NT AUTHORITY\\SYSTEM"),
            (
                "Data",
                "Get-Mailbox\n-ResultSize \"Unlimited\"\nNT AUTHORITY\\SYSTEM",
            ),
        ],
    );
    assert!(has(&system, "Run as SYSTEM"), "{system:?}");
    let health = fire(
        &det,
        &mgmt,
        &[
            ("Data[0]", "Get-Mailbox"),
            ("Data[1]", "-ResultSize \"1\""),
            ("Data[2]", "NT AUTHORITY\\SYSTEM (MSExchangeHMHost)"),
            (
                "Data",
                "Get-Mailbox\n-ResultSize \"1\"\nNT AUTHORITY\\SYSTEM (MSExchangeHMHost)",
            ),
        ],
    );
    assert!(health.is_empty(), "{health:?}");
}

#[test]
fn file_event_signatures() {
    let det = detector();
    let ls = LogSource::new("windows", Some("sysmon"), Some("file_event"));
    let w3wp = "c:\\windows\\system32\\inetsrv\\w3wp.exe";
    let shell = fire(
        &det,
        &ls,
        &[
            ("Image", w3wp),
            (
                "TargetFilename",
                "C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\iQWkvtyK.aspx",
            ),
        ],
    );
    assert!(has(&shell, "Web Page Written"), "{shell:?}");
    let compiled = fire(
        &det,
        &ls,
        &[
            ("Image", w3wp),
            (
                "TargetFilename",
                "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\owa\\a1\\App_Web_x.dll",
            ),
        ],
    );
    assert!(compiled.is_empty(), "{compiled:?}");
    let tool = fire(
        &det,
        &ls,
        &[
            ("Image", w3wp),
            ("TargetFilename", "C:\\ProgramData\\7z.exe"),
        ],
    );
    assert!(has(&tool, "Executable or Script Written"), "{tool:?}");
    let dump = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\Windows\\System32\\rundll32.exe"),
            ("TargetFilename", "C:\\root\\lsass.dmp"),
        ],
    );
    assert!(has(&dump, "LSASS Dump File"), "{dump:?}");
    let crash = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\Windows\\System32\\WerFault.exe"),
            (
                "TargetFilename",
                "C:\\ProgramData\\Microsoft\\Windows\\WER\\ReportQueue\\x\\memory.hdmp",
            ),
        ],
    );
    assert!(crash.is_empty(), "{crash:?}");
    let staged = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\ProgramData\\7z.exe"),
            ("TargetFilename", "C:\\ProgramData\\it.zip"),
        ],
    );
    assert!(
        has(&staged, "Archive Created in a Staging Folder"),
        "{staged:?}"
    );
    let vendor = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\Program Files\\McAfee\\Agent\\masvc.exe"),
            (
                "TargetFilename",
                "C:\\ProgramData\\McAfee\\Agent\\FrameworkConfig.zip",
            ),
        ],
    );
    assert!(vendor.is_empty(), "{vendor:?}");
    let pst = fire(
        &det,
        &ls,
        &[
            (
                "Image",
                "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\MSExchangeMailboxReplication.exe",
            ),
            (
                "TargetFilename",
                "C:\\inetpub\\wwwroot\\aspnet_client\\ceo.pst",
            ),
        ],
    );
    assert!(has(&pst, "Mailbox Data Written to a Web Folder"), "{pst:?}");
    let pst_ok = fire(
        &det,
        &ls,
        &[
            (
                "Image",
                "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\MSExchangeMailboxReplication.exe",
            ),
            ("TargetFilename", "\\\\backup01\\exports\\ceo.pst"),
        ],
    );
    assert!(pst_ok.is_empty(), "{pst_ok:?}");
}

#[test]
fn ecp_reset_and_export_signatures() {
    let det = detector();
    let ecp = LogSource::new("exchange", Some("ecp-server"), None);
    let reset = "S:TIME=150;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''''.Identity=''4d0c''';S:REQID=;S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary=x.&a=%5D:444/ecp/S.js;S:EX=";
    let hits = fire(&det, &ecp, &[("EventData", reset)]);
    assert!(has(&hits, "SSRF Residue"), "{hits:?}");
    assert!(has(&hits, "Reset of a Virtual Directory"), "{hits:?}");
    let export = "'S:CMD=Remove-OabVirtualDirectory.Identity=''4d0c''.FilePathName=''\\\\EXCH01\\C$\\inetpub\\wwwroot\\aspnet_client\\system_web\\iQWkvtyK.aspx''';S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory";
    assert!(has(
        &fire(&det, &ecp, &[("EventData", export)]),
        "Written to a Web Page Path"
    ));
    let admin = "S:TIME=20;S:CMD=Get-OabVirtualDirectory;S:URL=/ecp/DDI/DDIService.svc/GetList?schema=OABVirtualDirectory&msExchEcpCanary=y;S:EX=";
    assert!(fire(&det, &ecp, &[("EventData", admin)]).is_empty());

    let mgmt = LogSource::new("windows", Some("msexchange-management"), None);
    let removed = fire(
        &det,
        &mgmt,
        &[
            ("Data[0]", "Remove-MailboxExportRequest"),
            (
                "Data",
                "Remove-MailboxExportRequest\n-Identity \"ceo\\MailboxExport\" -Confirm \"False\"",
            ),
        ],
    );
    assert!(has(&removed, "Export Request Removed"), "{removed:?}");
}

#[test]
fn chopper_marker_in_parent_command_line() {
    let det = detector();
    let ls = proc_creation();
    let child = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\Windows\\System32\\whoami.exe"),
            ("CommandLine", "whoami"),
            ("ParentImage", "C:\\Windows\\System32\\cmd.exe"),
            (
                "ParentCommandLine",
                "cmd /c cd /d \"C:\\inetpub\\wwwroot\\aspnet_client\"&whoami&echo [S]&cd&echo [E]",
            ),
        ],
    );
    assert!(has(&child, "China Chopper"), "{child:?}");
    let admin = fire(
        &det,
        &ls,
        &[
            ("Image", "C:\\Windows\\System32\\whoami.exe"),
            ("CommandLine", "whoami /groups"),
            ("ParentImage", "C:\\Windows\\System32\\cmd.exe"),
            ("ParentCommandLine", "\"C:\\Windows\\system32\\cmd.exe\""),
        ],
    );
    assert!(admin.is_empty(), "{admin:?}");
}
