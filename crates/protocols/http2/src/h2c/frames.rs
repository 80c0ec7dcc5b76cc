//! The two frames that stand in for the HTTP/1.1 upgrade request, so h2 sees the state
//! RFC 9113 §3.2 (RFC 7540 §3.2) describes: the client's settings from `HTTP2-Settings`
//! applied, and stream 1 open and half-closed by the client.
//!
//! h2 has no API for an upgraded connection, so these are fed to it as if the client
//! had sent them right after its preface. The header block uses only HPACK literals
//! "without indexing" (RFC 7541 §6.2.2), which leave the decoder's dynamic table
//! untouched: the client's own later header blocks decode exactly as it encoded them.

use bytes::{BufMut, BytesMut};

const SETTINGS: u8 = 0x4;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
/// Every HTTP/2 endpoint accepts frames this large (the protocol minimum).
const MAX_FRAME: usize = 16_384;

/// A SETTINGS frame with `payload` (already checked to be whole 6-byte entries).
pub(super) fn settings(out: &mut BytesMut, payload: &[u8]) {
    head(out, payload.len(), SETTINGS, 0, 0);
    out.put_slice(payload);
}

/// HEADERS (+ CONTINUATION as needed) on stream 1 with END_STREAM, carrying `fields`
/// in order, as HPACK literals without indexing.
pub(super) fn request_headers(out: &mut BytesMut, fields: &[(&[u8], &[u8])]) {
    let mut block = BytesMut::new();
    for (name, value) in fields {
        block.put_u8(0x00); // literal without indexing, new name
        string(&mut block, name);
        string(&mut block, value);
    }
    let mut chunks = block.chunks(MAX_FRAME).peekable();
    let mut first = true;
    // An empty block still needs its HEADERS frame.
    if chunks.peek().is_none() {
        head(out, 0, HEADERS, END_STREAM | END_HEADERS, 1);
        return;
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let (kind, mut flags) = if first {
            (HEADERS, END_STREAM)
        } else {
            (CONTINUATION, 0)
        };
        if last {
            flags |= END_HEADERS;
        }
        head(out, chunk.len(), kind, flags, 1);
        out.put_slice(chunk);
        first = false;
    }
}

fn head(out: &mut BytesMut, len: usize, kind: u8, flags: u8, stream: u32) {
    debug_assert!(len <= MAX_FRAME);
    out.put_uint(len as u64, 3);
    out.put_u8(kind);
    out.put_u8(flags);
    out.put_u32(stream);
}

/// An HPACK string literal, not Huffman-coded (RFC 7541 §5.2).
fn string(out: &mut BytesMut, s: &[u8]) {
    integer(out, s.len(), 7, 0x00);
    out.put_slice(s);
}

/// An HPACK integer with an `n`-bit prefix (RFC 7541 §5.1).
fn integer(out: &mut BytesMut, mut value: usize, n: u32, flags: u8) {
    let max = (1usize << n) - 1;
    if value < max {
        out.put_u8(flags | value as u8);
        return;
    }
    out.put_u8(flags | max as u8);
    value -= max;
    while value >= 128 {
        out.put_u8((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.put_u8(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_rfc7541_examples() {
        let mut b = BytesMut::new();
        integer(&mut b, 10, 5, 0);
        assert_eq!(&b[..], [10]);
        let mut b = BytesMut::new();
        integer(&mut b, 1337, 5, 0);
        assert_eq!(&b[..], [31, 154, 10]);
        let mut b = BytesMut::new();
        integer(&mut b, 127, 7, 0);
        assert_eq!(&b[..], [127, 0]);
    }

    #[test]
    fn small_request_is_one_headers_frame() {
        let mut b = BytesMut::new();
        request_headers(&mut b, &[(b":method", b"GET"), (b":path", b"/")]);
        assert_eq!(b[3], HEADERS);
        assert_eq!(b[4], END_STREAM | END_HEADERS);
        assert_eq!(&b[5..9], [0, 0, 0, 1]);
        let len = usize::from(b[1]) << 8 | usize::from(b[2]);
        assert_eq!(len, b.len() - 9);
        assert_eq!(&b[9..19], b"\x00\x07:method\x03");
    }

    #[test]
    fn large_request_continues() {
        let long = vec![b'a'; 40_000];
        let mut b = BytesMut::new();
        request_headers(&mut b, &[(b":path", &long)]);
        let mut kinds = Vec::new();
        let mut rest = &b[..];
        while !rest.is_empty() {
            let len =
                (usize::from(rest[0]) << 16) | (usize::from(rest[1]) << 8) | usize::from(rest[2]);
            assert!(len <= MAX_FRAME);
            kinds.push((rest[3], rest[4]));
            rest = &rest[9 + len..];
        }
        assert_eq!(
            kinds,
            [
                (HEADERS, END_STREAM),
                (CONTINUATION, 0),
                (CONTINUATION, END_HEADERS)
            ]
        );
    }
}
