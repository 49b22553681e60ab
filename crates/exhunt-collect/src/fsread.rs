//! Opening evidence: read-only, without updating the access time where the OS allows it, and
//! never blocking on a special file swapped in for a regular one.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64",
        target_arch = "loongarch64",
        target_arch = "s390x"
    )
))]
mod flags {
    pub const O_NONBLOCK: i32 = 0o4000;
    pub const O_NOATIME: i32 = 0o1000000;
}

/// Open a regular file read-only. On Linux `O_NOATIME` keeps the access time untouched when we
/// own the file or run as root (retried without it otherwise), and `O_NONBLOCK` guarantees a FIFO
/// never hangs the open. Anything but a regular file is refused.
pub(crate) fn open_evidence(path: &Path) -> io::Result<File> {
    let file = open_raw(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64",
        target_arch = "loongarch64",
        target_arch = "s390x"
    )
))]
fn open_raw(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let with = |flags: i32| OpenOptions::new().read(true).custom_flags(flags).open(path);
    match with(flags::O_NOATIME | flags::O_NONBLOCK) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => with(flags::O_NONBLOCK),
        r => r,
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64",
        target_arch = "loongarch64",
        target_arch = "s390x"
    )
)))]
fn open_raw(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}
