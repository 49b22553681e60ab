//! A harmless live probe: plain GETs of resources that disclose the Exchange build.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Assessment, Build, ExposureError, assess, parse_build};

/// OWA logon page: static paths `/owa/auth/15.2.792/...` in its HTML, `X-OWA-Version` header.
pub const OWA_LOGON_PATH: &str = "/owa/auth/logon.aspx";
/// ECP export tool ClickOnce manifest: `assemblyIdentity ... version="15.2.792.3"`.
pub const ECP_EXPORTTOOL_PATH: &str =
    "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application";
const BODY_LIMIT: u64 = 4 * 1024 * 1024;

/// How to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Per request, whole exchange (connect, send, receive). Default 10 s.
    pub timeout: Duration,
    /// Skip TLS certificate verification (self-signed lab servers). Default off.
    pub insecure: bool,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            timeout: Duration::from_secs(10),
            insecure: false,
        }
    }
}

/// One build value a probe request disclosed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeObservation {
    /// `x-owa-version`, `owa-static-path` or `ecp-exporttool-manifest`.
    pub source: String,
    pub url: String,
    pub build: Build,
}

/// What the probe learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub base_url: String,
    pub observations: Vec<ProbeObservation>,
    /// The most precise build: a four-part value (highest) over a three-part OWA path.
    pub best: Build,
    pub best_source: String,
    pub assessment: Assessment,
    /// Per request: the HTTP status or the transport error.
    pub requests: Vec<String>,
}

fn agent(opts: &ProbeOptions) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .disable_verification(opts.insecure)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(opts.timeout))
        .http_status_as_error(false)
        .max_redirects(5)
        .user_agent("exhunt-exposure-probe")
        .tls_config(tls)
        .build()
        .into()
}

struct Fetched {
    status: u16,
    owa_version: Option<String>,
    body: String,
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<Fetched, String> {
    let mut resp = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let owa_version = resp
        .headers()
        .get("X-OWA-Version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .lossy_utf8(true)
        .read_to_string()
        .unwrap_or_default();
    Ok(Fetched {
        status,
        owa_version,
        body,
    })
}

/// Three-part builds in OWA static paths of an HTML page (`/owa/auth/15.2.792/themes/...`).
fn owa_builds_in_html(html: &str) -> Vec<Build> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("/owa/") {
        let after = &rest[i + 5..];
        let after = after.strip_prefix("auth/").unwrap_or(after);
        let seg: String = after
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if after[seg.len()..].starts_with('/')
            && seg.split('.').count() == 3
            && let Ok(b) = parse_build(&seg)
            && !out.contains(&b)
        {
            out.push(b);
        }
        rest = &rest[i + 4..];
    }
    out
}

/// The `version` of the manifest's own `assemblyIdentity`.
fn manifest_version(xml: &str) -> Option<Build> {
    if let Ok(doc) = roxmltree::Document::parse(xml.trim_start_matches('\u{feff}')) {
        let v = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "assemblyIdentity")
            .find_map(|n| n.attribute("version"))?;
        return parse_build(v).ok().filter(|b| b.revision.is_some());
    }
    // Not well-formed: fall back to the first assemblyIdentity's version attribute.
    let at = xml.find("assemblyIdentity")?;
    let tail = &xml[at..];
    let v = tail.split("version=\"").nth(1)?.split('"').next()?;
    parse_build(v).ok().filter(|b| b.revision.is_some())
}

/// Probe a live server with plain GETs (OWA logon page, ECP export-tool manifest) and assess
/// the build it discloses. Nothing is sent but GET requests without credentials.
pub fn probe(url: &str, opts: &ProbeOptions) -> Result<ProbeResult, ExposureError> {
    let base = url.trim().trim_end_matches('/').to_string();
    let lower = base.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) || base.len() < 10 {
        return Err(ExposureError::BadUrl {
            url: url.to_string(),
            reason: "not an http:// or https:// URL".into(),
        });
    }
    let agent = agent(opts);
    let mut observations = Vec::new();
    let mut requests = Vec::new();
    let mut answered = 0;
    for path in [OWA_LOGON_PATH, ECP_EXPORTTOOL_PATH] {
        let full = format!("{base}{path}");
        match fetch(&agent, &full) {
            Err(e) => requests.push(format!("GET {full}: {e}")),
            Ok(f) => {
                answered += 1;
                requests.push(format!("GET {full}: HTTP {}", f.status));
                if let Some(b) = f.owa_version.as_deref().and_then(|v| parse_build(v).ok()) {
                    observations.push(ProbeObservation {
                        source: "x-owa-version".into(),
                        url: full.clone(),
                        build: b,
                    });
                }
                if f.status != 200 {
                    continue;
                }
                if path == OWA_LOGON_PATH {
                    for b in owa_builds_in_html(&f.body) {
                        observations.push(ProbeObservation {
                            source: "owa-static-path".into(),
                            url: full.clone(),
                            build: b,
                        });
                    }
                } else if let Some(b) = manifest_version(&f.body) {
                    observations.push(ProbeObservation {
                        source: "ecp-exporttool-manifest".into(),
                        url: full.clone(),
                        build: b,
                    });
                }
            }
        }
    }
    if answered == 0 {
        return Err(ExposureError::ProbeFailed {
            url: base,
            reason: requests.join("; "),
        });
    }
    let best = observations
        .iter()
        .max_by_key(|o| (o.build.revision.is_some(), o.build))
        .cloned();
    let Some(best) = best else {
        return Err(ExposureError::NoVersionDisclosed {
            url: base,
            detail: requests.join("; "),
        });
    };
    Ok(ProbeResult {
        base_url: base,
        assessment: assess(&best.build),
        best: best.build,
        best_source: best.source,
        observations,
        requests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_manifest() {
        let html = r#"<link href="/owa/auth/15.2.792/themes/resources/logon.css"><script src="/owa/auth/15.2.792/scripts/x.js"></script><a href="/owa/auth/logon.aspx">"#;
        assert_eq!(
            owa_builds_in_html(html),
            vec![parse_build("15.2.792").unwrap()]
        );
        let m = r#"<?xml version="1.0" encoding="utf-8"?><asmv1:assembly xmlns:asmv1="urn:schemas-microsoft-com:asm.v1" xmlns="urn:schemas-microsoft-com:asm.v2"><assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="15.2.792.3" publicKeyToken="b03f5f7f11d50a3a" language="neutral" processorArchitecture="msil" xmlns="urn:schemas-microsoft-com:asm.v1" /></asmv1:assembly>"#;
        assert_eq!(manifest_version(m).unwrap().to_string(), "15.2.792.3");
        assert_eq!(
            manifest_version("<x assemblyIdentity version=\"15.1.2375.7\"")
                .unwrap()
                .to_string(),
            "15.1.2375.7"
        );
    }
}
