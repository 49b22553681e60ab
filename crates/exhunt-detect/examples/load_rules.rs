//! Start-up benchmark: parse and compile every rule of the given folders, print the time.
//! `cargo run --release -p exhunt-detect --example load_rules -- ../shared/data/sigma/rules/windows`

use std::time::Instant;

fn main() {
    let dirs: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let start = Instant::now();
    let mut files = Vec::new();
    for d in &dirs {
        files.extend(exhunt_detect::rule_files_in(d).expect("readable rule folder"));
    }
    let read = start.elapsed();
    let (det, diags) = exhunt_detect::Detector::load(&files);
    println!(
        "{} files read in {:.3} s; {} rules loaded, {} diagnostics; total {:.3} s",
        files.len(),
        read.as_secs_f64(),
        det.detection_rule_count() + det.correlation_rule_count(),
        diags.len(),
        start.elapsed().as_secs_f64()
    );
    // Resident memory now (the loaded rules) and at its peak (during the load).
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines() {
            if line.starts_with("VmRSS") || line.starts_with("VmHWM") {
                println!("{line}");
            }
        }
    }
    drop(det);
}
