//! Where a request goes: the scheme, host and port of its URI, the pool key that selects
//! a connection, and the `Host` field value.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{BufMut, BytesMut};
use ghostnet_transport::Target;
use ghostnet_transport::pool::PoolKey;
use http::header::HeaderValue;
use http::uri::{Authority, Scheme as UriScheme, Uri};

use crate::error::{Error, Result};

/// The schemes this client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }
}

/// The origin of an absolute `http` or `https` URI (RFC 6454: scheme, host, port).
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) scheme: Scheme,
    /// Lowercase; IPv6 literals keep their brackets (as in the URI and `Host`).
    host: String,
    pub(crate) port: u16,
    /// The URI spelled out a port that is not the scheme's default: `Host` carries it.
    explicit_port: bool,
}

impl Origin {
    /// The origin of `uri`, or why it cannot be requested.
    pub(crate) fn of(uri: &Uri) -> Result<Self> {
        let invalid = |reason| Error::InvalidUrl {
            url: uri.to_string(),
            reason,
        };
        let scheme = match uri.scheme() {
            Some(s) if *s == UriScheme::HTTP => Scheme::Http,
            Some(s) if *s == UriScheme::HTTPS => Scheme::Https,
            Some(s) => {
                return Err(Error::UnsupportedScheme {
                    scheme: s.as_str().to_owned(),
                });
            }
            None => {
                return Err(invalid(
                    "it is not absolute; give scheme and host, e.g. http://example.com/path",
                ));
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("it has no host, e.g. http://example.com/path"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "credentials in the URL are not sent; remove them and set an Authorization header",
            ));
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        let port = match authority.port_u16() {
            Some(0) => return Err(invalid("port 0 cannot be connected to")),
            Some(p) => p,
            None => scheme.default_port(),
        };
        Ok(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            explicit_port: port != scheme.default_port(),
        })
    }

    /// The pool key: connections are shared only within one origin.
    pub(crate) fn key(&self) -> Result<PoolKey> {
        PoolKey::new(self.scheme.as_str(), Target::new(&self.host, self.port))
            .map_err(Error::Connect)
    }

    /// The `Host` field value: the host, and the port when it is not the default.
    pub(crate) fn host_header(&self) -> HeaderValue {
        let mut v = BytesMut::with_capacity(self.host.len() + 6);
        v.put_slice(self.host.as_bytes());
        if self.explicit_port {
            v.put_u8(b':');
            v.put_slice(itoa::Buffer::new().format(self.port).as_bytes());
        }
        // The host came out of a parsed `Uri`: only URI characters, all valid in a field.
        HeaderValue::from_maybe_shared(v.freeze()).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Same scheme, host and port: credentials may follow a redirect between them.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
    }
}

/// What requests to one origin need, worked out once: the origin, its pool key (a
/// lowercased, hashed copy of the host) and its `Host` value.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) origin: Origin,
    pub(crate) key: PoolKey,
    pub(crate) host: HeaderValue,
}

/// Origins a client used lately, so that a request to a known one builds nothing.
#[derive(Debug, Default)]
pub(crate) struct Endpoints {
    recent: Mutex<VecDeque<(UriScheme, Authority, Arc<Endpoint>)>>,
}

impl Endpoints {
    /// Origins remembered; the least recently added goes first.
    const CAPACITY: usize = 32;

    /// The endpoint of `uri`'s origin, or why `uri` cannot be requested.
    pub(crate) fn get(&self, uri: &Uri) -> Result<Arc<Endpoint>> {
        let lock = || self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            // Not absolute: `of` says what is missing.
            return Ok(Arc::new(Origin::of(uri)?.endpoint()?));
        };
        if let Some((_, _, e)) = lock()
            .iter()
            .find(|(s, a, _)| s == scheme && a == authority)
        {
            return Ok(Arc::clone(e));
        }
        let endpoint = Arc::new(Origin::of(uri)?.endpoint()?);
        let mut recent = lock();
        if recent.len() == Self::CAPACITY {
            recent.pop_front();
        }
        recent.push_back((scheme.clone(), authority.clone(), Arc::clone(&endpoint)));
        Ok(endpoint)
    }
}

impl Origin {
    fn endpoint(self) -> Result<Endpoint> {
        Ok(Endpoint {
            key: self.key()?,
            host: self.host_header(),
            origin: self,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> Result<Origin> {
        Origin::of(&s.parse::<Uri>().unwrap())
    }

    #[test]
    fn ports_hosts_and_keys() {
        let o = origin("http://Example.COM/a").unwrap();
        assert_eq!((o.scheme, o.port), (Scheme::Http, 80));
        assert_eq!(o.host_header(), "example.com");
        assert_eq!(o.key().unwrap().to_string(), "http://example.com:80");
        let o = origin("https://example.com:8443/").unwrap();
        assert_eq!(o.host_header(), "example.com:8443");
        assert_eq!(o.key().unwrap().to_string(), "https://example.com:8443");
        // An explicit default port is not repeated in Host.
        assert_eq!(origin("http://a:80/").unwrap().host_header(), "a");
        let v6 = origin("http://[::1]:8080/x").unwrap();
        assert_eq!(v6.host_header(), "[::1]:8080");
        assert_eq!(v6.key().unwrap().target().to_string(), "[::1]:8080");
    }

    #[test]
    fn same_origin_compares_scheme_host_and_port() {
        let a = origin("http://a.test/x").unwrap();
        assert!(a.same_as(&origin("http://A.test:80/y").unwrap()));
        assert!(!a.same_as(&origin("https://a.test/").unwrap()));
        assert!(!a.same_as(&origin("http://a.test:81/").unwrap()));
        assert!(!a.same_as(&origin("http://b.test/").unwrap()));
    }

    #[test]
    fn endpoints_are_remembered_per_origin() {
        let cache = Endpoints::default();
        let a = cache.get(&"http://a.test/x".parse().unwrap()).unwrap();
        let again = cache
            .get(&"http://a.test/other?q".parse().unwrap())
            .unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        let b = cache.get(&"http://a.test:8080/".parse().unwrap()).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(b.host, "a.test:8080");
        assert!(cache.get(&"http://u@a.test/".parse().unwrap()).is_err());
        for port in 1..100u16 {
            cache
                .get(&format!("http://c.test:{port}/").parse().unwrap())
                .unwrap();
        }
        assert_eq!(cache.recent.lock().unwrap().len(), Endpoints::CAPACITY);
    }

    #[test]
    fn refusals_say_why() {
        assert!(matches!(
            origin("ftp://a/"),
            Err(Error::UnsupportedScheme { scheme }) if scheme == "ftp"
        ));
        for (url, needle) in [
            ("/relative", "not absolute"),
            ("http://user:pw@a/", "credentials"),
            ("http://a:0/", "port 0"),
        ] {
            let e = origin(url).unwrap_err().to_string();
            assert!(e.contains(needle), "{url}: {e}");
        }
    }
}
