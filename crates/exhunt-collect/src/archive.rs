//! Zip archives: a shared read-only handle, the entry-name guard, the bomb limits enforced while
//! streaming, and an owned (`'static + Send`) reader over one entry.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use zip::ZipArchive;
use zip::result::ZipError;

use crate::CollectError;
use crate::fsread::open_evidence;

/// Entries up to this size are exempt from the compression-ratio check (small, highly
/// compressible text is normal).
pub(crate) const RATIO_EXEMPT_BYTES: u64 = 1 << 20;

/// A cloneable, seekable view of one open file, read with positional reads (clones share the
/// descriptor but not the position).
#[derive(Clone)]
pub(crate) struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl SharedFile {
    pub(crate) fn open(path: &Path) -> io::Result<SharedFile> {
        let file = open_evidence(path)?;
        let len = file.metadata()?.len();
        Ok(SharedFile {
            file: Arc::new(file),
            pos: 0,
            len,
        })
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )),
        }
    }
}

pub(crate) type Archive = ZipArchive<SharedFile>;

/// Open archives, parsed once per process (the central directory of a big archive is costly).
fn cache() -> &'static Mutex<HashMap<PathBuf, Archive>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Archive>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Open (or reuse) a zip archive read-only.
pub(crate) fn open_archive(path: &Path) -> Result<Archive, CollectError> {
    if let Some(a) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        return Ok(a.clone());
    }
    let file = SharedFile::open(path).map_err(|source| CollectError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let archive = ZipArchive::new(file).map_err(|e| CollectError::Zip {
        archive: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_path_buf(), archive.clone());
    Ok(archive)
}

/// Normalise a zip entry name to forward slashes, or `None` if it escapes the root (absolute,
/// drive letter, UNC, `..`, NUL).
pub(crate) fn safe_entry_name(raw: &str) -> Option<String> {
    if raw.contains('\0') {
        return None;
    }
    let name = raw.replace('\\', "/");
    if name.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for (i, part) in name.split('/').enumerate() {
        match part {
            "" | "." => continue,
            ".." => return None,
            p if i == 0 && p.len() >= 2 && p.as_bytes()[1] == b':' => return None,
            p if p.contains(':') => return None,
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// What the streaming guard allows for one entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryLimits {
    /// The size the central directory declares (already checked against the options).
    pub declared: u64,
    pub compressed: u64,
    pub max_entry_bytes: u64,
    pub max_ratio: u64,
}

/// Counts decompressed bytes and fails once an entry outgrows its declared size, the entry cap or
/// the ratio cap: headers can lie, the stream cannot.
pub(crate) struct Limited<R> {
    inner: R,
    read: u64,
    limits: EntryLimits,
    display: String,
}

impl<R: Read> Limited<R> {
    pub(crate) fn new(inner: R, limits: EntryLimits, display: String) -> Self {
        Limited {
            inner,
            read: 0,
            limits,
            display,
        }
    }

    fn check(&self) -> io::Result<()> {
        let l = &self.limits;
        let reason = if self.read > l.declared {
            Some(format!(
                "decompresses to more than the {} bytes its header declares (a zip bomb or a damaged archive)",
                l.declared
            ))
        } else if self.read > l.max_entry_bytes {
            Some(format!(
                "decompresses to more than the {} byte entry limit",
                l.max_entry_bytes
            ))
        } else if self.read > RATIO_EXEMPT_BYTES && self.read / l.compressed.max(1) > l.max_ratio {
            Some(format!(
                "compression ratio exceeds {}:1 (a zip bomb)",
                l.max_ratio
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => Err(io::Error::other(CollectError::Limit {
                path: self.display.clone(),
                reason,
            })),
            None => Ok(()),
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never ask for more than one byte past the allowance, so the overrun is bounded.
        let allowance = self
            .limits
            .declared
            .min(self.limits.max_entry_bytes)
            .saturating_sub(self.read)
            .saturating_add(1);
        let want = buf
            .len()
            .min(usize::try_from(allowance).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        self.check()?;
        Ok(n)
    }
}

/// Describe a zip error for a warning about one entry.
pub(crate) fn describe_zip_error(e: &ZipError) -> String {
    match e {
        ZipError::UnsupportedArchive(m) if *m == ZipError::PASSWORD_REQUIRED => {
            "zip entry is encrypted; exhunt cannot read it (extract it with the password and scan the folder)".into()
        }
        ZipError::UnsupportedArchive(m) => format!(
            "zip entry cannot be read: {m} (extract the archive with another tool and scan the folder)"
        ),
        other => format!("zip entry is damaged: {other}"),
    }
}

enum Msg {
    Data(Vec<u8>),
    Failed(io::Error),
    End,
}

const CHUNK: usize = 64 * 1024;

/// An owned reader over one zip entry. A worker thread owns the archive handle and streams
/// decompressed chunks through a bounded channel (4 × 64 KiB in flight at most); dropping the
/// reader stops the worker at its next chunk.
pub(crate) struct EntryReader {
    rx: Receiver<Msg>,
    buf: Vec<u8>,
    pos: usize,
    finished: bool,
    failed: bool,
}

impl EntryReader {
    pub(crate) fn spawn(
        mut archive: Archive,
        index: usize,
        limits: EntryLimits,
        display: String,
    ) -> Result<EntryReader, CollectError> {
        let (tx, rx) = sync_channel::<Msg>(4);
        let archive_path_display = display.clone();
        std::thread::Builder::new()
            .name("exhunt-zip-entry".into())
            .spawn(move || pump(&mut archive, index, limits, display, tx))
            .map_err(|source| CollectError::Read {
                path: archive_path_display,
                source,
            })?;
        Ok(EntryReader {
            rx,
            buf: Vec::new(),
            pos: 0,
            finished: false,
            failed: false,
        })
    }
}

fn pump(
    archive: &mut Archive,
    index: usize,
    limits: EntryLimits,
    display: String,
    tx: SyncSender<Msg>,
) {
    let entry = match archive.by_index(index) {
        Ok(e) => e,
        Err(e) => {
            let _ = tx.send(Msg::Failed(io::Error::other(CollectError::Entry {
                path: display,
                reason: describe_zip_error(&e),
            })));
            return;
        }
    };
    let mut reader = Limited::new(entry, limits, display);
    loop {
        let mut chunk = vec![0u8; CHUNK];
        match read_full(&mut reader, &mut chunk) {
            Ok(0) => {
                let _ = tx.send(Msg::End);
                return;
            }
            Ok(n) => {
                chunk.truncate(n);
                if tx.send(Msg::Data(chunk)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Msg::Failed(e));
                return;
            }
        }
    }
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

impl Read for EntryReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other(
                "reading this zip entry already failed; see the first error",
            ));
        }
        if out.is_empty() {
            return Ok(0);
        }
        while self.pos >= self.buf.len() {
            if self.finished {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Msg::Data(d)) => {
                    self.buf = d;
                    self.pos = 0;
                }
                Ok(Msg::End) => self.finished = true,
                Ok(Msg::Failed(e)) => {
                    self.failed = true;
                    return Err(e);
                }
                Err(_) => {
                    self.failed = true;
                    return Err(io::Error::other(
                        "the zip reader thread stopped unexpectedly",
                    ));
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
