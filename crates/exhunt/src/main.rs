//! `exhunt`: hunt Exchange server compromises in triage collections, with evidence.
//!
//! The binary only wires the pipeline crates together: `exhunt-collect` opens the collection,
//! `exhunt-parse` turns artifacts into events, `exhunt-detect` runs the Sigma rules, and
//! `exhunt-report` writes what was found. See ARCHITECTURE.md.

mod scan;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use exhunt_collect::{CollectOptions, Collection};
use exhunt_detect::{Detector, RuleDiagnostic, RuleFile};
use exhunt_report::{Summary, escape_terminal, rfc3339, totals_by_kind};

#[derive(Parser)]
#[command(
    name = "exhunt",
    version,
    about = "Hunt Microsoft Exchange compromises (ProxyLogon and later chains) in triage collections, with evidence."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan collections (folders and .zip files) and write findings, timeline and summary.
    Scan(Box<ScanArgs>),
    /// List what a collection holds: artifact types, files, records, time ranges, bytes.
    Inventory(InventoryArgs),
    /// Work with rule sets.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Rank threat-actor hypotheses for a scan folder (writes DIR/attribution.json).
    Attribute(AttributeArgs),
    /// Which Exchange security updates a build lacks, and the campaigns they belong to.
    Exposure(ExposureArgs),
    /// Read the build a live Exchange server discloses (harmless GETs) and print its exposure.
    Probe(ProbeArgs),
    /// Rebuild every report of a scan folder (HTML, STIX, Navigator layer, timelines) from its
    /// findings.jsonl and attribution.json, without rescanning.
    Report {
        /// A scan output folder.
        dir: PathBuf,
    },
}

#[derive(Args)]
struct AttributeArgs {
    /// A scan output folder (with findings.jsonl).
    dir: PathBuf,
    /// A newer ATT&CK STIX bundle (.json or .json.xz) to use instead of the built-in one.
    #[arg(long, value_name = "PATH")]
    attack: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExposureArgs {
    /// The server build, e.g. 15.2.792.3 (ExSetup.exe file version).
    #[arg(long)]
    build: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ProbeArgs {
    /// The server's base URL, e.g. https://mail.example.com
    url: String,
    /// Do not verify the server's TLS certificate.
    #[arg(long)]
    insecure: bool,
    /// Seconds to wait for each request.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ScanArgs {
    /// Collection folders and/or .zip files, in any mix.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Folder to write findings.jsonl, timeline.csv and summary.json to (created if missing).
    #[arg(long, short, default_value = "exhunt-out")]
    out: PathBuf,
    /// Add a folder of third-party Sigma rules (repeatable).
    #[arg(long = "sigma", value_name = "DIR")]
    sigma: Vec<PathBuf>,
    /// Run only the rules given with --sigma, not the built-in pack.
    #[arg(long)]
    rules_only: bool,
    /// Exit with status 1 when there are findings (for scripts).
    #[arg(long)]
    fail_on_findings: bool,
    /// Do not print the terminal summary.
    #[arg(long, short)]
    quiet: bool,
    /// Print the wall time of each stage (rule loading, scan, writing, exports) to stderr.
    #[arg(long)]
    timings: bool,
    /// Only evaluate events at or after this time (RFC 3339, e.g. 2021-03-01T00:00:00Z).
    #[arg(long, value_parser = parse_time)]
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Only evaluate events at or before this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    to: Option<chrono::DateTime<chrono::Utc>>,
    /// Run only rules of this level or higher (informational, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    min_level: Option<String>,
    /// Run only rules with this status (repeatable: stable, test, experimental, ...).
    #[arg(long = "status", value_name = "STATUS")]
    statuses: Vec<String>,
    /// Run only rules with this tag or a sub-technique of it (repeatable, e.g. attack.t1505.003).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// A newer ATT&CK STIX bundle (.json or .json.xz) for attribution.
    #[arg(long, value_name = "PATH")]
    attack: Option<PathBuf>,
    /// Add a folder of YARA rules for the files of the collection (repeatable).
    #[arg(long = "yara", value_name = "DIR")]
    yara: Vec<PathBuf>,
    /// Do not scan files with YARA.
    #[arg(long)]
    no_yara: bool,
    /// Add an indicator file: CSV, STIX 2.1 bundle or MISP event JSON (repeatable).
    #[arg(long = "ioc", value_name = "FILE")]
    ioc: Vec<PathBuf>,
    /// Leave out the built-in indicator packs.
    #[arg(long)]
    no_builtin_iocs: bool,
    /// Known-good file hashes per Exchange build (`sha256,build,relpath` CSV files).
    #[arg(long, value_name = "DIR")]
    baseline: Option<PathBuf>,
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        .map_err(|_| {
            format!("{s:?} is not an RFC 3339 time (2021-03-01T00:00:00Z) or a date (2021-03-01)")
        })
}

#[derive(Args)]
struct InventoryArgs {
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Load rule folders and report every rule that cannot run, with its reason.
    Check {
        /// Rule folders (the built-in pack when none is given).
        dirs: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Scan(args) => cmd_scan(*args),
        Command::Inventory(args) => cmd_inventory(args),
        Command::Rules(RulesCommand::Check { dirs }) => cmd_rules_check(dirs),
        Command::Attribute(args) => cmd_attribute(args),
        Command::Exposure(args) => cmd_exposure(args),
        Command::Probe(args) => cmd_probe(args),
        Command::Report { dir } => cmd_report(&dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("exhunt: error: {}", escape_terminal(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn open_collection(paths: &[PathBuf]) -> Result<Collection> {
    exhunt_collect::collect(paths, &CollectOptions::default()).context("cannot open the collection")
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .expect("valid template"),
        );
        pb
    } else {
        indicatif::ProgressBar::hidden()
    }
}

fn load_rules(
    sigma: &[PathBuf],
    rules_only: bool,
    opts: &exhunt_detect::LoadOptions,
) -> Result<(Detector, Vec<RuleDiagnostic>)> {
    let mut files: Vec<RuleFile> = if rules_only {
        Vec::new()
    } else {
        exhunt_detect::builtin_rule_files()
    };
    for dir in sigma {
        files.extend(exhunt_detect::rule_files_in(dir)?);
    }
    if files.is_empty() {
        bail!("no rules to run: --rules-only needs at least one --sigma DIR");
    }
    Ok(Detector::load_with(&files, opts))
}

fn cmd_scan(args: ScanArgs) -> Result<ExitCode> {
    let mut timer = StageTimer::new(args.timings);
    let collection = open_collection(&args.paths)?;
    timer.mark("collect and classify");
    let load_opts = exhunt_detect::LoadOptions {
        min_level: args.min_level.clone(),
        statuses: args.statuses.clone(),
        tags: args.tags.clone(),
    };
    let (mut detector, diags) = load_rules(&args.sigma, args.rules_only, &load_opts)?;
    timer.mark("load Sigma rules");
    let kb = load_kb(args.attack.as_deref())?;
    let (iocs, ioc_warnings) = exhunt_ioc::IocSet::load(!args.no_builtin_iocs, &args.ioc)
        .context("cannot load the indicators")?;
    let (yara, yara_diags) = if args.no_yara {
        (None, Vec::new())
    } else {
        let opts = exhunt_yara::YaraOptions {
            cache_dir: cache_dir(),
            ..Default::default()
        };
        let (engine, diags) = exhunt_yara::YaraEngine::load(&args.yara, &opts)
            .context("cannot load the YARA rules")?;
        (Some(engine), diags)
    };
    let baselines = match &args.baseline {
        Some(dir) => Some(
            exhunt_yara::Baselines::load_dir(dir)
                .with_context(|| format!("cannot load the baselines in {}", dir.display()))?,
        ),
        None => None,
    };
    release_freed_memory();
    timer.mark("load knowledge base, indicators, YARA");
    let rules_loaded = (detector.detection_rule_count() + detector.correlation_rule_count()) as u64;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    refuse_output_inside_inputs(&args.out, &args.paths)?;

    let total: u64 = collection.artifacts.iter().map(|a| a.size.max(1)).sum();
    let pb = progress_bar(total);
    let window = scan::TimeWindow {
        from: args.from,
        to: args.to,
    };
    let stores = scan::Stores::create(&args.out).with_context(|| {
        format!(
            "cannot create scratch files in the output folder {}",
            args.out.display()
        )
    })?;
    let result = scan::run(
        &collection,
        Some(&mut detector),
        Some(&iocs),
        yara.as_ref(),
        window,
        &pb,
        Some(stores),
    )?;
    pb.finish_and_clear();
    // The compiled rules are most of the scan's memory and are done with: free them before the
    // write-out, so its buffers do not stack on them.
    drop((detector, iocs, yara));
    release_freed_memory();
    timer.mark("parse and detect");
    let scan::ScanResult {
        artifacts,
        build_evidence,
        application_host,
        stores,
        mut warnings,
        dropped,
    } = result;
    let scan::Stores {
        findings: mut store,
        context,
    } = stores.expect("the scan was given stores");

    let conclusion = build_evidence.conclude();
    if let (Some((baselines, baseline_warnings)), Some(build)) = (&baselines, &conclusion.build) {
        for f in scan::baseline_findings(&artifacts, baselines, &build.to_string()) {
            store.push(&f)?;
        }
        warnings.extend(
            baseline_warnings
                .iter()
                .map(|w| exhunt_model::Warning::new("", w.clone())),
        );
    }
    warnings.extend(
        ioc_warnings
            .iter()
            .map(|w| exhunt_model::Warning::new("", format!("indicators: {w}"))),
    );
    warnings.extend(yara_diags.iter().map(|d| {
        exhunt_model::Warning::new(
            d.path.clone(),
            format!("YARA rule file not loaded: {}", d.reason),
        )
    }));
    // Writing findings.jsonl reads every finding back once: that pass feeds everything that
    // summarises them.
    let mut verdict = exhunt_report::VerdictBuilder::default();
    let mut profile = exhunt_attribute::ProfileBuilder::for_kb(&kb);
    let mut exploitation = Vec::new();
    let mut findings_by_rule = BTreeMap::new();
    let mut findings_by_tag = BTreeMap::new();
    let mut findings_by_level = BTreeMap::new();
    let mut findings_total = 0u64;
    // findings.csv and timeline.jsonl are rendered from the findings and context events while
    // they are parsed for findings.jsonl and timeline.csv, rather than read back afterwards.
    let csv_header = exhunt_export::findings_csv_header();
    let (findings_csv, timeline_jsonl) = (
        args.out.join(exhunt_export::FINDINGS_CSV),
        args.out.join(exhunt_export::TIMELINE_JSONL),
    );
    let alongside = exhunt_report::AlongsideOutputs {
        per_finding: Some((&findings_csv, &csv_header, &exhunt_export::findings_csv_row)),
        timeline: Some((
            &timeline_jsonl,
            &exhunt_export::timeline_finding_row,
            &exhunt_export::timeline_context_row,
        )),
    };
    let written = store.write_jsonl(&args.out.join("findings.jsonl"), &alongside, |f| {
        findings_total += 1;
        verdict.add(f);
        profile.add(f);
        *findings_by_rule
            .entry(format!("{} ({})", f.rule.title, f.rule.id))
            .or_insert(0u64) += 1;
        *findings_by_level
            .entry(f.rule.level.clone())
            .or_insert(0u64) += 1;
        for t in &f.tags {
            *findings_by_tag.entry(t.clone()).or_insert(0u64) += 1;
            if let (Some(rest), Some(time)) = (t.strip_prefix("cve."), f.time) {
                exploitation.push((
                    format!("CVE-{}", rest.to_ascii_uppercase()),
                    time,
                    f.id.clone(),
                ));
            }
        }
    })?;
    release_freed_memory();
    timer.mark("write findings.jsonl, findings.csv (verdict)");
    // The timelines need nothing that the summaries and exports produce, and those read only
    // findings.jsonl: both run side by side, so neither leaves a core idle.
    let timeline_csv = args.out.join("timeline.csv");
    let (summary, exposure, attribution, mut export) = std::thread::scope(|scope| -> Result<_> {
        let timelines = scope
            .spawn(|| exhunt_report::write_timeline(&timeline_csv, written, context, &alongside));
        let exposure = exposure_of(&conclusion, &exploitation, application_host.as_deref());
        let attribution = exhunt_attribute::attribute(&profile.finish(), &kb);

        warnings.sort();
        warnings.dedup();
        for (rule, n) in &dropped {
            warnings.push(exhunt_model::Warning::new(
                "",
                format!(
                    "rule {rule} fired {n} more times than the {} findings kept",
                    scan::MAX_FINDINGS_PER_RULE
                ),
            ));
        }
        let summary = Summary {
            tool: "exhunt".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            roots: args.paths.iter().map(|p| p.display().to_string()).collect(),
            verdict: verdict.finish(),
            artifacts_read: artifacts.len() as u64,
            events_parsed: artifacts.iter().map(|a| a.events).sum(),
            bytes_read: artifacts.iter().map(|a| a.bytes).sum(),
            artifacts_by_kind: totals_by_kind(&artifacts),
            rules_loaded,
            rule_problems: diags
                .iter()
                .map(|d| {
                    format!(
                        "{}: {}: {}",
                        d.path,
                        d.rule.as_deref().unwrap_or("-"),
                        d.reason
                    )
                })
                .collect(),
            findings_total,
            findings_by_level,
            findings_by_rule,
            findings_by_tag,
            findings_dropped: dropped,
            artifacts,
            warnings,
        };
        exhunt_report::write_summary(&args.out.join("summary.json"), &summary)?;
        write_json(&args.out.join("exposure.json"), &exposure)?;
        write_json(&args.out.join("attribution.json"), &attribution)?;
        let already = [exhunt_export::FINDINGS_CSV, exhunt_export::TIMELINE_JSONL];
        let export = exhunt_export::write_all_except(&args.out, &already)
            .with_context(|| format!("cannot write the reports in {}", args.out.display()));
        timelines
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok((summary, exposure, attribution, export?))
    })?;
    release_freed_memory();
    timer.mark("exports, timelines, summaries (side by side)");
    export
        .written
        .extend([timeline_jsonl.clone(), findings_csv.clone()]);
    if !args.quiet {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        exhunt_report::print_summary(&mut out, &summary)?;
        print_exposure_line(&mut out, &exposure)?;
        writeln!(
            out,
            "\nAttribution: {}",
            escape_terminal(&attribution.headline)
        )?;
        for h in attribution.hypotheses.iter().take(4) {
            writeln!(
                out,
                "  {:<48} {:>6}  {:<22} confidence {}",
                escape_terminal(&h.display_name),
                exhunt_attribute::percent(h.posterior, 1),
                h.likelihood_words,
                h.confidence.word()
            )?;
        }
        writeln!(
            out,
            "\nWrote {}: findings.jsonl, timeline.csv, summary.json, exposure.json, attribution.json, {}",
            escape_terminal(&args.out.display().to_string()),
            export
                .written
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        for w in &export.warnings {
            writeln!(out, "  report warning: {}", escape_terminal(w))?;
        }
    }
    Ok(if args.fail_on_findings && findings_total > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Each stage frees far more than it keeps (parsed YAML and rule copies when loading rules,
/// per-thread scratch when scanning and writing out), and glibc holds on to freed pages in each
/// thread's arena: hand them back between stages, so the next stage's allocations do not stack
/// on the last one's leftovers.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `--timings`: the wall time of each stage and the processor time it used (so a stage that
/// leaves a core idle shows), on stderr (never in the outputs, which must not depend on the
/// clock).
struct StageTimer {
    on: bool,
    start: std::time::Instant,
    last: std::time::Instant,
    last_cpu: Option<f64>,
}

/// User plus system time of the whole process so far, where the system tells it.
fn cpu_seconds() -> Option<f64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: getrusage only writes into the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return Some(secs(usage.ru_utime) + secs(usage.ru_stime));
        }
    }
    None
}

impl StageTimer {
    fn new(on: bool) -> Self {
        let now = std::time::Instant::now();
        StageTimer {
            on,
            start: now,
            last: now,
            last_cpu: cpu_seconds(),
        }
    }

    fn mark(&mut self, stage: &str) {
        if self.on {
            let now = std::time::Instant::now();
            // Peak resident memory so far, where the system tells it.
            let peak = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .map(|v| format!("  peak {}", v.trim()))
                })
                .unwrap_or_default();
            let cpu_now = cpu_seconds();
            let cpu = match (self.last_cpu, cpu_now) {
                (Some(a), Some(b)) => format!("  cpu {:.2} s", b - a),
                _ => String::new(),
            };
            eprintln!(
                "timing: {stage:<46} {:>8.3} s  (total {:.3} s){cpu}{peak}",
                (now - self.last).as_secs_f64(),
                (now - self.start).as_secs_f64()
            );
            self.last = now;
            self.last_cpu = cpu_now;
        }
    }
}

/// Inputs are evidence: never write into them.
fn refuse_output_inside_inputs(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let out = std::fs::canonicalize(out)?;
    for input in inputs {
        if let Ok(input) = std::fs::canonicalize(input)
            && input.is_dir()
            && out.starts_with(&input)
        {
            bail!(
                "the output folder {} is inside the input {}: choose an output folder outside the evidence",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

fn cmd_inventory(args: InventoryArgs) -> Result<ExitCode> {
    let collection = open_collection(&args.paths)?;
    let total: u64 = collection.artifacts.iter().map(|a| a.size.max(1)).sum();
    let pb = progress_bar(total);
    let result = scan::run(
        &collection,
        None,
        None,
        None,
        scan::TimeWindow::default(),
        &pb,
        None,
    )?;
    pb.finish_and_clear();
    let totals = totals_by_kind(&result.artifacts);
    let unrecognised: Vec<&str> = collection
        .artifacts
        .iter()
        .filter(|a| a.file_class == exhunt_collect::FileClass::Other)
        .map(|a| a.path.as_str())
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let v = serde_json::json!({
            "kinds": totals,
            "artifacts": result.artifacts,
            "unrecognised": unrecognised,
            "warnings": result.warnings,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<28} {:>7} {:>10} {:>14}  {:<24}  {:<24}",
        "type", "files", "records", "bytes", "first", "last"
    )?;
    for (kind, t) in &totals {
        writeln!(
            out,
            "{:<28} {:>7} {:>10} {:>14}  {:<24}  {:<24}",
            kind,
            t.files,
            t.events,
            t.bytes,
            t.first.map(rfc3339).unwrap_or_else(|| "-".into()),
            t.last.map(rfc3339).unwrap_or_else(|| "-".into())
        )?;
    }
    let classes: BTreeMap<&str, usize> =
        collection
            .artifacts
            .iter()
            .fold(BTreeMap::new(), |mut m, a| {
                *m.entry(a.file_class.label()).or_default() += 1;
                m
            });
    writeln!(
        out,
        "\nfile classes: {}",
        classes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(out, "\nnot recognised ({}):", unrecognised.len())?;
    for p in unrecognised.iter().take(50) {
        writeln!(out, "  {}", escape_terminal(p))?;
    }
    if unrecognised.len() > 50 {
        writeln!(out, "  ... {} more (use --json)", unrecognised.len() - 50)?;
    }
    writeln!(out, "\nwarnings ({}):", result.warnings.len())?;
    for w in &result.warnings {
        writeln!(out, "  {}", escape_terminal(&w.to_string()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_rules_check(dirs: Vec<PathBuf>) -> Result<ExitCode> {
    let mut files = Vec::new();
    if dirs.is_empty() {
        files = exhunt_detect::builtin_rule_files();
    }
    for d in &dirs {
        files.extend(exhunt_detect::rule_files_in(d)?);
    }
    let (det, diags) = Detector::load(&files);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for d in &diags {
        writeln!(
            out,
            "{}: {}: {:?}: {}",
            escape_terminal(&d.path),
            escape_terminal(d.rule.as_deref().unwrap_or("-")),
            d.kind,
            escape_terminal(&d.reason)
        )?;
    }
    let parse_errors = diags
        .iter()
        .filter(|d| d.kind == exhunt_detect::DiagnosticKind::ParseError)
        .count();
    writeln!(
        out,
        "{} files, {} detection rules and {} correlation rules loaded, {} unsupported, {} parse errors",
        files.len(),
        det.detection_rule_count(),
        det.correlation_rule_count(),
        diags.len() - parse_errors,
        parse_errors
    )?;
    Ok(if parse_errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn load_kb(attack: Option<&Path>) -> Result<exhunt_attribute::KnowledgeBase> {
    match attack {
        None => Ok(exhunt_attribute::KnowledgeBase::embedded()),
        Some(p) => exhunt_attribute::load_attack_bundle(p)
            .with_context(|| format!("cannot load the ATT&CK bundle {}", p.display())),
    }
}

/// The server's build from the collection, and whether each exploitation finding hit a build
/// still missing its fix.
fn exposure_of(
    conclusion: &exhunt_exposure::BuildConclusion,
    exploitation: &[(String, chrono::DateTime<chrono::Utc>, String)],
    application_host: Option<&str>,
) -> exhunt_exposure::ExposureReport {
    let mut report = exhunt_exposure::exposure_report(conclusion, exploitation);
    if let Some(xml) = application_host
        && let Ok(cfg) = exhunt_exposure::config_from_application_host(xml)
        && let Some(a) = report.assessment.as_mut()
    {
        a.apply_config(&cfg);
    }
    report
}

fn print_exposure_line(out: &mut dyn Write, r: &exhunt_exposure::ExposureReport) -> Result<()> {
    match (&r.build, &r.assessment) {
        (Some(b), Some(a)) => {
            let exploited_missing = r
                .exploitation
                .iter()
                .filter(|e| matches!(e.exposure, exhunt_exposure::ExposureAtTime::Missing { .. }))
                .count();
            writeln!(
                out,
                "\nServer build: {b} ({}, {}; from {}): {} security fixes missing now; {} of {} exploitation findings hit a build still missing the fix.",
                a.product.as_deref().unwrap_or("unknown product"),
                a.update_level.as_deref().unwrap_or("update level unknown"),
                r.build_source.map(|s| s.label()).unwrap_or("-"),
                a.missing.len(),
                exploited_missing,
                r.exploitation.len()
            )?;
        }
        _ => writeln!(
            out,
            "\nServer build: unknown ({})",
            escape_terminal(&r.build_explanation)
        )?,
    }
    Ok(())
}

fn cmd_attribute(args: AttributeArgs) -> Result<ExitCode> {
    // Streamed: a scan folder may hold far more findings than fit in memory. The profile never
    // reads the excerpts.
    let kb = load_kb(args.attack.as_deref())?;
    let mut profile = exhunt_attribute::ProfileBuilder::for_kb(&kb);
    for f in
        exhunt_report::FindingsReader::open(&args.dir.join("findings.jsonl"))?.without_excerpts()
    {
        profile.add(&f?);
    }
    let attribution = exhunt_attribute::attribute(&profile.finish(), &kb);
    write_json(&args.dir.join("attribution.json"), &attribution)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&attribution)?)?;
    } else {
        write!(
            out,
            "{}",
            escape_terminal_keep_newlines(&exhunt_attribute::render_text(&attribution))
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_exposure(args: ExposureArgs) -> Result<ExitCode> {
    let build = match exhunt_exposure::parse_build(&args.build) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("exhunt: error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let a = exhunt_exposure::assess(&build);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&a)?)?;
    } else {
        write!(out, "{}", exhunt_exposure::render_text(&a))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_probe(args: ProbeArgs) -> Result<ExitCode> {
    let opts = exhunt_exposure::ProbeOptions {
        timeout: std::time::Duration::from_secs(args.timeout),
        insecure: args.insecure,
    };
    let result = exhunt_exposure::probe(&args.url, &opts)
        .with_context(|| format!("probing {}", args.url))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?;
    } else {
        for o in &result.observations {
            writeln!(out, "{}", escape_terminal(&format!("{o:?}")))?;
        }
        writeln!(
            out,
            "best: {} ({})",
            result.best,
            escape_terminal(&result.best_source)
        )?;
        write!(out, "{}", exhunt_exposure::render_text(&result.assessment))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Escape control characters except newlines, for multi-line text built from evidence.
fn escape_terminal_keep_newlines(s: &str) -> String {
    s.split('\n')
        .map(escape_terminal)
        .collect::<Vec<_>>()
        .join("\n")
}

fn cmd_report(dir: &Path) -> Result<ExitCode> {
    let export = exhunt_export::write_all(dir)
        .with_context(|| format!("cannot rebuild the reports of {}", dir.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for p in &export.written {
        writeln!(out, "wrote {}", escape_terminal(&p.display().to_string()))?;
    }
    for w in &export.warnings {
        writeln!(out, "warning: {}", escape_terminal(w))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Where compiled YARA rules are cached between runs.
fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("EXHUNT_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("exhunt"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("exhunt"))
}
