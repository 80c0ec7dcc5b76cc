//! `ws://` and `wss://` URLs: what to dial and what to put in the request line and `Host`.

use ghostnet_transport::Target;
use http::Uri;

use crate::error::{Error, Result};

/// A parsed WebSocket URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsUrl {
    /// `wss://`: TLS is required.
    pub(crate) secure: bool,
    /// Host and port to dial (the scheme's default port when none is given).
    pub(crate) target: Target,
    /// The URL as a `Uri` (what tungstenite takes the request line from).
    pub(crate) uri: Uri,
    /// The `Host` header: the URL's host, and its port when one was written.
    pub(crate) host_header: String,
}

pub(crate) fn parse(url: &str) -> Result<WsUrl> {
    let invalid = |reason| Error::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    if url.contains('#') {
        // RFC 6455 section 3: fragments have no meaning in WebSocket URIs.
        return Err(invalid(
            "fragments (#...) are not allowed in websocket urls",
        ));
    }
    let uri: Uri = url.parse().map_err(|_| invalid("it is not a valid URL"))?;
    let secure = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("ws") => false,
        Some("wss") => true,
        Some(_) => return Err(invalid("the scheme must be ws:// or wss://")),
        None => {
            return Err(invalid(
                "the url has no scheme; start it with ws:// or wss://",
            ));
        }
    };
    let authority = uri
        .authority()
        .ok_or_else(|| invalid("the url has no host"))?;
    if authority.as_str().contains('@') {
        return Err(invalid(
            "credentials in the url are not sent; use an Authorization header instead",
        ));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(invalid("the url has no host"));
    }
    // `Authority::port` is None for an unparsable port too: read what follows the host.
    let port = match authority
        .as_str()
        .strip_prefix(host)
        .and_then(|r| r.strip_prefix(':'))
    {
        None => {
            if secure {
                443
            } else {
                80
            }
        }
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| invalid("the port must be a number from 0 to 65535"))?,
    };
    let host_header = authority.as_str().to_owned();
    let target = Target::new(host, port);
    // tungstenite writes the request line from path_and_query; a bare authority has none.
    let uri = if uri.path_and_query().is_none() {
        let mut parts = uri.into_parts();
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        Uri::from_parts(parts).map_err(|_| invalid("it is not a valid URL"))?
    } else {
        uri
    };
    Ok(WsUrl {
        secure,
        target,
        uri,
        host_header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_good_urls() {
        let u = parse("ws://example.com/chat?room=1").unwrap();
        assert!(!u.secure);
        assert_eq!(u.target.to_string(), "example.com:80");
        assert_eq!(u.host_header, "example.com");
        assert_eq!(u.uri.path_and_query().unwrap().as_str(), "/chat?room=1");

        let u = parse("wss://Example.COM:8443").unwrap();
        assert!(u.secure);
        assert_eq!(u.target.to_string(), "example.com:8443");
        assert_eq!(u.host_header, "Example.COM:8443");
        assert_eq!(u.uri.path_and_query().unwrap().as_str(), "/");

        let u = parse("WS://[::1]:9001/").unwrap();
        assert_eq!(u.target.to_string(), "[::1]:9001");
        assert_eq!(u.host_header, "[::1]:9001");

        assert_eq!(parse("wss://h/").unwrap().target.port, 443);
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("http://example.com/", "ws:// or wss://"),
            ("example.com:80", "scheme"),
            ("/just/a/path", "scheme"),
            ("ws://example.com/#frag", "fragments"),
            ("ws://user:pw@example.com/", "Authorization"),
            ("ws://exa mple.com/", "not a valid URL"),
            ("ws://example.com:99999/", "from 0 to 65535"),
            ("ws://example.com:/", "from 0 to 65535"),
        ] {
            let e = parse(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
            assert!(e.contains(url), "{url}: {e}");
        }
    }
}
