//! The server's half of the opening handshake (RFC 6455 section 4.2), sans-IO: a request
//! head in, the accept key and chosen subprotocol (or the reason to refuse) out.

use http::header::{CONNECTION, HeaderMap, HeaderName, UPGRADE};
use http::{Method, Version};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::error::{Error, Result};

pub(crate) const SEC_WEBSOCKET_KEY: HeaderName = HeaderName::from_static("sec-websocket-key");
pub(crate) const SEC_WEBSOCKET_VERSION: HeaderName =
    HeaderName::from_static("sec-websocket-version");
pub(crate) const SEC_WEBSOCKET_ACCEPT: HeaderName = HeaderName::from_static("sec-websocket-accept");
pub(crate) const SEC_WEBSOCKET_PROTOCOL: HeaderName =
    HeaderName::from_static("sec-websocket-protocol");
pub(crate) const SEC_WEBSOCKET_EXTENSIONS: HeaderName =
    HeaderName::from_static("sec-websocket-extensions");

/// What a valid opening request leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// The `Sec-WebSocket-Accept` value.
    pub(crate) accept_key: String,
    /// The subprotocol chosen from the client's offer, by the server's preference.
    pub(crate) protocol: Option<String>,
}

/// Whether a comma-separated header (any of its fields) holds `token`, ignoring ASCII
/// case.
pub(crate) fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// Whether the request asks for a WebSocket (cheap; for routing). [`check`] validates it.
pub(crate) fn is_websocket(headers: &HeaderMap) -> bool {
    has_token(headers, UPGRADE, "websocket") && has_token(headers, CONNECTION, "upgrade")
}

/// Validates an opening request and negotiates the subprotocol.
pub(crate) fn check(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
    protocols: &[String],
) -> Result<Accepted> {
    let bad = |reason| Err(Error::InvalidRequest { reason });
    if method != Method::GET {
        return bad("the method must be GET");
    }
    if version < Version::HTTP_11 {
        return bad("HTTP/1.1 is required");
    }
    if !has_token(headers, UPGRADE, "websocket") {
        return bad("the Upgrade header does not name websocket");
    }
    if !has_token(headers, CONNECTION, "upgrade") {
        return bad("the Connection header does not include upgrade");
    }
    let version = single(headers, SEC_WEBSOCKET_VERSION).map_err(|many| Error::InvalidRequest {
        reason: if many {
            "Sec-WebSocket-Version appears more than once"
        } else {
            "Sec-WebSocket-Version is missing"
        },
    })?;
    if version.as_bytes() != b"13" {
        return Err(Error::UnsupportedVersion {
            version: String::from_utf8_lossy(version.as_bytes()).into_owned(),
        });
    }
    let key = single(headers, SEC_WEBSOCKET_KEY).map_err(|many| Error::InvalidRequest {
        reason: if many {
            "Sec-WebSocket-Key appears more than once"
        } else {
            "Sec-WebSocket-Key is missing"
        },
    })?;
    let key = key.as_bytes();
    // RFC 6455: a base64-encoded 16-byte value. Padding and alphabet are checked by the
    // decoder; 24 characters is the only length that decodes to 16 bytes.
    let decodes_to_16 = key.len() == 24
        && data_encoding::BASE64
            .decode(key)
            .is_ok_and(|raw| raw.len() == 16);
    if !decodes_to_16 {
        return bad("Sec-WebSocket-Key is not 16 bytes in base64");
    }
    Ok(Accepted {
        accept_key: derive_accept_key(key),
        protocol: choose_protocol(headers, protocols),
    })
}

/// The one field `name` has; `Err(true)` when repeated, `Err(false)` when absent.
fn single(headers: &HeaderMap, name: HeaderName) -> std::result::Result<&http::HeaderValue, bool> {
    let mut all = headers.get_all(name).iter();
    match (all.next(), all.next()) {
        (Some(v), None) => Ok(v),
        (Some(_), Some(_)) => Err(true),
        (None, _) => Err(false),
    }
}

/// The first of the server's `protocols` the client offered (in any of its
/// `Sec-WebSocket-Protocol` fields). Names compare exactly, as RFC 6455 tokens do.
fn choose_protocol(headers: &HeaderMap, protocols: &[String]) -> Option<String> {
    if protocols.is_empty() {
        return None;
    }
    let offered: Vec<&str> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    protocols
        .iter()
        .find(|p| offered.contains(&p.as_str()))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of RFC 6455 section 1.3.
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn request(extra: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("host", "server.example.com"),
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-key", KEY),
            ("sec-websocket-version", "13"),
        ] {
            h.insert(k, v.parse().unwrap());
        }
        for (k, v) in extra {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ok(h: &HeaderMap, protocols: &[&str]) -> Result<Accepted> {
        let protocols: Vec<String> = protocols.iter().map(|s| s.to_string()).collect();
        check(&Method::GET, Version::HTTP_11, h, &protocols)
    }

    fn reason(r: Result<Accepted>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn rfc_example_gives_rfc_accept_key() {
        let a = ok(&request(&[]), &[]).unwrap();
        assert_eq!(a.accept_key, ACCEPT);
        assert_eq!(a.protocol, None);
    }

    #[test]
    fn tokens_are_found_in_lists_and_any_case() {
        let mut h = request(&[]);
        h.insert("connection", "keep-alive, UPGRADE".parse().unwrap());
        h.insert("upgrade", "h2c, WebSocket".parse().unwrap());
        assert!(is_websocket(&h));
        assert!(ok(&h, &[]).is_ok());
    }

    #[test]
    fn malformed_requests_say_what_is_wrong() {
        let h = request(&[]);
        let post = check(&Method::POST, Version::HTTP_11, &h, &[]);
        assert!(reason(post).contains("GET"));
        let old = check(&Method::GET, Version::HTTP_10, &h, &[]);
        assert!(reason(old).contains("HTTP/1.1"));

        let mut no_upgrade = request(&[]);
        no_upgrade.insert("upgrade", "h2c".parse().unwrap());
        assert!(reason(ok(&no_upgrade, &[])).contains("Upgrade header"));
        assert!(!is_websocket(&no_upgrade));

        let mut no_conn = request(&[]);
        no_conn.insert("connection", "keep-alive".parse().unwrap());
        assert!(reason(ok(&no_conn, &[])).contains("Connection header"));

        let mut no_key = request(&[]);
        no_key.remove("sec-websocket-key");
        assert!(reason(ok(&no_key, &[])).contains("Sec-WebSocket-Key is missing"));

        let two_keys = request(&[("sec-websocket-key", KEY)]);
        assert!(reason(ok(&two_keys, &[])).contains("more than once"));

        for bad_key in [
            "dGhlIHNhbXBsZSBub25jZQ",     // no padding
            "dGhlIHNhbXBsZSBub25jZQ==AA", // too long
            "dGhlIHNhbXBsZSBub25jZ!==",   // not base64
            "c2hvcnQ=",                   // 5 bytes
        ] {
            let mut h = request(&[]);
            h.insert("sec-websocket-key", bad_key.parse().unwrap());
            assert!(
                reason(ok(&h, &[])).contains("16 bytes in base64"),
                "{bad_key}"
            );
        }

        let mut no_version = request(&[]);
        no_version.remove("sec-websocket-version");
        let e = ok(&no_version, &[]).unwrap_err();
        assert_eq!(e.status(), Some(http::StatusCode::BAD_REQUEST));
    }

    #[test]
    fn other_versions_get_426() {
        let mut h = request(&[]);
        h.insert("sec-websocket-version", "8".parse().unwrap());
        let e = ok(&h, &[]).unwrap_err();
        assert!(matches!(&e, Error::UnsupportedVersion { version } if version == "8"));
        assert_eq!(e.status(), Some(http::StatusCode::UPGRADE_REQUIRED));
    }

    #[test]
    fn subprotocol_follows_the_servers_preference() {
        let h = request(&[
            ("sec-websocket-protocol", "chat.v1, chat.v2"),
            ("sec-websocket-protocol", "mqtt"),
        ]);
        let pick = |server: &[&str]| ok(&h, server).unwrap().protocol;
        assert_eq!(pick(&["chat.v2", "chat.v1"]).as_deref(), Some("chat.v2"));
        assert_eq!(pick(&["mqtt", "chat.v1"]).as_deref(), Some("mqtt"));
        assert_eq!(pick(&["CHAT.V1"]), None, "names compare exactly");
        assert_eq!(pick(&["stomp"]), None);
        assert_eq!(pick(&[]), None);
        // No offer: no protocol, whatever the server prefers.
        assert_eq!(ok(&request(&[]), &["chat.v1"]).unwrap().protocol, None);
    }
}
