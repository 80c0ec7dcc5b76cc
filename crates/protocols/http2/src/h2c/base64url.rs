//! base64url decoding (RFC 4648 §5) for the `HTTP2-Settings` header, which RFC 9113's
//! predecessor (RFC 7540 §3.2.1) defines as base64url with the padding omitted.

/// Decodes `input`; trailing `=` padding is tolerated. `None` on any other character
/// outside the base64url alphabet, or an impossible length.
pub(super) fn decode(input: &[u8]) -> Option<Vec<u8>> {
    let input = match input.iter().position(|&c| c == b'=') {
        Some(pad) if input[pad..].iter().all(|&c| c == b'=') && input.len() - pad <= 2 => {
            &input[..pad]
        }
        Some(_) => return None,
        None => input,
    };
    if input.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in input {
        acc = (acc << 6) | u32::from(value(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero in a canonical encoding.
    (acc == 0).then_some(out)
}

fn value(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn rfc4648_vectors_in_url_alphabet() {
        let cases: [(&str, &[u8]); 7] = [
            ("", b""),
            ("Zg", b"f"),
            ("Zm8", b"fo"),
            ("Zm9v", b"foo"),
            ("Zm9vYg", b"foob"),
            ("Zm9vYmE=", b"fooba"),
            ("Zm9vYmFy", b"foobar"),
        ];
        for (enc, dec) in cases {
            assert_eq!(decode(enc.as_bytes()).as_deref(), Some(dec), "{enc}");
        }
        assert_eq!(decode(b"-_8").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["Z", "Zm9v!", "Zm+v", "Zm/v", "Zh", "Zm=9", "Zm9vY==="] {
            assert!(decode(bad.as_bytes()).is_none(), "{bad}");
        }
    }
}
