//! The client connection preface (RFC 9113 §3.4): read and checked before h2 starts, so
//! a peer that does not speak HTTP/2 gets a GOAWAY with `PROTOCOL_ERROR` instead of
//! silence, and a clear error comes back.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};

/// The 24 bytes every HTTP/2 client sends first. A server that also speaks HTTP/1.1
/// can compare a connection's first bytes with it to pick the protocol.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const GOAWAY_DEBUG: &[u8] = b"invalid connection preface";

/// Reads the preface from `io`. Stops at the first byte that differs, so an HTTP/1.1
/// request shorter than 24 bytes is refused at once instead of waiting for more.
///
/// On a mismatch, writes an empty SETTINGS frame (the server preface) and a GOAWAY with
/// `PROTOCOL_ERROR`, then returns [`Error::InvalidPreface`].
pub(crate) async fn read<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) -> Result<()> {
    let mut buf = [0u8; PREFACE.len()];
    let mut have = 0;
    while have < buf.len() {
        let n = io.read(&mut buf[have..]).await?;
        if n == 0 {
            return Err(if have == 0 {
                Error::ConnectionClosed
            } else {
                Error::InvalidPreface
            });
        }
        have += n;
        if buf[..have] != PREFACE[..have] {
            // Best effort: the peer may not even read it.
            let _ = io.write_all(&refusal()).await;
            let _ = io.shutdown().await;
            return Err(Error::InvalidPreface);
        }
    }
    Ok(())
}

/// SETTINGS (empty) + GOAWAY(last stream 0, PROTOCOL_ERROR, debug text).
fn refusal() -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x4, 0, 0, 0, 0, 0];
    let len = 8 + GOAWAY_DEBUG.len();
    out.extend_from_slice(&[0, (len >> 8) as u8, len as u8, 0x7, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&u32::from(h2::Reason::PROTOCOL_ERROR).to_be_bytes());
    out.extend_from_slice(GOAWAY_DEBUG);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepts_the_preface_in_pieces() {
        let (mut a, mut b) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            b.write_all(&PREFACE[..5]).await.unwrap();
            tokio::task::yield_now().await;
            b.write_all(&PREFACE[5..]).await.unwrap();
            b
        });
        read(&mut a).await.unwrap();
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn refuses_http1_at_the_first_line() {
        let (mut a, mut b) = tokio::io::duplex(256);
        // Shorter than the preface: must not wait for 24 bytes.
        b.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        assert!(matches!(read(&mut a).await, Err(Error::InvalidPreface)));
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(&got[..9], &[0, 0, 0, 4, 0, 0, 0, 0, 0], "SETTINGS first");
        assert_eq!(got[12], 0x7, "then GOAWAY");
        assert_eq!(&got[18..22], &[0, 0, 0, 0], "last stream 0");
        assert_eq!(&got[22..26], &[0, 0, 0, 1], "PROTOCOL_ERROR");
        assert_eq!(&got[26..], GOAWAY_DEBUG);
    }

    #[tokio::test]
    async fn eof_before_anything_is_a_plain_close() {
        let (mut a, b) = tokio::io::duplex(64);
        drop(b);
        assert!(matches!(read(&mut a).await, Err(Error::ConnectionClosed)));
    }
}
