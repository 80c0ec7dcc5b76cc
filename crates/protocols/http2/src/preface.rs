//! The client connection preface (RFC 9113 §3.4): read and checked before h2 starts, so
//! a peer that does not speak HTTP/2 gets a GOAWAY with `PROTOCOL_ERROR` instead of
//! silence, and a clear error comes back.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};

/// The 24 bytes every HTTP/2 client sends first. A server that also speaks HTTP/1.1
/// can compare a connection's first bytes with it to pick the protocol.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The size of a frame header (RFC 9113 §4.1).
pub(crate) const FRAME_HEAD: usize = 9;
const SETTINGS: u8 = 0x4;
const ACK: u8 = 0x1;

/// Reads the preface and the header of the client's first frame from `io`, and returns
/// that header (to be replayed to h2). Stops at the first byte that differs from the
/// preface, so an HTTP/1.1 request shorter than 24 bytes is refused at once instead of
/// waiting for more.
///
/// The first frame must be a SETTINGS frame without ACK on stream 0: h2 does not check
/// that part of the preface itself. On a mismatch, writes an empty SETTINGS frame (the
/// server preface) and a GOAWAY with `PROTOCOL_ERROR`, then returns
/// [`Error::InvalidPreface`].
pub(crate) async fn read<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
) -> Result<[u8; FRAME_HEAD]> {
    let mut buf = [0u8; PREFACE.len() + FRAME_HEAD];
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
        let preface_part = have.min(PREFACE.len());
        if buf[..preface_part] != PREFACE[..preface_part] {
            return Err(refuse(io, b"invalid connection preface").await);
        }
    }
    let mut head = [0u8; FRAME_HEAD];
    head.copy_from_slice(&buf[PREFACE.len()..]);
    let first_is_settings = head[3] == SETTINGS && head[4] & ACK == 0 && head[5..] == [0; 4];
    if !first_is_settings {
        return Err(refuse(io, b"the first frame must be SETTINGS").await);
    }
    Ok(head)
}

/// Sends SETTINGS (empty) + GOAWAY(last stream 0, PROTOCOL_ERROR, `debug`) and closes.
async fn refuse<S: AsyncWrite + Unpin>(io: &mut S, debug: &[u8]) -> Error {
    let mut out = vec![0, 0, 0, SETTINGS, 0, 0, 0, 0, 0];
    let len = 8 + debug.len();
    out.extend_from_slice(&[0, (len >> 8) as u8, len as u8, 0x7, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&u32::from(h2::Reason::PROTOCOL_ERROR).to_be_bytes());
    out.extend_from_slice(debug);
    // Best effort: the peer may not even read it.
    let _ = io.write_all(&out).await;
    let _ = io.shutdown().await;
    Error::InvalidPreface
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
            b.write_all(&[0, 0, 6, 4, 0, 0, 0, 0, 0]).await.unwrap();
            b
        });
        assert_eq!(read(&mut a).await.unwrap(), [0, 0, 6, 4, 0, 0, 0, 0, 0]);
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
        assert_eq!(&got[26..], b"invalid connection preface");
    }

    #[tokio::test]
    async fn refuses_a_first_frame_other_than_settings() {
        for head in [
            [0, 0, 8, 6, 0, 0, 0, 0, 0], // PING
            [0, 0, 0, 4, 1, 0, 0, 0, 0], // SETTINGS ACK
            [0, 0, 0, 4, 0, 0, 0, 0, 1], // SETTINGS on stream 1
        ] {
            let (mut a, mut b) = tokio::io::duplex(256);
            b.write_all(PREFACE).await.unwrap();
            b.write_all(&head).await.unwrap();
            assert!(matches!(read(&mut a).await, Err(Error::InvalidPreface)));
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            assert_eq!(&got[22..26], &[0, 0, 0, 1], "PROTOCOL_ERROR");
        }
    }

    #[tokio::test]
    async fn eof_before_anything_is_a_plain_close() {
        let (mut a, b) = tokio::io::duplex(64);
        drop(b);
        assert!(matches!(read(&mut a).await, Err(Error::ConnectionClosed)));
    }
}
