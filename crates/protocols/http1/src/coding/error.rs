//! [`DecodeError`]: why a content-decoded body could not be read.

use std::{fmt, io};

/// Why a [`Decoding`](super::Decoding) body could not be read further.
///
/// Protocol crates turn it into their own error: ghostnet-http1's client into
/// `Error::Decompress` / `Error::DecompressionBomb` (and the body's error as it is).
#[derive(Debug)]
#[non_exhaustive]
pub enum DecodeError<E> {
    /// The encoded body itself failed (a timeout, a truncated body, a reset stream).
    Body(E),
    /// The bytes are not valid in their coding (corrupt or cut short).
    Corrupt {
        /// The content coding.
        encoding: &'static str,
        /// The decoder's error.
        source: io::Error,
    },
    /// The body decoded to far more bytes than arrived: a decompression bomb.
    Bomb {
        /// The content coding.
        encoding: &'static str,
        /// Encoded bytes read when it was stopped.
        wire: u64,
        /// Decoded bytes produced when it was stopped.
        decoded: u64,
    },
}

impl<E: fmt::Display> fmt::Display for DecodeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Body(e) => e.fmt(f),
            Self::Corrupt { encoding, source } => {
                write!(f, "the {encoding}-encoded body is corrupt: {source}")
            }
            Self::Bomb {
                encoding,
                wire,
                decoded,
            } => write!(
                f,
                "the {encoding}-encoded body expanded from {wire} to over {decoded} bytes, past the decompression limit"
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for DecodeError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Body(e) => Some(e),
            Self::Corrupt { source, .. } => Some(source),
            Self::Bomb { .. } => None,
        }
    }
}
