//! SHA-256 while streaming.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Wraps a reader and computes the SHA-256 of every byte read through it.
///
/// Hash while parsing: wrap the stream given to the parser, then [`finish`](Self::finish). If the
/// consumer stops early, drain the rest (`io::copy(&mut r, &mut io::sink())`) before finishing,
/// or the digest covers only a prefix.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// How many bytes went through so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The lowercase hex SHA-256 of what was read.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Read a stream to its end; return its lowercase hex SHA-256 and its length.
pub fn sha256_reader(r: impl Read) -> io::Result<(String, u64)> {
    let mut h = HashingReader::new(r);
    io::copy(&mut h, &mut io::sink())?;
    let n = h.bytes_read();
    Ok((h.finish(), n))
}
