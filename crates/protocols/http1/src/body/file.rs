//! File bodies: a range of an open file. The server sends them with sendfile(2) when the
//! connection is plain TCP, and reads them in chunks on the blocking pool otherwise.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::error::{Error, Result};

/// Bytes read per step when a file is not sent with sendfile.
pub(crate) const READ_CHUNK: u64 = 64 * 1024;

/// A range of an open file.
pub(crate) struct FileBody {
    pub(crate) file: Arc<File>,
    pub(crate) offset: u64,
    pub(crate) remaining: u64,
    reading: Option<tokio::task::JoinHandle<io::Result<Vec<u8>>>>,
}

impl FileBody {
    pub(crate) fn new(file: File, offset: u64, len: u64) -> Self {
        Self {
            file: Arc::new(file),
            offset,
            remaining: len,
            reading: None,
        }
    }

    /// The portable path: the next chunk, read with `pread` on the blocking pool.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let handle = self.reading.get_or_insert_with(|| {
            let (file, offset, len) = (
                self.file.clone(),
                self.offset,
                self.remaining.min(READ_CHUNK),
            );
            tokio::task::spawn_blocking(move || read_at(&file, offset, len as usize))
        });
        let res = match std::pin::Pin::new(handle).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(res) => res,
        };
        self.reading = None;
        let chunk = match res {
            Ok(Ok(v)) if v.is_empty() => Err(Error::Body(
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file is shorter than its body length (truncated while sending?)",
                )
                .into(),
            )),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Error::Body(e.into())),
            Err(e) => Err(Error::Body(e.into())),
        };
        Poll::Ready(Some(chunk.map(|v| {
            self.offset += v.len() as u64;
            self.remaining -= v.len() as u64;
            Bytes::from(v)
        })))
    }

    /// Records `n` bytes sent by other means (sendfile).
    pub(crate) fn advance(&mut self, n: u64) {
        self.offset += n;
        self.remaining -= n.min(self.remaining);
    }
}

use std::future::Future;

#[cfg(unix)]
fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; len];
    let n = file.read_at(&mut buf, offset)?;
    buf.truncate(n);
    Ok(buf)
}

#[cfg(not(unix))]
fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0; len];
    let n = f.read(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
