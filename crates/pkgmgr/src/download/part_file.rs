//! The `.part` file a download streams into, its validator sidecar, and the verified,
//! atomic move into place.
//!
//! Invariants: the destination is only ever replaced by a complete file whose checksum
//! (when one was asked for) matched, via `rename(2)`; a failed check removes the part and
//! leaves the destination as it was.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::validators::Validators;
use crate::error::{Error, Result};

/// Parses a SHA-256 given as 64 hex digits (either case).
///
/// ```
/// use ghostnet_pkgmgr::download::parse_sha256;
/// assert!(parse_sha256(&"ab".repeat(32)).is_ok());
/// assert!(parse_sha256("xyz").is_err());
/// ```
pub fn parse_sha256(hex: &str) -> Result<[u8; 32]> {
    let invalid = || Error::InvalidChecksum {
        input: hex.to_owned(),
    };
    let hex = hex.trim();
    if hex.len() != 64 {
        return Err(invalid());
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| invalid())?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| invalid())?;
    }
    Ok(out)
}

/// Lowercase hex of a digest.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is recorded beside a `.part` file so a later run can resume it safely.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartMeta {
    /// The URL the part came from (informational; mirrors may differ).
    pub url: String,
    /// Validators of the version being downloaded.
    pub validators: Validators,
    /// Full size of the file, when the server said.
    pub total: Option<u64>,
}

/// A download in progress: `<dest>.part` plus `<dest>.part.meta`.
#[derive(Debug)]
pub struct PartFile {
    dest: PathBuf,
    part: PathBuf,
    meta: PathBuf,
    file: tokio::fs::File,
    /// Bytes in the file plus those waiting in `pending`.
    len: u64,
    /// Written in batches: one `tokio::fs` write (a hand-off to the blocking pool) per
    /// network chunk costs more than the transfer itself at loopback speeds.
    pending: Vec<u8>,
    /// `None` when no checksum is wanted: SHA-256 runs at ~150-400 MB/s on CPUs without
    /// SHA instructions, slower than a fast link.
    hasher: Option<Sha256>,
    /// Whether `hasher` has seen every byte already in the file.
    hashed: bool,
    /// Whether [`finish`](Self::finish) syncs to disk before the rename.
    durable: bool,
    /// Whether the file position is known to be at `len` (appends need no seek).
    at_end: bool,
}

/// How many bytes [`PartFile::write`] gathers before writing them out: large enough
/// that the hand-offs cost little (4,096 per GiB), small enough that a killed process
/// loses little.
const WRITE_BATCH: usize = 256 * 1024;

impl PartFile {
    /// Opens (or creates) the part file for `dest`, keeping what a previous run wrote,
    /// and reads its sidecar if there is one.
    pub async fn open(dest: &Path) -> Result<(Self, Option<PartMeta>)> {
        Self::open_in(dest, None).await
    }

    /// As [`open`](Self::open), with the part file and its sidecar in `part_dir` (a
    /// temporary directory) instead of beside `dest`. A `part_dir` on another file
    /// system costs a copy at the end instead of a rename.
    pub async fn open_in(dest: &Path, part_dir: Option<&Path>) -> Result<(Self, Option<PartMeta>)> {
        let staged = match (part_dir, dest.file_name()) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => dest.to_path_buf(),
        };
        let part = suffixed(&staged, ".part");
        let meta = suffixed(&staged, ".part.meta");
        let dirs: Vec<PathBuf> = [dest.parent(), staged.parent()]
            .into_iter()
            .flatten()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .collect();
        let (part_path, meta_path) = (part.clone(), meta.clone());
        // One trip to the blocking pool for all of it: several small ones cost more
        // than a small file's transfer.
        let (file, len, stored) = blocking(&part, move || {
            for dir in &dirs {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
            }
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&part_path)
                .map_err(|e| Error::io("open", &part_path, e))?;
            let len = file
                .metadata()
                .map_err(|e| Error::io("stat", &part_path, e))?
                .len();
            // A missing or corrupt sidecar is treated as absent: the resume then needs a
            // checksum or restarts, which is safe.
            let stored: Option<PartMeta> = std::fs::read(&meta_path)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            Ok((file, len, stored))
        })
        .await?;
        let file = tokio::fs::File::from_std(file);
        Ok((
            Self {
                dest: dest.to_path_buf(),
                part,
                meta,
                file,
                len,
                pending: Vec::new(),
                hasher: Some(Sha256::new()),
                hashed: len == 0,
                durable: true,
                at_end: len == 0,
            },
            stored,
        ))
    }

    /// Stops computing the SHA-256 of what is written: [`finish`](Self::finish) then
    /// returns `None` unless it is given a digest to check (which it computes from the
    /// file at the end).
    pub fn skip_checksum(&mut self) {
        self.hasher = None;
    }

    /// Whether [`finish`](Self::finish) waits for the data to reach the disk before
    /// the rename (the default for a `PartFile`; downloads ask for it with
    /// `DownloadOptions::durable`), so a power loss cannot leave a file in place with
    /// missing data. Off saves one disk flush per file.
    pub fn set_durable(&mut self, durable: bool) {
        self.durable = durable;
    }

    /// Bytes in the part file (including those not yet handed to the file system).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the part file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `.part` path.
    pub fn part_path(&self) -> &Path {
        &self.part
    }

    /// Records validators and size for a later resume (written atomically).
    pub async fn save_meta(&self, meta: &PartMeta) -> Result<()> {
        let tmp = suffixed(&self.meta, ".tmp");
        let json = serde_json::to_vec(meta).expect("PartMeta serializes");
        let path = self.meta.clone();
        blocking(&self.meta, move || {
            std::fs::write(&tmp, json).map_err(|e| Error::io("write", &tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &path, e))
        })
        .await
    }

    /// Empties the part file (the server sent the whole file again).
    pub async fn truncate(&mut self) -> Result<()> {
        if self.len == 0 {
            // Nothing was ever in it: no need to ask the file system.
            self.hashed = true;
            return Ok(());
        }
        self.file
            .set_len(0)
            .await
            .map_err(|e| Error::io("truncate", &self.part, e))?;
        self.file
            .seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(|e| Error::io("seek", &self.part, e))?;
        self.at_end = true;
        self.len = 0;
        self.pending.clear();
        if self.hasher.is_some() {
            self.hasher = Some(Sha256::new());
        }
        self.hashed = true;
        Ok(())
    }

    /// Prepares to append at the end: feeds the bytes already there to the checksum.
    pub async fn prepare_append(&mut self) -> Result<()> {
        self.write_pending().await?;
        if let Some(hasher) = self.hasher.as_mut().filter(|_| !self.hashed) {
            self.at_end = false;
            self.file
                .seek(std::io::SeekFrom::Start(0))
                .await
                .map_err(|e| Error::io("seek", &self.part, e))?;
            let mut buf = vec![0u8; 256 * 1024];
            let mut left = self.len;
            while left > 0 {
                let n = self
                    .file
                    .read(&mut buf)
                    .await
                    .map_err(|e| Error::io("read", &self.part, e))?;
                if n == 0 {
                    break;
                }
                let n = n.min(usize::try_from(left).unwrap_or(usize::MAX));
                hasher.update(&buf[..n]);
                left -= n as u64;
            }
            self.hashed = true;
        }
        if !self.at_end {
            self.file
                .seek(std::io::SeekFrom::Start(self.len))
                .await
                .map_err(|e| Error::io("seek", &self.part, e))?;
            self.at_end = true;
        }
        Ok(())
    }

    /// Appends `chunk` (gathered in memory up to 256 KiB; [`sync`](Self::sync) writes
    /// out the rest).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        debug_assert!(
            self.hashed || self.hasher.is_none(),
            "prepare_append or truncate first"
        );
        if let Some(hasher) = &mut self.hasher {
            hasher.update(chunk);
        }
        self.len += chunk.len() as u64;
        if self.pending.is_empty() && chunk.len() >= WRITE_BATCH {
            return self.write_out(chunk).await;
        }
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(WRITE_BATCH);
        }
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= WRITE_BATCH {
            self.write_pending().await?;
        }
        Ok(())
    }

    async fn write_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let written = self.write_out(&pending).await;
        self.pending = pending;
        self.pending.clear();
        written
    }

    async fn write_out(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| Error::io("write", &self.part, e))
    }

    /// Writes out what is gathered and hands it to the kernel, so a killed process
    /// loses nothing (a power loss still may: see [`sync`](Self::sync)).
    pub async fn flush(&mut self) -> Result<()> {
        self.write_pending().await?;
        self.file
            .flush()
            .await
            .map_err(|e| Error::io("flush", &self.part, e))
    }

    /// [`flush`](Self::flush), then waits for the data to reach the disk.
    pub async fn sync(&mut self) -> Result<()> {
        self.flush().await?;
        self.file
            .sync_data()
            .await
            .map_err(|e| Error::io("sync", &self.part, e))
    }

    /// Verifies the checksum (when given) and moves the part into place atomically.
    /// Returns the SHA-256 of the file, unless [`skip_checksum`](Self::skip_checksum)
    /// was called and no digest was given.
    ///
    /// # Errors
    ///
    /// [`Error::Checksum`] when the digest differs: the part and its sidecar are removed,
    /// the destination is left as it was.
    pub async fn finish(mut self, expected: Option<&[u8; 32]>) -> Result<Option<[u8; 32]>> {
        if expected.is_some() && self.hasher.is_none() {
            // Asked to check after all: hash what is in the file.
            self.hasher = Some(Sha256::new());
            self.hashed = false;
        }
        if self.hasher.is_some() && !self.hashed {
            self.prepare_append().await?;
        }
        let actual: Option<[u8; 32]> = self.hasher.take().map(|h| h.finalize().into());
        let mismatch = match (expected, &actual) {
            (Some(expected), Some(actual)) if actual != expected => Some(Error::Checksum {
                path: self.dest.clone(),
                expected: to_hex(expected),
                actual: to_hex(actual),
            }),
            _ => None,
        };
        // The last gathered bytes, the sync and the rename go in one trip to the
        // blocking pool: for a small file, each trip costs more than its transfer.
        let pending = std::mem::take(&mut self.pending);
        let durable = self.durable;
        let file = self.file.into_std().await;
        let (part, dest, meta) = (self.part, self.dest, self.meta);
        blocking(&dest.clone(), move || {
            if let Some(error) = mismatch {
                drop(file);
                let _ = std::fs::remove_file(&part);
                let _ = std::fs::remove_file(&meta);
                return Err(error);
            }
            let mut file = file;
            std::io::Write::write_all(&mut file, &pending)
                .map_err(|e| Error::io("write", &part, e))?;
            if durable {
                file.sync_data().map_err(|e| Error::io("sync", &part, e))?;
            }
            drop(file);
            move_into_place(&part, &dest)?;
            let _ = std::fs::remove_file(&meta);
            Ok(())
        })
        .await?;
        Ok(actual)
    }
}

/// Runs `f` on the blocking pool (file system calls block).
async fn blocking<T, F>(path: &Path, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::io("run a file task", path, std::io::Error::other(e))))
}

/// Renames `part` to `dest`; across file systems (a temporary directory elsewhere),
/// copies beside `dest` first so that the final step is still an atomic rename.
fn move_into_place(part: &Path, dest: &Path) -> Result<()> {
    match std::fs::rename(part, dest) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            let staged = suffixed(dest, ".part");
            std::fs::copy(part, &staged).map_err(|e| Error::io("copy", &staged, e))?;
            std::fs::rename(&staged, dest).map_err(|e| Error::io("rename into place", dest, e))?;
            let _ = std::fs::remove_file(part);
            Ok(())
        }
        Err(e) => Err(Error::io("rename into place", dest, e)),
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ghostnet-part-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn sha(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    #[tokio::test]
    async fn write_resume_finish() {
        let dir = tmp("resume");
        let dest = dir.join("pkg.tar");
        let (mut p, meta) = PartFile::open(&dest).await.unwrap();
        assert!(meta.is_none() && p.is_empty());
        p.prepare_append().await.unwrap();
        p.write(b"hello ").await.unwrap();
        let m = PartMeta {
            url: "http://x/pkg.tar".into(),
            total: Some(11),
            ..Default::default()
        };
        p.save_meta(&m).await.unwrap();
        p.sync().await.unwrap();
        drop(p); // "killed" here

        let (mut p, meta) = PartFile::open(&dest).await.unwrap();
        assert_eq!(meta.unwrap(), m);
        assert_eq!(p.len(), 6);
        p.prepare_append().await.unwrap();
        p.write(b"world").await.unwrap();
        let digest = p.finish(Some(&sha(b"hello world"))).await.unwrap();
        assert_eq!(digest, Some(sha(b"hello world")));
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello world");
        assert!(!dir.join("pkg.tar.part").exists());
        assert!(!dir.join("pkg.tar.part.meta").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn checksum_mismatch_keeps_the_old_file() {
        let dir = tmp("mismatch");
        let dest = dir.join("pkg.tar");
        std::fs::write(&dest, b"old good version").unwrap();
        let (mut p, _) = PartFile::open(&dest).await.unwrap();
        p.prepare_append().await.unwrap();
        p.write(b"<html>500 oops</html>").await.unwrap();
        let want = sha(b"new version");
        let err = p.finish(Some(&want)).await.unwrap_err();
        match &err {
            Error::Checksum {
                expected, actual, ..
            } => {
                assert_eq!(expected, &to_hex(&want));
                assert_eq!(actual, &to_hex(&sha(b"<html>500 oops</html>")));
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("nothing in place was changed"));
        assert_eq!(std::fs::read(&dest).unwrap(), b"old good version");
        assert!(!dir.join("pkg.tar.part").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn truncate_restarts_the_hash() {
        let dir = tmp("truncate");
        let dest = dir.join("f");
        std::fs::write(dir.join("f.part"), b"stale bytes").unwrap();
        std::fs::write(dir.join("f.part.meta"), b"{not json").unwrap();
        let (mut p, meta) = PartFile::open(&dest).await.unwrap();
        assert!(meta.is_none(), "corrupt sidecar is ignored");
        assert_eq!(p.len(), 11);
        p.truncate().await.unwrap();
        p.write(b"fresh").await.unwrap();
        p.finish(Some(&sha(b"fresh"))).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"fresh");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn batched_writes_reach_the_file_on_sync_and_checksums_can_be_skipped() {
        let dir = tmp("batched");
        let dest = dir.join("big");
        let data: Vec<u8> = (0..3 * WRITE_BATCH + 12_345)
            .map(|i| (i % 251) as u8)
            .collect();
        let (mut p, _) = PartFile::open(&dest).await.unwrap();
        p.skip_checksum();
        for piece in data.chunks(16 * 1024 + 7) {
            p.write(piece).await.unwrap();
        }
        assert_eq!(p.len(), data.len() as u64);
        p.sync().await.unwrap();
        assert_eq!(std::fs::read(dir.join("big.part")).unwrap(), data);
        drop(p);

        // Resumed without a hasher, then asked to check after all: hashed from the file.
        let (mut p, _) = PartFile::open(&dest).await.unwrap();
        p.skip_checksum();
        p.prepare_append().await.unwrap();
        p.write(&[1, 2, 3]).await.unwrap();
        let mut all = data.clone();
        all.extend_from_slice(&[1, 2, 3]);
        assert_eq!(p.finish(Some(&sha(&all))).await.unwrap(), Some(sha(&all)));
        assert_eq!(std::fs::read(&dest).unwrap(), all);

        // No digest wanted, none computed.
        let (mut p, _) = PartFile::open(&dir.join("small")).await.unwrap();
        p.skip_checksum();
        p.write(b"x").await.unwrap();
        assert_eq!(p.finish(None).await.unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sha256_hex() {
        let d = sha(b"abc");
        assert_eq!(parse_sha256(&to_hex(&d)).unwrap(), d);
        assert_eq!(parse_sha256(&to_hex(&d).to_uppercase()).unwrap(), d);
        for bad in ["", "zz", &"g".repeat(64), &"a".repeat(63)] {
            assert!(
                matches!(parse_sha256(bad), Err(Error::InvalidChecksum { .. })),
                "{bad}"
            );
        }
    }
}
