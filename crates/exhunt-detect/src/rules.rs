//! Loading Sigma rule files into checked, described rules, with a reason for every rule that
//! cannot run.

use std::path::{Path, PathBuf};

use rsigma_parser::{CorrelationRule, SigmaCollection, SigmaRule};
use serde::Serialize;

use crate::DetectError;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// A YAML file of rules, with the name findings will cite as the rule's source.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// `sigma:builtin/<path>` for the built-in pack, `sigma:<dir>/<path>` for user folders.
    pub source: String,
    /// Path for diagnostics (the file on disk, or `rules/<path>` for built-ins).
    pub display_path: String,
    pub text: String,
}

/// The built-in rule pack compiled into the binary.
pub fn builtin_rule_files() -> Vec<RuleFile> {
    BUILTIN_RULES
        .iter()
        .map(|(path, text)| RuleFile {
            source: format!("sigma:builtin/{path}"),
            display_path: format!("rules/{path}"),
            text: (*text).to_string(),
        })
        .collect()
}

/// Every `.yml`/`.yaml` file under `dir`, in path order.
pub fn rule_files_in(dir: &Path) -> Result<Vec<RuleFile>, DetectError> {
    if !dir.is_dir() {
        return Err(DetectError::RuleDir {
            path: dir.to_path_buf(),
            reason: "not a directory".into(),
        });
    }
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yml") | Some("yaml")
            )
        })
        .collect();
    paths.sort();
    let label = dir.display().to_string();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).map_err(|e| DetectError::RuleDir {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        files.push(RuleFile {
            source: format!("sigma:{label}/{rel}"),
            display_path: path.display().to_string(),
            text,
        });
    }
    Ok(files)
}

/// Why a rule (or a whole file) is not in the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The YAML or the Sigma structure could not be parsed.
    ParseError,
    /// The rule parsed but uses something the engine cannot evaluate.
    Unsupported,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleDiagnostic {
    pub path: String,
    pub rule: Option<String>,
    pub kind: DiagnosticKind,
    pub reason: String,
}

/// What findings need to know about the rule that produced them.
#[derive(Debug, Clone, Serialize)]
pub struct RuleMeta {
    /// The rule's `id`, or `title:<title>` when it has none.
    pub key: String,
    pub title: String,
    pub level: String,
    pub status: Option<String>,
    pub tags: Vec<String>,
    pub source: String,
    pub description: Option<String>,
    pub is_correlation: bool,
}

impl RuleMeta {
    pub(crate) fn from_rule(rule: &SigmaRule, source: &str) -> RuleMeta {
        RuleMeta {
            key: rule_key(rule.id.as_deref(), &rule.title),
            title: rule.title.clone(),
            level: rule
                .level
                .map(|l| l.as_str().to_string())
                .unwrap_or_else(|| "medium".into()),
            status: rule
                .status
                .as_ref()
                .map(|s| format!("{s:?}").to_ascii_lowercase()),
            tags: rule.tags.clone(),
            source: source.to_string(),
            description: rule.description.clone(),
            is_correlation: false,
        }
    }

    pub(crate) fn from_correlation(rule: &CorrelationRule, source: &str) -> RuleMeta {
        RuleMeta {
            key: rule_key(rule.id.as_deref(), &rule.title),
            title: rule.title.clone(),
            level: rule
                .level
                .map(|l| l.as_str().to_string())
                .unwrap_or_else(|| "medium".into()),
            status: rule
                .status
                .as_ref()
                .map(|s| format!("{s:?}").to_ascii_lowercase()),
            tags: rule.tags.clone(),
            source: source.to_string(),
            description: rule.description.clone(),
            is_correlation: true,
        }
    }
}

pub(crate) fn rule_key(id: Option<&str>, title: &str) -> String {
    match id {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => format!("title:{title}"),
    }
}

/// Parse one file; parse errors become diagnostics, the parsed documents are returned.
pub(crate) fn parse_file(file: &RuleFile, diags: &mut Vec<RuleDiagnostic>) -> SigmaCollection {
    match rsigma_parser::parse_sigma_yaml(&file.text) {
        Ok(collection) => {
            for err in &collection.errors {
                diags.push(RuleDiagnostic {
                    path: file.display_path.clone(),
                    rule: None,
                    kind: DiagnosticKind::ParseError,
                    reason: err.clone(),
                });
            }
            collection
        }
        Err(e) => {
            diags.push(RuleDiagnostic {
                path: file.display_path.clone(),
                rule: None,
                kind: DiagnosticKind::ParseError,
                reason: e.to_string(),
            });
            SigmaCollection::default()
        }
    }
}
