//! Throughput of the text parsers on generated HttpProxy-like and IIS-like logs.
//!
//! `cargo run --release -p exhunt-parse --example parse_speed [MB per kind, default 100]`

use std::time::Instant;

use exhunt_model::{ArtifactKind, ExchangeLog};

const HTTPPROXY_HEADER: &str = "#Software: Microsoft Exchange Server\n#Version: 15.01.2375.007\n#Log-type: HttpProxy Logs\n#Date: 2023-01-09T19:00:00.130Z\n#Fields: DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus\n";

const IIS_HEADER: &str = "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2023-01-09 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n";

fn httpproxy(target: usize) -> Vec<u8> {
    let mut out = HTTPPROXY_HEADER.as_bytes().to_vec();
    let mut i = 0u64;
    while out.len() < target {
        let (s, ms) = (i / 1000 % 60, i % 1000);
        let proto = ["Owa", "Ecp", "Autodiscover", "Mapi", "Ews"][(i % 5) as usize];
        out.extend_from_slice(format!(
            "2023-01-09T19:00:{s:02}.{ms:03}Z,5e58f5e5-1ddc-48d3-82c6-{i:012},15,1,2375,7,,{proto},autodiscover.domain.com,/{p}/autodiscover.xml,,NTLM,true,DOMAIN\\user{u},,Sid~S-1-5-21-123456789-9876543211-123456798-4343,Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/107.0.0.0 Safari/537.36,95.1.{a}.{b},SERVER-HOSTNAME,200,200,,POST,Proxy,SERVER-HOSTNAME.domain.test,15.01.2375.000,IntraForest,WindowsIdentity,Database~fb7adba2-51f4-47e3-b170-fd39f85aaf35~~2023-02-08T18:59:59~domain.test~1,,,336,327,,,0,0,,0,,0,,0,0,,0,13,0,1,0,0,11,0,0,0,0,0,13,0,11,1,1,1,13,,?a=b&c=d,,BeginRequest=2023-01-09T19:00:00.116Z;CorrelationID=<empty>;ProxyState-Run=None;RandomBE=SERVER-HOSTNAME.domain.test~1942063431;FEAuth=BEVersion-1942063431;BeginGetRequestStream=2023-01-09T19:00:00.117Z;OnRequestStreamReady=2023-01-09T19:00:00.118Z;BeginGetResponse=2023-01-09T19:00:00.118Z;OnResponseReady=2023-01-09T19:00:00.129Z;EndGetResponse=2023-01-09T19:00:00.129Z;ProxyState-Complete=ProxyResponseData;SharedCacheGuard=0;EndRequest=2023-01-09T19:00:00.130Z;,,,|RoutingDB:fb7adba2-51f4-47e3-b170-fd39f85aaf35|RoutingDB:fb7adba2-51f4-47e3-b170-fd39f85aaf35,,,CafeV1\r\n",
            p = proto.to_lowercase(),
            u = i % 997,
            a = i % 251,
            b = i % 199,
        ).as_bytes());
        i += 1;
    }
    out
}

fn iis(target: usize) -> Vec<u8> {
    let mut out = IIS_HEADER.as_bytes().to_vec();
    let mut i = 0u64;
    while out.len() < target {
        let (s, m) = (i % 60, i / 60 % 60);
        out.extend_from_slice(format!(
            "2023-01-09 10:{m:02}:{s:02} 10.10.130.5 POST /owa/service.svc action=GetItem&ID=-{i}&AC=1&CorrelationID=<empty>;&cafeReqId=3341f5aa-1234-4c1a-9f3e-{i:012}; 443 DOMAIN\\user{u} 95.1.{a}.{b} Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/107.0.0.0+Safari/537.36 https://mail.domain.com/owa/ 200 0 0 {t}\r\n",
            u = i % 997,
            a = i % 251,
            b = i % 199,
            t = i % 500,
        ).as_bytes());
        i += 1;
    }
    out
}

fn run(name: &str, kind: &ArtifactKind, data: &[u8]) {
    let mut fields = 0u64;
    let start = Instant::now();
    let stats = exhunt_parse::parse_text(kind, name, data, &mut |e| {
        fields += e.fields.len() as u64;
    })
    .expect("parse");
    let secs = start.elapsed().as_secs_f64();
    let mb = data.len() as f64 / 1e6;
    println!(
        "{name:10} {mb:7.1} MB  {:9} events  {fields:11} fields  {secs:6.2} s  {:7.1} MB/s  warnings: {}",
        stats.events,
        mb / secs,
        stats.warnings.len()
    );
}

fn main() {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let data = httpproxy(mb << 20);
    run(
        "httpproxy",
        &ArtifactKind::ExchangeLog(ExchangeLog::HttpProxy),
        &data,
    );
    drop(data);
    let data = iis(mb << 20);
    run("iis", &ArtifactKind::IisW3c, &data);
}
