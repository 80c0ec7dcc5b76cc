//! Arbitrary bytes through the request side of the HTTP/1.1 codec: the decoder (heads,
//! Content-Length, chunked bodies with extensions and trailers), fed in pieces whose
//! sizes come from the input, then the response encoder for each parsed head.
//! Invariants: no panic, bodies match their declared length, input is only consumed.
#![no_main]

use ghostnet_http1::bytes::BytesMut;
use ghostnet_http1::codec::{
    BodyEncoder, BodyLength, EncodeContext, Event, RequestDecoder, encode_response_head,
};
use ghostnet_http1::http::{HeaderMap, StatusCode};
use ghostnet_http1::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    // Small limits so that limit paths are reached too.
    let limits = Limits::default()
        .max_headers(16)
        .max_head_bytes(4096)
        .max_uri_bytes(512)
        .max_chunk_extension_bytes(64)
        .max_trailer_bytes(256);
    let mut dec = RequestDecoder::new(limits);
    let mut buf = BytesMut::new();
    let step = usize::from(step % 64) + 1;
    let mut declared: Option<u64> = None;
    let mut received: u64 = 0;
    let mut out = Vec::new();
    for piece in input.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            let event = match dec.decode(&mut buf) {
                Ok(e) => e,
                Err(e) => {
                    let _ = (e.to_string(), e.status());
                    return;
                }
            };
            assert!(buf.len() <= before, "decoder grew the buffer");
            match event {
                Event::Head(head) => {
                    declared = match head.body {
                        BodyLength::Length(n) => Some(n),
                        BodyLength::Empty => Some(0),
                        _ => None,
                    };
                    received = 0;
                    let ctx = EncodeContext::new()
                        .head_request(head.method == "HEAD")
                        .request_version(head.version)
                        .keep_alive(head.keep_alive)
                        .body_len(Some(3));
                    out.clear();
                    let status = StatusCode::from_u16(200 + (step as u16 % 300)).unwrap();
                    if let Ok(enc) = encode_response_head(&mut out, status, &head.headers, &ctx) {
                        let mut body = enc.body;
                        if body != BodyEncoder::None {
                            body.encode(&mut out, b"abc").unwrap();
                            body.finish(&mut out, None).unwrap();
                        }
                    }
                    if head.upgrade {
                        return; // the rest belongs to another protocol
                    }
                }
                Event::Data(d) => received += d.len() as u64,
                Event::Trailers(t) => {
                    assert!(!t.contains_key("content-length"));
                    let _ = HeaderMap::clone(&t);
                }
                Event::End => {
                    if let Some(n) = declared.take() {
                        assert_eq!(received, n, "body length differs from content-length");
                    }
                }
                Event::NeedMore => break,
            }
        }
    }
    let _ = dec.decode_eof(&buf);
});
