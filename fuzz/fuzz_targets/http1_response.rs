//! Arbitrary bytes through the response side of the HTTP/1.1 codec (what a client
//! reuses): heads for GET, HEAD or CONNECT, every body framing including close-delimited,
//! fed in pieces, then end of input. Invariants: no panic, Content-Length bodies are
//! exact, HEAD responses have no body.
#![no_main]

use ghostnet_http1::bytes::BytesMut;
use ghostnet_http1::codec::{BodyLength, Event, ResponseDecoder};
use ghostnet_http1::http::Method;
use ghostnet_http1::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, input)) = data.split_first() else {
        return;
    };
    let method = match ctl % 3 {
        0 => Method::GET,
        1 => Method::HEAD,
        _ => Method::CONNECT,
    };
    let limits = Limits::default()
        .max_headers(16)
        .max_head_bytes(4096)
        .max_chunk_extension_bytes(64)
        .max_trailer_bytes(256);
    let mut dec = ResponseDecoder::new(limits);
    dec.expect(method.clone());
    let mut buf = BytesMut::new();
    let step = usize::from(ctl / 3 % 64) + 1;
    let mut declared: Option<u64> = None;
    let mut received: u64 = 0;
    for piece in input.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match dec.decode(&mut buf) {
                Err(e) => {
                    let _ = e.to_string();
                    return;
                }
                Ok(Event::Head(head)) => {
                    if method == Method::HEAD {
                        assert_eq!(head.body, BodyLength::Empty);
                    }
                    declared = head.body.exact();
                    received = 0;
                }
                Ok(Event::Data(d)) => received += d.len() as u64,
                Ok(Event::Trailers(_)) => {}
                Ok(Event::End) => {
                    if let Some(n) = declared.take() {
                        assert_eq!(received, n);
                    }
                }
                Ok(Event::NeedMore) => break,
            }
        }
    }
    let _ = dec.decode_eof(&buf);
});
