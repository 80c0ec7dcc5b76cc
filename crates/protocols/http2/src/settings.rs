//! [`Settings`]: the HTTP/2 parameters and limits of a connection, shared by the server
//! and the client, with safe defaults and validation.

use std::time::Duration;

use crate::error::{Error, Result};

/// The largest flow-control window HTTP/2 allows: 2^31 - 1 (RFC 9113 §6.9.1).
pub const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;
/// The smallest `SETTINGS_MAX_FRAME_SIZE` (RFC 9113 §6.5.2), also the protocol default.
pub const MIN_MAX_FRAME_SIZE: u32 = 16_384;
/// The largest `SETTINGS_MAX_FRAME_SIZE` (RFC 9113 §6.5.2): 2^24 - 1.
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;
/// Every connection starts with this connection-level window (RFC 9113 §6.9.2); only
/// WINDOW_UPDATE can raise it, nothing can lower it.
pub const PROTOCOL_CONNECTION_WINDOW: u32 = 65_535;

/// Default of [`Settings::max_concurrent_streams`].
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 200;
/// Default of [`Settings::initial_stream_window_size`]: 4 MiB (measured: see
/// docs/http2.md, "Flow control").
pub const DEFAULT_STREAM_WINDOW: u32 = 4 * 1024 * 1024;
/// Default of [`Settings::initial_connection_window_size`]: 8 MiB, two full-speed
/// streams.
pub const DEFAULT_CONNECTION_WINDOW: u32 = 8 * 1024 * 1024;
/// Default of [`Settings::max_adaptive_window`]: 16 MiB per stream (hyper's limit too):
/// enough for 1 Gbit/s over a 130 ms path, and past it TCP's own buffers limit first.
pub const DEFAULT_MAX_ADAPTIVE_WINDOW: u32 = 16 * 1024 * 1024;
/// Default of [`Settings::max_frame_size`]: 48 KiB, three times the protocol's 16 KiB.
///
/// Each DATA frame costs the sender one `writev` and the receiver two reads and a copy
/// of its first 8 KiB, so 16 KiB frames made a loopback download cost both ends about
/// twice the CPU of HTTP/1.1. The receiver keeps each frame in an allocation of its own
/// size, and glibc's allocator hands blocks of 64 KiB and more back to the kernel as
/// they are freed, so frames of 64 KiB and up were faulted in page by page again.
/// 48 KiB stays clear of that (measured: see docs/http2.md, "Frame size").
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 48 * 1024;
// Checked when compiling: the default is a valid size, and the receiver's buffer for one
// frame (payload and 9-byte header) stays below the 64 KiB that starts glibc's trimming.
const _: () = assert!(
    DEFAULT_MAX_FRAME_SIZE >= MIN_MAX_FRAME_SIZE && DEFAULT_MAX_FRAME_SIZE as usize + 9 < 64 * 1024
);
/// Default of [`Settings::max_header_list_size`]: 16 KiB.
pub const DEFAULT_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;
/// Default of [`Settings::header_table_size`]: the protocol's 4 KiB.
pub const DEFAULT_HEADER_TABLE_SIZE: u32 = 4096;
/// Default of [`Settings::max_send_buffer_size`]: 400 KiB per stream.
pub const DEFAULT_MAX_SEND_BUFFER_SIZE: usize = 400 * 1024;
/// Default of [`Settings::keepalive_interval`]: a PING after 60 s without a frame.
pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
/// Default of [`Settings::keepalive_timeout`]: 20 s for the PING's ACK.
pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Default of [`Settings::handshake_timeout`]: 10 s for the preface and SETTINGS.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of [`Settings::max_pending_accept_reset_streams`] (h2's own default).
pub const DEFAULT_MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
/// Default of [`Settings::max_local_error_reset_streams`] (h2's own default).
pub const DEFAULT_MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;

/// Largest accepted [`Settings::max_header_list_size`]: 1 MiB. Every stream may buffer
/// this much header data before it is decoded, so it bounds CONTINUATION floods.
const MAX_HEADER_LIST_LIMIT: u32 = 1024 * 1024;
/// Smallest accepted [`Settings::max_header_list_size`]: ordinary browser requests
/// already carry more than 1 KiB of headers.
const MIN_HEADER_LIST_LIMIT: u32 = 1024;
/// Largest accepted [`Settings::header_table_size`]: the HPACK decoder keeps this much
/// per connection.
const MAX_HEADER_TABLE_LIMIT: u32 = 1024 * 1024;

/// HTTP/2 connection parameters and limits, for the [`Server`](crate::Server) and the
/// [`client`](crate::client) alike. The defaults are safe for a public server; the table
/// in `docs/http2.md` explains each one.
///
/// Window, frame and header values are what *this* side advertises to its peer: they
/// bound what the peer may send here.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_http2::Settings;
///
/// let mut settings = Settings::default();
/// settings.max_concurrent_streams = 100;
/// settings.keepalive_interval = Some(Duration::from_secs(20));
/// settings.validate().unwrap();
///
/// settings.initial_stream_window_size = 0;
/// assert!(settings.validate().is_err());
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Streams the peer may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`); more
    /// are refused with `REFUSED_STREAM`. Default 200; at least 1. On a client it only
    /// bounds server-initiated streams, and server push is always disabled.
    pub max_concurrent_streams: u32,
    /// How many body bytes the peer may send on one stream before we read them
    /// (`SETTINGS_INITIAL_WINDOW_SIZE`). Default 4 MiB; 1 ..= 2^31 - 1.
    pub initial_stream_window_size: u32,
    /// How many body bytes the peer may send on the whole connection before we read
    /// them: the bound on what one connection can make us buffer. Default 8 MiB;
    /// 65,535 ..= 2^31 - 1.
    pub initial_connection_window_size: u32,
    /// Grow the receive windows while the peer's data arrives faster than one window per
    /// round trip: now and then a PING measures the round trip, and when the body bytes
    /// read meanwhile reach two thirds of the stream window, the window becomes twice
    /// that sample (and the connection window twice the stream window), up to
    /// [`max_adaptive_window`](Self::max_adaptive_window). Windows never shrink. Default
    /// on.
    pub adaptive_window: bool,
    /// The largest stream window the adaptive window grows to; it also bounds what one
    /// stream can make us buffer. At or below `initial_stream_window_size` the window
    /// stays where it starts. Default 16 MiB; at most 2^31 - 1.
    pub max_adaptive_window: u32,
    /// Largest frame payload the peer may send (`SETTINGS_MAX_FRAME_SIZE`): larger
    /// frames make bulk transfers cheaper for both ends, smaller ones interleave
    /// concurrent streams more finely. Default 49,152 (48 KiB); 16,384 ..= 16,777,215.
    pub max_frame_size: u32,
    /// Largest decoded header block the peer may send (`SETTINGS_MAX_HEADER_LIST_SIZE`),
    /// counted as RFC 9113 does: name and value lengths plus 32 octets per field. It
    /// also caps the header bytes buffered from CONTINUATION frames. Default 16 KiB;
    /// 1 KiB ..= 1 MiB.
    pub max_header_list_size: u32,
    /// HPACK dynamic table the peer's encoder may use (`SETTINGS_HEADER_TABLE_SIZE`).
    /// Default 4,096; at most 1 MiB.
    pub header_table_size: u32,
    /// Bytes one outgoing stream may queue in the connection before its producer waits.
    /// Default 400 KiB; 1 ..= 2^32 - 1.
    pub max_send_buffer_size: usize,
    /// Send a PING when nothing has arrived for this long; `None` disables keepalive.
    /// Default 60 s.
    pub keepalive_interval: Option<Duration>,
    /// Close the connection when a keepalive PING is not acknowledged within this long.
    /// Default 20 s.
    pub keepalive_timeout: Duration,
    /// How long the peer has to send its connection preface and settings (server), or
    /// to answer ours (client). Default 10 s.
    pub handshake_timeout: Duration,
    /// Rapid-reset protection (CVE-2023-44487): streams the peer opened and reset
    /// before the server accepted them that may pile up; past this the connection is
    /// closed with `ENHANCE_YOUR_CALM`. Default 20; at least 1.
    pub max_pending_accept_reset_streams: usize,
    /// Streams this side may have to reset because the peer broke the protocol on them,
    /// before the connection is closed with `ENHANCE_YOUR_CALM` (defends against floods
    /// of invalid streams). Default 1024; at least 1.
    pub max_local_error_reset_streams: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            initial_stream_window_size: DEFAULT_STREAM_WINDOW,
            initial_connection_window_size: DEFAULT_CONNECTION_WINDOW,
            adaptive_window: true,
            max_adaptive_window: DEFAULT_MAX_ADAPTIVE_WINDOW,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            header_table_size: DEFAULT_HEADER_TABLE_SIZE,
            max_send_buffer_size: DEFAULT_MAX_SEND_BUFFER_SIZE,
            keepalive_interval: Some(DEFAULT_KEEPALIVE_INTERVAL),
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_pending_accept_reset_streams: DEFAULT_MAX_PENDING_ACCEPT_RESET_STREAMS,
            max_local_error_reset_streams: DEFAULT_MAX_LOCAL_ERROR_RESET_STREAMS,
        }
    }
}

impl Settings {
    /// Checks every field against the ranges HTTP/2 and this crate accept.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSettings`] naming the first offending field and its valid range.
    pub fn validate(&self) -> Result<()> {
        check_range(
            "max_concurrent_streams",
            self.max_concurrent_streams,
            1,
            u32::MAX,
            "0 would refuse every stream",
        )?;
        check_range(
            "initial_stream_window_size",
            self.initial_stream_window_size,
            1,
            MAX_WINDOW_SIZE,
            "HTTP/2 windows are at most 2^31 - 1, and 0 would stall every body",
        )?;
        check_range(
            "initial_connection_window_size",
            self.initial_connection_window_size,
            PROTOCOL_CONNECTION_WINDOW,
            MAX_WINDOW_SIZE,
            "every connection starts at 65,535 and can only grow, up to 2^31 - 1",
        )?;
        check_range(
            "max_adaptive_window",
            self.max_adaptive_window,
            0,
            MAX_WINDOW_SIZE,
            "HTTP/2 windows are at most 2^31 - 1",
        )?;
        check_range(
            "max_frame_size",
            self.max_frame_size,
            MIN_MAX_FRAME_SIZE,
            MAX_MAX_FRAME_SIZE,
            "RFC 9113 §6.5.2 allows 16384 ..= 16777215",
        )?;
        check_range(
            "max_header_list_size",
            self.max_header_list_size,
            MIN_HEADER_LIST_LIMIT,
            MAX_HEADER_LIST_LIMIT,
            "smaller refuses ordinary requests; larger lets one stream buffer too much",
        )?;
        check_range(
            "header_table_size",
            self.header_table_size,
            0,
            MAX_HEADER_TABLE_LIMIT,
            "the HPACK table is kept per connection",
        )?;
        if self.max_send_buffer_size == 0 || u32::try_from(self.max_send_buffer_size).is_err() {
            return Err(Error::invalid_settings(
                "max_send_buffer_size",
                format!(
                    "is {}; use 1 ..= {} bytes",
                    self.max_send_buffer_size,
                    u32::MAX
                ),
            ));
        }
        if self.keepalive_interval.is_some_and(|d| d.is_zero()) {
            return Err(Error::invalid_settings(
                "keepalive_interval",
                "is zero; use a positive interval, or None to disable keepalive",
            ));
        }
        for (field, value) in [
            ("keepalive_timeout", self.keepalive_timeout),
            ("handshake_timeout", self.handshake_timeout),
        ] {
            if value.is_zero() {
                return Err(Error::invalid_settings(
                    field,
                    "is zero; every timeout needs a positive duration",
                ));
            }
        }
        for (field, value) in [
            (
                "max_pending_accept_reset_streams",
                self.max_pending_accept_reset_streams,
            ),
            (
                "max_local_error_reset_streams",
                self.max_local_error_reset_streams,
            ),
        ] {
            if value == 0 {
                return Err(Error::invalid_settings(
                    field,
                    "is 0; use at least 1 (the limit protects against reset floods)",
                ));
            }
        }
        Ok(())
    }

    /// An h2 server builder carrying these settings. Call after [`validate`](Self::validate):
    /// h2 panics on some out-of-range values.
    pub(crate) fn server_builder(&self) -> h2::server::Builder {
        let mut b = h2::server::Builder::new();
        b.max_concurrent_streams(self.max_concurrent_streams)
            .initial_window_size(self.initial_stream_window_size)
            .initial_connection_window_size(self.initial_connection_window_size)
            .max_frame_size(self.max_frame_size)
            .max_header_list_size(self.max_header_list_size)
            .header_table_size(self.header_table_size)
            .max_send_buffer_size(self.max_send_buffer_size)
            .max_pending_accept_reset_streams(self.max_pending_accept_reset_streams)
            .max_local_error_reset_streams(Some(self.max_local_error_reset_streams));
        b
    }

    /// An h2 client builder carrying these settings (server push disabled). Call after
    /// [`validate`](Self::validate).
    pub(crate) fn client_builder(&self) -> h2::client::Builder {
        let mut b = h2::client::Builder::new();
        b.enable_push(false)
            .max_concurrent_streams(self.max_concurrent_streams)
            .initial_window_size(self.initial_stream_window_size)
            .initial_connection_window_size(self.initial_connection_window_size)
            .max_frame_size(self.max_frame_size)
            .max_header_list_size(self.max_header_list_size)
            .header_table_size(self.header_table_size)
            .max_send_buffer_size(self.max_send_buffer_size)
            .max_pending_accept_reset_streams(self.max_pending_accept_reset_streams)
            .max_local_error_reset_streams(Some(self.max_local_error_reset_streams));
        b
    }
}

fn check_range(field: &'static str, value: u32, min: u32, max: u32, why: &str) -> Result<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_settings(
            field,
            format!("is {value}; use {min} ..= {max} ({why})"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(s: &Settings) -> &'static str {
        match s.validate() {
            Err(Error::InvalidSettings { field, .. }) => field,
            other => panic!("expected invalid settings, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().unwrap();
        // The builders accept the defaults without panicking.
        let _ = Settings::default().server_builder();
        let _ = Settings::default().client_builder();
    }

    #[test]
    fn default_frame_size_is_above_the_protocol_default_and_valid() {
        let s = Settings::default();
        assert_eq!(s.max_frame_size, DEFAULT_MAX_FRAME_SIZE);
        assert!(s.max_frame_size > MIN_MAX_FRAME_SIZE);
        s.validate().unwrap();
    }

    #[test]
    fn frame_size_bounds_are_the_rfc_ones() {
        let mut s = Settings::default();
        for ok in [MIN_MAX_FRAME_SIZE, 65_536, MAX_MAX_FRAME_SIZE] {
            s.max_frame_size = ok;
            s.validate().unwrap();
        }
        for bad in [0, MIN_MAX_FRAME_SIZE - 1, MAX_MAX_FRAME_SIZE + 1, u32::MAX] {
            s.max_frame_size = bad;
            assert_eq!(field_of(&s), "max_frame_size");
        }
        let msg = s.validate().unwrap_err().to_string();
        assert!(msg.contains("16384 ..= 16777215"), "{msg}");
    }

    #[test]
    fn window_bounds() {
        let mut s = Settings {
            initial_stream_window_size: MAX_WINDOW_SIZE + 1,
            ..Settings::default()
        };
        assert_eq!(field_of(&s), "initial_stream_window_size");
        s.initial_stream_window_size = 0;
        assert_eq!(field_of(&s), "initial_stream_window_size");
        s.initial_stream_window_size = MAX_WINDOW_SIZE;
        s.validate().unwrap();
        s.initial_connection_window_size = PROTOCOL_CONNECTION_WINDOW - 1;
        assert_eq!(field_of(&s), "initial_connection_window_size");
        s.initial_connection_window_size = MAX_WINDOW_SIZE + 1;
        assert_eq!(field_of(&s), "initial_connection_window_size");
    }

    #[test]
    fn the_adaptive_limit_is_a_window() {
        let mut s = Settings {
            max_adaptive_window: MAX_WINDOW_SIZE + 1,
            ..Settings::default()
        };
        assert_eq!(field_of(&s), "max_adaptive_window");
        // Below the initial window is allowed: the window just never grows.
        s.max_adaptive_window = 0;
        s.validate().unwrap();
        s.max_adaptive_window = MAX_WINDOW_SIZE;
        s.validate().unwrap();
    }

    #[test]
    fn every_other_field_is_checked() {
        type Mutate = fn(&mut Settings);
        let cases: [(&str, Mutate); 10] = [
            ("max_concurrent_streams", |s| s.max_concurrent_streams = 0),
            ("max_header_list_size", |s| s.max_header_list_size = 10),
            ("max_header_list_size", |s| {
                s.max_header_list_size = MAX_HEADER_LIST_LIMIT + 1;
            }),
            ("header_table_size", |s| {
                s.header_table_size = MAX_HEADER_TABLE_LIMIT + 1;
            }),
            ("max_send_buffer_size", |s| s.max_send_buffer_size = 0),
            ("keepalive_interval", |s| {
                s.keepalive_interval = Some(Duration::ZERO);
            }),
            ("keepalive_timeout", |s| {
                s.keepalive_timeout = Duration::ZERO
            }),
            ("handshake_timeout", |s| {
                s.handshake_timeout = Duration::ZERO
            }),
            ("max_pending_accept_reset_streams", |s| {
                s.max_pending_accept_reset_streams = 0;
            }),
            ("max_local_error_reset_streams", |s| {
                s.max_local_error_reset_streams = 0;
            }),
        ];
        for (field, mutate) in cases {
            let mut s = Settings::default();
            mutate(&mut s);
            assert_eq!(field_of(&s), field);
        }
        let s = Settings {
            keepalive_interval: None,
            header_table_size: 0,
            ..Settings::default()
        };
        s.validate().unwrap();
    }
}
