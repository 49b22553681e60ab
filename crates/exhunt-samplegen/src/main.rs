//! `exhunt-samplegen`: seeded generator of Exchange triage collections.
//!
//! - `case`: a HAFNIUM-style ProxyLogon intrusion with its ground truth (`<out>.truth.json`).
//! - `corpus`: a large benign-only corpus for benchmarks.
//!
//! Output is a pure function of the arguments: no wall clock, ordered maps only.

mod case;
mod corpus;
mod data;
mod files;
mod fmt;
mod store;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "exhunt-samplegen",
    version,
    about = "Generate sample Exchange triage collections for exhunt"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the hafnium-2021 intrusion case and its ground truth.
    Case {
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        /// Collection folder to create (must not exist or be empty, unless --force).
        #[arg(long)]
        out: PathBuf,
        /// Ground-truth file [default: <out>.truth.json next to the folder].
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Delete --out first if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Write a large benign-only corpus of hourly logs.
    Corpus {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Approximate total size in MiB.
        #[arg(long, default_value_t = 2048)]
        size_mb: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
}

fn prepare(out: &Path, force: bool) -> Result<()> {
    if out.exists() {
        let empty = out.read_dir()?.next().is_none();
        if !empty {
            if !force {
                bail!(
                    "{} exists and is not empty (use --force to replace it)",
                    out.display()
                );
            }
            std::fs::remove_dir_all(out)?;
        }
    }
    std::fs::create_dir_all(out)?;
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Case {
            seed,
            out,
            truth,
            force,
        } => {
            prepare(&out, force)?;
            let truth = truth.unwrap_or_else(|| {
                let name = out
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "case".into());
                out.with_file_name(format!("{name}.truth.json"))
            });
            let t = case::generate(seed, &out, &truth)?;
            eprintln!(
                "wrote {} ({} truth steps, attack window {} .. {}) and {}",
                out.display(),
                t.steps.len(),
                fmt::iso_ms(t.attack_from),
                fmt::iso_ms(t.attack_to),
                truth.display()
            );
        }
        Cmd::Corpus {
            seed,
            size_mb,
            out,
            force,
        } => {
            prepare(&out, force)?;
            let start = Instant::now();
            let s = corpus::generate(seed, size_mb, &out)?;
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "wrote {:.1} MiB in {} files ({} requests) in {:.2}s: {:.0} MiB/s",
                s.bytes as f64 / 1048576.0,
                s.files,
                s.requests,
                secs,
                s.bytes as f64 / 1048576.0 / secs.max(1e-9)
            );
        }
    }
    Ok(())
}
