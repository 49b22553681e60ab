//! Rule-evaluation benchmark, apart from parsing: the events of the EVTX files in a folder are
//! parsed once and kept, then evaluated `ROUNDS` times on one thread against the rules of the
//! given folders. Prints events/s of evaluation alone.
//! `cargo run --release -p exhunt-detect --example eval_bench -- EVTX_DIR RULES_DIR...`

use std::borrow::Cow;
use std::time::Instant;

use exhunt_model::{Event, LogSource};

struct Owned {
    time: Option<chrono::DateTime<chrono::Utc>>,
    source: LogSource,
    fields: Vec<(String, String)>,
    raw: String,
}

const ROUNDS: usize = 20;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let evtx_dir: std::path::PathBuf = args.next().expect("EVTX folder").into();
    let mut files = Vec::new();
    for d in args {
        files.extend(exhunt_detect::rule_files_in(std::path::Path::new(&d)).expect("rules"));
    }
    let (det, _) = exhunt_detect::Detector::load(&files);
    let mut events: Vec<Owned> = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&evtx_dir)
        .expect("EVTX folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("evtx"))
        })
        .collect();
    paths.sort();
    for p in &paths {
        let _ = exhunt_parse::parse_evtx(p, &mut |ev| {
            events.push(Owned {
                time: ev.time,
                source: ev.source.clone(),
                fields: ev
                    .fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                raw: ev.raw.to_string(),
            })
        });
    }
    let start = Instant::now();
    let mut hits = 0usize;
    for _ in 0..ROUNDS {
        for o in &events {
            let ev = Event {
                time: o.time,
                locator: exhunt_model::Locator::File,
                source: &o.source,
                fields: o
                    .fields
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
                    .collect(),
                raw: Cow::Borrowed(o.raw.as_str()),
            };
            hits += det.evaluate(&ev).len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = events.len() * ROUNDS;
    println!(
        "{} rules, {} events x {ROUNDS}: {:.3} s, {:.0} events/s on one thread, {} hits",
        det.detection_rule_count(),
        events.len(),
        secs,
        n as f64 / secs,
        hits
    );
}
