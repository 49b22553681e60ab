//! `report.html`: one self-contained page, offline and printable, under a strict CSP.
//!
//! Every string that comes from the scan goes through [`esc`] (text and attribute values
//! alike); the page's only script is a constant, allowed by its SHA-256 in the CSP, and it reads
//! nothing but the DOM.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use base64::Engine;
use chrono::{DateTime, Utc};
use exhunt_report::phases_of;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::attack::TACTICS;
use crate::input::{NONE, PHASES};
use crate::{Fail, Input, detail_of, level_rank, source_ip, ts, varr, vstr};

/// Hand what has been rendered so far to the file (the sections are built in a `String`, the
/// big ones row by row).
fn drain(out: &mut String, w: &mut dyn std::io::Write) -> Result<(), Fail> {
    w.write_all(out.as_bytes())?;
    out.clear();
    Ok(())
}

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Escape for HTML text and attribute values; control characters become visible `\xNN`.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn sha256_b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
}

/// The Content-Security-Policy of the page.
pub(crate) fn csp() -> String {
    format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src data:; \
         connect-src 'none'; form-action 'none'; base-uri 'none'",
        sha256_b64(SCRIPT),
        sha256_b64(STYLE)
    )
}

fn human(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn human_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(human).unwrap_or_else(|| "—".into())
}

fn phase_label(p: &str) -> &str {
    match p {
        "probing" => "Probing",
        "exploitation" => "Exploitation",
        "webshell" => "Web shell",
        "post-exploitation" => "Post-exploitation",
        "data-theft" => "Data theft",
        other => other,
    }
}

fn level_class(level: &str) -> &'static str {
    match level_rank(level) {
        4 => "lv-critical",
        3 => "lv-high",
        2 => "lv-medium",
        1 => "lv-low",
        _ => "lv-info",
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

fn bytes_h(n: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

fn locator(e: &exhunt_model::Evidence) -> String {
    match (e.line, e.record) {
        (Some(l), _) => format!("line {l}"),
        (None, Some(r)) => format!("record {r}"),
        _ => "file".into(),
    }
}

pub(crate) fn render(
    input: &Input,
    export_warnings: &[String],
    w: &mut dyn std::io::Write,
) -> Result<(), Fail> {
    let s = &input.summary;
    let title = if s.roots.is_empty() {
        "exhunt report".to_string()
    } else {
        format!("exhunt report: {}", s.roots.join(", "))
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n<style>{}</style>\n</head>\n\
         <body>\n",
        csp(), // a constant of ours, without `"` or `<`
        esc(&title),
        STYLE,
    );
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p class=\"meta\">exhunt {} · {} findings · {} artifacts read · \
         {} events parsed</p></header>",
        esc(&title),
        esc(&s.version),
        input.len(),
        s.artifacts_read,
        s.events_parsed
    );
    body.push_str(
        "<nav><a href=\"#verdict\">Verdict</a><a href=\"#timeline\">Timeline</a>\
         <a href=\"#attack\">ATT&amp;CK</a><a href=\"#attribution\">Attribution</a>\
         <a href=\"#exposure\">Exposure</a><a href=\"#findings\">Findings</a>\
         <a href=\"#artifacts\">Artifacts &amp; warnings</a></nav>\n<main>\n",
    );
    verdict_section(&mut body, input);
    timeline_section(&mut body, input, w)?;
    attack_section(&mut body, input);
    attribution_section(&mut body, input);
    exposure_section(&mut body, input);
    findings_section(&mut body, input, w)?;
    artifacts_section(&mut body, input, export_warnings);
    body.push_str("</main>\n<footer>Generated by exhunt from the scan folder's findings.jsonl, summary.json and timeline.csv. Times are UTC.</footer>\n");
    let _ = write!(body, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    drain(&mut body, w)
}

fn verdict_section(out: &mut String, input: &Input) {
    let v = &input.summary.verdict;
    let level = serde_json::to_value(v.level)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<section id=\"verdict\" class=\"verdict v-{}\">\n<h2>{}</h2>\n<p class=\"statement\">{}</p>\n<dl class=\"facts\">",
        esc(&level),
        esc(v.level.headline()),
        esc(&v.statement)
    );
    let first = v.phases.iter().filter_map(|p| p.first).min();
    let last = v.phases.iter().filter_map(|p| p.last).max();
    let (first_any, last_any) = (input.agg.first, input.agg.last);
    let hosts: BTreeSet<&str> = input.agg.hosts.iter().map(String::as_str).collect();
    let dd = |out: &mut String, k: &str, v: String| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), v);
    };
    dd(
        out,
        "Chain",
        if v.chains.is_empty() {
            "none recognised".into()
        } else {
            esc(&v.chains.join(" + "))
        },
    );
    dd(
        out,
        "CVEs",
        if v.cves.is_empty() {
            "none".into()
        } else {
            v.cves
                .iter()
                .map(|c| format!("<span class=\"cve\">{}</span>", esc(c)))
                .collect::<Vec<_>>()
                .join(" ")
        },
    );
    dd(out, "First activity", esc(&human_opt(first.or(first_any))));
    dd(out, "Last activity", esc(&human_opt(last.or(last_any))));
    dd(
        out,
        "Server",
        if hosts.is_empty() {
            "unknown".into()
        } else {
            esc(&hosts.into_iter().collect::<Vec<_>>().join(", "))
        },
    );
    let by_level: Vec<String> = input
        .summary
        .findings_by_level
        .iter()
        .rev()
        .map(|(k, n)| {
            format!(
                "<span class=\"badge {}\">{} {}</span>",
                level_class(k),
                n,
                esc(k)
            )
        })
        .collect();
    dd(out, "Findings", by_level.join(" "));
    out.push_str("</dl>\n");

    out.push_str("<div class=\"cols\">\n<div>\n<h3>Attacker addresses</h3>\n");
    if v.attacker_addresses.is_empty() {
        out.push_str("<p>None: no high or critical finding carries a client address.</p>\n");
    } else {
        out.push_str("<table class=\"small\"><thead><tr><th>Address</th><th>Findings</th><th>First seen</th></tr></thead><tbody>");
        for a in &v.attacker_addresses {
            let _ = write!(
                out,
                "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(&a.address),
                a.findings,
                esc(&human_opt(a.first))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</div>\n<div>\n<h3>Phases</h3>\n");
    if v.phases.is_empty() {
        out.push_str("<p>No phase of an intrusion seen.</p>\n");
    } else {
        out.push_str("<table class=\"small\"><thead><tr><th>Phase</th><th>Findings</th><th>First</th><th>Last</th></tr></thead><tbody>");
        for p in &v.phases {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(phase_label(&p.phase)),
                p.findings,
                esc(&human_opt(p.first)),
                esc(&human_opt(p.last))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</div>\n</div>\n");

    // Key evidence: per phase, the worst and earliest finding (chosen while reading).
    let keys = &input.agg.key_evidence;
    if !keys.is_empty() {
        out.push_str("<h3>Key evidence</h3>\n<ol class=\"key-evidence\">\n");
        for (phase, f) in keys {
            let ev = f.evidence.first();
            let _ = write!(
                out,
                "<li><span class=\"phase\">{}</span> <span class=\"when\">{}</span> \
                 <span class=\"badge {}\">{}</span> <a href=\"#f-{}\">{}</a>",
                esc(phase_label(phase)),
                esc(&human_opt(f.time)),
                level_class(&f.rule.level),
                esc(&f.rule.level),
                esc(&f.id),
                esc(&f.rule.title)
            );
            if let Some(ip) = source_ip(f) {
                let _ = write!(out, " from <span class=\"mono\">{}</span>", esc(&ip));
            }
            if let Some(e) = ev {
                let _ = write!(
                    out,
                    "<div class=\"where mono\">{} ({})</div><div class=\"excerpt mono\">{}</div>",
                    esc(&e.path),
                    esc(&locator(e)),
                    esc(&cut(&detail_of(f), 300))
                );
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

fn nice_step(span_secs: i64) -> i64 {
    const STEPS: &[i64] = &[
        60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600,
        2592000, 7776000, 31536000,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span_secs / s <= 10)
        .unwrap_or(31536000)
}

fn timeline_section(
    out: &mut String,
    input: &Input,
    sink: &mut dyn std::io::Write,
) -> Result<(), Fail> {
    out.push_str("<section id=\"timeline\">\n<h2>Timeline of the intrusion</h2>\n");
    let untimed = input.len() - input.agg.timed;
    let (Some(t0), Some(t1)) = (input.agg.first, input.agg.last) else {
        out.push_str("<p>No finding carries a time: nothing to chart.</p>\n</section>\n");
        return Ok(());
    };
    let mut start = t0.timestamp_millis();
    let mut end = t1.timestamp_millis();
    if end - start < 60_000 {
        start -= 1_800_000;
        end += 1_800_000;
    }
    let pad = (end - start) / 40;
    start -= pad;
    end += pad;

    let addresses: Vec<&str> = input
        .summary
        .verdict
        .attacker_addresses
        .iter()
        .take(8)
        .map(|a| a.address.as_str())
        .collect();
    let lanes: Vec<(String, String)> = PHASES
        .iter()
        .map(|p| (format!("phase:{p}"), phase_label(p).to_string()))
        .chain(addresses.iter().map(|a| {
            let n = input
                .summary
                .verdict
                .attacker_addresses
                .iter()
                .find(|x| x.address == *a)
                .map(|x| x.findings)
                .unwrap_or(0);
            (format!("ip:{a}"), format!("{a} ({n})"))
        }))
        .collect();
    let (w, left, right, top, lane_h) = (1320.0_f64, 200.0_f64, 20.0_f64, 16.0_f64, 30.0_f64);
    let sep = if addresses.is_empty() { 0.0 } else { 22.0 };
    let plot_h = lanes.len() as f64 * lane_h + sep;
    let h = top + plot_h + 44.0;
    let pw = w - left - right;
    let x = |ms: i64| left + (ms - start) as f64 / (end - start) as f64 * pw;
    let lane_y = |i: usize| {
        let extra = if i >= PHASES.len() { sep } else { 0.0 };
        top + i as f64 * lane_h + extra + lane_h / 2.0
    };

    let _ = writeln!(
        out,
        "<svg id=\"timeline-chart\" role=\"img\" aria-label=\"Findings over time by phase and attacker address\" \
         viewBox=\"0 0 {w} {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    // Lanes and labels.
    for (i, (_, label)) in lanes.iter().enumerate() {
        let y = lane_y(i);
        let _ = writeln!(
            out,
            "<rect class=\"lane{}\" x=\"{left}\" y=\"{:.1}\" width=\"{pw:.1}\" height=\"{lane_h}\"/>\
             <text class=\"lane-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            if i % 2 == 0 { "" } else { " alt" },
            y - lane_h / 2.0,
            left - 8.0,
            y + 4.0,
            esc(label)
        );
    }
    if !addresses.is_empty() {
        let _ = writeln!(
            out,
            "<text class=\"group-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">attacker addresses</text>",
            left - 8.0,
            top + PHASES.len() as f64 * lane_h + sep - 6.0
        );
    }
    // Axis ticks.
    let step = nice_step((end - start) / 1000) * 1000;
    let mut t = (start + step - 1).div_euclid(step) * step;
    let axis_y = top + plot_h;
    while t <= end {
        let xx = x(t);
        let dt = DateTime::<Utc>::from_timestamp_millis(t).unwrap_or_default();
        let label = if step >= 86_400_000 {
            dt.format("%Y-%m-%d").to_string()
        } else {
            dt.format("%m-%d %H:%M").to_string()
        };
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{top}\" y2=\"{:.1}\"/>\
             <text class=\"tick\" x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            axis_y + 4.0,
            axis_y + 18.0,
            esc(&label)
        );
        t += step;
    }
    let _ = writeln!(
        out,
        "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">UTC</text>",
        w - right,
        axis_y + 36.0
    );
    // Phase spans.
    for (i, p) in PHASES.iter().enumerate() {
        if let Some(span) = input.summary.verdict.phases.iter().find(|s| s.phase == *p)
            && let (Some(a), Some(b)) = (span.first, span.last)
        {
            let (xa, xb) = (x(a.timestamp_millis()), x(b.timestamp_millis()));
            let _ = writeln!(
                out,
                "<rect class=\"span\" x=\"{xa:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"8\"><title>{}: {} findings, {} to {}</title></rect>",
                lane_y(i) - 4.0,
                (xb - xa).max(2.0),
                esc(phase_label(p)),
                span.findings,
                esc(&human(a)),
                esc(&human(b))
            );
        }
    }
    // Dots, one per timed finding and lane, in findings order; what they show was kept in the
    // index while reading, so the findings need no second parse here.
    let strings = &input.strings;
    let text = |i: u32| (i != NONE).then(|| strings[i as usize].as_str());
    let mut n = 0usize;
    for (_, fidx) in input.in_order() {
        let e = &input.entries[fidx as usize];
        let Some(time) = e.time else {
            continue;
        };
        let xx = x(time.timestamp_millis());
        let jitter = ((n % 5) as f64 - 2.0) * 2.5;
        let (level, title, ip) = (
            text(e.level).unwrap_or(""),
            text(e.title).unwrap_or(""),
            text(e.ip),
        );
        let tip = format!(
            "{} [{}] {}{}",
            human(time),
            level,
            title,
            ip.map(|i| format!(" from {i}")).unwrap_or_default()
        );
        let mut lane_idx: Vec<usize> = (0..PHASES.len())
            .filter(|i| e.phases & (1 << i) != 0)
            .collect();
        if let Some(ip) = ip
            && let Some(k) = addresses.iter().position(|a| *a == ip)
        {
            lane_idx.push(PHASES.len() + k);
        }
        for i in lane_idx {
            let _ = writeln!(
                out,
                "<circle class=\"dot {}\" cx=\"{xx:.1}\" cy=\"{:.1}\" r=\"4.5\"><title>{}</title></circle>",
                level_class(level),
                lane_y(i) + jitter,
                esc(&tip)
            );
        }
        n += 1;
        if out.len() > 1 << 16 {
            drain(out, sink)?;
        }
    }
    out.push_str("</svg>\n<p class=\"legend\"><span class=\"badge lv-critical\">critical</span> <span class=\"badge lv-high\">high</span> <span class=\"badge lv-medium\">medium</span> <span class=\"badge lv-low\">low</span> <span class=\"badge lv-info\">informational</span> · bars span each phase's first to last finding; hover a dot for the finding.</p>\n");
    if untimed > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note\">{untimed} finding(s) without a time (files found in the collection) are not on the chart; they are in the findings table.</p>"
        );
    }
    out.push_str("</section>\n");
    Ok(())
}

fn attack_section(out: &mut String, input: &Input) {
    out.push_str("<section id=\"attack\">\n<h2>ATT&amp;CK techniques seen</h2>\n");
    let uses = &input.agg.uses;
    if uses.is_empty() {
        out.push_str("<p>No finding is tagged with an ATT&amp;CK technique.</p>\n<div id=\"attack-matrix\" class=\"matrix\"></div>\n</section>\n");
        return;
    }
    let max = uses.values().map(|u| u.findings).max().unwrap_or(1);
    let heat = |n: usize| -> usize {
        if max <= 1 {
            return 3;
        }
        let r = (n as f64).ln() / (max as f64).ln();
        1 + (r * 4.0).round() as usize
    };
    let mut by_tactic: BTreeMap<&str, Vec<&crate::attack::TechniqueUse>> = BTreeMap::new();
    let mut other = Vec::new();
    for u in uses.values() {
        if u.tactics.is_empty() {
            other.push(u);
        }
        for t in &u.tactics {
            by_tactic.entry(t.as_str()).or_default().push(u);
        }
    }
    out.push_str("<div id=\"attack-matrix\" class=\"matrix\">\n");
    let mut empty = Vec::new();
    let mut columns: Vec<(String, Vec<&crate::attack::TechniqueUse>)> = Vec::new();
    for (short, _, name) in TACTICS {
        match by_tactic.get(short) {
            Some(list) => columns.push((name.to_string(), list.clone())),
            None => empty.push(*name),
        }
    }
    if !other.is_empty() {
        columns.push(("Tactic not tagged".into(), other));
    }
    for (name, mut list) in columns {
        list.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.id.cmp(&b.id)));
        let _ = write!(
            out,
            "<div class=\"tcol\"><div class=\"thead\">{}</div>",
            esc(&name)
        );
        for u in list {
            let rules: Vec<&str> = u.rules.iter().map(String::as_str).collect();
            let _ = write!(
                out,
                "<div class=\"tech heat{}\" title=\"{}\"><span class=\"tid\">{}</span> {} <span class=\"cnt\">{}</span></div>",
                heat(u.findings),
                esc(&format!("Rules: {}", rules.join("; "))),
                esc(&u.id),
                esc(&u.name),
                u.findings
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
    let _ = write!(
        out,
        "<p class=\"note\">Cell colour: number of findings (darkest = {max}). Tactics with no technique seen: {}. \
         The same techniques are in navigator-layer.json for the ATT&amp;CK Navigator.</p>\n</section>\n",
        if empty.is_empty() {
            "none".to_string()
        } else {
            esc(&empty.join(", "))
        }
    );
}

fn evidence_scores(list: &[Value]) -> String {
    if list.is_empty() {
        return "<span class=\"muted\">none</span>".into();
    }
    let mut s = String::from("<ul class=\"ev\">");
    for e in list {
        let label = vstr(e.get("label"))
            .or_else(|| vstr(e.get("evidence")))
            .unwrap_or_default();
        let reason = vstr(e.get("reason")).unwrap_or_default();
        let lr = e.get("log_lr").and_then(Value::as_f64);
        let _ = write!(s, "<li><b>{}</b>", esc(&label));
        if let Some(lr) = lr {
            let _ = write!(s, " <span class=\"muted\">(log LR {lr:+.2})</span>");
        }
        if !reason.is_empty() {
            let _ = write!(s, ": {}", esc(&reason));
        }
        let ids = varr(e.get("finding_ids"));
        if !ids.is_empty() {
            s.push_str(" <span class=\"refs\">");
            for id in ids.iter().take(8).filter_map(Value::as_str) {
                let _ = write!(s, "<a href=\"#f-{}\">{}</a> ", esc(id), esc(&cut(id, 8)));
            }
            if ids.len() > 8 {
                let _ = write!(s, "+{} more", ids.len() - 8);
            }
            s.push_str("</span>");
        }
        s.push_str("</li>");
    }
    s.push_str("</ul>");
    s
}

fn statement_html(q: &Value) -> String {
    let st = q.get("statement").unwrap_or(q);
    let entity = vstr(st.get("state_entity")).unwrap_or_default();
    let subject = vstr(st.get("subject")).unwrap_or_default();
    let quote = vstr(st.get("quote"));
    let source = vstr(st.get("source")).unwrap_or_default();
    let citation = vstr(q.get("citation")).unwrap_or_default();
    let mut s = String::from("<blockquote class=\"statement\">");
    if let Some(quote) = quote {
        let _ = write!(s, "“{}”", esc(&quote));
    } else {
        let _ = write!(s, "{} — {}", esc(&subject), esc(&entity));
    }
    let _ = write!(
        s,
        "<cite>{}{}{}</cite></blockquote>",
        esc(&source),
        if citation.is_empty() || source.is_empty() {
            ""
        } else {
            " · "
        },
        esc(&citation)
    );
    s
}

fn attribution_section(out: &mut String, input: &Input) {
    out.push_str("<section id=\"attribution\">\n<h2>Attribution</h2>\n");
    let Some(a) = &input.attribution else {
        out.push_str("<p class=\"na\">Attribution not available: this scan folder has no attribution.json.</p>\n</section>\n");
        return;
    };
    if let Some(h) = vstr(a.get("headline")) {
        let _ = writeln!(out, "<p class=\"headline\">{}</p>", esc(&h));
    }
    if a.get("insufficient_evidence").and_then(Value::as_bool) == Some(true) {
        out.push_str("<p class=\"warn\">The evidence is insufficient for attribution: the ranking below is weak.</p>\n");
    }
    if let Some(m) = vstr(a.get("method")) {
        let _ = writeln!(out, "<p class=\"note\">Method: {}</p>", esc(&m));
    }
    out.push_str("<table id=\"attribution-table\" class=\"data\"><thead><tr><th>#</th><th>Hypothesis</th><th>Likelihood</th><th>Confidence</th><th>Evidence for</th><th>Evidence against</th><th>Not diagnostic</th></tr></thead><tbody>\n");
    for h in varr(a.get("hypotheses")) {
        let rank = vstr(h.get("rank")).unwrap_or_default();
        let name = vstr(h.get("display_name"))
            .or_else(|| vstr(h.get("name")))
            .unwrap_or_default();
        let id = vstr(h.get("id")).unwrap_or_default();
        let p = h.get("posterior").and_then(Value::as_f64);
        let words = vstr(h.get("likelihood_words"))
            .or_else(|| vstr(h.get("likelihood")))
            .unwrap_or_default();
        let conf = vstr(h.get("confidence")).unwrap_or_default();
        let basis = vstr(h.get("confidence_basis")).unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td class=\"num\">{}</td><td><b>{}</b><div class=\"muted mono\">{}</div>",
            esc(&rank),
            esc(&name),
            esc(&id)
        );
        let statements = varr(h.get("state_statements"));
        for q in statements {
            out.push_str(&statement_html(q));
        }
        let _ = write!(
            out,
            "</td><td><b>{}</b>{}</td><td>{}<div class=\"muted\">{}</div></td><td>{}</td><td>{}</td><td>",
            esc(&words),
            p.map(|p| format!("<div class=\"muted\">{:.1}%</div>", p * 100.0))
                .unwrap_or_default(),
            esc(&conf),
            esc(&basis),
            evidence_scores(varr(h.get("supporting"))),
            evidence_scores(varr(h.get("contradicting")))
        );
        let nd: Vec<String> = varr(h.get("non_diagnostic"))
            .iter()
            .filter_map(|v| vstr(Some(v)))
            .collect();
        if nd.is_empty() {
            out.push_str("<span class=\"muted\">none</span>");
        } else {
            let _ = write!(out, "{}", esc(&nd.join("; ")));
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
    let sens: Vec<String> = varr(a.get("sensitivity"))
        .iter()
        .filter_map(|v| vstr(Some(v)))
        .collect();
    if !sens.is_empty() {
        out.push_str("<h3>What would change the ranking</h3><ul>");
        for s in sens {
            let _ = write!(out, "<li>{}</li>", esc(&s));
        }
        out.push_str("</ul>\n");
    }
    let ctx = varr(a.get("context_statements"));
    if !ctx.is_empty() {
        out.push_str("<h3>State-level statements (quoted, not computed)</h3>\n");
        for q in ctx {
            out.push_str(&statement_html(q));
        }
    }
    if let Some(n) = vstr(a.get("notice")) {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&n));
    }
    out.push_str("</section>\n");
}

fn exposure_section(out: &mut String, input: &Input) {
    out.push_str("<section id=\"exposure\">\n<h2>Exposure of the server build</h2>\n");
    let Some(x) = &input.exposure else {
        out.push_str("<p class=\"na\">Exposure not available: this scan folder has no exposure.json.</p>\n</section>\n");
        return;
    };
    let build = vstr(x.get("build"));
    let a = x.get("assessment");
    out.push_str("<dl class=\"facts\">");
    let dd = |out: &mut String, k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
        }
    };
    dd(
        out,
        "Build",
        Some(build.unwrap_or_else(|| "unknown (no build evidence)".into())),
    );
    dd(
        out,
        "Product",
        a.and_then(|a| vstr(a.get("product")))
            .map(|p| match a.and_then(|a| vstr(a.get("cu"))) {
                Some(cu) => format!("{p} {cu}"),
                None => p,
            }),
    );
    dd(
        out,
        "Update level",
        a.and_then(|a| vstr(a.get("update_level"))),
    );
    dd(out, "Build status", a.and_then(|a| vstr(a.get("status"))));
    dd(out, "Build from", vstr(x.get("build_source")));
    dd(out, "Reliability", vstr(x.get("reliability")));
    dd(out, "How", vstr(x.get("build_explanation")));
    out.push_str("</dl>\n");
    let missing = varr(a.and_then(|a| a.get("missing")));
    if let Some(a) = a {
        let _ = writeln!(
            out,
            "<h3>Security fixes missing from this build ({})</h3>",
            missing.len()
        );
        if !missing.is_empty() {
            out.push_str("<table class=\"data\"><thead><tr><th>CVE</th><th>Fixed by</th><th>Released</th><th>Known exploited</th><th>Campaigns</th><th>Certainty</th></tr></thead><tbody>");
            for m in missing {
                let camp: Vec<String> = varr(m.get("campaigns"))
                    .iter()
                    .filter_map(|v| vstr(Some(v)))
                    .collect();
                let _ = write!(
                    out,
                    "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&vstr(m.get("cve")).unwrap_or_default()),
                    esc(&vstr(m.get("fixed_by")).unwrap_or_default()),
                    esc(&vstr(m.get("release_date")).unwrap_or_default()),
                    if m.get("known_exploited").and_then(Value::as_bool) == Some(true) {
                        "<b>yes</b>"
                    } else {
                        "no"
                    },
                    esc(&camp.join(", ")),
                    esc(&vstr(m.get("certainty")).unwrap_or_default())
                );
            }
            out.push_str("</tbody></table>\n");
        }
        let cfg = varr(a.get("needs_config"));
        if !cfg.is_empty() {
            out.push_str("<h3>Protections that depend on configuration</h3><ul>");
            for c in cfg {
                let cves: Vec<String> = varr(c.get("cves"))
                    .iter()
                    .filter_map(|v| vstr(Some(v)))
                    .collect();
                let _ = write!(
                    out,
                    "<li><b>{}</b> ({}): {} — {}</li>",
                    esc(&vstr(c.get("setting")).unwrap_or_default()),
                    esc(&cves.join(", ")),
                    esc(&vstr(c.get("state")).unwrap_or_default()),
                    esc(&vstr(c.get("detail")).unwrap_or_default())
                );
            }
            out.push_str("</ul>\n");
        }
        let notes: Vec<String> = varr(a.get("notes"))
            .iter()
            .filter_map(|v| vstr(Some(v)))
            .collect();
        for n in notes {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&n));
        }
    }
    let rows = varr(x.get("exploitation"));
    if !rows.is_empty() {
        out.push_str("<h3>Exposure at the time of each exploitation finding</h3>\n<table class=\"data\"><thead><tr><th>Time</th><th>CVE</th><th>Finding</th><th>Build then</th><th>Exposure</th><th>Why</th></tr></thead><tbody>");
        for r in rows {
            let state = r
                .get("exposure")
                .map(|e| {
                    let s = vstr(e.get("state")).unwrap_or_default();
                    match e.get("fix_released").and_then(Value::as_bool) {
                        Some(true) => format!("{s} (fix released)"),
                        Some(false) => format!("{s} (fix not yet released)"),
                        None => s,
                    }
                })
                .unwrap_or_default();
            let fid = vstr(r.get("finding_id")).unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"mono\">{}</td><td><a href=\"#f-{}\">{}</a></td><td class=\"mono\">{}</td><td><b>{}</b></td><td>{}</td></tr>",
                esc(&vstr(r.get("time")).unwrap_or_default()),
                esc(&vstr(r.get("cve")).unwrap_or_default()),
                esc(&fid),
                esc(&cut(&fid, 8)),
                esc(&vstr(r.get("build_at_time")).unwrap_or_else(|| "unknown".into())),
                esc(&state),
                esc(&vstr(r.get("explanation")).unwrap_or_default())
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}

/// Most findings listed in the page's table (the most severe first).
pub const MAX_HTML_FINDINGS: usize = 3000;

fn findings_section(
    out: &mut String,
    input: &Input,
    w: &mut dyn std::io::Write,
) -> Result<(), Fail> {
    let _ = write!(
        out,
        "<section id=\"findings\">\n<h2>Findings ({})</h2>\n\
         <div class=\"controls\"><label>Filter <input id=\"f-q\" type=\"search\" placeholder=\"text in any column or evidence\"></label> \
         <label>Level <select id=\"f-level\"><option value=\"0\">all</option><option value=\"1\">low and above</option>\
         <option value=\"2\">medium and above</option><option value=\"3\">high and above</option><option value=\"4\">critical</option></select></label> \
         <button id=\"f-expand\" type=\"button\">Expand all</button> <button id=\"f-collapse\" type=\"button\">Collapse all</button> \
         <span id=\"f-count\" class=\"muted\"></span></div>\n\
         <table id=\"findings-table\" class=\"data\"><thead><tr>\
         <th data-sort=\"num\">#</th><th data-sort=\"text\">Time (UTC)</th><th data-sort=\"num\">Level</th><th data-sort=\"text\">Phase</th>\
         <th data-sort=\"text\">Finding and evidence</th><th data-sort=\"text\">Host</th><th data-sort=\"text\">Source</th><th data-sort=\"text\">Detail</th>\
         </tr></thead><tbody>\n",
        input.len()
    );
    // A scan of a large collection can hold tens of thousands of findings; the page shows the
    // most severe ones (findings.jsonl and findings.csv keep them all) so that it stays usable
    // and its size bounded. Which ones was settled while reading; here they are re-read.
    let shown = &input.agg.shown;
    let file = input.open_findings()?;
    for &(n, fidx) in shown {
        let f = &input.finding_at(&file, fidx)?;
        let rank = level_rank(&f.rule.level);
        let phases: Vec<&str> = phases_of(&f.tags).into_iter().map(phase_label).collect();
        let _ = write!(
            out,
            "<tr id=\"f-{}\" data-level=\"{rank}\"><td class=\"num\" data-k=\"{}\">{}</td><td data-k=\"{}\">{}</td>\
             <td data-k=\"{rank}\"><span class=\"badge {}\">{}</span></td><td>{}</td><td><details><summary>{}</summary>\
             <div class=\"rule\">rule <span class=\"mono\">{}</span> · {} · finding <span class=\"mono\">{}</span></div>\
             <div class=\"tags\">{}</div>",
            esc(&f.id),
            n + 1,
            n + 1,
            esc(&f.time.map(ts).unwrap_or_default()),
            esc(&human_opt(f.time)),
            level_class(&f.rule.level),
            esc(&f.rule.level),
            esc(&phases.join(", ")),
            esc(&f.rule.title),
            esc(&f.rule.id),
            esc(&f.rule.source),
            esc(&f.id),
            f.tags
                .iter()
                .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
                .collect::<Vec<_>>()
                .join(" ")
        );
        out.push_str("<ol class=\"evidence\">");
        for e in &f.evidence {
            let _ = write!(
                out,
                "<li><div class=\"where mono\">{} <span class=\"muted\">({})</span></div>\
                 <div class=\"sha mono muted\">sha256 {}</div><pre class=\"excerpt\">{}</pre></li>",
                esc(&e.path),
                esc(&locator(e)),
                esc(&e.sha256),
                esc(&e.excerpt)
            );
        }
        out.push_str("</ol>");
        if !f.fields.is_empty() {
            let _ = write!(
                out,
                "<details class=\"fields\"><summary>Fields ({})</summary><table class=\"kv\">",
                f.fields.len()
            );
            for (k, v) in &f.fields {
                let val = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let _ = write!(
                    out,
                    "<tr><th>{}</th><td class=\"mono\">{}</td></tr>",
                    esc(k),
                    esc(&val)
                );
            }
            out.push_str("</table></details>");
        }
        let _ = writeln!(
            out,
            "</details></td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono detail\">{}</td></tr>",
            esc(f.host.as_deref().unwrap_or("")),
            esc(&source_ip(f).unwrap_or_default()),
            esc(&cut(&detail_of(f), 220))
        );
        drain(out, w)?;
    }
    out.push_str("</tbody></table>\n");
    if shown.len() < input.len() {
        let _ = writeln!(
            out,
            "<p class=\"note\">The table lists the {} most severe of {} findings; findings.jsonl and findings.csv hold them all.</p>",
            shown.len(),
            input.len()
        );
    }
    out.push_str("</section>\n");
    Ok(())
}

fn artifacts_section(out: &mut String, input: &Input, export_warnings: &[String]) {
    let s = &input.summary;
    let _ = write!(
        out,
        "<section id=\"artifacts\">\n<h2>Artifacts read</h2>\n<p>{} artifacts ({}), {} events parsed, {} rules loaded, from {}.</p>\n",
        s.artifacts_read,
        esc(&bytes_h(s.bytes_read)),
        s.events_parsed,
        s.rules_loaded,
        if s.roots.is_empty() {
            "an unknown collection".to_string()
        } else {
            esc(&s.roots.join(", "))
        }
    );
    if s.artifacts_by_kind.is_empty() {
        out.push_str("<p class=\"na\">No artifact inventory available.</p>\n");
    } else {
        out.push_str("<table id=\"artifacts-table\" class=\"data\"><thead><tr><th>Kind</th><th>Files</th><th>Size</th><th>Events</th><th>First event</th><th>Last event</th></tr></thead><tbody>");
        for (kind, t) in &s.artifacts_by_kind {
            let _ = write!(
                out,
                "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(kind),
                t.files,
                esc(&bytes_h(t.bytes)),
                t.events,
                esc(&human_opt(t.first)),
                esc(&human_opt(t.last))
            );
        }
        out.push_str("</tbody></table>\n<p class=\"note\">Check that the time ranges cover the period of the intrusion: a log kind that stops early or starts late leaves a blind spot.</p>\n");
    }
    if !s.findings_dropped.is_empty() {
        out.push_str("<h3>Findings not written (per-rule cap)</h3><ul>");
        for (rule, n) in &s.findings_dropped {
            let _ = write!(out, "<li>{}: {n}</li>", esc(rule));
        }
        out.push_str("</ul>\n");
    }
    let total = s.warnings.len() + s.rule_problems.len() + export_warnings.len();
    let _ = writeln!(out, "<h3 id=\"warnings\">Warnings ({total})</h3>");
    if total == 0 {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul class=\"warnings\">");
        for w in &s.warnings {
            if w.path.is_empty() {
                let _ = write!(out, "<li>{}</li>", esc(&w.message));
            } else {
                let _ = write!(
                    out,
                    "<li><span class=\"mono\">{}</span>: {}</li>",
                    esc(&w.path),
                    esc(&w.message)
                );
            }
        }
        for p in &s.rule_problems {
            let _ = write!(out, "<li>rule problem: {}</li>", esc(p));
        }
        for w in export_warnings {
            let _ = write!(out, "<li>report: {}</li>", esc(w));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(
            esc("<img src=x onerror='a'>\"&\x1b"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&quot;&amp;\\x1b"
        );
    }

    #[test]
    fn csp_hashes_the_inline_script_and_style() {
        let c = csp();
        assert!(c.contains(&format!("'sha256-{}'", sha256_b64(SCRIPT))));
        assert!(c.contains("default-src 'none'"));
        assert!(!c.contains("unsafe"));
    }

    #[test]
    fn tick_steps() {
        assert_eq!(nice_step(3600), 600);
        assert_eq!(nice_step(2 * 86400), 21600);
    }
}
