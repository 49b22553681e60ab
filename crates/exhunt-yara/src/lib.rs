//! File scanning with YARA rules (via `yara-x`) and known-good baselines.
//!
//! [`YaraEngine`] compiles the built-in Exchange webshell pack (the repository's `yara/` folder,
//! embedded at build time) plus user rule folders, each file in its own namespace. A file that does
//! not compile becomes a [`RuleDiagnostic`] and the others still load. Compiled rules are cached
//! (keyed by a hash of every source and the yara-x version) so later runs skip compilation.
//!
//! Scanning is bounded per file: a size cap (files above it are skipped with a warning) and a
//! timeout (a timed-out file yields a warning; the scan goes on). Matches become findings with
//! [`finding_for_match`]. [`Baselines`] tells whether a file's hash is the one Microsoft shipped for
//! the server's build.

mod baseline;

pub use baseline::{BaselineError, BaselineVerdict, Baselines, exchange_relpath};

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use exhunt_model::{Evidence, Finding, RuleRef, Warning};
use sha2::{Digest, Sha256};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

pub use builtin::BUILTIN_RULE_FILES;

/// Default per-file scan timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default size cap: larger files are not scanned.
pub const DEFAULT_SIZE_CAP: u64 = 64 * 1024 * 1024;
/// Longest matched-string excerpt kept per pattern match, in bytes of source data.
pub const MATCH_DATA_MAX: usize = 120;
/// At most this many matches are reported per pattern.
pub const MATCHES_PER_PATTERN_MAX: usize = 5;
/// The namespace prefix of built-in rules.
pub const BUILTIN_NAMESPACE_PREFIX: &str = "builtin/";
/// External variables every rule may use; set per file by the scan (empty for bare buffers).
pub const GLOBALS: &[&str] = &["filename", "filepath", "extension", "filetype", "owner"];

/// Errors of the YARA engine.
#[derive(Debug, thiserror::Error)]
pub enum YaraError {
    #[error("cannot read YARA rule folder {path}: {source}; check that it exists and is readable")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}; check that the file exists and is readable")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "YARA scan timed out after {0:?}; the file was not fully scanned (raise the timeout to scan it)"
    )]
    Timeout(Duration),
    #[error("YARA scan failed: {0}")]
    Scan(String),
    #[error("no YARA rule compiled: every rule file failed (see the diagnostics)")]
    NoRules,
}

/// One rule file to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    /// Where it came from, for messages: `builtin/chopper.yar` or the file path.
    pub origin: String,
    /// The namespace its rules live in: `builtin/<file stem>` or `<dir name>/<file stem>`.
    pub namespace: String,
    pub source: String,
}

/// A rule file that did not compile (or compiled only in part).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleDiagnostic {
    pub path: String,
    /// yara-x's message(s), with the line and column.
    pub reason: String,
}

/// How the engine scans.
#[derive(Debug, Clone)]
pub struct YaraOptions {
    pub timeout: Duration,
    pub size_cap: u64,
    /// Where compiled rules are cached between runs (e.g. `$XDG_CACHE_HOME/exhunt`); `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    /// Load the built-in pack (on by default).
    pub builtin: bool,
}

impl Default for YaraOptions {
    fn default() -> Self {
        YaraOptions {
            timeout: DEFAULT_TIMEOUT,
            size_cap: DEFAULT_SIZE_CAP,
            cache_dir: None,
            builtin: true,
        }
    }
}

/// A matched string of a rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchedString {
    /// `$name` as written in the rule.
    pub identifier: String,
    pub offset: usize,
    /// The matched bytes as printable text (`\xNN` escapes, bounded by [`MATCH_DATA_MAX`]).
    pub data: String,
}

/// One rule that matched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct YaraMatch {
    pub rule: String,
    pub namespace: String,
    pub tags: Vec<String>,
    /// String metadata of the rule (description, author, reference, attack, severity...).
    pub meta: BTreeMap<String, String>,
    pub strings: Vec<MatchedString>,
}

impl YaraMatch {
    /// `yara:<namespace>/<rule>`, e.g. `yara:builtin/chopper/exhunt_chopper_jscript_eval_request`.
    pub fn source(&self) -> String {
        format!("yara:{}/{}", self.namespace, self.rule)
    }
}

/// The outcome of scanning one file: matches, and warnings (skipped, timed out, unreadable).
#[derive(Debug, Clone, Default)]
pub struct FileScan {
    pub matches: Vec<YaraMatch>,
    pub warnings: Vec<Warning>,
    /// Not scanned at all (over the cap, unreadable).
    pub skipped: bool,
}

/// Per-file context passed to rules through the external variables.
#[derive(Debug, Clone, Default)]
pub struct ScanContext<'a> {
    /// Display path of the file (collection-relative), used for `filepath`/`filename`/`extension`.
    pub path: &'a str,
}

/// Compiled rules plus the limits they are run with.
pub struct YaraEngine {
    rules: yara_x::Rules,
    timeout: Duration,
    size_cap: u64,
    from_cache: bool,
    files: Vec<String>,
}

impl std::fmt::Debug for YaraEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YaraEngine")
            .field("rules", &self.rule_count())
            .field("timeout", &self.timeout)
            .field("size_cap", &self.size_cap)
            .field("from_cache", &self.from_cache)
            .finish()
    }
}

/// The built-in rule files, each in namespace `builtin/<file stem>`.
pub fn builtin_rule_files() -> Vec<RuleFile> {
    BUILTIN_RULE_FILES
        .iter()
        .map(|(name, src)| RuleFile {
            origin: format!("{BUILTIN_NAMESPACE_PREFIX}{name}"),
            namespace: format!("{BUILTIN_NAMESPACE_PREFIX}{}", stem(name)),
            source: (*src).to_string(),
        })
        .collect()
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// Every `.yar`/`.yara` file under `dir` (recursively, sorted), namespaced `<dir name>/<relative stem>`.
/// Files that cannot be read or are not UTF-8 come back as diagnostics.
pub fn read_rule_dir(dir: &Path) -> Result<(Vec<RuleFile>, Vec<RuleDiagnostic>), YaraError> {
    let mut paths = Vec::new();
    collect_rule_paths(dir, &mut paths)?;
    paths.sort();
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "rules".into());
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        let rel = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(source) => files.push(RuleFile {
                    origin: p.display().to_string(),
                    namespace: format!("{dir_name}/{}", stem(&rel)),
                    source,
                }),
                Err(e) => diags.push(RuleDiagnostic {
                    path: p.display().to_string(),
                    reason: format!("not UTF-8 text ({e}); save the rule file as UTF-8"),
                }),
            },
            Err(e) => diags.push(RuleDiagnostic {
                path: p.display().to_string(),
                reason: format!("cannot read: {e}"),
            }),
        }
    }
    Ok((files, diags))
}

fn collect_rule_paths(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), YaraError> {
    let rd = std::fs::read_dir(dir).map_err(|source| YaraError::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_rule_paths(&p, out)?;
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("yar") || x.eq_ignore_ascii_case("yara"))
        {
            out.push(p);
        }
    }
    Ok(())
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CacheMeta {
    diagnostics: Vec<RuleDiagnostic>,
    files: Vec<String>,
}

fn cache_key(files: &[RuleFile]) -> String {
    let mut h = Sha256::new();
    h.update(b"exhunt-yara cache v1\0");
    h.update(yara_x::VERSION.as_bytes());
    h.update([0]);
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for g in GLOBALS {
        h.update([0]);
        h.update(g.as_bytes());
    }
    for f in files {
        for part in [&f.origin, &f.namespace, &f.source] {
            h.update([0]);
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
    }
    hex::encode(&h.finalize()[..16])
}

impl YaraEngine {
    /// The built-in pack (unless `opts.builtin` is false) plus every rule file of `dirs`.
    pub fn load(
        dirs: &[PathBuf],
        opts: &YaraOptions,
    ) -> Result<(YaraEngine, Vec<RuleDiagnostic>), YaraError> {
        let mut files = if opts.builtin {
            builtin_rule_files()
        } else {
            Vec::new()
        };
        let mut diags = Vec::new();
        for d in dirs {
            let (f, dd) = read_rule_dir(d)?;
            files.extend(f);
            diags.extend(dd);
        }
        let (engine, more) = YaraEngine::from_files(&files, opts)?;
        diags.extend(more);
        Ok((engine, diags))
    }

    /// Compile `files` (or load them from the cache), each in its own namespace.
    pub fn from_files(
        files: &[RuleFile],
        opts: &YaraOptions,
    ) -> Result<(YaraEngine, Vec<RuleDiagnostic>), YaraError> {
        let key = cache_key(files);
        if let Some(dir) = &opts.cache_dir
            && let Some((rules, meta)) = read_cache(dir, &key)
        {
            return Ok((
                YaraEngine {
                    rules,
                    timeout: opts.timeout,
                    size_cap: opts.size_cap,
                    from_cache: true,
                    files: meta.files,
                },
                meta.diagnostics,
            ));
        }
        let (rules, diags, loaded) = compile(files);
        if rules.iter().len() == 0 {
            return Err(YaraError::NoRules);
        }
        if let Some(dir) = &opts.cache_dir {
            // A cache that cannot be written only costs time on the next run.
            let _ = write_cache(
                dir,
                &key,
                &rules,
                &CacheMeta {
                    diagnostics: diags.clone(),
                    files: loaded.clone(),
                },
            );
        }
        Ok((
            YaraEngine {
                rules,
                timeout: opts.timeout,
                size_cap: opts.size_cap,
                from_cache: false,
                files: loaded,
            },
            diags,
        ))
    }

    /// Number of (non-private) rules loaded.
    pub fn rule_count(&self) -> usize {
        self.rules.iter().len()
    }

    /// Origins of the rule files that contributed at least one rule.
    pub fn loaded_files(&self) -> &[String] {
        &self.files
    }

    /// Whether the rules came from the cache rather than from compilation.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn size_cap(&self) -> u64 {
        self.size_cap
    }

    /// Scan a buffer with no file context (the `filename`/`filepath`/`extension` variables are empty).
    /// A timeout is an error here; [`YaraEngine::scan_data`] turns it into a warning.
    pub fn scan_bytes(&self, data: &[u8]) -> Result<Vec<YaraMatch>, YaraError> {
        self.scan_with(data, &ScanContext::default())
    }

    /// Scan a buffer, telling the rules which file it is.
    pub fn scan_with(
        &self,
        data: &[u8],
        ctx: &ScanContext<'_>,
    ) -> Result<Vec<YaraMatch>, YaraError> {
        let mut scanner = yara_x::Scanner::new(&self.rules);
        scanner.set_timeout(self.timeout);
        scanner.max_matches_per_pattern(1000);
        let path = ctx.path.replace('/', "\\");
        let filename = path.rsplit(['\\', '!']).next().unwrap_or("").to_string();
        let extension = filename
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        for (name, value) in [
            ("filepath", path.as_str()),
            ("filename", filename.as_str()),
            ("extension", extension.as_str()),
            ("filetype", ""),
            ("owner", ""),
        ] {
            scanner
                .set_global(name, value)
                .map_err(|e| YaraError::Scan(format!("cannot set variable {name}: {e}")))?;
        }
        let results = match scanner.scan(data) {
            Ok(r) => r,
            Err(yara_x::ScanError::Timeout) => return Err(YaraError::Timeout(self.timeout)),
            Err(e) => return Err(YaraError::Scan(e.to_string())),
        };
        Ok(results.matching_rules().map(|r| to_match(&r)).collect())
    }

    /// Scan a buffer as the file `path`, applying the size cap; problems become warnings.
    pub fn scan_data(&self, data: &[u8], path: &str) -> FileScan {
        if data.len() as u64 > self.size_cap {
            return skipped_over_cap(path, data.len() as u64, self.size_cap);
        }
        self.finish(self.scan_with(data, &ScanContext { path }), path)
    }

    /// Read and scan a local file shown as `display_path`, applying the size cap.
    pub fn scan_file(&self, local: &Path, display_path: &str) -> FileScan {
        match std::fs::metadata(local) {
            Ok(m) if m.len() > self.size_cap => {
                return skipped_over_cap(display_path, m.len(), self.size_cap);
            }
            Ok(_) => {}
            Err(e) => return unreadable(display_path, &e),
        }
        match std::fs::read(local) {
            Ok(data) => self.scan_data(&data, display_path),
            Err(e) => unreadable(display_path, &e),
        }
    }

    /// Scan what a reader yields (e.g. a zip member from `Artifact::open()`), reading at most the
    /// cap; `size` is the known size (skip without reading when it is over the cap).
    pub fn scan_reader(&self, mut reader: impl Read, size: u64, display_path: &str) -> FileScan {
        if size > self.size_cap {
            return skipped_over_cap(display_path, size, self.size_cap);
        }
        let mut data = Vec::with_capacity(size.min(self.size_cap) as usize);
        match reader
            .by_ref()
            .take(self.size_cap + 1)
            .read_to_end(&mut data)
        {
            Ok(_) => self.scan_data(&data, display_path),
            Err(e) => unreadable(display_path, &e),
        }
    }

    fn finish(&self, r: Result<Vec<YaraMatch>, YaraError>, path: &str) -> FileScan {
        match r {
            Ok(matches) => FileScan {
                matches,
                ..FileScan::default()
            },
            Err(YaraError::Timeout(t)) => FileScan {
                matches: Vec::new(),
                warnings: vec![Warning::new(
                    path,
                    format!(
                        "YARA scan timed out after {}s; the file was not fully scanned (raise --yara-timeout to scan it)",
                        t.as_secs_f32()
                    ),
                )],
                skipped: false,
            },
            Err(e) => FileScan {
                matches: Vec::new(),
                warnings: vec![Warning::new(path, format!("YARA scan failed: {e}"))],
                skipped: true,
            },
        }
    }
}

fn skipped_over_cap(path: &str, size: u64, cap: u64) -> FileScan {
    FileScan {
        matches: Vec::new(),
        warnings: vec![Warning::new(
            path,
            format!(
                "YARA scan skipped: larger than the cap ({size} bytes > {cap} bytes); raise --yara-max-size to scan it"
            ),
        )],
        skipped: true,
    }
}

fn unreadable(path: &str, e: &std::io::Error) -> FileScan {
    FileScan {
        matches: Vec::new(),
        warnings: vec![Warning::new(
            path,
            format!("YARA scan skipped: cannot read the file: {e}"),
        )],
        skipped: true,
    }
}

fn new_compiler<'a>() -> yara_x::Compiler<'a> {
    let mut c = yara_x::Compiler::new();
    // Third-party rule sets trip many warnings; compilation with warnings is super-linear in
    // some yara-x versions, and warnings are not reported anyway.
    c.switch_all_warnings(false);
    for g in GLOBALS {
        c.define_global(g, "")
            .expect("defining a string global on a fresh compiler cannot fail");
    }
    c
}

fn compile(files: &[RuleFile]) -> (yara_x::Rules, Vec<RuleDiagnostic>, Vec<String>) {
    let mut compiler = new_compiler();
    let mut diags = Vec::new();
    let mut tried = Vec::new();
    for f in files {
        let before = compiler.errors().len();
        compiler.new_namespace(&f.namespace);
        let src = yara_x::SourceCode::from(f.source.as_str()).with_origin(f.origin.clone());
        let result = compiler
            .add_source(src)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let errors: Vec<String> = compiler.errors()[before..]
            .iter()
            .map(|e| e.to_string())
            .collect();
        if result.is_err() || !errors.is_empty() {
            let reason = if errors.is_empty() {
                result.err().unwrap_or_default()
            } else {
                errors.join("\n")
            };
            diags.push(RuleDiagnostic {
                path: f.origin.clone(),
                reason: if reason.trim().is_empty() {
                    "yara-x rejected the file without a message".into()
                } else {
                    reason
                },
            });
        }
        tried.push(f);
    }
    let rules = compiler.build();
    let mut with_rules: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for r in rules.iter() {
        with_rules.insert(r.namespace());
    }
    let loaded = tried
        .iter()
        .filter(|f| with_rules.contains(f.namespace.as_str()))
        .map(|f| f.origin.clone())
        .collect();
    (rules, diags, loaded)
}

fn read_cache(dir: &Path, key: &str) -> Option<(yara_x::Rules, CacheMeta)> {
    let bin = std::fs::read(dir.join(format!("yara-{key}.bin"))).ok()?;
    let meta: CacheMeta =
        serde_json::from_slice(&std::fs::read(dir.join(format!("yara-{key}.json"))).ok()?).ok()?;
    let rules = yara_x::Rules::deserialize(bin).ok()?;
    Some((rules, meta))
}

fn write_cache(
    dir: &Path,
    key: &str,
    rules: &yara_x::Rules,
    meta: &CacheMeta,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let bytes = rules
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // Write the metadata last through a temp name, so a reader never sees a half-written pair.
    let bin = dir.join(format!("yara-{key}.bin"));
    let json = dir.join(format!("yara-{key}.json"));
    let tmp_bin = dir.join(format!("yara-{key}.bin.{}.tmp", std::process::id()));
    let tmp_json = dir.join(format!("yara-{key}.json.{}.tmp", std::process::id()));
    std::fs::write(&tmp_bin, bytes)?;
    std::fs::rename(&tmp_bin, &bin)?;
    std::fs::write(
        &tmp_json,
        serde_json::to_vec(meta).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp_json, &json)?;
    Ok(())
}

fn to_match(r: &yara_x::Rule<'_, '_>) -> YaraMatch {
    let mut meta = BTreeMap::new();
    for (k, v) in r.metadata() {
        let s = match v {
            yara_x::MetaValue::String(s) => s.to_string(),
            yara_x::MetaValue::Bytes(b) => escape_bytes(b.as_ref(), 512),
            yara_x::MetaValue::Integer(i) => i.to_string(),
            yara_x::MetaValue::Float(f) => f.to_string(),
            yara_x::MetaValue::Bool(b) => b.to_string(),
        };
        meta.entry(k.to_string()).or_insert(s);
    }
    let mut strings = Vec::new();
    for p in r.patterns() {
        for m in p.matches().take(MATCHES_PER_PATTERN_MAX) {
            strings.push(MatchedString {
                identifier: p.identifier().to_string(),
                offset: m.range().start,
                data: escape_bytes(m.data(), MATCH_DATA_MAX),
            });
        }
    }
    strings.sort_by(|a, b| {
        a.offset
            .cmp(&b.offset)
            .then(a.identifier.cmp(&b.identifier))
    });
    YaraMatch {
        rule: r.identifier().to_string(),
        namespace: r.namespace().to_string(),
        tags: r.tags().map(|t| t.identifier().to_string()).collect(),
        meta,
        strings,
    }
}

/// Bytes as printable ASCII: `\\`, `\n`, `\r`, `\t`, `\xNN` escapes; at most `max` source bytes,
/// a cut marked with `…`.
pub fn escape_bytes(data: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(data.len().min(max) + 8);
    for &b in data.iter().take(max) {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if data.len() > max {
        out.push('…');
    }
    out
}

/// Scan order for web files: 0 is scanned first. Sort ascending.
///
/// 0: `inetpub/wwwroot/aspnet_client`; 1: `FrontEnd/HttpProxy/owa/auth`, `ecp/auth`;
/// 2: OAB folders; 3: other Exchange web folders (`FrontEnd/HttpProxy`, `ClientAccess`);
/// 4: `Temporary ASP.NET Files`; 5: ProgramData and public user folders; 6: temp folders;
/// 7: other `inetpub`; 9: everything else.
pub fn scan_priority(path: &str) -> u8 {
    let p = path.replace('\\', "/").to_ascii_lowercase();
    if p.contains("/aspnet_client/") || p.contains("wwwroot/aspnet_client") {
        0
    } else if p.contains("/owa/auth/") || p.contains("/ecp/auth/") {
        1
    } else if p.contains("/oab/") {
        2
    } else if p.contains("frontend/httpproxy/") || p.contains("/clientaccess/") {
        3
    } else if p.contains("temporary asp.net files") {
        4
    } else if p.contains("/programdata/")
        || p.starts_with("programdata/")
        || p.contains("/users/public/")
        || p.contains("/all users/")
    {
        5
    } else if p.contains("/temp/") || p.contains("/tmp/") || p.starts_with("temp/") {
        6
    } else if p.contains("inetpub/") {
        7
    } else {
        9
    }
}

/// Level of a match: the rule's `severity`/`level` meta when it is a known level, else `high`.
pub fn match_level(m: &YaraMatch) -> String {
    for k in ["severity", "level"] {
        if let Some(v) = m.meta.get(k) {
            let v = v.trim().to_ascii_lowercase();
            if ["informational", "low", "medium", "high", "critical"].contains(&v.as_str()) {
                return v;
            }
        }
    }
    "high".into()
}

/// Tags of a match: the rule's YARA tags, then the words of its `attack`/`tags`/`mitre_attack` meta.
pub fn match_tags(m: &YaraMatch) -> Vec<String> {
    let mut tags: Vec<String> = m.tags.clone();
    for k in ["attack", "tags", "mitre_attack", "mitre"] {
        if let Some(v) = m.meta.get(k) {
            for t in v.split([' ', ',', ';']).filter(|t| !t.is_empty()) {
                let t = t.to_string();
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
        }
    }
    tags
}

/// A finding for a YARA match on a file (`path` is the collection display path).
pub fn finding_for_match(m: &YaraMatch, path: &str, sha256: &str, size: u64) -> Finding {
    let source = m.source();
    let mut excerpt = String::new();
    for s in &m.strings {
        if !excerpt.is_empty() {
            excerpt.push('\n');
        }
        excerpt.push_str(&format!("{}@{}: {}", s.identifier, s.offset, s.data));
    }
    let evidence = vec![Evidence {
        path: path.to_string(),
        sha256: sha256.to_string(),
        line: None,
        record: None,
        excerpt: exhunt_model::truncate_excerpt(&excerpt, exhunt_detect::EXCERPT_MAX),
    }];
    let file_name = path.rsplit(['/', '\\', '!']).next().unwrap_or(path);
    let mut fields = serde_json::Map::new();
    fields.insert("Path".into(), path.into());
    fields.insert("FileName".into(), file_name.into());
    fields.insert("FileSize".into(), size.into());
    fields.insert("yara_rule".into(), m.rule.clone().into());
    fields.insert("yara_namespace".into(), m.namespace.clone().into());
    for k in ["description", "author", "reference", "date"] {
        if let Some(v) = m.meta.get(k) {
            fields.insert(format!("yara_{k}"), v.clone().into());
        }
    }
    let strings: Vec<serde_json::Value> = m
        .strings
        .iter()
        .take(20)
        .map(
            |s| serde_json::json!({"identifier": s.identifier, "offset": s.offset, "data": s.data}),
        )
        .collect();
    fields.insert("matched_strings".into(), strings.into());
    let title = match m.meta.get("description") {
        Some(d) if !d.is_empty() => format!("YARA {}: {d}", m.rule),
        _ => format!("YARA rule {} matched", m.rule),
    };
    Finding {
        id: exhunt_detect::finding_id(&source, &evidence),
        rule: RuleRef {
            id: source.clone(),
            title,
            level: match_level(m),
            source,
        },
        tags: match_tags(m),
        time: None,
        host: None,
        evidence,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_is_printable_and_bounded() {
        assert_eq!(escape_bytes(b"a\x00b\\\n", 100), "a\\x00b\\\\\\n");
        assert_eq!(escape_bytes(b"abcdef", 3), "abc…");
    }

    #[test]
    fn priority_orders_web_folders() {
        let a = scan_priority("C/inetpub/wwwroot/aspnet_client/x.aspx");
        let b = scan_priority(
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\x.aspx",
        );
        let c = scan_priority("V15/FrontEnd/HttpProxy/OAB/x.aspx");
        let d = scan_priority(
            "Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/owa/a/b/App_Web_x.dll",
        );
        let e = scan_priority("ProgramData/COM1/x.aspx");
        let f = scan_priority("Windows/Temp/x.aspx");
        let g = scan_priority("Users/bob/Documents/x.txt");
        assert!(a < b && b < c && c < d && d < e && e < f && f < g);
    }

    #[test]
    fn builtin_pack_is_embedded() {
        assert!(BUILTIN_RULE_FILES.len() >= 5);
        assert!(
            builtin_rule_files()
                .iter()
                .all(|f| f.namespace.starts_with("builtin/"))
        );
    }
}
