//! What travels over a WebSocket: [`Message`], and the close frame's parts.
//!
//! Our own enum rather than tungstenite's: it has no raw-frame variant (framing is
//! tungstenite's business, not the application's), and tungstenite can change without
//! changing this API. Conversions move the payload; nothing is copied.

use std::fmt;

use bytes::Bytes;
use tokio_tungstenite::tungstenite;

/// UTF-8 text in a [`Bytes`] buffer: the payload of [`Message::Text`]. Cheap to clone.
pub use tungstenite::Utf8Bytes;
/// A close frame's code and reason.
pub use tungstenite::protocol::CloseFrame;
/// A close code (RFC 6455 section 7.4), e.g. [`CloseCode::Normal`] (1000) or
/// [`CloseCode::Away`] (1001). `CloseCode::from(4000)` makes an application code.
pub use tungstenite::protocol::frame::coding::CloseCode;

/// One WebSocket message. Fragmented messages arrive whole (up to
/// [`Config::max_message_size`](crate::Config::max_message_size)); pings are answered
/// by the connection itself and also handed to the reader.
///
/// ```
/// use ghostnet_ws::{CloseCode, Message};
///
/// let text = Message::from("hello");
/// assert_eq!(text.as_text(), Some("hello"));
/// let bin = Message::from(vec![1u8, 2, 3]);
/// assert_eq!(bin.len(), 3);
/// let bye = Message::close(CloseCode::Normal, "done");
/// assert!(bye.is_close());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8, checked on receipt.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 bytes). A pong with the same payload is sent automatically.
    Ping(Bytes),
    /// A pong (at most 125 bytes).
    Pong(Bytes),
    /// The peer started or answered the close handshake, or this side sends one.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Self::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::Binary(data.into())
    }

    /// A close message with a code and a reason (at most 123 bytes of UTF-8).
    pub fn close(code: CloseCode, reason: impl Into<Utf8Bytes>) -> Self {
        Self::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    }

    /// Payload length in bytes (for a close message, code and reason).
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b.len(),
            Self::Close(Some(c)) => 2 + c.reason.len(),
            Self::Close(None) => 0,
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// Whether this is a text or binary message (not a control message).
    pub fn is_data(&self) -> bool {
        matches!(self, Self::Text(_) | Self::Binary(_))
    }

    /// Whether this is a close message.
    pub fn is_close(&self) -> bool {
        matches!(self, Self::Close(_))
    }

    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }

    /// The payload as bytes (text as its UTF-8, a close message as its reason).
    pub fn into_data(self) -> Bytes {
        match self {
            Self::Text(t) => t.into(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Close(Some(c)) => c.reason.into(),
            Self::Close(None) => Bytes::new(),
        }
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Self::Text(s.into())
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Self::Text(s.into())
    }
}

impl From<Utf8Bytes> for Message {
    fn from(s: Utf8Bytes) -> Self {
        Self::Text(s)
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Self::Binary(b)
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Self::Binary(b.into())
    }
}

impl From<&[u8]> for Message {
    fn from(b: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(b))
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => write!(f, "text ({} bytes)", t.len()),
            Self::Binary(b) => write!(f, "binary ({} bytes)", b.len()),
            Self::Ping(b) => write!(f, "ping ({} bytes)", b.len()),
            Self::Pong(b) => write!(f, "pong ({} bytes)", b.len()),
            Self::Close(Some(c)) if c.reason.is_empty() => write!(f, "close ({})", c.code),
            Self::Close(Some(c)) => write!(f, "close ({}: {})", c.code, c.reason),
            Self::Close(None) => write!(f, "close"),
        }
    }
}

impl From<Message> for tungstenite::Message {
    fn from(m: Message) -> Self {
        match m {
            Message::Text(t) => Self::Text(t),
            Message::Binary(b) => Self::Binary(b),
            Message::Ping(b) => Self::Ping(b),
            Message::Pong(b) => Self::Pong(b),
            Message::Close(c) => Self::Close(c),
        }
    }
}

/// tungstenite's reader never yields raw frames; should one appear, it is handed over
/// as binary rather than dropped.
impl From<tungstenite::Message> for Message {
    fn from(m: tungstenite::Message) -> Self {
        match m {
            tungstenite::Message::Text(t) => Self::Text(t),
            tungstenite::Message::Binary(b) => Self::Binary(b),
            tungstenite::Message::Ping(b) => Self::Ping(b),
            tungstenite::Message::Pong(b) => Self::Pong(b),
            tungstenite::Message::Close(c) => Self::Close(c),
            tungstenite::Message::Frame(f) => Self::Binary(f.into_payload()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_payloads() {
        let cases = [
            Message::from("héllo"),
            Message::from(vec![0u8, 255]),
            Message::Ping(Bytes::from_static(b"p")),
            Message::Pong(Bytes::new()),
            Message::close(CloseCode::Away, "bye"),
            Message::Close(None),
        ];
        for m in cases {
            let back = Message::from(tungstenite::Message::from(m.clone()));
            assert_eq!(back, m);
        }
    }

    #[test]
    fn lengths_and_accessors() {
        assert_eq!(Message::from("héllo").len(), 6);
        assert_eq!(Message::close(CloseCode::Normal, "ok").len(), 4);
        assert!(Message::Close(None).is_empty());
        assert!(Message::from(&b"x"[..]).is_binary());
        assert!(!Message::Ping(Bytes::new()).is_data());
        assert_eq!(Message::from("a").into_data(), Bytes::from_static(b"a"));
        assert_eq!(
            Message::close(CloseCode::Normal, "r").to_string(),
            "close (1000: r)"
        );
    }
}
