//! The sans-IO HTTP/1.1 codec: state machines fed bytes, no I/O and no runtime inside,
//! so raw-byte tests and fuzzing are cheap. The server drives it from a thin tokio task;
//! a client reuses the response side ([`ResponseDecoder`], [`parse_response_head`]) and
//! the body framing ([`BodyDecoder`]).
//!
//! - Heads: [`parse_request_head`], [`parse_response_head`] (httparse tokenizes; the
//!   checks that close request-smuggling doors are ours).
//! - Bodies: [`BodyLength`] decides the framing, [`BodyDecoder`] decodes it.
//! - Streams of messages: [`RequestDecoder`], [`ResponseDecoder`] yield [`Event`]s.
//! - Output: [`encode_response_head`] and [`BodyEncoder`].

mod body_decoder;
pub(crate) mod body_length;
pub(crate) mod chunked;
pub(crate) mod head;
mod limits;
mod message;
pub(crate) mod request_head;
mod response_encoder;
pub(crate) mod response_head;

pub use body_decoder::{BodyDecoder, Decoded};
pub use body_length::{
    BodyLength, request_body_length, response_body_length, response_has_no_content,
};
pub use limits::{
    DEFAULT_MAX_BUFFERED_BODY_BYTES, DEFAULT_MAX_CHUNK_EXTENSION_BYTES, DEFAULT_MAX_HEAD_BYTES,
    DEFAULT_MAX_HEADERS, DEFAULT_MAX_TRAILER_BYTES, DEFAULT_MAX_URI_BYTES, Limits,
};
pub use message::{Event, RequestDecoder, ResponseDecoder};
pub use request_head::{RequestHead, parse_request_head};
pub use response_encoder::{BodyEncoder, EncodeContext, EncodedHead, encode_response_head};
pub use response_head::{ResponseHead, parse_response_head};
