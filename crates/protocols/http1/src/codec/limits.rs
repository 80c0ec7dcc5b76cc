//! Size limits the codec enforces while parsing, with their defaults.

/// Default for [`Limits::max_headers`].
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Default for [`Limits::max_head_bytes`]: 64 KiB.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 64 * 1024;
/// Default for [`Limits::max_uri_bytes`]: 8 KiB.
pub const DEFAULT_MAX_URI_BYTES: usize = 8 * 1024;
/// Default for [`Limits::max_chunk_extension_bytes`]: 16 KiB per message.
pub const DEFAULT_MAX_CHUNK_EXTENSION_BYTES: usize = 16 * 1024;
/// Default for [`Limits::max_trailer_bytes`]: 16 KiB.
pub const DEFAULT_MAX_TRAILER_BYTES: usize = 16 * 1024;
/// Default for [`Limits::max_buffered_body_bytes`]: 2 MiB.
pub const DEFAULT_MAX_BUFFERED_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// Hard cap on the header slots parsed at once, whatever [`Limits::max_headers`] says:
/// the slots live on the stack while parsing.
pub(crate) const HEADER_SLOTS: usize = 256;

/// How much a peer may make the codec hold or parse. Every limit has a default; a message
/// over a limit is refused with a specific [`Error`](crate::Error) (and a 413, 414 or 431
/// response from the server).
///
/// ```
/// use ghostnet_http1::Limits;
///
/// let limits = Limits::default().max_headers(50).max_body_bytes(Some(10 << 20));
/// assert_eq!(limits.max_headers, 50);
/// assert_eq!(limits.max_head_bytes, 64 * 1024);
/// assert_eq!(limits.max_body_bytes, Some(10 << 20));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Header fields in one head (default 100, at most 256). Over it: 431.
    pub max_headers: usize,
    /// Bytes of a whole head: start line, fields and the blank line (default 64 KiB).
    /// Over it: 431.
    pub max_head_bytes: usize,
    /// Bytes of the request target (default 8 KiB). Over it: 414.
    pub max_uri_bytes: usize,
    /// Bytes of chunk extensions summed over one chunked message (default 16 KiB). They
    /// carry no meaning here, so they are only a way to waste our time. Over it: 400.
    pub max_chunk_extension_bytes: usize,
    /// Bytes of the trailer section of a chunked message (default 16 KiB). Over it: 400.
    pub max_trailer_bytes: usize,
    /// Largest body a handler may buffer whole with
    /// [`Body::collect`](crate::Body::collect) (default 2 MiB); a handler can set another
    /// per route with [`Body::with_limit`](crate::Body::with_limit). Over it: 413.
    pub max_buffered_body_bytes: u64,
    /// Largest request body at all, streamed or not (default `None`: unbounded, the
    /// handler decides). A `Content-Length` over it is refused before the handler runs.
    /// Over it: 413.
    pub max_body_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_headers: DEFAULT_MAX_HEADERS,
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_chunk_extension_bytes: DEFAULT_MAX_CHUNK_EXTENSION_BYTES,
            max_trailer_bytes: DEFAULT_MAX_TRAILER_BYTES,
            max_buffered_body_bytes: DEFAULT_MAX_BUFFERED_BODY_BYTES,
            max_body_bytes: None,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_headers`] (clamped to 1..=256).
    pub fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = n.clamp(1, HEADER_SLOTS);
        self
    }

    /// Sets [`Limits::max_head_bytes`].
    pub fn max_head_bytes(mut self, n: usize) -> Self {
        self.max_head_bytes = n;
        self
    }

    /// Sets [`Limits::max_uri_bytes`].
    pub fn max_uri_bytes(mut self, n: usize) -> Self {
        self.max_uri_bytes = n;
        self
    }

    /// Sets [`Limits::max_chunk_extension_bytes`].
    pub fn max_chunk_extension_bytes(mut self, n: usize) -> Self {
        self.max_chunk_extension_bytes = n;
        self
    }

    /// Sets [`Limits::max_trailer_bytes`].
    pub fn max_trailer_bytes(mut self, n: usize) -> Self {
        self.max_trailer_bytes = n;
        self
    }

    /// Sets [`Limits::max_buffered_body_bytes`].
    pub fn max_buffered_body_bytes(mut self, n: u64) -> Self {
        self.max_buffered_body_bytes = n;
        self
    }

    /// Sets [`Limits::max_body_bytes`].
    pub fn max_body_bytes(mut self, n: Option<u64>) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Header slots to parse with: the limit, within the stack array's size.
    pub(crate) fn header_slots(&self) -> usize {
        self.max_headers.clamp(1, HEADER_SLOTS)
    }
}
