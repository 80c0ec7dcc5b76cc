//! The redirect policy, sans-IO: whether a response is followed, where to, with which
//! method and body, and which fields must not travel along.

use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, HeaderMap,
    HeaderName, HeaderValue, PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use http::{Method, StatusCode, Uri};

use crate::client::origin::{Origin, Scheme};
use crate::client::resolve::resolve;
use crate::error::{Error, Result};

/// Default for [`ClientBuilder::max_redirects`](crate::client::ClientBuilder::max_redirects).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// The next request of a redirect chain.
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) uri: Uri,
    pub(crate) method: Method,
    /// Send the body again (307, 308, and 301/302 of anything but POST).
    pub(crate) keep_body: bool,
    /// The target is another origin: credentials stay behind.
    pub(crate) cross_origin: bool,
}

/// Whether `status` is a redirect this client follows.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect response leads, or `None` when it is not to be followed (not a
/// redirect status, or no `Location`: the caller gets the response itself).
///
/// Method rules (RFC 9110 section 15.4, as browsers and curl apply them): 303 turns
/// everything but HEAD into GET without a body; 301 and 302 turn POST into GET without a
/// body and keep other methods; 307 and 308 keep method and body.
pub(crate) fn next_hop(
    status: StatusCode,
    method: &Method,
    location: Option<&HeaderValue>,
    current: &Uri,
    current_origin: &Origin,
    allow_https_downgrade: bool,
) -> Result<Option<Hop>> {
    if !is_redirect(status) {
        return Ok(None);
    }
    let Some(location) = location else {
        return Ok(None);
    };
    // Servers put raw UTF-8 in Location; browsers accept it, so do we (encoded).
    let text = String::from_utf8_lossy(location.as_bytes());
    let invalid = |reason| Error::InvalidRedirect {
        location: text.to_string(),
        reason,
    };
    let uri = resolve(current, &text).ok_or_else(|| invalid("it is not a valid URL"))?;
    let origin = match Origin::of(&uri) {
        Ok(o) => o,
        Err(Error::UnsupportedScheme { .. }) => {
            return Err(invalid("it leads to a scheme other than http or https"));
        }
        Err(_) => return Err(invalid("it has no usable host")),
    };
    if current_origin.scheme == Scheme::Https
        && origin.scheme == Scheme::Http
        && !allow_https_downgrade
    {
        return Err(Error::InsecureRedirect {
            from: current.to_string(),
            to: uri.to_string(),
        });
    }
    let (method, keep_body) = match status.as_u16() {
        303 if *method != Method::HEAD => (Method::GET, false),
        301 | 302 if *method == Method::POST => (Method::GET, false),
        _ => (method.clone(), true),
    };
    Ok(Some(Hop {
        cross_origin: !origin.same_as(current_origin),
        uri,
        method,
        keep_body,
    }))
}

/// Fields that identify the user to a server; never sent to another origin.
const SENSITIVE: [HeaderName; 3] = [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION];

/// Adjusts the request fields for `hop`: the body's fields go when the body does, and
/// credentials and a caller-set `Host` stay behind when the origin changes.
pub(crate) fn rewrite_headers(headers: &mut HeaderMap, hop: &Hop) {
    if !hop.keep_body {
        for name in [
            CONTENT_TYPE,
            CONTENT_LENGTH,
            CONTENT_ENCODING,
            TRANSFER_ENCODING,
        ] {
            headers.remove(name);
        }
    }
    if hop.cross_origin {
        for name in SENSITIVE {
            headers.remove(name);
        }
        headers.remove("cookie2");
        headers.remove(HOST);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(status: u16, method: Method, from: &str, location: &str) -> Result<Option<Hop>> {
        let current: Uri = from.parse().unwrap();
        let origin = Origin::of(&current).unwrap();
        next_hop(
            StatusCode::from_u16(status).unwrap(),
            &method,
            Some(&HeaderValue::from_str(location).unwrap()),
            &current,
            &origin,
            false,
        )
    }

    #[test]
    fn method_and_body_rules() {
        let cases = [
            (301, Method::POST, Method::GET, false),
            (302, Method::POST, Method::GET, false),
            (301, Method::PUT, Method::PUT, true),
            (302, Method::GET, Method::GET, true),
            (303, Method::POST, Method::GET, false),
            (303, Method::PUT, Method::GET, false),
            (303, Method::HEAD, Method::HEAD, true),
            (307, Method::POST, Method::POST, true),
            (308, Method::PUT, Method::PUT, true),
        ];
        for (status, from, to, keep) in cases {
            let h = hop(status, from.clone(), "http://a/x", "/y")
                .unwrap()
                .unwrap();
            assert_eq!(
                (h.method.clone(), h.keep_body),
                (to, keep),
                "{status} {from}"
            );
            assert_eq!(h.uri, "http://a/y");
            assert!(!h.cross_origin);
        }
        for status in [200, 300, 304, 305, 306] {
            assert!(
                hop(status, Method::GET, "http://a/", "/b")
                    .unwrap()
                    .is_none()
            );
        }
    }

    #[test]
    fn origins_downgrades_and_bad_locations() {
        let h = hop(302, Method::GET, "http://a/x", "https://a/x")
            .unwrap()
            .unwrap();
        assert!(h.cross_origin, "scheme change is another origin");
        let h = hop(302, Method::GET, "http://a/x", "//b:8080/z")
            .unwrap()
            .unwrap();
        assert!(h.cross_origin);
        assert_eq!(h.uri, "http://b:8080/z");
        assert!(matches!(
            hop(302, Method::GET, "https://a/x", "http://a/x"),
            Err(Error::InsecureRedirect { .. })
        ));
        for bad in ["ftp://a/file", "http://"] {
            let e = hop(302, Method::GET, "http://a/", bad).unwrap_err();
            assert!(matches!(e, Error::InvalidRedirect { .. }), "{bad}: {e}");
        }
        // The downgrade is allowed on request.
        let current: Uri = "https://a/".parse().unwrap();
        let allowed = next_hop(
            StatusCode::FOUND,
            &Method::GET,
            Some(&HeaderValue::from_static("http://a/")),
            &current,
            &Origin::of(&current).unwrap(),
            true,
        );
        assert!(allowed.unwrap().is_some());
    }

    #[test]
    fn headers_are_stripped_by_rule() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("authorization", "Bearer x"),
            ("cookie", "a=1"),
            ("proxy-authorization", "p"),
            ("host", "a"),
            ("content-type", "text/plain"),
            ("content-length", "3"),
            ("x-keep", "1"),
        ] {
            h.insert(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        let mut same = h.clone();
        let hp = hop(307, Method::POST, "http://a/", "/b").unwrap().unwrap();
        rewrite_headers(&mut same, &hp);
        assert_eq!(
            same.len(),
            h.len(),
            "same origin, body kept: nothing removed"
        );
        let hp = hop(303, Method::POST, "http://a/", "http://b/")
            .unwrap()
            .unwrap();
        rewrite_headers(&mut h, &hp);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["x-keep"]);
    }
}
