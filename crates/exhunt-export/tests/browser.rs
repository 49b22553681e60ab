//! report.html in a real browser: headless Chromium driven over the DevTools protocol.
//!
//! The test writes a scan folder whose findings carry XSS payloads, exports it, opens
//! `report.html` from disk with every host name unresolvable, and checks: no console error, no
//! exception, no CSP violation, no dialog, no request other than the file itself (and `data:`);
//! the payloads show as text and made no element; the sections are there; the page's script
//! works (filter, level, sort). It saves a screenshot to `target/exhunt-export-test/report.png`.
//!
//! Needs `chromium` (Debian package) on PATH, or `EXHUNT_CHROMIUM`; without it the test prints
//! `SKIP: chromium not found` and passes.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EXHUNT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The browser process, killed when dropped.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(exe: &Path) -> (Browser, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1400,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining stderr so the browser never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("ws://") {
                let _ = tx.send(line[i..].trim().to_string());
            }
        }
    });
    let browser = Browser {
        child,
        _profile: profile,
    };
    let ws = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("chromium printed no DevTools address within 60 s");
    (browser, ws)
}

struct Cdp {
    ws: WebSocket<TcpStream>,
    next: u64,
    events: Vec<Value>,
    dialogs: Vec<Value>,
    session: Option<String>,
}

impl Cdp {
    fn connect(url: &str) -> Cdp {
        let hostport = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let stream = TcpStream::connect(&hostport).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (ws, _) = tungstenite::client(url, stream).expect("websocket handshake");
        // Short reads from now on, so waits can poll against their deadlines.
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Cdp {
            ws,
            next: 0,
            events: Vec::new(),
            dialogs: Vec::new(),
            session: None,
        }
    }

    fn write(&mut self, method: &str, params: Value) -> u64 {
        self.next += 1;
        let mut msg = json!({"id": self.next, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = s.clone().into();
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to chromium");
        self.next
    }

    /// Read one message, or `None` after the read timeout.
    fn read(&mut self) -> Option<Value> {
        match self.ws.read() {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("CDP json");
                if v["method"] == "Page.javascriptDialogOpening" {
                    self.dialogs.push(v["params"].clone());
                    self.write("Page.handleJavaScriptDialog", json!({"accept": true}));
                }
                Some(v)
            }
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("websocket: {e}"),
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.write(method, params);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(v) = self.read() {
                if v["id"].as_u64() == Some(id) {
                    assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                    return v["result"].clone();
                }
                if v.get("method").is_some() {
                    self.events.push(v);
                }
            }
        }
        panic!("{method}: no answer within 60 s");
    }

    fn wait_event(&mut self, method: &str, secs: u64) {
        if self.events.iter().any(|e| e["method"] == method) {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Some(v) = self.read()
                && v.get("method").is_some()
            {
                let hit = v["method"] == method;
                self.events.push(v);
                if hit {
                    return;
                }
            }
        }
        panic!("no {method} within {secs} s");
    }

    /// Keep reading events for a while (late console messages, requests).
    fn pump(&mut self, ms: u64) {
        let deadline = Instant::now() + Duration::from_millis(ms);
        while Instant::now() < deadline {
            if let Some(v) = self.read()
                && v.get("method").is_some()
            {
                self.events.push(v);
            }
        }
    }

    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "evaluate failed: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }
}

const CHECK_DOM: &str = r#"(() => {
  const ids = ['verdict', 'timeline-chart', 'attack-matrix', 'attribution-table', 'findings-table', 'exposure', 'artifacts'];
  const all = Array.from(document.querySelectorAll('*'));
  const text = document.body.textContent;
  return {
    missing: ids.filter(i => !document.getElementById(i)),
    js: document.documentElement.getAttribute('data-js'),
    scripts: document.scripts.length,
    images: document.images.length,
    embeds: document.querySelectorAll('iframe, object, embed, frame, base, form, link[rel=stylesheet], meta[http-equiv=refresh]').length,
    onAttrs: all.flatMap(e => Array.from(e.attributes).filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + ' ' + a.name)),
    jsUrls: all.filter(e => ['href', 'src', 'action', 'xlink:href'].some(n => /^\s*javascript:/i.test(e.getAttribute(n) || ''))).length,
    payloadTags: document.querySelectorAll('#findings-table b, #findings-table svg, #findings-table img, i').length,
    payloads: ['<script>alert(1)</script>', '<img src=x onerror=alert(2)>', 'javascript:alert(3)', '<b onmouseover=alert(4)>', '<svg onload=alert(5)>', '<i>exploited</i>'].filter(p => !text.includes(p)),
    rows: document.querySelectorAll('#findings-table > tbody > tr').length,
    dots: document.querySelectorAll('#timeline-chart circle').length,
    cells: document.querySelectorAll('#attack-matrix .tech').length,
    hypotheses: document.querySelectorAll('#attribution-table > tbody > tr').length,
    verdict: document.querySelector('#verdict h2').textContent,
    violations: window.__cspViolations || [],
  };
})()"#;

const CHECK_SCRIPT: &str = r#"(() => {
  const rows = () => Array.from(document.querySelectorAll('#findings-table > tbody > tr'));
  const visible = () => rows().filter(r => !r.hidden).length;
  const q = document.getElementById('f-q');
  q.value = 'procdump'; q.dispatchEvent(new Event('input'));
  const filtered = visible();
  const count = document.getElementById('f-count').textContent;
  q.value = ''; q.dispatchEvent(new Event('input'));
  const lv = document.getElementById('f-level');
  lv.value = '4'; lv.dispatchEvent(new Event('change'));
  const critical = visible();
  lv.value = '0'; lv.dispatchEvent(new Event('change'));
  const th = document.querySelectorAll('#findings-table thead th')[2];
  th.click(); const lowFirst = rows()[0].getAttribute('data-level');
  th.click(); const highFirst = rows()[0].getAttribute('data-level');
  document.querySelectorAll('#findings-table thead th')[0].click();
  const d = document.querySelector('#f-f15 details'); d.open = true;
  const excerpt = d.querySelector('pre.excerpt').textContent;
  d.open = false;
  return {filtered, count, critical, lowFirst, highFirst, all: visible(), excerpt};
})()"#;

#[test]
fn report_renders_safely_in_chromium() {
    let Some(exe) = find_chromium() else {
        println!("SKIP: chromium not found");
        return;
    };
    let case = common::out_dir("browser-case");
    common::write_case(&case, true);
    exhunt_export::write_all(&case).unwrap();
    let page = std::fs::canonicalize(case.join("report.html")).unwrap();
    let url = format!("file://{}", page.display());

    let (_browser, ws) = launch(&exe);
    let mut cdp = Cdp::connect(&ws);
    let target = cdp.call("Target.createTarget", json!({"url": "about:blank"}));
    let attached = cdp.call(
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    cdp.session = Some(attached["sessionId"].as_str().unwrap().to_string());
    for m in [
        "Page.enable",
        "Runtime.enable",
        "Log.enable",
        "Network.enable",
    ] {
        cdp.call(m, json!({}));
    }
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1400, "height": 2000, "deviceScaleFactor": 1, "mobile": false}),
    );
    // Record CSP violations from inside the page (CDP-injected code is not subject to the CSP).
    cdp.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"}),
    );
    cdp.events.clear();
    cdp.call("Page.navigate", json!({"url": url}));
    cdp.wait_event("Page.loadEventFired", 60);
    cdp.pump(1000);

    let dom = cdp.eval(CHECK_DOM);
    println!("DOM: {dom}");
    let ui = cdp.eval(CHECK_SCRIPT);
    println!("script: {}", {
        let mut u = ui.clone();
        u["excerpt"] = Value::from("…");
        u
    });
    cdp.pump(500);

    // Screenshot of the top of the page, for people to look at.
    let shot = cdp.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    let shot_path = case.parent().unwrap().join("report.png");
    std::fs::write(&shot_path, &png).unwrap();
    println!("screenshot: {}", shot_path.display());
    cdp.pump(200);

    // Console errors, exceptions, requests.
    let mut problems = Vec::new();
    for e in &cdp.events {
        let p = &e["params"];
        match e["method"].as_str().unwrap_or("") {
            "Runtime.consoleAPICalled"
                if matches!(p["type"].as_str(), Some("error" | "assert" | "warning")) =>
            {
                problems.push(format!("console {}: {}", p["type"], p["args"]));
            }
            "Runtime.exceptionThrown" => {
                problems.push(format!("exception: {}", p["exceptionDetails"]))
            }
            "Log.entryAdded"
                if matches!(p["entry"]["level"].as_str(), Some("error" | "warning")) =>
            {
                problems.push(format!("log: {}", p["entry"]));
            }
            "Network.requestWillBeSent" => {
                let u = p["request"]["url"].as_str().unwrap_or("");
                if u != url && !u.starts_with("data:") {
                    problems.push(format!("request left the page: {u}"));
                }
            }
            "Network.loadingFailed" => problems.push(format!("load failed: {p}")),
            _ => {}
        }
    }
    let requests = cdp
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .count();
    assert!(requests >= 1, "the page load itself was seen");
    assert!(cdp.dialogs.is_empty(), "dialogs fired: {:?}", cdp.dialogs);
    assert!(problems.is_empty(), "{problems:#?}");

    assert_eq!(dom["missing"], json!([]), "sections missing");
    assert_eq!(dom["js"], "ready", "the page's script ran under its CSP");
    assert_eq!(dom["scripts"], 1);
    assert_eq!(dom["images"], 0);
    assert_eq!(dom["embeds"], 0);
    assert_eq!(dom["onAttrs"], json!([]), "event-handler attributes");
    assert_eq!(dom["jsUrls"], 0);
    assert_eq!(dom["payloadTags"], 0, "elements made from payloads");
    assert_eq!(dom["payloads"], json!([]), "payloads not shown as text");
    assert_eq!(dom["violations"], json!([]), "CSP violations");
    let n = common::findings().len() as u64;
    assert_eq!(dom["rows"].as_u64(), Some(n));
    assert!(dom["dots"].as_u64().unwrap() >= n - 1);
    assert!(dom["cells"].as_u64().unwrap() >= 10);
    assert_eq!(dom["hypotheses"], 4);
    assert!(dom["verdict"].as_str().unwrap().starts_with("COMPROMISED"));

    assert_eq!(ui["filtered"], 1, "text filter");
    assert_eq!(ui["count"], format!("1 of {n} shown"));
    assert_eq!(ui["critical"], 5, "level filter");
    assert_eq!(ui["lowFirst"], "2", "ascending sort by level");
    assert_eq!(ui["highFirst"], "4", "descending sort by level");
    assert_eq!(ui["all"].as_u64(), Some(n));
    assert!(
        ui["excerpt"].as_str().unwrap().contains(common::XSS_UA),
        "the excerpt shows the payload as text"
    );
}
