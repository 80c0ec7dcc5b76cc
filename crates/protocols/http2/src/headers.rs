//! Header fixes shared by the server and the client before h2 sees a message.

use http::HeaderMap;
use http::header::{
    CONNECTION, CONTENT_LENGTH, HeaderName, HeaderValue, TE, TRANSFER_ENCODING, UPGRADE,
};

/// Removes connection-specific fields, which HTTP/2 forbids (RFC 9113 §8.2.2) and h2
/// refuses to send: `Connection` and the fields it names, `Keep-Alive`,
/// `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, and `TE` other than `trailers`.
/// Code written for HTTP/1.1 sets them freely; dropping them is what the peer would do.
pub(crate) fn strip_connection_specific(headers: &mut HeaderMap) {
    // Almost no message has any of them: one pass over the names (a few enum compares
    // each) is much cheaper than six hashed lookups and removals.
    if !headers.keys().any(is_connection_specific) {
        return;
    }
    if headers.contains_key(CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
            .collect();
        for name in named {
            if name != TE {
                headers.remove(name);
            }
        }
        headers.remove(CONNECTION);
    }
    headers.remove(TRANSFER_ENCODING);
    headers.remove(UPGRADE);
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    if headers
        .get_all(TE)
        .iter()
        .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"trailers"))
    {
        headers.remove(TE);
    }
}

fn is_connection_specific(name: &HeaderName) -> bool {
    name == CONNECTION
        || name == TRANSFER_ENCODING
        || name == UPGRADE
        || name == TE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// Sets `Content-Length` from a known body length when the message has none, so the
/// peer can size its buffers and see truncation.
pub(crate) fn set_content_length(headers: &mut HeaderMap, len: Option<u64>) {
    if let Some(len) = len
        && !headers.contains_key(CONTENT_LENGTH)
    {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_what_http2_forbids() {
        let mut h = HeaderMap::new();
        h.insert(CONNECTION, "keep-alive, x-hop".parse().unwrap());
        h.insert("x-hop", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert(TRANSFER_ENCODING, "chunked".parse().unwrap());
        h.insert(UPGRADE, "h2c".parse().unwrap());
        h.insert("proxy-connection", "close".parse().unwrap());
        h.insert(TE, "gzip".parse().unwrap());
        h.insert("x-keep", "yes".parse().unwrap());
        strip_connection_specific(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h["x-keep"], "yes");

        let mut h = HeaderMap::new();
        h.insert(TE, "trailers".parse().unwrap());
        strip_connection_specific(&mut h);
        assert_eq!(h[TE], "trailers");

        // Each one alone is found by the fast check.
        for name in [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ] {
            let mut h = HeaderMap::new();
            h.insert(HeaderName::from_static(name), "x".parse().unwrap());
            h.insert("x-other", "1".parse().unwrap());
            strip_connection_specific(&mut h);
            assert_eq!(h.len(), 1, "{name} kept");
        }
    }

    #[test]
    fn content_length_only_when_missing() {
        let mut h = HeaderMap::new();
        set_content_length(&mut h, Some(5));
        assert_eq!(h[CONTENT_LENGTH], "5");
        set_content_length(&mut h, Some(7));
        assert_eq!(h[CONTENT_LENGTH], "5");
        let mut h = HeaderMap::new();
        set_content_length(&mut h, None);
        assert!(h.is_empty());
    }
}
