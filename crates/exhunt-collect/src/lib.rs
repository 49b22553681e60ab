//! Open an Exchange triage collection (folders and zips), classify its artifacts by content, and
//! stream them back out, never writing to the evidence.
//!
//! # API
//!
//! * [`collect`]`(paths, &CollectOptions) -> Result<Collection, CollectError>` walks each root (a
//!   directory, or a `.zip` given on the command line) and returns every artifact with its
//!   [`ArtifactKind`] and [`FileClass`], sorted by display path, plus the [`Warning`]s met on the
//!   way. It fails only when an input does not exist or is neither a directory nor a zip (a
//!   usage error); everything else (unreadable files, symlinks leaving the root, special files,
//!   hostile zip entries) is a warning and the walk goes on.
//! * [`Artifact::open`] streams the content (memory bounded); [`Artifact::materialize`] gives a
//!   local path for parsers that need `Seek` (EVTX), a temporary copy for zip entries.
//! * [`classify`]`(display_path, head)` is the content-based classifier used by `collect`.
//! * [`HashingReader`] / [`sha256_reader`] compute SHA-256 while streaming.
//!
//! # Display paths
//!
//! * One directory root: the path relative to it, `/`-separated
//!   (`Logging/HttpProxy/Owa/HttpProxy_2021030102-1.LOG`).
//! * A zip root: `<zip file name>!/<entry name>` (`case.zip!/Logging/...`), entry names
//!   normalised to `/`.
//! * Several roots: each directory root's entries are prefixed with the directory's own name
//!   (`caseA/Logging/...`); zips keep `<name>.zip!/...`. Two roots with the same name get a
//!   `~2`, `~3` suffix (and a warning).
//!
//! Zips found *inside* a directory are listed as artifacts (kind `File`, class `Archive`) and
//! never opened: an archive on a server is itself evidence of staging.
//!
//! # Evidence handling
//!
//! Files are opened read-only; on Linux with `O_NOATIME` (access times untouched when running as
//! the owner or root) and `O_NONBLOCK` (a FIFO can never hang the scan). Symbolic links are not
//! followed out of their root; special files are skipped with a warning.
//!
//! # Zip limits
//!
//! [`CollectOptions`] bounds each entry's decompressed size, its compression ratio (entries over
//! 1 MiB) and the total per archive. `collect` checks the sizes declared by the central directory
//! and refuses (with a warning) entries over the limits; [`Artifact::open`] then enforces while
//! streaming that an entry never yields more than its declared size (already checked against the
//! limits), so a header that lies produces a read error, never unbounded output. A root whose
//! file starts like a zip but whose central directory cannot be read yields a warning for the
//! archive (not an error), so other roots still get scanned.

mod archive;
mod classify;
mod fsread;
mod hash;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use exhunt_model::{ArtifactKind, ExchangeLog, Warning};

pub use classify::{HEAD_LEN, classify};
pub use hash::{HashingReader, sha256_reader};

use archive::{
    Archive, EntryLimits, EntryReader, Limited, RATIO_EXEMPT_BYTES, describe_zip_error,
    open_archive, safe_entry_name,
};
use fsread::open_evidence;

/// Limits applied to zip archives given as roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectOptions {
    /// Largest decompressed zip entry accepted, in bytes (default 4 GiB).
    pub max_entry_bytes: u64,
    /// Zip-bomb guard: decompressed / compressed size, checked for entries over 1 MiB (default 200).
    pub max_compression_ratio: u64,
    /// Total decompressed bytes accepted per archive (default 64 GiB).
    pub max_total_zip_bytes: u64,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            max_entry_bytes: 4 << 30,
            max_compression_ratio: 200,
            max_total_zip_bytes: 64 << 30,
        }
    }
}

/// What a file that is not parsed as a log is; `Log` for every artifact whose kind is a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileClass {
    /// The artifact is a log (kind other than `File`).
    Log,
    /// Web content: `.aspx .ashx .asmx .asax .ascx .svc .js .css .htm(l)`..., `web.config`, or
    /// text starting with an ASP.NET directive (`<%@`).
    WebContent,
    /// Memory dump (`MDMP`, `PAGEDU64` magic, `.dmp`).
    MemoryDump,
    /// Archive (zip, 7z, rar, cab, gzip, xz, zstd magic, or an archive extension).
    Archive,
    /// Executable or script (`MZ`, ELF magic, `.exe .dll .ps1 .bat .vbs`...).
    Executable,
    /// Configuration (`.config` outside web folders, `.xml .ini .json .reg`...).
    Config,
    /// Anything else.
    Other,
}

impl FileClass {
    /// A short, stable name for inventories.
    pub fn label(self) -> &'static str {
        match self {
            FileClass::Log => "log",
            FileClass::WebContent => "web-content",
            FileClass::MemoryDump => "memory-dump",
            FileClass::Archive => "archive",
            FileClass::Executable => "executable",
            FileClass::Config => "config",
            FileClass::Other => "other",
        }
    }
}

/// Where an artifact's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A regular file on disk (for a symlink inside the root: its resolved target).
    File(PathBuf),
    /// Entry `index` of a zip archive given as a root; `name` is the raw entry name.
    ZipEntry {
        archive: PathBuf,
        index: usize,
        name: String,
    },
}

/// One file of the collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Display path relative to the collection root, `/`-separated (see the crate docs).
    pub path: String,
    pub kind: ArtifactKind,
    pub file_class: FileClass,
    /// Size in bytes (the declared decompressed size for zip entries).
    pub size: u64,
    pub location: Location,
}

/// Everything found under the roots.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// The roots, as given.
    pub roots: Vec<PathBuf>,
    /// Sorted by `path` (then location), so the same input gives the same output.
    pub artifacts: Vec<Artifact>,
    /// In the order met; `path` is a display path.
    pub warnings: Vec<Warning>,
}

/// A local path holding exactly an artifact's content; a temporary copy is deleted on drop.
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    temp: Option<tempfile::TempPath>,
}

impl LocalCopy {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is a temporary copy (deleted on drop) rather than the evidence file itself.
    pub fn is_temporary(&self) -> bool {
        self.temp.is_some()
    }
}

/// Why collecting or reading failed. Each message says what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("no input given: name at least one collection folder or zip")]
    NoInput,
    #[error("input {} does not exist ({source}): check the path", path.display())]
    NotFound { path: PathBuf, source: io::Error },
    #[error(
        "input {} is neither a directory nor a zip archive ({reason}): give a collection folder or a .zip",
        path.display()
    )]
    NotACollection { path: PathBuf, reason: String },
    #[error("cannot read {path}: {source}: check that it exists and that you may read it")]
    Read { path: String, source: io::Error },
    #[error(
        "cannot open zip archive {}: {reason}: the archive may be truncated or damaged; re-export it, or extract it with another tool and scan the folder",
        archive.display()
    )]
    Zip { archive: PathBuf, reason: String },
    #[error("cannot read zip entry {path}: {reason}")]
    Entry { path: String, reason: String },
    #[error(
        "zip entry {path} refused: {reason}; if it is genuine, extract the archive and scan the folder, or raise the zip limits"
    )]
    Limit { path: String, reason: String },
    #[error(
        "{path} changed since it was collected ({reason}): scan an unchanged copy of the evidence"
    )]
    Changed { path: String, reason: String },
    #[error(
        "cannot make a temporary copy of {path}: {source}: free space in the temporary directory or point TMPDIR elsewhere"
    )]
    TempCopy { path: String, source: io::Error },
}

impl Artifact {
    /// Stream the content; memory stays bounded whatever the size. A zip entry is decompressed
    /// by a worker thread and may never yield more than its declared size (`self.size`, checked
    /// against the limits by `collect`): past it, reads fail.
    pub fn open(&self) -> Result<Box<dyn Read + Send>, CollectError> {
        match &self.location {
            Location::File(p) => {
                let f = open_evidence(p).map_err(|source| CollectError::Read {
                    path: self.path.clone(),
                    source,
                })?;
                Ok(Box::new(f))
            }
            Location::ZipEntry {
                archive,
                index,
                name,
            } => {
                let zip = open_archive(archive)?;
                if zip.name_for_index(*index) != Some(name.as_str()) {
                    return Err(CollectError::Changed {
                        path: self.path.clone(),
                        reason: format!(
                            "entry {index} of {} is no longer {name}",
                            archive.display()
                        ),
                    });
                }
                let limits = EntryLimits {
                    declared: self.size,
                    compressed: 0,
                    max_entry_bytes: u64::MAX,
                    max_ratio: u64::MAX,
                };
                Ok(Box::new(EntryReader::spawn(
                    zip,
                    *index,
                    limits,
                    self.path.clone(),
                )?))
            }
        }
    }

    /// A local path holding exactly the content: the file itself, or for a zip entry a
    /// temporary copy (same extension) deleted when the returned guard drops.
    pub fn materialize(&self) -> Result<LocalCopy, CollectError> {
        if let Location::File(p) = &self.location {
            return Ok(LocalCopy {
                path: p.clone(),
                temp: None,
            });
        }
        let temp_err = |source| CollectError::TempCopy {
            path: self.path.clone(),
            source,
        };
        let name = self.path.rsplit('/').next().unwrap_or("");
        let suffix = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => format!(".{ext}"),
            _ => String::new(),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix("exhunt-")
            .suffix(&suffix)
            .tempfile()
            .map_err(temp_err)?;
        let mut src = self.open()?;
        io::copy(&mut src, tmp.as_file_mut()).map_err(|e| into_read_error(e, &self.path))?;
        let temp = tmp.into_temp_path();
        Ok(LocalCopy {
            path: temp.to_path_buf(),
            temp: Some(temp),
        })
    }
}

/// Unwrap our own errors carried through `io::Error`; wrap the rest.
fn into_read_error(e: io::Error, path: &str) -> CollectError {
    if !e.get_ref().is_some_and(|inner| inner.is::<CollectError>()) {
        return CollectError::Read {
            path: path.to_string(),
            source: e,
        };
    }
    match e.into_inner().map(|inner| inner.downcast::<CollectError>()) {
        Some(Ok(inner)) => *inner,
        _ => CollectError::Read {
            path: path.to_string(),
            source: io::Error::other("read failed"),
        },
    }
}

enum Root {
    Dir,
    Zip(Box<Archive>),
    BrokenZip(String),
}

/// Walk the roots (directories and/or zips) and classify every artifact.
pub fn collect(paths: &[PathBuf], opts: &CollectOptions) -> Result<Collection, CollectError> {
    if paths.is_empty() {
        return Err(CollectError::NoInput);
    }
    let mut roots = Vec::with_capacity(paths.len());
    for p in paths {
        roots.push(check_root(p)?);
    }
    let multi = paths.len() > 1;
    let mut out = Collector {
        artifacts: Vec::new(),
        warnings: Vec::new(),
        opts,
    };
    let mut used_labels: Vec<String> = Vec::new();
    for (path, root) in paths.iter().zip(roots) {
        let base = root_name(path);
        let mut label = base.clone();
        let mut n = 1;
        while used_labels.contains(&label) {
            n += 1;
            label = format!("{base}~{n}");
        }
        if n > 1 {
            out.warn(
                "",
                format!(
                    "two inputs are named {base}; the entries of {} are shown under {label}",
                    path.display()
                ),
            );
        }
        used_labels.push(label.clone());
        match root {
            Root::Dir => {
                let prefix = multi.then_some(label.as_str());
                out.walk_dir(path, prefix);
            }
            Root::Zip(mut zip) => out.walk_zip(path, &label, &mut zip),
            Root::BrokenZip(reason) => out.warn(
                format!("{label}!/"),
                format!("zip archive cannot be read ({reason}); its content is not scanned: extract it with another tool and scan the folder"),
            ),
        }
    }
    let Collector {
        mut artifacts,
        warnings,
        ..
    } = out;
    artifacts.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then_with(|| a.location.cmp(&b.location))
    });
    Ok(Collection {
        roots: paths.to_vec(),
        artifacts,
        warnings,
    })
}

fn check_root(p: &Path) -> Result<Root, CollectError> {
    let meta = fs::metadata(p).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            CollectError::NotFound {
                path: p.to_path_buf(),
                source,
            }
        } else {
            CollectError::Read {
                path: p.display().to_string(),
                source,
            }
        }
    })?;
    if meta.is_dir() {
        return Ok(Root::Dir);
    }
    if !meta.is_file() {
        return Err(CollectError::NotACollection {
            path: p.to_path_buf(),
            reason: "a special file".into(),
        });
    }
    let mut magic = [0u8; 4];
    let mut f = open_evidence(p).map_err(|source| CollectError::Read {
        path: p.display().to_string(),
        source,
    })?;
    let n = read_full(&mut f, &mut magic).map_err(|source| CollectError::Read {
        path: p.display().to_string(),
        source,
    })?;
    let looks_zip = magic[..n].starts_with(b"PK");
    match open_archive(p) {
        Ok(a) => Ok(Root::Zip(Box::new(a))),
        Err(CollectError::Zip { reason, .. }) if looks_zip => Ok(Root::BrokenZip(reason)),
        Err(CollectError::Zip { reason, .. }) => Err(CollectError::NotACollection {
            path: p.to_path_buf(),
            reason: format!("not a zip: {reason}"),
        }),
        Err(e) => Err(e),
    }
}

/// The name a root shows under: its file name (the canonical one for `.` or `..`).
fn root_name(p: &Path) -> String {
    if let Some(n) = p.file_name() {
        return n.to_string_lossy().into_owned();
    }
    fs::canonicalize(p)
        .ok()
        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "root".into())
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

struct Collector<'a> {
    artifacts: Vec<Artifact>,
    warnings: Vec<Warning>,
    opts: &'a CollectOptions,
}

const LOG_NAMED_JUNK: &str = "named like a log but the content is not a recognised log format; listed as a file and not parsed";

impl Collector<'_> {
    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning::new(path, message));
    }

    fn push(&mut self, path: String, head: &[u8], size: u64, location: Location) {
        let (kind, file_class) = classify(&path, head);
        if kind == ArtifactKind::File && classify::named_like_log(&path) {
            let msg = if head.is_empty() {
                "named like a log but empty; listed as a file and not parsed"
            } else {
                LOG_NAMED_JUNK
            };
            self.warn(path.clone(), msg);
        }
        self.artifacts.push(Artifact {
            path,
            kind,
            file_class,
            size,
            location,
        });
    }

    fn walk_dir(&mut self, root: &Path, prefix: Option<&str>) {
        let display = |rel: &Path| -> String {
            let mut parts: Vec<String> = prefix.map(|p| vec![p.to_string()]).unwrap_or_default();
            parts.extend(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned()),
            );
            parts.join("/")
        };
        let canon_root = match fs::canonicalize(root) {
            Ok(c) => c,
            Err(e) => {
                self.warn(
                    display(Path::new("")),
                    format!("cannot resolve the root directory {}: {e}", root.display()),
                );
                return;
            }
        };
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let rel = e
                        .path()
                        .and_then(|p| p.strip_prefix(root).ok())
                        .map(display)
                        .unwrap_or_default();
                    let reason = e
                        .io_error()
                        .map(|io| io.to_string())
                        .unwrap_or_else(|| e.to_string());
                    self.warn(rel, format!("cannot read: {reason}; skipped"));
                    continue;
                }
            };
            if entry.depth() == 0 {
                continue;
            }
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let shown = display(rel);
            let ft = entry.file_type();
            if ft.is_dir() {
                continue;
            } else if ft.is_file() {
                self.add_file(entry.path(), shown);
            } else if ft.is_symlink() {
                self.follow_symlink(entry.path(), shown, &canon_root);
            } else {
                self.warn(
                    shown,
                    format!("{} skipped (not a regular file)", special_kind(&ft)),
                );
            }
        }
    }

    fn follow_symlink(&mut self, link: &Path, shown: String, canon_root: &Path) {
        let target = match fs::canonicalize(link) {
            Ok(t) => t,
            Err(e) => {
                let to = fs::read_link(link)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                self.warn(
                    shown,
                    format!("broken symbolic link (to {to}): {e}; skipped"),
                );
                return;
            }
        };
        if !target.starts_with(canon_root) {
            self.warn(
                shown,
                format!(
                    "symbolic link points outside the collection root (to {}); not followed",
                    target.display()
                ),
            );
            return;
        }
        match fs::metadata(&target) {
            Ok(m) if m.is_file() => self.add_file(&target, shown),
            Ok(m) if m.is_dir() => self.warn(
                shown,
                "symbolic link to a directory inside the root; not followed (its content is listed under its own path)",
            ),
            Ok(m) => self.warn(
                shown,
                format!(
                    "symbolic link to a {}; skipped (not a regular file)",
                    special_kind(&m.file_type())
                ),
            ),
            Err(e) => self.warn(shown, format!("cannot read the link target: {e}; skipped")),
        }
    }

    fn add_file(&mut self, path: &Path, shown: String) {
        let mut file = match open_evidence(path) {
            Ok(f) => f,
            Err(e) => {
                self.warn(shown, format!("cannot open: {e}; skipped"));
                return;
            }
        };
        let size = match file.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                self.warn(shown, format!("cannot read metadata: {e}; skipped"));
                return;
            }
        };
        let mut head = vec![0u8; HEAD_LEN];
        match read_full(&mut file, &mut head) {
            Ok(n) => head.truncate(n),
            Err(e) => {
                self.warn(shown, format!("cannot read: {e}; skipped"));
                return;
            }
        }
        self.push(shown, &head, size, Location::File(path.to_path_buf()));
    }

    fn walk_zip(&mut self, path: &Path, label: &str, zip: &mut Archive) {
        let opts = self.opts;
        let mut total: u64 = 0;
        for index in 0..zip.len() {
            let raw = zip.name_for_index(index).unwrap_or("").to_string();
            let entry = match zip.by_index(index) {
                Ok(e) => e,
                Err(e) => {
                    let shown = format!("{label}!/{}", safe_entry_name(&raw).unwrap_or(raw));
                    self.warn(shown, format!("{}; skipped", describe_zip_error(&e)));
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let Some(name) = safe_entry_name(&raw) else {
                self.warn(
                    format!("{label}!/{raw}"),
                    "zip entry name escapes the root (absolute, drive letter or `..`); skipped",
                );
                continue;
            };
            let shown = format!("{label}!/{name}");
            if entry.is_symlink() {
                self.warn(shown, "zip entry is a symbolic link; not followed");
                continue;
            }
            let size = entry.size();
            let compressed = entry.compressed_size();
            let refusal = if size > opts.max_entry_bytes {
                Some(format!(
                    "declares {size} decompressed bytes, over the {} byte entry limit",
                    opts.max_entry_bytes
                ))
            } else if size > RATIO_EXEMPT_BYTES
                && size / compressed.max(1) > opts.max_compression_ratio
            {
                Some(format!(
                    "compression ratio {}:1 exceeds {}:1 (a zip bomb)",
                    size / compressed.max(1),
                    opts.max_compression_ratio
                ))
            } else if total.saturating_add(size) > opts.max_total_zip_bytes {
                Some(format!(
                    "the archive's total decompressed size would exceed {} bytes",
                    opts.max_total_zip_bytes
                ))
            } else {
                None
            };
            if let Some(reason) = refusal {
                self.warn(
                    shown,
                    format!("zip entry refused: {reason}; skipped (raise the zip limits if it is genuine)"),
                );
                continue;
            }
            total += size;
            let limits = EntryLimits {
                declared: size,
                compressed,
                max_entry_bytes: opts.max_entry_bytes,
                max_ratio: opts.max_compression_ratio,
            };
            let mut reader = Limited::new(entry, limits, shown.clone());
            let mut head = vec![0u8; HEAD_LEN];
            match read_full(&mut reader, &mut head) {
                Ok(n) => head.truncate(n),
                Err(e) => {
                    self.warn(shown, format!("zip entry cannot be read: {e}; skipped"));
                    continue;
                }
            }
            drop(reader);
            self.push(
                shown,
                &head,
                size,
                Location::ZipEntry {
                    archive: path.to_path_buf(),
                    index,
                    name: raw,
                },
            );
        }
    }
}

fn special_kind(ft: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "FIFO (named pipe)";
        } else if ft.is_socket() {
            return "socket";
        } else if ft.is_block_device() {
            return "block device";
        } else if ft.is_char_device() {
            return "character device";
        }
    }
    let _ = ft;
    "special file"
}
