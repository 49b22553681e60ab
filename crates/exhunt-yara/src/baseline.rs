//! Known-good file hashes per Exchange build (`sha256,build,relpath` CSV files).
//!
//! The relpath is relative to the Exchange install folder (`...\Exchange Server\V15`) and starts
//! with a backslash: `\FrontEnd\HttpProxy\owa\auth\logon.aspx`. Lookups ignore case (Windows).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Errors loading baselines.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline folder {path}: {source}; check that it exists and is readable")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read baseline file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: not a baseline row (expected `sha256,build,relpath` with a 64-hex sha256): {text}"
    )]
    BadRow {
        path: PathBuf,
        line: usize,
        text: String,
    },
}

/// What a baseline says about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaselineVerdict {
    /// The file is at a path the build ships, with one of the shipped hashes.
    KnownGood,
    /// The build is known but ships no file at this path (an added file: check it).
    UnknownForBuild,
    /// The build ships a file at this path but with another hash (a modified file: check it).
    ChangedKnownFile { expected: Vec<String> },
    /// No baseline for this build: nothing can be said.
    BuildNotInBaseline,
}

/// Known-good hashes, by build then by lower-cased relpath.
#[derive(Debug, Default, Clone)]
pub struct Baselines {
    builds: HashMap<String, HashMap<String, Vec<String>>>,
    rows: usize,
}

impl Baselines {
    pub fn new() -> Baselines {
        Baselines::default()
    }

    /// Load every `.csv` file of `dir` (other files, e.g. LICENSE, are ignored).
    /// Bad rows are returned as warnings and skipped.
    pub fn load_dir(dir: &Path) -> Result<(Baselines, Vec<String>), BaselineError> {
        let rd = std::fs::read_dir(dir).map_err(|source| BaselineError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
            .collect();
        paths.sort();
        let mut b = Baselines::new();
        let mut warnings = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|source| BaselineError::ReadFile {
                path: p.clone(),
                source,
            })?;
            for e in b.add_csv(&text, &p) {
                warnings.push(e.to_string());
            }
        }
        Ok((b, warnings))
    }

    /// Add the rows of one CSV text; returns the rows that could not be read.
    pub fn add_csv(&mut self, text: &str, origin: &Path) -> Vec<BaselineError> {
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_start_matches('\u{feff}').trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, ',');
            let (Some(sha), Some(build), Some(rel)) = (parts.next(), parts.next(), parts.next())
            else {
                errors.push(bad_row(origin, i, line));
                continue;
            };
            let sha = sha.trim();
            if sha.eq_ignore_ascii_case("sha256") {
                continue; // header
            }
            if sha.len() != 64 || !sha.bytes().all(|c| c.is_ascii_hexdigit()) {
                errors.push(bad_row(origin, i, line));
                continue;
            }
            let rel = rel.trim().trim_matches('"');
            let list = self
                .builds
                .entry(build.trim().to_string())
                .or_default()
                .entry(normalize_relpath(rel))
                .or_default();
            let sha = sha.to_ascii_uppercase();
            if !list.contains(&sha) {
                list.push(sha);
            }
            self.rows += 1;
        }
        errors
    }

    /// Builds with a baseline, sorted.
    pub fn builds(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.builds.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Number of rows loaded.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Judge a file of `build` at `relpath` (under the Exchange install folder; `\` or `/`,
    /// leading separator optional) with hash `sha256` (any case).
    pub fn verdict(
        &self,
        build: &str,
        relpath_under_exchange_root: &str,
        sha256: &str,
    ) -> BaselineVerdict {
        let Some(files) = self.builds.get(build.trim()) else {
            return BaselineVerdict::BuildNotInBaseline;
        };
        match files.get(&normalize_relpath(relpath_under_exchange_root)) {
            None => BaselineVerdict::UnknownForBuild,
            Some(expected) => {
                if expected
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(sha256.trim()))
                {
                    BaselineVerdict::KnownGood
                } else {
                    BaselineVerdict::ChangedKnownFile {
                        expected: expected.clone(),
                    }
                }
            }
        }
    }
}

fn bad_row(origin: &Path, i: usize, line: &str) -> BaselineError {
    BaselineError::BadRow {
        path: origin.to_path_buf(),
        line: i + 1,
        text: exhunt_model::truncate_excerpt(line, 200),
    }
}

fn normalize_relpath(rel: &str) -> String {
    let mut s = rel.trim().replace('/', "\\").to_lowercase();
    if !s.starts_with('\\') {
        s.insert(0, '\\');
    }
    s
}

/// The path of a collected file relative to the Exchange install folder, in the baseline's form
/// (`\FrontEnd\HttpProxy\owa\auth\logon.aspx`), or `None` when the path is not under it.
///
/// Recognises `...Exchange Server\V15\...` (and V14) with either separator and inside zips
/// (`case.zip!/...`); failing that, a path from a `FrontEnd\HttpProxy` or `ClientAccess` folder on.
pub fn exchange_relpath(display_path: &str) -> Option<String> {
    let p = display_path.replace('\\', "/");
    let lower = p.to_ascii_lowercase();
    let start = if let Some(i) = ["exchange server/v15/", "exchange server/v14/"]
        .iter()
        .find_map(|m| lower.find(m).map(|i| i + m.len()))
    {
        i
    } else {
        let candidates = ["/frontend/httpproxy/", "/clientaccess/"];
        let i = candidates
            .iter()
            .filter_map(|m| lower.find(m))
            .min()
            .or_else(|| {
                ["frontend/httpproxy/", "clientaccess/"]
                    .iter()
                    .find(|m| lower.starts_with(*m))
                    .map(|_| 0)
            })?;
        if lower.as_bytes().get(i) == Some(&b'/') {
            i + 1
        } else {
            i
        }
    };
    let rest = p[start..].trim_matches('/');
    if rest.is_empty() {
        return None;
    }
    Some(format!("\\{}", rest.replace('/', "\\")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relpath_from_display_paths() {
        assert_eq!(
            exchange_relpath(
                "case.zip!/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx"
            )
            .as_deref(),
            Some(r"\FrontEnd\HttpProxy\owa\auth\logon.aspx")
        );
        assert_eq!(
            exchange_relpath(
                r"C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\ecp\web.config"
            )
            .as_deref(),
            Some(r"\ClientAccess\ecp\web.config")
        );
        assert_eq!(
            exchange_relpath("collect/FrontEnd/HttpProxy/ecp/auth/TimeoutLogoff.aspx").as_deref(),
            Some(r"\FrontEnd\HttpProxy\ecp\auth\TimeoutLogoff.aspx")
        );
        assert_eq!(
            exchange_relpath("inetpub/wwwroot/aspnet_client/x.aspx"),
            None
        );
    }

    #[test]
    fn verdicts() {
        let mut b = Baselines::new();
        let sha = "49194CA2DC5FF65A4E4438B3B68D11D63ED72E12CF72B76949733F4B5196A9B2";
        let errs = b.add_csv(
            &format!("{sha},15.1.2176.2,\\FrontEnd\\HttpProxy\\owa\\auth\\logon.aspx\nbad,row\n"),
            Path::new("t.csv"),
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(
            b.verdict(
                "15.1.2176.2",
                "FrontEnd/HttpProxy/owa/auth/LOGON.aspx",
                &sha.to_lowercase()
            ),
            BaselineVerdict::KnownGood
        );
        assert_eq!(
            b.verdict(
                "15.1.2176.2",
                r"\FrontEnd\HttpProxy\owa\auth\logon.aspx",
                "00"
            ),
            BaselineVerdict::ChangedKnownFile {
                expected: vec![sha.to_string()]
            }
        );
        assert_eq!(
            b.verdict(
                "15.1.2176.2",
                r"\FrontEnd\HttpProxy\owa\auth\shell.aspx",
                sha
            ),
            BaselineVerdict::UnknownForBuild
        );
        assert_eq!(
            b.verdict("15.2.1.1", r"\FrontEnd\HttpProxy\owa\auth\logon.aspx", sha),
            BaselineVerdict::BuildNotInBaseline
        );
    }
}
