//! The `.part` file a download streams into, its validator sidecar, and the verified,
//! atomic move into place.
//!
//! Invariants: the destination is only ever replaced by a complete file whose checksum
//! (when one was asked for) matched, via `rename(2)`; a failed check removes the part and
//! leaves the destination as it was.

use std::path::{Path, PathBuf};

use std::io::{IoSlice, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

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
///
/// Writes are gathered (without copying: the network's [`Bytes`] are kept as they came)
/// and handed to the blocking pool in batches of 256 KiB, one batch in flight while the
/// next arrives. The SHA-256 of a batch is computed there too, off the task that reads
/// the network.
#[derive(Debug)]
pub struct PartFile {
    dest: PathBuf,
    part: PathBuf,
    meta: PathBuf,
    file: Arc<std::fs::File>,
    /// Bytes in the file plus those in flight and gathered.
    len: u64,
    /// Gathered, not yet handed to the file system.
    pending: Vec<Bytes>,
    pending_len: usize,
    /// The batch being written, which hands the hasher back.
    in_flight: Option<JoinHandle<Result<Option<Sha256>>>>,
    /// `None` when no checksum is wanted (or while a batch holds it): SHA-256 runs at
    /// ~150-400 MB/s on CPUs without SHA instructions, slower than a fast link.
    hasher: Option<Sha256>,
    wants_checksum: bool,
    /// Whether the hasher has seen every byte already in the file.
    hashed: bool,
    /// Whether [`finish`](Self::finish) syncs to disk before the rename.
    durable: bool,
    /// The sidecar to write before the next bytes reach the file: a part whose data
    /// never reaches the file (a small download finished in one batch) needs none.
    meta_unwritten: Option<Vec<u8>>,
    /// Whether a sidecar file may exist (one was found, or written).
    meta_on_disk: bool,
}

/// How many bytes [`PartFile::write`] gathers before writing them out: large enough
/// that the hand-offs cost little (4,096 per GiB), small enough that a killed process
/// loses little.
const WRITE_BATCH: usize = 256 * 1024;

/// How long [`PartFile::open`] waits for another holder of the same `.part` file to
/// let go before failing with [`Error::PartInUse`].
///
/// Each `PartFile` holds an exclusive lock on its `.part` file until its last write,
/// handed to the blocking pool, is done (and, on success, until the file is in
/// place). A download that was cancelled (its future dropped) may still have such a
/// write in flight; a new download of the same file waits for it here instead of
/// reading a length that is about to change. A download of the same file that is
/// still running (in another process, or another task) holds the lock for its whole
/// transfer: the second one gives up after this long.
pub const PART_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

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
        let part = Self::path_for(dest, part_dir);
        let meta = suffixed(&part, ".meta");
        let dirs: Vec<PathBuf> = [dest.parent(), part.parent()]
            .into_iter()
            .flatten()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .collect();
        let (part_path, meta_path) = (part.clone(), meta.clone());
        // One trip to the blocking pool for all of it: several small ones cost more
        // than a small file's transfer.
        let (file, len, stored, meta_on_disk) = blocking(&part, move || {
            for dir in &dirs {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
            }
            let (file, len) = open_locked(&part_path, PART_LOCK_WAIT)?;
            // A missing or corrupt sidecar is treated as absent: the resume then needs a
            // checksum or restarts, which is safe.
            let read = std::fs::read(&meta_path);
            let on_disk = !matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::NotFound);
            let stored: Option<PartMeta> = read
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            Ok((file, len, stored, on_disk))
        })
        .await?;
        Ok((
            Self {
                dest: dest.to_path_buf(),
                part,
                meta,
                file: Arc::new(file),
                len,
                pending: Vec::new(),
                pending_len: 0,
                in_flight: None,
                hasher: Some(Sha256::new()),
                wants_checksum: true,
                hashed: len == 0,
                durable: true,
                meta_unwritten: None,
                meta_on_disk,
            },
            stored,
        ))
    }

    /// Where [`open_in`](Self::open_in) keeps the part for `dest`: `<dest>.part`, or in
    /// `part_dir` the file name and a short digest of the whole destination path
    /// (`x.tar-1a2b3c4d.part`), so that two destinations with one file name get parts
    /// of their own and a later run finds the same one.
    ///
    /// ```
    /// use std::path::Path;
    /// use ghostnet_pkgmgr::download::PartFile;
    /// assert_eq!(PartFile::path_for(Path::new("a/x.tar"), None), Path::new("a/x.tar.part"));
    /// let staged = PartFile::path_for(Path::new("a/x.tar"), Some(Path::new("tmp")));
    /// assert!(staged.starts_with("tmp") && staged.to_str().unwrap().ends_with(".part"));
    /// ```
    pub fn path_for(dest: &Path, part_dir: Option<&Path>) -> PathBuf {
        let staged = match (part_dir, dest.file_name()) {
            (Some(dir), Some(name)) => {
                let digest = Sha256::digest(dest.as_os_str().as_encoded_bytes());
                let mut staged = name.to_owned();
                staged.push(format!("-{}", to_hex(&digest[..4])));
                dir.join(staged)
            }
            _ => dest.to_path_buf(),
        };
        suffixed(&staged, ".part")
    }

    /// Stops computing the SHA-256 of what is written: [`finish`](Self::finish) then
    /// returns `None` unless it is given a digest to check (which it computes from the
    /// file at the end).
    pub fn skip_checksum(&mut self) {
        self.hasher = None;
        self.wants_checksum = false;
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

    /// Records validators and size for a later resume. The sidecar is written
    /// (atomically) just before the next bytes reach the part file, so that data on
    /// disk always has the validators it came with, and a download that finishes
    /// before anything was written out costs no sidecar at all.
    pub fn save_meta(&mut self, meta: &PartMeta) {
        self.meta_unwritten = Some(serde_json::to_vec(meta).expect("PartMeta serializes"));
    }

    /// Empties the part file (the server sent the whole file again).
    pub async fn truncate(&mut self) -> Result<()> {
        self.settle().await?;
        self.pending.clear();
        self.pending_len = 0;
        self.hasher = self.wants_checksum.then(Sha256::new);
        self.hashed = true;
        if self.len == 0 {
            // Nothing was ever in it: no need to ask the file system.
            return Ok(());
        }
        self.len = 0;
        let file = Arc::clone(&self.file);
        let path = self.part.clone();
        blocking(&self.part, move || {
            file.set_len(0)
                .map_err(|e| Error::io("truncate", &path, e))?;
            (&*file)
                .seek(SeekFrom::Start(0))
                .map_err(|e| Error::io("seek", &path, e))?;
            Ok(())
        })
        .await
    }

    /// Prepares to append at the end: feeds the bytes already there to the checksum.
    pub async fn prepare_append(&mut self) -> Result<()> {
        self.write_out().await?;
        self.settle().await?;
        let hasher = if self.hashed {
            None
        } else {
            self.hasher.take()
        };
        let file = Arc::clone(&self.file);
        let (path, len) = (self.part.clone(), self.len);
        let hasher = blocking(&self.part, move || {
            let mut hasher = hasher;
            if let Some(hasher) = hasher.as_mut() {
                let mut reader = &*file;
                reader
                    .seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io("seek", &path, e))?;
                let mut buf = vec![0u8; 256 * 1024];
                let mut left = len;
                while left > 0 {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = reader
                        .read(&mut buf[..want])
                        .map_err(|e| Error::io("read", &path, e))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    left -= n as u64;
                }
            }
            (&*file)
                .seek(SeekFrom::Start(len))
                .map_err(|e| Error::io("seek", &path, e))?;
            Ok(hasher)
        })
        .await?;
        if hasher.is_some() {
            self.hasher = hasher;
        }
        self.hashed = true;
        Ok(())
    }

    /// Appends `chunk` (gathered in memory up to 256 KiB; [`flush`](Self::flush) writes
    /// out the rest). An error from the batch written before may surface here.
    pub async fn write(&mut self, chunk: Bytes) -> Result<()> {
        debug_assert!(
            self.hashed || !self.wants_checksum,
            "prepare_append or truncate first"
        );
        if chunk.is_empty() {
            return Ok(());
        }
        self.len += chunk.len() as u64;
        self.pending_len += chunk.len();
        self.pending.push(chunk);
        if self.pending_len >= WRITE_BATCH {
            self.write_out().await?;
        }
        Ok(())
    }

    /// Waits for the batch in flight.
    async fn settle(&mut self) -> Result<()> {
        let Some(trip) = self.in_flight.take() else {
            return Ok(());
        };
        let done = trip.await.unwrap_or_else(|e| {
            Err(Error::io(
                "run a file task",
                &self.part,
                std::io::Error::other(e),
            ))
        });
        match done {
            Ok(hasher) => {
                self.hasher = hasher;
                Ok(())
            }
            Err(e) => {
                // The hasher went with the failed batch: a later check would have to
                // read the file again.
                self.hasher = self.wants_checksum.then(Sha256::new);
                self.hashed = false;
                Err(e)
            }
        }
    }

    /// Hands what is gathered to the blocking pool (after the batch before it).
    async fn write_out(&mut self) -> Result<()> {
        self.settle().await?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunks = std::mem::take(&mut self.pending);
        self.pending_len = 0;
        let meta = self
            .meta_unwritten
            .take()
            .map(|json| (self.meta.clone(), json));
        self.meta_on_disk |= meta.is_some();
        let mut hasher = self.hasher.take();
        let file = Arc::clone(&self.file);
        let path = self.part.clone();
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            if let Some((meta_path, json)) = meta {
                write_meta(&meta_path, &json)?;
            }
            if let Some(hasher) = hasher.as_mut() {
                for c in &chunks {
                    hasher.update(c);
                }
            }
            write_all_chunks(&file, &chunks).map_err(|e| Error::io("write", &path, e))?;
            Ok(hasher)
        }));
        Ok(())
    }

    /// Writes out what is gathered (and the sidecar) and hands it to the kernel, so a
    /// killed process loses nothing (a power loss still may: see [`sync`](Self::sync)).
    pub async fn flush(&mut self) -> Result<()> {
        if let Some(json) = self.meta_unwritten.take() {
            if self.pending.is_empty() && self.in_flight.is_none() {
                let path = self.meta.clone();
                self.meta_on_disk = true;
                blocking(&self.meta, move || write_meta(&path, &json)).await?;
            } else {
                self.meta_unwritten = Some(json);
            }
        }
        self.write_out().await?;
        self.settle().await
    }

    /// [`flush`](Self::flush), then waits for the data to reach the disk.
    pub async fn sync(&mut self) -> Result<()> {
        self.flush().await?;
        let file = Arc::clone(&self.file);
        let path = self.part.clone();
        blocking(&self.part, move || {
            file.sync_data().map_err(|e| Error::io("sync", &path, e))
        })
        .await
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
        self.settle().await?;
        if expected.is_some() && !self.wants_checksum {
            // Asked to check after all: hash what is in the file.
            self.wants_checksum = true;
            self.hasher = Some(Sha256::new());
            self.hashed = false;
        }
        if self.wants_checksum && !self.hashed {
            // Reads what is on disk; what is gathered stays gathered.
            let pending = std::mem::take(&mut self.pending);
            let pending_len = std::mem::replace(&mut self.pending_len, 0);
            self.len -= pending_len as u64;
            self.prepare_append().await?;
            self.len += pending_len as u64;
            self.pending = pending;
            self.pending_len = pending_len;
        }
        // The last gathered bytes, their checksum, the sync and the rename go in one
        // trip to the blocking pool: for a small file, each trip costs more than its
        // transfer.
        let expected = expected.copied();
        let pending = std::mem::take(&mut self.pending);
        let (durable, meta_on_disk) = (self.durable, self.meta_on_disk);
        let hasher = self.hasher.take();
        let (file, part, dest, meta) = (self.file, self.part, self.dest, self.meta);
        blocking(&dest.clone(), move || {
            let actual: Option<[u8; 32]> = hasher.map(|mut h| {
                for c in &pending {
                    h.update(c);
                }
                h.finalize().into()
            });
            if let (Some(expected), Some(actual)) = (expected, actual)
                && actual != expected
            {
                // Removed while still locked, so a download waiting for the lock sees a
                // file that is gone and starts a new one.
                let _ = std::fs::remove_file(&part);
                let _ = std::fs::remove_file(&meta);
                drop(file);
                return Err(Error::Checksum {
                    path: dest,
                    expected: to_hex(&expected),
                    actual: to_hex(&actual),
                });
            }
            write_all_chunks(&file, &pending).map_err(|e| Error::io("write", &part, e))?;
            if durable {
                file.sync_data().map_err(|e| Error::io("sync", &part, e))?;
            }
            // The lock is held until the part is in place: see `open_locked`.
            move_into_place(&part, &dest)?;
            if meta_on_disk {
                let _ = std::fs::remove_file(&meta);
            }
            drop(file);
            Ok(actual)
        })
        .await
    }
}

/// Writes the sidecar atomically (a temporary file renamed over it).
fn write_meta(path: &Path, json: &[u8]) -> Result<()> {
    let tmp = suffixed(path, ".tmp");
    std::fs::write(&tmp, json).map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", path, e))
}

/// Writes every chunk at the file's position, several per system call.
fn write_all_chunks(file: &std::fs::File, chunks: &[Bytes]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut slices = &mut slices[..];
    let mut writer = file;
    while !slices.is_empty() {
        match writer.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Opens (or creates) the `.part` file at `path` and takes its exclusive lock, waiting
/// up to `wait` for another holder. Runs on the blocking pool.
///
/// The holder may finish while this waits: its file is then renamed into place (or
/// removed), and the lock this gets is on that file, not on what is at `path` now. So
/// the locked file must still be the one at `path`; if not, it is opened again.
/// Returns the file and its length.
fn open_locked(path: &Path, wait: std::time::Duration) -> Result<(std::fs::File, u64)> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        let locked = lock_part(&file, path, deadline)?;
        let opened = file.metadata().map_err(|e| Error::io("stat", path, e))?;
        if !locked || still_at(&opened, path) {
            return Ok((file, opened.len()));
        }
    }
}

/// Takes the exclusive lock on an open `.part` file, trying until `deadline`. `false`
/// when the file system cannot lock (NFS without a lock daemon, for one): the download
/// goes on unlocked, as it would without this.
fn lock_part(file: &std::fs::File, path: &Path, deadline: std::time::Instant) -> Result<bool> {
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::PartInUse {
                    path: path.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                tracing::debug!(path = %path.display(), error = %e, "cannot lock the part file; going on unlocked");
                return Ok(false);
            }
        }
    }
}

/// Whether the open file (`opened`) is still the file at `path` (not renamed away or
/// removed meanwhile).
#[cfg(unix)]
fn still_at(opened: &std::fs::Metadata, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .is_ok_and(|named| named.dev() == opened.dev() && named.ino() == opened.ino())
}

/// Whether the open file is still the file at `path`. Without file identities in std,
/// a removed file is all that can be seen here; a rename into place is not, on these
/// systems.
#[cfg(not(unix))]
fn still_at(_opened: &std::fs::Metadata, path: &Path) -> bool {
    path.exists()
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
            // Not `.part`: that name belongs to a download of `dest` without a part
            // directory.
            let staged = suffixed(dest, ".part.moving");
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
        p.write(Bytes::from_static(b"hello ")).await.unwrap();
        let m = PartMeta {
            url: "http://x/pkg.tar".into(),
            total: Some(11),
            ..Default::default()
        };
        p.save_meta(&m);
        p.sync().await.unwrap();
        drop(p); // "killed" here

        let (mut p, meta) = PartFile::open(&dest).await.unwrap();
        assert_eq!(meta.unwrap(), m);
        assert_eq!(p.len(), 6);
        p.prepare_append().await.unwrap();
        p.write(Bytes::from_static(b"world")).await.unwrap();
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
        p.write(Bytes::from_static(b"<html>500 oops</html>"))
            .await
            .unwrap();
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
        p.write(Bytes::from_static(b"fresh")).await.unwrap();
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
            p.write(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        assert_eq!(p.len(), data.len() as u64);
        p.sync().await.unwrap();
        assert_eq!(std::fs::read(dir.join("big.part")).unwrap(), data);
        drop(p);

        // Resumed without a hasher, then asked to check after all: hashed from the file.
        let (mut p, _) = PartFile::open(&dest).await.unwrap();
        p.skip_checksum();
        p.prepare_append().await.unwrap();
        p.write(Bytes::from_static(&[1, 2, 3])).await.unwrap();
        let mut all = data.clone();
        all.extend_from_slice(&[1, 2, 3]);
        assert_eq!(p.finish(Some(&sha(&all))).await.unwrap(), Some(sha(&all)));
        assert_eq!(std::fs::read(&dest).unwrap(), all);

        // No digest wanted, none computed.
        let (mut p, _) = PartFile::open(&dir.join("small")).await.unwrap();
        p.skip_checksum();
        p.write(Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(p.finish(None).await.unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn the_sidecar_reaches_the_disk_with_the_first_data_and_not_before() {
        let dir = tmp("lazy-meta");
        let m = PartMeta {
            url: "http://x/f".into(),
            total: Some(3),
            ..Default::default()
        };
        // Finished within one batch: no sidecar is ever written.
        let (mut p, _) = PartFile::open(&dir.join("small")).await.unwrap();
        p.save_meta(&m);
        p.write(Bytes::from_static(b"abc")).await.unwrap();
        assert!(!dir.join("small.part.meta").exists());
        p.finish(None).await.unwrap();
        assert_eq!(std::fs::read(dir.join("small")).unwrap(), b"abc");
        assert!(!dir.join("small.part.meta").exists());

        // A full batch goes out with the sidecar; a flush writes both.
        let (mut p, _) = PartFile::open(&dir.join("big")).await.unwrap();
        p.save_meta(&m);
        p.write(Bytes::from(vec![7u8; WRITE_BATCH])).await.unwrap();
        p.flush().await.unwrap();
        let on_disk: PartMeta =
            serde_json::from_slice(&std::fs::read(dir.join("big.part.meta")).unwrap()).unwrap();
        assert_eq!(on_disk, m);
        assert_eq!(
            std::fs::metadata(dir.join("big.part")).unwrap().len(),
            WRITE_BATCH as u64
        );
        let digest = p.finish(None).await.unwrap().unwrap();
        assert_eq!(digest, sha(&vec![7u8; WRITE_BATCH]));
        assert!(!dir.join("big.part.meta").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_dropped_part_file_lets_go_only_after_its_last_batch() {
        let dir = tmp("dropped");
        let dest = dir.join("f");
        let (mut p, _) = PartFile::open(&dest).await.unwrap();
        p.skip_checksum();
        // A full batch is handed to the blocking pool and the download is cancelled
        // before it lands, as a dropped download future does.
        p.write(Bytes::from(vec![1u8; 4 * WRITE_BATCH]))
            .await
            .unwrap();
        drop(p);
        let (p, _) = PartFile::open(&dest).await.unwrap();
        assert_eq!(
            p.len(),
            4 * WRITE_BATCH as u64,
            "the reopen saw the whole batch"
        );
        drop(p);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_part_file_held_elsewhere_is_a_clear_error() {
        let dir = tmp("held");
        let dest = dir.join("f");
        let (held, _) = PartFile::open(&dest).await.unwrap();
        let other = std::fs::OpenOptions::new()
            .write(true)
            .open(held.part_path())
            .unwrap();
        let now = std::time::Instant::now();
        let err = lock_part(&other, held.part_path(), now).unwrap_err();
        assert!(matches!(&err, Error::PartInUse { path } if path == held.part_path()));
        assert!(
            err.to_string()
                .contains("being written by another download"),
            "{err}"
        );
        drop(held);
        assert!(lock_part(&other, &dest, now).unwrap());
        drop(other);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_waiter_never_writes_into_the_file_put_in_place() {
        let dir = tmp("waiter");
        let dest = dir.join("f");
        let (mut first, _) = PartFile::open(&dest).await.unwrap();
        first.skip_checksum();
        first.write(Bytes::from_static(b"done")).await.unwrap();
        // A second download of the same file opens the part and waits for its lock
        // while the first one finishes and renames that very file into place.
        let second = tokio::spawn({
            let dest = dest.clone();
            async move { PartFile::open(&dest).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        first.finish(None).await.unwrap();
        let (mut second, _) = second.await.unwrap().unwrap();
        assert_eq!(second.len(), 0, "a new, empty part, not the finished file");
        second.truncate().await.unwrap();
        assert_eq!(
            std::fs::read(&dest).unwrap(),
            b"done",
            "the file in place is intact"
        );
        drop(second);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn one_part_dir_keeps_same_named_destinations_apart() {
        let dir = tmp("staged");
        let parts = dir.join("parts");
        let (a, b) = (dir.join("a").join("x.tar"), dir.join("b").join("x.tar"));
        let (pa, _) = PartFile::open_in(&a, Some(&parts)).await.unwrap();
        // Both at once: no wait, no PartInUse.
        let (pb, _) = PartFile::open_in(&b, Some(&parts)).await.unwrap();
        assert_ne!(pa.part_path(), pb.part_path());
        assert!(pa.part_path().starts_with(&parts));
        let name = pa
            .part_path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("x.tar-") && name.ends_with(".part"),
            "{name}"
        );
        // A later run of the same destination finds the same part.
        let first = pa.part_path().to_path_buf();
        drop(pa);
        let (again, _) = PartFile::open_in(&a, Some(&parts)).await.unwrap();
        assert_eq!(again.part_path(), first);
        drop((again, pb));
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
