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
    Scan(ScanArgs),
    /// List what a collection holds: artifact types, files, records, time ranges, bytes.
    Inventory(InventoryArgs),
    /// Work with rule sets.
    #[command(subcommand)]
    Rules(RulesCommand),
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
        Command::Scan(args) => cmd_scan(args),
        Command::Inventory(args) => cmd_inventory(args),
        Command::Rules(RulesCommand::Check { dirs }) => cmd_rules_check(dirs),
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

fn load_rules(sigma: &[PathBuf], rules_only: bool) -> Result<(Detector, Vec<RuleDiagnostic>)> {
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
    Ok(Detector::load(&files))
}

fn cmd_scan(args: ScanArgs) -> Result<ExitCode> {
    let collection = open_collection(&args.paths)?;
    let (mut detector, diags) = load_rules(&args.sigma, args.rules_only)?;
    let rules_loaded = (detector.detection_rule_count() + detector.correlation_rule_count()) as u64;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    refuse_output_inside_inputs(&args.out, &args.paths)?;

    let total: u64 = collection.artifacts.iter().map(|a| a.size.max(1)).sum();
    let pb = progress_bar(total);
    let result = scan::run(&collection, Some(&mut detector), &pb);
    pb.finish_and_clear();

    let mut findings_by_rule = BTreeMap::new();
    let mut findings_by_tag = BTreeMap::new();
    let mut findings_by_level = BTreeMap::new();
    for f in &result.findings {
        *findings_by_rule
            .entry(format!("{} ({})", f.rule.title, f.rule.id))
            .or_insert(0u64) += 1;
        *findings_by_level
            .entry(f.rule.level.clone())
            .or_insert(0u64) += 1;
        for t in &f.tags {
            *findings_by_tag.entry(t.clone()).or_insert(0u64) += 1;
        }
    }
    let mut warnings = result.warnings.clone();
    for (rule, n) in &result.dropped {
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
        verdict: exhunt_report::verdict(&result.findings),
        artifacts_read: result.artifacts.len() as u64,
        events_parsed: result.artifacts.iter().map(|a| a.events).sum(),
        bytes_read: result.artifacts.iter().map(|a| a.bytes).sum(),
        artifacts_by_kind: totals_by_kind(&result.artifacts),
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
        findings_total: result.findings.len() as u64,
        findings_by_level,
        findings_by_rule,
        findings_by_tag,
        findings_dropped: result.dropped.clone(),
        artifacts: result.artifacts.clone(),
        warnings,
    };
    exhunt_report::write_findings_jsonl(&args.out.join("findings.jsonl"), &result.findings)?;
    exhunt_report::write_timeline_csv(
        &args.out.join("timeline.csv"),
        &result.findings,
        &result.context,
    )?;
    exhunt_report::write_summary(&args.out.join("summary.json"), &summary)?;
    if !args.quiet {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        exhunt_report::print_summary(&mut out, &summary)?;
        writeln!(
            out,
            "\nWrote {}",
            escape_terminal(&args.out.display().to_string())
        )?;
    }
    Ok(if args.fail_on_findings && !result.findings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
    let result = scan::run(&collection, None, &pb);
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
