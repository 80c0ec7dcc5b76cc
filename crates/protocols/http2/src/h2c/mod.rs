//! h2c: HTTP/2 over cleartext, by prior knowledge or by upgrade from HTTP/1.1.
//!
//! **Prior knowledge** needs nothing here: [`Server::serve_connection`] reads the client
//! preface ([`PREFACE`]) first, and a server speaking both protocols can compare a
//! connection's first bytes with it to choose.
//!
//! **Upgrade** (RFC 7540 §3.2; RFC 9113 deprecates it, but curl and nghttp still use it):
//! an HTTP/1.1 server sees a request with `Upgrade: h2c` and `HTTP2-Settings`, checks it
//! with [`upgrade_settings`], answers [`switching_protocols`], and hands the connection
//! and the request to [`Server::serve_upgrade`], which answers that request on stream 1
//! and serves the connection as HTTP/2 from then on.
//!
//! ```
//! use ghostnet_http2::h2c;
//! use http::Request;
//!
//! let req = Request::get("http://example.com/")
//!     .header("connection", "Upgrade, HTTP2-Settings")
//!     .header("upgrade", "h2c")
//!     .header("http2-settings", "AAMAAABkAARAAAAA")
//!     .body(())
//!     .unwrap();
//! assert!(h2c::is_upgrade_request(&req));
//! let settings = h2c::upgrade_settings(&req).unwrap();
//! assert_eq!(settings, [(0x3, 100), (0x4, 1 << 30)]);
//! assert_eq!(h2c::switching_protocols().status(), 101);
//! ```
//!
//! [`Server::serve_connection`]: crate::Server::serve_connection
//! [`Server::serve_upgrade`]: crate::Server::serve_upgrade

mod ack_filter;
mod base64url;
mod frames;

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, HOST, HeaderName, UPGRADE};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, Version};

use crate::body::Body;
use crate::error::{Error, Result};
use crate::headers::strip_connection_specific;
pub use crate::preface::PREFACE;
use crate::server::Takeover;
pub(crate) use ack_filter::DropSettingsAck;

/// The header carrying the client's SETTINGS in an upgrade request.
pub const HTTP2_SETTINGS: HeaderName = HeaderName::from_static("http2-settings");

/// The most settings one `HTTP2-Settings` header may carry: more than every setting
/// HTTP/2 defines, several times over.
const MAX_SETTINGS: usize = 64;

/// Whether `req` asks for an h2c upgrade: `Upgrade` lists `h2c`, `Connection` lists
/// `Upgrade` and `HTTP2-Settings`, and there is one `HTTP2-Settings` header.
pub fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    let lists = |name: HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    req.version() <= Version::HTTP_11
        && lists(UPGRADE, "h2c")
        && lists(CONNECTION, "upgrade")
        && lists(CONNECTION, "http2-settings")
        && req.headers().get_all(HTTP2_SETTINGS).iter().count() == 1
}

/// Decodes and checks the request's `HTTP2-Settings`: the client's SETTINGS as
/// `(identifier, value)` pairs. Call it before answering `101`, so a malformed upgrade
/// is answered over HTTP/1.1 instead of failing after the switch.
///
/// # Errors
///
/// [`Error::InvalidUpgrade`] when the header is missing or repeated, is not base64url,
/// is not whole 6-byte settings, or holds a value HTTP/2 forbids (`ENABLE_PUSH` not 0
/// or 1, `INITIAL_WINDOW_SIZE` over 2^31 - 1, `MAX_FRAME_SIZE` outside 16384 ..=
/// 16777215).
pub fn upgrade_settings<B>(req: &Request<B>) -> Result<Vec<(u16, u32)>> {
    Ok(parse_settings(&settings_payload(req)?))
}

/// The `101 Switching Protocols` head that accepts an h2c upgrade.
pub fn switching_protocols() -> Response<()> {
    let mut res = Response::new(());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    res.headers_mut()
        .insert(CONNECTION, http::HeaderValue::from_static("Upgrade"));
    res.headers_mut()
        .insert(UPGRADE, http::HeaderValue::from_static("h2c"));
    res
}

/// The raw SETTINGS payload of the request's `HTTP2-Settings`, checked.
fn settings_payload<B>(req: &Request<B>) -> Result<Vec<u8>> {
    let mut values = req.headers().get_all(HTTP2_SETTINGS).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(Error::invalid_upgrade(
            "the request must carry exactly one HTTP2-Settings header",
        ));
    };
    let payload = base64url::decode(value.as_bytes().trim_ascii())
        .ok_or_else(|| Error::invalid_upgrade("HTTP2-Settings is not base64url"))?;
    if payload.len() % 6 != 0 {
        return Err(Error::invalid_upgrade(
            "HTTP2-Settings does not hold whole 6-byte settings",
        ));
    }
    if payload.len() / 6 > MAX_SETTINGS {
        return Err(Error::invalid_upgrade(format!(
            "HTTP2-Settings holds more than {MAX_SETTINGS} settings"
        )));
    }
    for (id, value) in parse_settings(&payload) {
        let bad = match id {
            0x2 => value > 1,
            0x4 => value > crate::settings::MAX_WINDOW_SIZE,
            0x5 => !(crate::settings::MIN_MAX_FRAME_SIZE..=crate::settings::MAX_MAX_FRAME_SIZE)
                .contains(&value),
            _ => false,
        };
        if bad {
            return Err(Error::invalid_upgrade(format!(
                "HTTP2-Settings sets {id:#x} to {value}, which HTTP/2 forbids"
            )));
        }
    }
    Ok(payload)
}

fn parse_settings(payload: &[u8]) -> Vec<(u16, u32)> {
    payload
        .chunks_exact(6)
        .map(|s| {
            (
                u16::from_be_bytes([s[0], s[1]]),
                u32::from_be_bytes([s[2], s[3], s[4], s[5]]),
            )
        })
        .collect()
}

/// Prepares the takeover of an upgraded connection: the frames h2 is fed after the
/// preface, and the request as stream 1 (HTTP/2 version, absolute URI, no
/// connection-specific headers).
pub(crate) fn takeover<B: Into<Body>>(req: Request<B>) -> Result<Takeover> {
    let payload = settings_payload(&req)?;
    let (mut parts, body) = req.into_parts();
    if parts.method == Method::CONNECT {
        return Err(Error::invalid_upgrade(
            "a CONNECT request cannot be upgraded",
        ));
    }
    let authority = match parts.uri.authority() {
        Some(a) => a.clone(),
        None => {
            let host = parts
                .headers
                .get(HOST)
                .ok_or_else(|| Error::invalid_upgrade("the request has no Host header"))?;
            Authority::try_from(host.as_bytes())
                .map_err(|_| Error::invalid_upgrade("the Host header is not a valid authority"))?
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let scheme = parts.uri.scheme().cloned().unwrap_or(Scheme::HTTP);

    let mut frames = BytesMut::new();
    frames::settings(&mut frames, &payload);
    frames::request_headers(
        &mut frames,
        &[
            (b":method", parts.method.as_str().as_bytes()),
            (b":scheme", scheme.as_str().as_bytes()),
            (b":authority", authority.as_str().as_bytes()),
            (b":path", path.as_str().as_bytes()),
        ],
    );

    parts.uri = Uri::from_parts({
        let mut p = http::uri::Parts::default();
        p.scheme = Some(scheme);
        p.authority = Some(authority);
        p.path_and_query = Some(path);
        p
    })
    .map_err(|e| Error::invalid_upgrade(format!("the request URI cannot be made absolute: {e}")))?;
    parts.version = Version::HTTP_2;
    parts.headers.remove(HTTP2_SETTINGS);
    strip_connection_specific(&mut parts.headers);
    Ok(Takeover {
        frames: Bytes::from(frames),
        request: Request::from_parts(parts, body.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade(settings: &str) -> Request<()> {
        Request::get("/index.html?q=1")
            .header("host", "example.com:8080")
            .header("connection", "Upgrade, HTTP2-Settings")
            .header("upgrade", "h2c")
            .header("http2-settings", settings)
            .body(())
            .unwrap()
    }

    #[test]
    fn recognizes_upgrade_requests() {
        assert!(is_upgrade_request(&upgrade("")));
        let mut no_conn = upgrade("");
        no_conn.headers_mut().remove(CONNECTION);
        assert!(!is_upgrade_request(&no_conn));
        let mut twice = upgrade("");
        twice
            .headers_mut()
            .append(HTTP2_SETTINGS, "".parse().unwrap());
        assert!(!is_upgrade_request(&twice));
        let mut websocket = upgrade("");
        websocket
            .headers_mut()
            .insert(UPGRADE, "websocket".parse().unwrap());
        assert!(!is_upgrade_request(&websocket));
    }

    #[test]
    fn settings_are_decoded_and_checked() {
        // An empty value is legal: the client keeps every default.
        assert!(upgrade_settings(&upgrade("")).unwrap().is_empty());
        assert_eq!(upgrade_settings(&upgrade("AAIAAAAA")).unwrap(), [(0x2, 0)]);
        for (bad, why) in [
            ("!!!!", "base64url"),
            ("AAIAAA", "whole 6-byte"),
            ("AAIAAAAC", "forbids"), // ENABLE_PUSH = 2
            ("AAX_____", "forbids"), // MAX_FRAME_SIZE = 2^32 - 1
            ("AASAAAAA", "forbids"), // INITIAL_WINDOW_SIZE = 2^31
        ] {
            let err = upgrade_settings(&upgrade(bad)).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let mut missing = upgrade("");
        missing.headers_mut().remove(HTTP2_SETTINGS);
        assert!(matches!(
            upgrade_settings(&missing),
            Err(Error::InvalidUpgrade { .. })
        ));
    }

    #[test]
    fn takeover_builds_frames_and_an_http2_request() {
        let t = takeover(upgrade("AAMAAABk")).unwrap();
        // SETTINGS with the client's one setting, then HEADERS on stream 1.
        assert_eq!(&t.frames[..9], [0, 0, 6, 0x4, 0, 0, 0, 0, 0]);
        assert_eq!(&t.frames[9..15], [0, 3, 0, 0, 0, 100]);
        assert_eq!(t.frames[18], 0x1);
        assert_eq!(&t.frames[20..24], [0, 0, 0, 1]);
        let req = t.request;
        assert_eq!(req.version(), Version::HTTP_2);
        assert_eq!(req.uri(), "http://example.com:8080/index.html?q=1");
        assert!(req.headers().get(UPGRADE).is_none());
        assert!(req.headers().get(CONNECTION).is_none());
        assert!(req.headers().get(HTTP2_SETTINGS).is_none());
        assert_eq!(req.headers()[HOST], "example.com:8080");
    }

    #[test]
    fn takeover_refuses_what_cannot_be_stream_1() {
        let mut no_host = upgrade("");
        no_host.headers_mut().remove(HOST);
        assert!(takeover(no_host).is_err());
        let mut connect = upgrade("");
        *connect.method_mut() = Method::CONNECT;
        assert!(takeover(connect).is_err());
    }
}
