//! Allocation-light text formatting shared by the case and corpus generators: timestamps
//! (epoch milliseconds, UTC, no wall clock), GUIDs, numbers, and the row writers for
//! HttpProxy CSV logs and IIS W3C logs.

/// Exchange build of the simulated server (Exchange 2019 CU8, unpatched: 15.2.792.3).
pub const BUILD_COLS: &str = "15,2,792,3";
/// `#Version:` header value Exchange writes for this build.
pub const LOG_VERSION: &str = "15.02.0792.003";
/// TargetServerVersion Exchange logs for a back end of this build (revision zeroed, as in
/// the fixtures: `15.01.2375.000` for 15.1.2375.7).
pub const TARGET_VERSION: &str = "15.02.0792.000";
/// `FEAuth=BEVersion-N`: Exchange's packed server version. The packing
/// `0x70000000 | major<<22 | minor<<16 | 0x8000 | build` reproduces the fixture value
/// 1942063431 for 15.1.2375 and Metasploit's `localhost~1942062522` for 15.1.1210.
pub const BE_VERSION: &str = "BEVersion-1942127384";

pub const HEX: &[u8; 16] = b"0123456789abcdef";

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
pub fn days_to_civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn civil_to_days(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub const MS_HOUR: i64 = 3_600_000;
pub const MS_DAY: i64 = 86_400_000;

/// Epoch milliseconds of a UTC date and time.
pub fn ts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> i64 {
    civil_to_days(y, mo, d) * MS_DAY
        + (h as i64 * 3600 + mi as i64 * 60 + s as i64) * 1000
        + ms as i64
}

/// Broken-down UTC time of epoch milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Tm {
    pub y: i64,
    pub mo: u32,
    pub d: u32,
    pub h: u32,
    pub mi: u32,
    pub s: u32,
    pub ms: u32,
}

pub fn tm(t: i64) -> Tm {
    let days = t.div_euclid(MS_DAY);
    let rem = t.rem_euclid(MS_DAY);
    let (y, mo, d) = days_to_civil(days);
    let secs = (rem / 1000) as u32;
    Tm {
        y,
        mo,
        d,
        h: secs / 3600,
        mi: secs / 60 % 60,
        s: secs % 60,
        ms: (rem % 1000) as u32,
    }
}

#[inline]
pub fn push2(b: &mut Vec<u8>, n: u32) {
    b.push(b'0' + (n / 10 % 10) as u8);
    b.push(b'0' + (n % 10) as u8);
}

#[inline]
pub fn push3(b: &mut Vec<u8>, n: u32) {
    b.push(b'0' + (n / 100 % 10) as u8);
    push2(b, n % 100);
}

#[inline]
pub fn push4(b: &mut Vec<u8>, n: u32) {
    push2(b, n / 100 % 100);
    push2(b, n % 100);
}

pub fn push_u64(b: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// `2021-03-02T03:14:07.123Z`
pub fn push_iso_ms(b: &mut Vec<u8>, t: i64) {
    let x = tm(t);
    push4(b, x.y as u32);
    b.push(b'-');
    push2(b, x.mo);
    b.push(b'-');
    push2(b, x.d);
    b.push(b'T');
    push2(b, x.h);
    b.push(b':');
    push2(b, x.mi);
    b.push(b':');
    push2(b, x.s);
    b.push(b'.');
    push3(b, x.ms);
    b.push(b'Z');
}

/// `2021-03-02 03:14:07` (IIS `date time`).
pub fn push_iis_dt(b: &mut Vec<u8>, t: i64) {
    let x = tm(t);
    push4(b, x.y as u32);
    b.push(b'-');
    push2(b, x.mo);
    b.push(b'-');
    push2(b, x.d);
    b.push(b' ');
    push2(b, x.h);
    b.push(b':');
    push2(b, x.mi);
    b.push(b':');
    push2(b, x.s);
}

pub fn iso_ms(t: i64) -> String {
    let mut b = Vec::with_capacity(24);
    push_iso_ms(&mut b, t);
    String::from_utf8(b).expect("ascii")
}

pub fn iis_dt(t: i64) -> String {
    let mut b = Vec::with_capacity(19);
    push_iis_dt(&mut b, t);
    String::from_utf8(b).expect("ascii")
}

/// `2021-03-02T03:14:07.123456Z` from epoch microseconds (evtx_dump SystemTime).
pub fn iso_us(t_us: i64) -> String {
    let x = tm(t_us.div_euclid(1000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        x.y,
        x.mo,
        x.d,
        x.h,
        x.mi,
        x.s,
        t_us.rem_euclid(1_000_000)
    )
}

/// `2021-03-02 03:14:07.123` (Sysmon UtcTime).
pub fn sysmon_time(t_us: i64) -> String {
    let x = tm(t_us.div_euclid(1000));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        x.y, x.mo, x.d, x.h, x.mi, x.s, x.ms
    )
}

/// `YYYYMMDDHH`, `YYYYMMDD`, `YYMMDD` and `YYYY-MM-DD` file-name stamps.
pub fn stamp_hour(t: i64) -> String {
    let x = tm(t);
    format!("{:04}{:02}{:02}{:02}", x.y, x.mo, x.d, x.h)
}
pub fn stamp_day(t: i64) -> String {
    let x = tm(t);
    format!("{:04}{:02}{:02}", x.y, x.mo, x.d)
}
pub fn stamp_yymmdd(t: i64) -> String {
    let x = tm(t);
    format!("{:02}{:02}{:02}", x.y % 100, x.mo, x.d)
}

/// Force the version-4 / RFC 4122 variant bits so random GUIDs look like .NET `Guid.NewGuid()`.
pub fn v4(g: u128) -> u128 {
    let g = (g & !(0xF_u128 << 76)) | (0x4_u128 << 76);
    (g & !(0x3_u128 << 62)) | (0x2_u128 << 62)
}

pub fn push_guid(b: &mut Vec<u8>, g: u128) {
    for i in 0..32 {
        if i == 8 || i == 12 || i == 16 || i == 20 {
            b.push(b'-');
        }
        b.push(HEX[((g >> (124 - 4 * i)) & 0xF) as usize]);
    }
}

pub fn guid(g: u128) -> String {
    let mut b = Vec::with_capacity(36);
    push_guid(&mut b, g);
    String::from_utf8(b).expect("ascii")
}

/// Lowercase hex of the low `n` nibbles of `v` (most significant first).
pub fn hex_n(v: u128, n: usize) -> String {
    (0..n)
        .map(|i| HEX[((v >> (4 * (n - 1 - i))) & 0xF) as usize] as char)
        .collect()
}

/// FNV-1a, used to derive stable pseudo-hashes of file contents and images.
pub fn fnv64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in data {
        h ^= c as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Quote a CSV field the way Exchange's log writer does (RFC 4180: wrap in `"` and double
/// inner quotes when the value has a comma, quote or line break).
pub fn csv_field(v: &str) -> std::borrow::Cow<'_, str> {
    if v.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", v.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

/// The HttpProxy logger replaces commas in user agents with spaces
/// (`(KHTML  like Gecko)` in the fixtures).
pub fn hp_ua(ua: &str) -> String {
    ua.replace(',', " ")
}

/// IIS encodes spaces in `cs(User-Agent)` as `+`; empty is `-`.
pub fn push_iis_ua(b: &mut Vec<u8>, ua: &str) {
    if ua.is_empty() {
        b.push(b'-');
        return;
    }
    for &c in ua.as_bytes() {
        b.push(if c == b' ' { b'+' } else { c });
    }
}

#[inline]
fn push_or_dash(b: &mut Vec<u8>, v: &str) {
    if v.is_empty() {
        b.push(b'-');
    } else {
        b.extend_from_slice(v.as_bytes());
    }
}

/// HttpProxy `#Fields:` (modern full list, copied from the fixtures, 74 columns).
pub const HP_FIELDS: &str = "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus";

/// IIS W3C field list Exchange configures on both sites (reference §3.4).
pub const IIS_FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

/// Back-end routing part of a proxied HttpProxy row.
#[derive(Debug, Clone, Copy, Default)]
pub struct HpProxy<'a> {
    pub target: &'a str,
    pub target_version: &'a str,
    pub routing_type: &'a str,
    pub routing_hint: &'a str,
    pub backend_cookie: &'a str,
    pub fe_auth: &'a str,
    pub be_status: u16,
    /// `DatabaseGuid` column (`|RoutingDB:<guid>` in the fixtures) — may be empty.
    pub routing_db: &'a str,
    /// `RoutingStatus` (`CafeV1`).
    pub routing_status: &'a str,
}

/// One HttpProxy row. `ua` must already have commas replaced ([`hp_ua`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct HpRow<'a> {
    pub t: i64,
    pub request_id: u128,
    pub client_request_id: &'a str,
    pub protocol: &'a str,
    pub url_host: &'a str,
    pub url_stem: &'a str,
    pub protocol_action: &'a str,
    pub auth_type: &'a str,
    pub is_auth: bool,
    pub user: &'a str,
    pub org: &'a str,
    pub anchor: &'a str,
    pub ua: &'a str,
    pub client_ip: &'a str,
    pub server: &'a str,
    pub status: u16,
    pub error_code: &'a str,
    pub method: &'a str,
    pub proxy: Option<HpProxy<'a>>,
    pub req_bytes: u32,
    pub resp_bytes: u32,
    pub total_ms: u32,
    pub url_query: &'a str,
    /// Extra `GenericInfo` items, each ending in `;`, inserted after `FEAuth=`.
    pub gi_extra: &'a str,
    pub generic_errors: &'a str,
}

fn push_status(b: &mut Vec<u8>, s: u16) {
    if s != 0 {
        push_u64(b, s as u64);
    }
}

/// Append one HttpProxy row (no line terminator).
pub fn write_hp(b: &mut Vec<u8>, r: &HpRow) {
    push_iso_ms(b, r.t);
    b.push(b',');
    push_guid(b, r.request_id);
    b.push(b',');
    b.extend_from_slice(BUILD_COLS.as_bytes());
    for v in [
        r.client_request_id,
        r.protocol,
        r.url_host,
        r.url_stem,
        r.protocol_action,
        r.auth_type,
    ] {
        b.push(b',');
        b.extend_from_slice(v.as_bytes());
    }
    b.extend_from_slice(if r.is_auth { b",true," } else { b",false," });
    for v in [r.user, r.org, r.anchor, r.ua, r.client_ip, r.server] {
        b.extend_from_slice(v.as_bytes());
        b.push(b',');
    }
    push_status(b, r.status);
    b.push(b',');
    let total = r.total_ms.max(1);
    let begin = r.t - total as i64;
    match &r.proxy {
        Some(p) => {
            push_status(b, p.be_status);
            b.push(b',');
            b.extend_from_slice(r.error_code.as_bytes());
            b.push(b',');
            b.extend_from_slice(r.method.as_bytes());
            b.extend_from_slice(b",Proxy,");
            for v in [
                p.target,
                p.target_version,
                p.routing_type,
                p.routing_hint,
                p.backend_cookie,
            ] {
                b.extend_from_slice(v.as_bytes());
                b.push(b',');
            }
            // ServerLocatorHost, ServerLocatorLatency
            b.extend_from_slice(b",,");
            push_u64(b, r.req_bytes as u64);
            b.push(b',');
            push_u64(b, r.resp_bytes as u64);
            // 33..45
            b.extend_from_slice(b",,,0,0,,0,,0,,0,0,,0,");
            let be = total * 8 / 10;
            let proxy_time = (be + 1).min(total);
            let core = 1 + total / 20;
            push_u64(b, total as u64); // 46 ActivityContextLifeTime
            b.extend_from_slice(b",0,1,0,0,"); // 47..50
            push_u64(b, be as u64); // 51
            b.extend_from_slice(b",0,0,0,0,0,"); // 52..56
            push_u64(b, total as u64); // 57
            b.extend_from_slice(b",0,"); // 58
            push_u64(b, proxy_time as u64); // 59
            b.push(b',');
            push_u64(b, core as u64); // 60
            b.extend_from_slice(b",1,"); // 61
            push_u64(b, (total - proxy_time) as u64); // 62
            b.push(b',');
            push_u64(b, total as u64); // 63
            b.extend_from_slice(b",,"); // 64
            b.extend_from_slice(r.url_query.as_bytes()); // 65
            b.extend_from_slice(b",,BeginRequest="); // 66, 67
            push_iso_ms(b, begin);
            b.extend_from_slice(b";CorrelationID=<empty>;ProxyState-Run=None;FEAuth=");
            b.extend_from_slice(p.fe_auth.as_bytes());
            b.push(b';');
            b.extend_from_slice(r.gi_extra.as_bytes());
            if p.be_status != 0 {
                b.extend_from_slice(b"BeginGetResponse=");
                push_iso_ms(b, begin + (total - be) as i64 / 2);
                b.extend_from_slice(b";OnResponseReady=");
                push_iso_ms(b, r.t - 1);
                b.extend_from_slice(b";EndGetResponse=");
                push_iso_ms(b, r.t - 1);
                b.extend_from_slice(b";ProxyState-Complete=ProxyResponseData;");
            }
            b.extend_from_slice(b"SharedCacheGuard=0;EndRequest=");
            push_iso_ms(b, r.t);
            b.extend_from_slice(b";,");
            b.extend_from_slice(r.generic_errors.as_bytes());
            b.extend_from_slice(b",,");
            b.extend_from_slice(p.routing_db.as_bytes());
            b.extend_from_slice(b",,,");
            b.extend_from_slice(p.routing_status.as_bytes());
        }
        None => {
            b.push(b',');
            b.extend_from_slice(r.error_code.as_bytes());
            b.push(b',');
            b.extend_from_slice(r.method.as_bytes());
            // ProxyAction .. ServerLocatorLatency (23..30)
            b.extend_from_slice(b",,,,,,,,,");
            push_u64(b, r.req_bytes as u64);
            b.push(b',');
            if r.resp_bytes != 0 {
                push_u64(b, r.resp_bytes as u64);
            }
            // 33..45 empty
            b.extend_from_slice(b",,,,,,,,,,,,,,");
            push_u64(b, total as u64); // 46
            b.extend_from_slice(b",,,,,,,,,,,,,,0,,0,"); // 47..59 empty, 60=0, 61, 62=0
            push_u64(b, total as u64); // 63
            b.extend_from_slice(b",,");
            b.extend_from_slice(r.url_query.as_bytes());
            b.extend_from_slice(b",,BeginRequest=");
            push_iso_ms(b, begin);
            b.extend_from_slice(b";CorrelationID=<empty>;");
            b.extend_from_slice(r.gi_extra.as_bytes());
            b.extend_from_slice(b"SharedCacheGuard=0;EndRequest=");
            push_iso_ms(b, r.t);
            b.extend_from_slice(b";,");
            b.extend_from_slice(r.generic_errors.as_bytes());
            b.extend_from_slice(b",,,,,");
        }
    }
}

/// One IIS W3C line in Exchange's default field order.
#[derive(Debug, Clone, Copy, Default)]
pub struct IisRow<'a> {
    pub t: i64,
    pub s_ip: &'a str,
    pub method: &'a str,
    pub stem: &'a str,
    /// Raw query without `?`; empty → `-` unless `cafe_req_id` is set.
    pub query: &'a str,
    /// Exchange front end appends `&CorrelationID=<empty>;&cafeReqId=<guid>;`.
    pub cafe_req_id: Option<u128>,
    pub port: u16,
    pub user: &'a str,
    pub c_ip: &'a str,
    pub ua: &'a str,
    pub referer: &'a str,
    pub status: u16,
    pub substatus: u16,
    pub win32: u32,
    pub time_taken: u32,
}

/// Append one IIS line (no line terminator).
pub fn write_iis(b: &mut Vec<u8>, r: &IisRow) {
    push_iis_dt(b, r.t);
    b.push(b' ');
    b.extend_from_slice(r.s_ip.as_bytes());
    b.push(b' ');
    b.extend_from_slice(r.method.as_bytes());
    b.push(b' ');
    b.extend_from_slice(r.stem.as_bytes());
    b.push(b' ');
    match r.cafe_req_id {
        Some(g) => {
            b.extend_from_slice(r.query.as_bytes());
            b.extend_from_slice(b"&CorrelationID=<empty>;&cafeReqId=");
            push_guid(b, g);
            b.push(b';');
        }
        None => push_or_dash(b, r.query),
    }
    b.push(b' ');
    push_u64(b, r.port as u64);
    b.push(b' ');
    push_or_dash(b, r.user);
    b.push(b' ');
    b.extend_from_slice(r.c_ip.as_bytes());
    b.push(b' ');
    push_iis_ua(b, r.ua);
    b.push(b' ');
    push_or_dash(b, r.referer);
    b.push(b' ');
    push_u64(b, r.status as u64);
    b.push(b' ');
    push_u64(b, r.substatus as u64);
    b.push(b' ');
    push_u64(b, r.win32 as u64);
    b.push(b' ');
    push_u64(b, r.time_taken as u64);
}

/// The 5-line Exchange CSV log header.
pub fn exchange_header(version: &str, log_type: &str, first: i64, fields: &str) -> String {
    format!(
        "#Software: Microsoft Exchange Server\r\n#Version: {version}\r\n#Log-type: {log_type}\r\n#Date: {}\r\n#Fields: {fields}\r\n",
        iso_ms(first)
    )
}

/// The 4-line IIS 10 header.
pub fn iis_header(first: i64) -> String {
    format!(
        "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: {}\r\n#Fields: {IIS_FIELDS}\r\n",
        iis_dt(first)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for d in [-1000, 0, 18_000, 18_688, 20_000] {
            let (y, m, dd) = days_to_civil(d);
            assert_eq!(civil_to_days(y, m, dd), d);
        }
        assert_eq!(
            iso_ms(ts(2021, 3, 2, 3, 14, 7, 123)),
            "2021-03-02T03:14:07.123Z"
        );
        assert_eq!(
            iso_us(ts(2021, 3, 2, 3, 14, 7, 123) * 1000 + 456),
            "2021-03-02T03:14:07.123456Z"
        );
    }

    #[test]
    fn hp_columns() {
        let n = HP_FIELDS.split(',').count();
        assert_eq!(n, 74);
        let mut b = Vec::new();
        let r = HpRow {
            ua: "x",
            ..Default::default()
        };
        write_hp(&mut b, &r);
        assert_eq!(String::from_utf8(b.clone()).unwrap().split(',').count(), n);
        b.clear();
        let r = HpRow {
            proxy: Some(HpProxy::default()),
            ..r
        };
        write_hp(&mut b, &r);
        assert_eq!(String::from_utf8(b).unwrap().split(',').count(), n);
    }
}
