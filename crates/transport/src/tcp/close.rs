//! Graceful close: send FIN, read what the peer still sends until its FIN, then close.
//!
//! Closing a TCP socket that still has unread received data makes the kernel send RST
//! instead of FIN (RFC 1122 §4.2.2.13), and an RST makes the peer throw away whatever it
//! had received but not yet read: the tail of a response is lost. Shutting down the write
//! side first and draining the read side until EOF avoids that.

use std::time::Duration;

use ghostnet_runtime::timeout;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};

/// Bytes [`close_gracefully`] reads and discards by default before giving up on a clean
/// close.
pub const DEFAULT_DRAIN_LIMIT: u64 = 256 * 1024;

/// How long [`close_gracefully`] waits by default for the peer's FIN.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds on a graceful close. A peer that keeps sending, or never closes its side,
/// must not hold the connection (and a task) forever.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_transport::tcp::CloseOptions;
///
/// let opts = CloseOptions::default().drain_timeout(Duration::from_secs(1));
/// assert_eq!(opts.drain_limit, 256 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseOptions {
    /// Most bytes read and discarded while waiting for the peer's FIN. Default
    /// [`DEFAULT_DRAIN_LIMIT`].
    pub drain_limit: u64,
    /// Limit on the whole close (shutdown and drain). Default [`DEFAULT_DRAIN_TIMEOUT`];
    /// zero closes at once unless the peer's FIN is already there.
    pub drain_timeout: Duration,
}

impl Default for CloseOptions {
    fn default() -> Self {
        Self {
            drain_limit: DEFAULT_DRAIN_LIMIT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

impl CloseOptions {
    /// Sets [`CloseOptions::drain_limit`].
    pub fn drain_limit(mut self, bytes: u64) -> Self {
        self.drain_limit = bytes;
        self
    }

    /// Sets [`CloseOptions::drain_timeout`].
    pub fn drain_timeout(mut self, limit: Duration) -> Self {
        self.drain_timeout = limit;
        self
    }
}

/// How a [`close_gracefully`] ended. In every case the stream is closed afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseOutcome {
    /// The peer's FIN arrived: both sides closed cleanly.
    Clean {
        /// Bytes the peer sent after our FIN, read and thrown away.
        discarded: u64,
    },
    /// The peer sent more than the drain limit; the close may have reset the connection.
    LimitReached {
        /// Bytes read and thrown away.
        discarded: u64,
    },
    /// The peer did not close its side within the drain timeout.
    TimedOut {
        /// Bytes read and thrown away.
        discarded: u64,
    },
}

impl CloseOutcome {
    /// Whether the peer's FIN arrived.
    pub fn is_clean(&self) -> bool {
        matches!(self, Self::Clean { .. })
    }

    /// Bytes read and thrown away while draining.
    pub fn discarded(&self) -> u64 {
        match *self {
            Self::Clean { discarded }
            | Self::LimitReached { discarded }
            | Self::TimedOut { discarded } => discarded,
        }
    }
}

/// Closes `stream` so the peer sees a clean FIN rather than an RST: flushes and shuts
/// down the write side, reads and discards incoming bytes until the peer's EOF (at most
/// `options.drain_limit` bytes, within `options.drain_timeout`), then drops the stream.
///
/// Works for any stream: on TCP the shutdown sends FIN, on TLS it sends `close_notify`
/// first. Errors are those of the shutdown or of a read (e.g. the peer reset the
/// connection); the stream is closed either way.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_transport::tcp::{close_gracefully, CloseOptions};
/// use tokio::io::AsyncWriteExt;
///
/// let (ours, mut theirs) = tokio::io::duplex(64);
/// let peer = tokio::spawn(async move {
///     theirs.write_all(b"late bytes").await.unwrap();
///     theirs.shutdown().await.unwrap();
/// });
/// let outcome = close_gracefully(ours, &CloseOptions::default()).await.unwrap();
/// assert!(outcome.is_clean());
/// assert_eq!(outcome.discarded(), 10);
/// # peer.await.unwrap();
/// # }).unwrap();
/// ```
pub async fn close_gracefully<S>(mut stream: S, options: &CloseOptions) -> Result<CloseOutcome>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut discarded = 0u64;
    let drain = shutdown_and_drain(&mut stream, options.drain_limit, &mut discarded);
    let outcome = match timeout(options.drain_timeout, drain).await {
        Ok(result) => result,
        Err(_) => Ok(CloseOutcome::TimedOut { discarded }),
    };
    if let Ok(o) = &outcome
        && !o.is_clean()
    {
        tracing::debug!(outcome = ?o, "closing before the peer's FIN");
    }
    outcome
}

/// Shuts down the write side, then reads until EOF or past `limit`, counting into
/// `discarded` (kept outside so a timeout still knows the count).
async fn shutdown_and_drain<S>(
    stream: &mut S,
    limit: u64,
    discarded: &mut u64,
) -> Result<CloseOutcome>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .shutdown()
        .await
        .map_err(|e| Error::io("shut down the write side before closing", e))?;
    // Small: the drain reads what the peer sends after our FIN, usually nothing.
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        // Read one byte past the limit so "exactly at the limit, then EOF" is clean.
        let room = (limit - *discarded).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = stream
            .read(&mut buf[..want])
            .await
            .map_err(|e| Error::io("drain the read side before closing", e))?;
        if n == 0 {
            return Ok(CloseOutcome::Clean {
                discarded: *discarded,
            });
        }
        *discarded += n as u64;
        if *discarded > limit {
            return Ok(CloseOutcome::LimitReached {
                discarded: *discarded,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn silent_peer_times_out_at_the_limit() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let start = ghostnet_runtime::Instant::now();
        let opts = CloseOptions::default().drain_timeout(Duration::from_secs(3));
        let outcome = close_gracefully(ours, &opts).await.unwrap();
        assert_eq!(outcome, CloseOutcome::TimedOut { discarded: 0 });
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn limit_is_exact() {
        for (sent, clean) in [(100u64, true), (101, false)] {
            let (ours, mut theirs) = tokio::io::duplex(1024);
            theirs.write_all(&vec![7; sent as usize]).await.unwrap();
            theirs.shutdown().await.unwrap();
            let outcome = close_gracefully(ours, &CloseOptions::default().drain_limit(100))
                .await
                .unwrap();
            assert_eq!(outcome.is_clean(), clean, "{sent} bytes: {outcome:?}");
            assert!(outcome.discarded() <= 101);
        }
    }
}
