//! [`Config`]: limits, buffers, heartbeat and close timing of a connection. Every field
//! has a default; [`Config::validate`] refuses values that would fail every connection
//! (or make tungstenite panic).

use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::error::{Error, Result};

/// Default [`Config::max_message_size`]: 16 MiB. Large enough for Autobahn's biggest
/// cases (9.x, 16 MiB), small enough that one peer cannot make a server allocate without
/// bound. (tungstenite's own default is 64 MiB.)
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 << 20;
/// Default [`Config::max_frame_size`]: 16 MiB, the payload of one frame.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 << 20;
/// Default [`Config::read_buffer_size`]: 64 KiB. The buffer is allocated (and touched) for
/// every connection, so it is most of an idle connection's memory; tungstenite's 128 KiB
/// default doubles that for no measurable gain on messages up to 64 KiB
/// (`cargo xtask bench ws`).
pub const DEFAULT_READ_BUFFER_SIZE: usize = 64 << 10;
/// Default [`Config::write_buffer_size`]: 128 KiB. Messages passed to
/// [`WebSocket::feed`](crate::WebSocket::feed) collect up to this size before being
/// written; it is a threshold, not an allocation.
pub const DEFAULT_WRITE_BUFFER_SIZE: usize = 128 << 10;
/// Default [`Config::ping_interval`]: 30 s of silence from the peer before a heartbeat
/// ping.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);
/// Default [`Config::pong_timeout`]: 20 s for the peer to answer a heartbeat ping.
pub const DEFAULT_PONG_TIMEOUT: Duration = Duration::from_secs(20);
/// Default [`Config::close_timeout`]: 5 s for the peer to finish the close handshake.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`Config::send_queue_bytes`]: 1 MiB of messages queued by the
/// [`Sender`](crate::Sender)s of a split connection.
pub const DEFAULT_SEND_QUEUE_BYTES: usize = 1 << 20;

/// Largest accepted [`Config::write_buffer_size`]: keeps tungstenite's derived write-buffer
/// cap above the threshold, as it requires.
const MAX_WRITE_BUFFER_SIZE: usize = 1 << 30;

/// The most a frame header adds to a payload (2 + 8 length + 4 mask bytes), plus room for a
/// pong or close frame tungstenite queues on its own.
const WRITE_SLACK: usize = 14 + 256;

/// Limits, buffers and timing of one WebSocket connection (either side).
///
/// | field | default | what |
/// |---|---|---|
/// | `max_message_size` | 16 MiB | largest message received (whole, after reassembly) or sent |
/// | `max_frame_size` | 16 MiB | largest frame payload received |
/// | `read_buffer_size` | 64 KiB | bytes read from the socket at once |
/// | `write_buffer_size` | 128 KiB | fed messages collected before a write |
/// | `ping_interval` | 30 s | silence from the peer before a heartbeat ping (`None`: no heartbeat) |
/// | `pong_timeout` | 20 s | time for the peer to answer the ping before the connection is dropped |
/// | `close_timeout` | 5 s | time for the peer to finish the close handshake |
/// | `send_queue_bytes` | 1 MiB | bytes the [`Sender`](crate::Sender)s of a split connection may queue |
///
/// ```
/// use std::time::Duration;
/// use ghostnet_ws::Config;
///
/// let config = Config::default()
///     .max_message_size(1 << 20)
///     .ping_interval(Some(Duration::from_secs(10)))
///     .pong_timeout(Duration::from_secs(5));
/// config.validate().unwrap();
/// assert!(Config::default().max_frame_size(0).validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest message, in bytes, received (fragments added up) or sent. A larger incoming
    /// message fails the connection with close code 1009; a larger outgoing one is refused
    /// with [`Error::MessageTooLarge`] before anything is written.
    pub max_message_size: usize,
    /// Largest frame payload received, in bytes (close code 1009 above it).
    pub max_frame_size: usize,
    /// How many bytes one read from the socket may bring in.
    pub read_buffer_size: usize,
    /// How many bytes of [`feed`](crate::WebSocket::feed)-ed messages collect before they
    /// are written; [`send`](crate::WebSocket::send) and a reader about to wait write at
    /// once.
    pub write_buffer_size: usize,
    /// How long the peer may be silent before a heartbeat ping; `None` turns the heartbeat
    /// off. Any byte received counts as a sign of life.
    pub ping_interval: Option<Duration>,
    /// How long after a heartbeat ping the peer has to send something (the pong, or
    /// anything else) before the connection is dropped with
    /// [`Error::HeartbeatTimeout`].
    pub pong_timeout: Duration,
    /// How long the peer has to answer our close frame (and, for a client, to close the
    /// TCP connection) before it is dropped; also bounds flushing the close frame of a
    /// failed connection.
    pub close_timeout: Duration,
    /// Bytes the [`Sender`](crate::Sender)s of a split connection may queue before
    /// `send` waits. A message larger than this waits for an empty queue, then goes alone.
    pub send_queue_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            read_buffer_size: DEFAULT_READ_BUFFER_SIZE,
            write_buffer_size: DEFAULT_WRITE_BUFFER_SIZE,
            ping_interval: Some(DEFAULT_PING_INTERVAL),
            pong_timeout: DEFAULT_PONG_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            send_queue_bytes: DEFAULT_SEND_QUEUE_BYTES,
        }
    }
}

impl Config {
    /// Sets [`Config::max_message_size`].
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`Config::max_frame_size`].
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`Config::read_buffer_size`].
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Sets [`Config::write_buffer_size`].
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// Sets [`Config::ping_interval`]; `None` turns the heartbeat off.
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Sets [`Config::pong_timeout`].
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// Sets [`Config::close_timeout`].
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`Config::send_queue_bytes`].
    pub fn send_queue_bytes(mut self, bytes: usize) -> Self {
        self.send_queue_bytes = bytes;
        self
    }

    /// Checks that every value can be used.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the field: a zero size or duration, a read buffer
    /// under 256 bytes, a write buffer over 1 GiB, or a send queue over 4 GiB.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |field: &'static str, reason: String| Err(Error::InvalidConfig { field, reason });
        if self.max_message_size == 0 {
            return invalid(
                "max_message_size",
                format!("must be at least 1 byte (the default is {DEFAULT_MAX_MESSAGE_SIZE})"),
            );
        }
        if self.max_frame_size == 0 {
            return invalid(
                "max_frame_size",
                format!("must be at least 1 byte (the default is {DEFAULT_MAX_FRAME_SIZE})"),
            );
        }
        if self.read_buffer_size < 256 {
            return invalid(
                "read_buffer_size",
                format!("must be at least 256 bytes (the default is {DEFAULT_READ_BUFFER_SIZE})"),
            );
        }
        if self.write_buffer_size > MAX_WRITE_BUFFER_SIZE {
            return invalid(
                "write_buffer_size",
                format!(
                    "must be at most 1 GiB (the default is {DEFAULT_WRITE_BUFFER_SIZE}; 0 writes \
                     every message at once)"
                ),
            );
        }
        if self.ping_interval.is_some_and(|d| d.is_zero()) {
            return invalid(
                "ping_interval",
                format!(
                    "must be greater than zero; use None to turn the heartbeat off (the \
                     default is {DEFAULT_PING_INTERVAL:?})"
                ),
            );
        }
        for (field, value, default) in [
            ("pong_timeout", self.pong_timeout, DEFAULT_PONG_TIMEOUT),
            ("close_timeout", self.close_timeout, DEFAULT_CLOSE_TIMEOUT),
        ] {
            if value.is_zero() {
                return invalid(
                    field,
                    format!("must be greater than zero (the default is {default:?})"),
                );
            }
        }
        if self.send_queue_bytes == 0 || self.send_queue_bytes > u32::MAX as usize {
            return invalid(
                "send_queue_bytes",
                format!("must be from 1 byte to 4 GiB (the default is {DEFAULT_SEND_QUEUE_BYTES})"),
            );
        }
        Ok(())
    }

    /// tungstenite's view of these limits. Its write buffer may hold what was fed below
    /// the write threshold plus one whole message (and a queued control frame): never
    /// more, because the sink flushes before taking the next message once a write blocks.
    pub(crate) fn to_tungstenite(self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(self.write_buffer_size)
            .max_write_buffer_size(
                self.write_buffer_size
                    .saturating_add(self.max_message_size)
                    .saturating_add(WRITE_SLACK),
            )
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_frame_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.max_message_size, 16 << 20);
        assert_eq!(c.max_frame_size, 16 << 20);
        assert_eq!(c.ping_interval, Some(Duration::from_secs(30)));
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (Config::default().max_message_size(0), "max_message_size"),
            (Config::default().max_frame_size(0), "max_frame_size"),
            (Config::default().read_buffer_size(10), "read_buffer_size"),
            (
                Config::default().ping_interval(Some(Duration::ZERO)),
                "ping_interval",
            ),
            (
                Config::default().pong_timeout(Duration::ZERO),
                "pong_timeout",
            ),
            (
                Config::default().close_timeout(Duration::ZERO),
                "close_timeout",
            ),
            (Config::default().send_queue_bytes(0), "send_queue_bytes"),
            (
                Config::default().write_buffer_size(usize::MAX),
                "write_buffer_size",
            ),
        ];
        for (config, field) in cases {
            let e = config.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("`{field}`")), "{e}");
        }
        Config::default().ping_interval(None).validate().unwrap();
    }

    #[test]
    fn tungstenite_write_buffer_is_above_threshold() {
        // tungstenite panics unless max_write_buffer_size > write_buffer_size: for every
        // valid config, even extreme ones, the conversion keeps that true.
        for c in [
            Config::default(),
            Config::default()
                .write_buffer_size(MAX_WRITE_BUFFER_SIZE)
                .max_message_size(usize::MAX),
            Config::default().write_buffer_size(0).max_message_size(1),
        ] {
            c.validate().unwrap();
            let t = c.to_tungstenite();
            assert!(t.max_write_buffer_size > t.write_buffer_size);
            assert_eq!(t.max_message_size, Some(c.max_message_size));
        }
    }
}
