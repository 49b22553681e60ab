//! `corpus`: a large benign-only collection (HttpProxy for every protocol, IIS front and back
//! end, EWS, ECP server, message tracking) for benchmarks. Streams hour by hour with a fixed
//! set of open writers, so memory does not depend on the requested size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::case::{EWS_FIELDS, EX, MT_FIELDS};
use crate::data::*;
use crate::fmt::*;

const BUF: usize = 1 << 20;

struct Out {
    key: String,
    w: BufWriter<File>,
}

/// A lazily (re)opened log file: a new file whenever the key (hour or day stamp) changes.
#[derive(Default)]
struct Slot {
    cur: Option<Out>,
}

impl Slot {
    fn get(
        &mut self,
        key: &str,
        path: impl FnOnce() -> PathBuf,
        header: impl FnOnce() -> String,
        bytes: &mut u64,
    ) -> Result<&mut BufWriter<File>> {
        if self.cur.as_ref().map(|o| o.key.as_str()) != Some(key) {
            if let Some(mut o) = self.cur.take() {
                o.w.flush()?;
            }
            let p = path();
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d)?;
            }
            let f = File::create(&p).with_context(|| format!("creating {}", p.display()))?;
            let mut w = BufWriter::with_capacity(BUF, f);
            let h = header();
            *bytes += h.len() as u64;
            w.write_all(h.as_bytes())?;
            self.cur = Some(Out {
                key: key.to_string(),
                w,
            });
        }
        Ok(&mut self.cur.as_mut().expect("open").w)
    }

    fn close(&mut self) -> Result<()> {
        if let Some(mut o) = self.cur.take() {
            o.w.flush()?;
        }
        Ok(())
    }
}

struct CUser {
    user: String,
    upn: String,
    smtp: String,
    sid: String,
    mbx_anchor: String,
    mapi_q: String,
    eas_q: String,
    ip: String,
    ext_ip: String,
    eas_ua: &'static str,
    browser: &'static str,
}

#[derive(Clone, Copy)]
enum Kind {
    Owa,
    Ecp,
    Autodiscover,
    Ews,
    Mapi,
    Eas,
    Oab,
    PowerShell,
    RpcHttp,
}

const PROTOS: [&str; 9] = [
    "Owa",
    "Ecp",
    "Autodiscover",
    "Ews",
    "Mapi",
    "Eas",
    "Oab",
    "PowerShell",
    "RpcHttp",
];
/// Cumulative weights (per mille) of the protocols.
const WEIGHTS: [(u32, Kind); 9] = [
    (150, Kind::Owa),
    (170, Kind::Ecp),
    (260, Kind::Autodiscover),
    (400, Kind::Ews),
    (740, Kind::Mapi),
    (930, Kind::Eas),
    (955, Kind::Oab),
    (980, Kind::PowerShell),
    (1000, Kind::RpcHttp),
];
const OWA_ACTIONS: [&str; 8] = [
    "GetItem",
    "FindItem",
    "FindConversation",
    "GetConversationItems",
    "UpdateItem",
    "CreateItem",
    "FindFolders",
    "GetOwaUserConfiguration",
];
const EWS_ACTIONS: [&str; 5] = [
    "GetUserAvailability",
    "GetFolder",
    "FindItem",
    "SyncFolderItems",
    "GetItem",
];

pub struct Stats {
    pub bytes: u64,
    pub files: u64,
    pub requests: u64,
}

pub fn generate(seed: u64, size_mb: u64, out: &Path) -> Result<Stats> {
    let target = size_mb * 1024 * 1024;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xC0_4B_05);
    let users: Vec<CUser> = (0..400)
        .map(|i| {
            let name = format!("{}{}", FIRST_NAMES[i % 40], i / 40 + 1);
            let mbx = guid(v4(rng.random()));
            let dev = hex_n(rng.random::<u128>(), 32).to_uppercase();
            let (eas_ua, devtype) = UA_MOBILE[i % UA_MOBILE.len()];
            CUser {
                user: format!("{DOMAIN_NB}\\{name}"),
                upn: format!("{name}@contoso.com"),
                smtp: format!("Smtp~{name}@contoso.com"),
                sid: format!("Sid~{DOMAIN_SID}-{}", 2000 + i),
                mbx_anchor: format!("MailboxGuid~{mbx}"),
                mapi_q: format!("?MailboxId={mbx}@contoso.com"),
                eas_q: format!("Cmd=Sync&User={name}&DeviceId={dev}&DeviceType={devtype}"),
                ip: format!("10.10.{}.{}", 20 + i / 200, 10 + i % 200),
                ext_ip: format!(
                    "{}.{}",
                    ["192.0.2", "198.51.100", "203.0.113"][i % 3],
                    1 + (i * 7) % 250
                ),
                eas_ua,
                browser: UA_BROWSERS[i % UA_BROWSERS.len()],
            }
        })
        .collect();
    let ua_outlook = hp_ua(UA_OUTLOOK);
    let browsers_hp: Vec<String> = UA_BROWSERS.iter().map(|u| hp_ua(u)).collect();
    let routing_db = format!("|RoutingDB:{DB_GUID}");
    let oab_stem = format!("/OAB/{OAB_GUID}/oab.xml");
    let hm_user = format!("{DOMAIN_NB}\\{HEALTH_MAILBOX}");
    let hm_sid = format!("Sid~{DOMAIN_SID}-1142");

    let hp_dir = out.join(EX).join("Logging/HttpProxy");
    let iis_dir = out.join("C/inetpub/logs/LogFiles");
    let ews_dir = out.join(EX).join("Logging/EWS");
    let ecp_dir = out.join(EX).join("Logging/ECP/Server");
    let mt_dir = out.join(EX).join("TransportRoles/Logs/MessageTracking");

    let mut hp_slots: Vec<Slot> = (0..9).map(|_| Slot::default()).collect();
    let (mut fe, mut be, mut ews, mut ecp, mut mt) = (
        Slot::default(),
        Slot::default(),
        Slot::default(),
        Slot::default(),
        Slot::default(),
    );
    let mut bytes = 0u64;
    let mut files = 0u64;
    let mut requests = 0u64;
    let mut row = Vec::with_capacity(4096);
    let mut iis = Vec::with_capacity(1024);
    let mut hour = ts(2021, 1, 4, 0, 0, 0, 0);
    'outer: loop {
        let h = tm(hour).h;
        let factor = match h {
            7..=17 => 10,
            6 | 18..=20 => 6,
            _ => 3,
        };
        let n: i64 = 400 * factor;
        let stride = MS_HOUR / n;
        let hkey = stamp_hour(hour);
        let dkey = stamp_day(hour);
        let ykey = stamp_yymmdd(hour);
        for i in 0..n {
            let t = hour + i * stride + rng.random_range(0..stride);
            let u = &users[(rng.next_u32() % users.len() as u32) as usize];
            let w = rng.next_u32() % 1000;
            let kind = WEIGHTS
                .iter()
                .find(|(c, _)| w < *c)
                .map(|(_, k)| *k)
                .unwrap_or(Kind::Mapi);
            let r1 = rng.next_u32();
            let total = 3 + r1 % 90;
            let mut r = HpRow {
                t,
                request_id: v4(rng.random()),
                protocol: PROTOS[kind as usize],
                url_host: PUBLIC_NAME,
                auth_type: "Negotiate",
                is_auth: true,
                user: &u.user,
                anchor: &u.smtp,
                ua: &ua_outlook,
                client_ip: &u.ip,
                server: HOST,
                status: 200,
                method: "POST",
                req_bytes: 200 + (r1 >> 8) % 3000,
                resp_bytes: 300 + (r1 >> 4) % 9000,
                total_ms: total,
                proxy: Some(HpProxy {
                    target: FQDN,
                    target_version: TARGET_VERSION,
                    routing_type: "IntraForest",
                    routing_hint: "WindowsIdentity",
                    fe_auth: BE_VERSION,
                    be_status: 200,
                    routing_db: &routing_db,
                    routing_status: "CafeV1",
                    ..Default::default()
                }),
                ..Default::default()
            };
            let mut iis_ua: &str = UA_OUTLOOK;
            let mut query_buf = String::new();
            let mut ews_action = "";
            match kind {
                Kind::Owa => {
                    let a = OWA_ACTIONS[(r1 % 8) as usize];
                    r.url_stem = "/owa/service.svc";
                    r.auth_type = "FBA";
                    r.protocol_action = a;
                    r.ua = &browsers_hp[(r1 % 3) as usize];
                    iis_ua = u.browser;
                    r.client_ip = if r1 % 3 == 0 { &u.ext_ip } else { &u.ip };
                    query_buf = format!("action={a}&app=Mail&n={}", r1 % 60);
                    if let Some(p) = r.proxy.as_mut() {
                        p.routing_hint = "OwaEcpUserContextCookie";
                    }
                }
                Kind::Ecp => {
                    r.url_stem = "/ecp/DDI/DDIService.svc/GetList";
                    r.auth_type = "FBA";
                    r.anchor = &u.sid;
                    r.ua = &browsers_hp[0];
                    iis_ua = UA_BROWSERS[0];
                    query_buf = "schema=InboxRules&msExchEcpCanary=q8Lr0bS2fUyZ1xJk7mWcTa9vQe3NdHgP5oIuYtRwEsA.".into();
                }
                Kind::Autodiscover => {
                    r.url_stem = "/autodiscover/autodiscover.xml";
                    r.auth_type = "NTLM";
                    r.anchor = &u.sid;
                }
                Kind::Ews => {
                    ews_action = EWS_ACTIONS[(r1 % 5) as usize];
                    r.url_stem = "/EWS/Exchange.asmx";
                    r.protocol_action = ews_action;
                }
                Kind::Mapi => {
                    r.url_stem = "/mapi/emsmdb/";
                    r.anchor = &u.mbx_anchor;
                    r.url_query = &u.mapi_q;
                    query_buf = u.mapi_q[1..].to_string();
                    if let Some(p) = r.proxy.as_mut() {
                        p.routing_hint = "MailboxGuidWithDomain";
                    }
                }
                Kind::Eas => {
                    r.url_stem = "/Microsoft-Server-ActiveSync/default.eas";
                    r.auth_type = "Basic";
                    r.anchor = &u.sid;
                    r.ua = u.eas_ua;
                    iis_ua = u.eas_ua;
                    r.client_ip = &u.ext_ip;
                    r.protocol_action = "Sync";
                    query_buf = u.eas_q.clone();
                    if let Some(p) = r.proxy.as_mut() {
                        p.routing_hint = "WindowsIdentity-NoDatabase";
                    }
                }
                Kind::Oab => {
                    r.url_stem = &oab_stem;
                    r.method = "GET";
                }
                Kind::PowerShell | Kind::RpcHttp => {
                    r.url_stem = if matches!(kind, Kind::PowerShell) {
                        "/powershell/"
                    } else {
                        "/rpc/"
                    };
                    r.method = "GET";
                    r.user = &hm_user;
                    r.anchor = &hm_sid;
                    r.ua = UA_AMPROBE;
                    iis_ua = UA_AMPROBE;
                    r.client_ip = if r1 % 2 == 0 { "127.0.0.1" } else { "::1" };
                    r.url_host = "localhost";
                    r.gi_extra = "ProxyState-Complete=PrepareServerRequest;";
                    if let Some(p) = r.proxy.as_mut() {
                        p.be_status = 0;
                    }
                }
            }
            let hp_query;
            if !query_buf.is_empty() && !matches!(kind, Kind::Mapi) {
                hp_query = format!("?{query_buf}");
                r.url_query = &hp_query;
            }
            row.clear();
            write_hp(&mut row, &r);
            row.extend_from_slice(b"\r\n");
            let proto = kind as usize;
            let w = hp_slots[proto].get(
                &hkey,
                || {
                    files += 1;
                    hp_dir
                        .join(PROTOS[proto])
                        .join(format!("HttpProxy_{hkey}-1.LOG"))
                },
                || exchange_header(LOG_VERSION, "HttpProxy Logs", t, HP_FIELDS),
                &mut bytes,
            )?;
            w.write_all(&row)?;
            bytes += row.len() as u64;

            let user_iis = r.user;
            iis.clear();
            write_iis(
                &mut iis,
                &IisRow {
                    t,
                    s_ip: SERVER_IP,
                    method: r.method,
                    stem: r.url_stem,
                    query: &query_buf,
                    cafe_req_id: Some(r.request_id),
                    port: 443,
                    user: user_iis,
                    c_ip: r.client_ip,
                    ua: iis_ua,
                    referer: "",
                    status: 200,
                    substatus: 0,
                    win32: 0,
                    time_taken: total,
                },
            );
            iis.extend_from_slice(b"\r\n");
            let w = fe.get(
                &ykey,
                || {
                    files += 1;
                    iis_dir.join(format!("W3SVC1/u_ex{ykey}.log"))
                },
                || iis_header(t),
                &mut bytes,
            )?;
            w.write_all(&iis)?;
            bytes += iis.len() as u64;
            if !matches!(kind, Kind::PowerShell | Kind::RpcHttp) {
                iis.clear();
                write_iis(
                    &mut iis,
                    &IisRow {
                        t: t - 1,
                        s_ip: SERVER_IP,
                        method: r.method,
                        stem: r.url_stem,
                        query: &query_buf,
                        cafe_req_id: None,
                        port: 444,
                        user: user_iis,
                        c_ip: SERVER_IP,
                        ua: iis_ua,
                        referer: "",
                        status: 200,
                        substatus: 0,
                        win32: 0,
                        time_taken: total * 8 / 10,
                    },
                );
                iis.extend_from_slice(b"\r\n");
                let w = be.get(
                    &ykey,
                    || {
                        files += 1;
                        iis_dir.join(format!("W3SVC2/u_ex{ykey}.log"))
                    },
                    || iis_header(t),
                    &mut bytes,
                )?;
                w.write_all(&iis)?;
                bytes += iis.len() as u64;
            }
            match kind {
                Kind::Ews => {
                    row.clear();
                    push_iso_ms(&mut row, t - 2);
                    row.push(b',');
                    push_guid(&mut row, v4(rng.random()));
                    row.extend_from_slice(b",15,2,792,3,Unknown,,Negotiate,true,");
                    row.extend_from_slice(u.upn.as_bytes());
                    row.extend_from_slice(b",contoso.local,");
                    row.extend_from_slice(ua_outlook.as_bytes());
                    row.extend_from_slice(b",Target=None;Req=Exchange2013/Exchange2013;,");
                    row.extend_from_slice(SERVER_IP.as_bytes());
                    row.extend_from_slice(b",EXCH01,EXCH01.contoso.local,");
                    row.extend_from_slice(ews_action.as_bytes());
                    row.extend_from_slice(b",200,");
                    push_u64(&mut row, r.req_bytes as u64);
                    row.push(b',');
                    push_u64(&mut row, r.resp_bytes as u64);
                    row.extend_from_slice(b",,,,,,");
                    push_guid(&mut row, v4(rng.random()));
                    row.extend_from_slice(b",PrimaryServer,LocalTask");
                    row.extend_from_slice(&[b','; 63]);
                    row.extend_from_slice(b"\r\n");
                    let w = ews.get(
                        &hkey,
                        || {
                            files += 1;
                            ews_dir.join(format!("Ews_{hkey}-1.LOG"))
                        },
                        || exchange_header(LOG_VERSION, "EWS Logs", t, EWS_FIELDS),
                        &mut bytes,
                    )?;
                    w.write_all(&row)?;
                    bytes += row.len() as u64;
                }
                Kind::Ecp => {
                    row.clear();
                    push_iso_ms(&mut row, t - 3);
                    row.extend_from_slice(b",EXCH01,ECP.Request,S:TIME=");
                    push_u64(&mut row, total as u64);
                    row.extend_from_slice(b";S:SID=");
                    push_guid(&mut row, v4(rng.random()));
                    row.extend_from_slice(
                        b";S:CMD=Get-InboxRule;S:REQID=;S:URL=/ecp/DDI/DDIService.svc/GetList?",
                    );
                    row.extend_from_slice(query_buf.as_bytes());
                    row.extend_from_slice(b";S:REFERRER=;S:EX=;S:ACTID=");
                    push_guid(&mut row, v4(rng.random()));
                    row.extend_from_slice(
                        b";S:RS=0;S:BLD=15.2.792.3;S:TNAME=<null>;S:TID=;S:USID=",
                    );
                    push_guid(&mut row, v4(rng.random()));
                    row.extend_from_slice(b";S:EDOID=;S:ACID=\r\n");
                    let w = ecp.get(
                        &dkey,
                        || {
                            files += 1;
                            ecp_dir.join(format!("ECPServer{dkey}-1.LOG"))
                        },
                        || {
                            exchange_header(
                                "15.0.0.0",
                                "ECP Server Log",
                                t,
                                "TimeStamp,ServerName,EventId,EventData",
                            )
                        },
                        &mut bytes,
                    )?;
                    w.write_all(&row)?;
                    bytes += row.len() as u64;
                }
                _ => {}
            }
            if i % 12 == 0 {
                let rcpt = &users[(r1 as usize / 7) % users.len()];
                row.clear();
                push_iso_ms(&mut row, t);
                row.extend_from_slice(b",10.10.1.20,EXCH01.contoso.local,10.10.1.20,EXCH01,");
                row.extend_from_slice(b"\"MDB:");
                row.extend_from_slice(DB_GUID.as_bytes());
                row.extend_from_slice(
                    b", MessageClass:IPM.Note, ClientType:MOMT\",,STOREDRIVER,RECEIVE,",
                );
                push_u64(&mut row, (r1 % 90_000) as u64);
                row.extend_from_slice(b",<");
                push_guid(&mut row, rng.random());
                row.extend_from_slice(b"@EXCH01.contoso.local>,");
                let net = v4(rng.random());
                push_guid(&mut row, net);
                row.push(b',');
                row.extend_from_slice(rcpt.upn.as_bytes());
                row.extend_from_slice(b",To,");
                push_u64(&mut row, (5000 + r1 % 400_000) as u64);
                row.extend_from_slice(b",1,,,Weekly status,");
                row.extend_from_slice(u.upn.as_bytes());
                row.push(b',');
                row.extend_from_slice(u.upn.as_bytes());
                row.extend_from_slice(b",04I: ,Originating,,");
                row.extend_from_slice(u.ip.as_bytes());
                row.extend_from_slice(b",10.10.1.20,S:DeliveryPriority=Normal,Email,");
                push_guid(&mut row, net);
                row.extend_from_slice(b",15.02.0792.003\r\n");
                let w = mt.get(
                    &hkey,
                    || {
                        files += 1;
                        mt_dir.join(format!("MSGTRKMS{hkey}-1.LOG"))
                    },
                    || exchange_header(LOG_VERSION, "Message Tracking Log", t, MT_FIELDS),
                    &mut bytes,
                )?;
                w.write_all(&row)?;
                bytes += row.len() as u64;
            }
            requests += 1;
            if requests.is_multiple_of(32) && bytes >= target {
                break 'outer;
            }
        }
        hour += MS_HOUR;
    }
    for s in hp_slots
        .iter_mut()
        .chain([&mut fe, &mut be, &mut ews, &mut ecp, &mut mt])
    {
        s.close()?;
    }
    Ok(Stats {
        bytes,
        files,
        requests,
    })
}
