//! Fixed data of the simulated organisation and the published indicators the case plants.
//! Every indicator taken from a public source says where it comes from.

pub const HOST: &str = "EXCH01";
pub const FQDN: &str = "EXCH01.contoso.local";
pub const PUBLIC_NAME: &str = "mail.contoso.com";
pub const SERVER_IP: &str = "10.10.1.20";
pub const DOMAIN_NB: &str = "CONTOSO";
pub const MACHINE_ACCOUNT: &str = "CONTOSO\\EXCH01$";
pub const DOMAIN_SID: &str = "S-1-5-21-2254511362-2973846102-3482015479";
/// OAB virtual directory object GUID (the `Identity` the ECP SetObject call names).
pub const OAB_VDIR_GUID: &str = "4d0c8f2a-6b1e-4f73-9a55-2c7e1d9b3f60";
pub const OAB_GUID: &str = "9c4e5b1d-27a8-4f0e-8d63-0b5f2a7c1e94";
pub const DB_GUID: &str = "6f2d9a41-8c3b-4e57-b1f0-3a9e7d5c2b18";
pub const HEALTH_MAILBOX: &str = "HealthMailbox3e1f0a6b9c2d4e58a7b6c5d4e3f2a1b0";
pub const LB_IPS: [&str; 2] = ["10.10.1.5", "10.10.1.6"];

/// Attacker addresses.
/// - 167.99.168.251, 104.140.114.110, 157.230.221.198, 5.254.43.18: Volexity ProxyLogon
///   indicators, republished in CISA AA21-062A (cisagov/CHIRP `indicators/AA21-062A`).
/// - 86.105.18.116: ESET, "Exchange servers under siege from at least 10 APT groups"
///   (welivesecurity 2021-03-10, eset/malware-ioc `exchange_exploitation`).
pub const IP_PROBE: &str = "167.99.168.251";
pub const IP_SSRF: &str = "104.140.114.110";
pub const IP_SHELL: &str = "157.230.221.198";
pub const IP_EXFIL: &str = "86.105.18.116";
pub const IP_SWEEP: &str = "5.254.43.18";
pub const ATTACKER_IPS: [&str; 5] = [IP_PROBE, IP_SSRF, IP_SHELL, IP_EXFIL, IP_SWEEP];

/// Attacker user agents, all from Volexity's list (via CISA AA21-062A / CHIRP).
pub const UA_PROBE: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36";
pub const UA_SSRF: &str = "ExchangeServicesClient/0.0.0.0";
pub const UA_SHELL: &str = "antSword/v2.1";
pub const UA_SHELL2: &str =
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)";
pub const UA_SWEEP: &str = "python-requests/2.25.1";

/// Webshell names for the day-3 sweep: Microsoft MSTIC feed
/// `MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv` (Azure/Azure-Sentinel,
/// TLP White) — the `aspnet_client\` and `FrontEnd\HttpProxy\owa\auth\` file paths.
pub const SWEEP_ASPNET: [&str; 11] = [
    "shell.aspx",
    "supp0rt.aspx",
    "discover.aspx",
    "HttpProxy.aspx",
    "OutlookEN.aspx",
    "errorcheck.aspx",
    "aspnet_client.aspx",
    "aspnet_iisstart.aspx",
    "iispage.aspx",
    "session.aspx",
    "xx.aspx",
];
pub const SWEEP_OWA: [&str; 8] = [
    "one.aspx",
    "one1.aspx",
    "shel.aspx",
    "errorPage.aspx",
    "log.aspx",
    "logg.aspx",
    "authhead.aspx",
    "OutlookZH.aspx",
];

/// Legitimate files of `FrontEnd\HttpProxy\owa\auth` (allow-list seeds from the reference §4.2).
pub const OWA_AUTH_LEGIT: [&str; 8] = [
    "logon.aspx",
    "errorFE.aspx",
    "ExpiredPassword.aspx",
    "frowny.aspx",
    "logoff.aspx",
    "signout.aspx",
    "OutlookCN.aspx",
    "RedirSuiteServiceProxy.aspx",
];

pub const FIRST_NAMES: [&str; 40] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "karl",
    "laura", "mike", "nina", "oscar", "peggy", "quinn", "rupert", "sybil", "trent", "ursula",
    "victor", "wendy", "xavier", "yvonne", "zach", "amir", "bianca", "chen", "dmitri", "elena",
    "fatima", "gustav", "hana", "igor", "jamal", "kenji", "lucia", "marta", "ceo",
];
pub const LAST_NAMES: [&str; 40] = [
    "Archer",
    "Brooks",
    "Carter",
    "Dalton",
    "Ellis",
    "Fischer",
    "Grant",
    "Hughes",
    "Ivers",
    "Jensen",
    "Keller",
    "Lambert",
    "Moreau",
    "Novak",
    "Olsen",
    "Price",
    "Quinlan",
    "Reyes",
    "Schmidt",
    "Turner",
    "Ulrich",
    "Vance",
    "Walsh",
    "Xu",
    "Young",
    "Zimmer",
    "Rahimi",
    "Rossi",
    "Wei",
    "Petrov",
    "Garcia",
    "Haddad",
    "Berg",
    "Sato",
    "Volkov",
    "Okafor",
    "Tanaka",
    "Moreno",
    "Kowalski",
    "Executive",
];

/// Benign client user agents (public product strings).
pub const UA_OUTLOOK: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.13628; Pro)";
pub const UA_OUTLOOK_MAPI: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.13628; Pro)";
pub const UA_BROWSERS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.190 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.182 Safari/537.36 Edg/88.0.705.81",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.3 Safari/605.1.15",
];
pub const UA_MOBILE: [(&str, &str); 3] = [
    ("Apple-iPhone12C1/1802.67", "iPhone"),
    ("Apple-iPhone11C8/1803.134", "iPhone"),
    ("Outlook-iOS-Android/1.0", "Outlook"),
];
/// Managed-availability probe user agent, seen in the Ews HttpProxy fixture.
pub const UA_AMPROBE: &str = "AMProbe/Local/ClientAccess";
pub const UA_GOOGLEBOT: &str =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
pub const UA_ZGRAB: &str = "Mozilla/5.0 zgrab/0.x";
