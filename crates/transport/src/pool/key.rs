//! [`PoolKey`]: which connections may be shared, `(scheme, host, port)`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::target::Target;

/// What a pooled connection is for: a scheme (`http`, `https`, `h2`, ...) and a
/// [`Target`]. Connections are shared only between callers asking for equal keys, so
/// `http://example.com:80` and `https://example.com:443` never mix.
///
/// The scheme is lowercased and must look like a URI scheme (a letter, then letters,
/// digits, `+`, `-` or `.`). Cloning is cheap (one reference count).
///
/// ```
/// use ghostnet_transport::pool::PoolKey;
///
/// let key = PoolKey::new("HTTPS", "Example.com:443".parse().unwrap()).unwrap();
/// assert_eq!(key.to_string(), "https://example.com:443");
///
/// // `scheme://host[:port]`; http/ws default to port 80, https/wss to 443.
/// let parsed: PoolKey = "https://example.com".parse().unwrap();
/// assert_eq!(parsed, key);
/// assert!("1http://x:1".parse::<PoolKey>().is_err());
/// ```
#[derive(Clone)]
pub struct PoolKey(Arc<Parts>);

struct Parts {
    /// Hash of `(scheme, target)`, computed once: the pool looks keys up several times
    /// per checkout, and hashing the host name each time was most of its cost.
    hash: u64,
    scheme: Box<str>,
    target: Target,
}

/// One randomly seeded hasher for every key of the process, so precomputed hashes are
/// comparable across keys yet not predictable from outside (host names can come from
/// untrusted input).
fn key_hasher() -> &'static RandomState {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    SEED.get_or_init(RandomState::new)
}

impl PoolKey {
    /// A key for `scheme` connections to `target`; fails on a scheme that is empty or not
    /// URI-shaped.
    pub fn new(scheme: &str, target: Target) -> Result<Self> {
        let valid = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid {
            return Err(Error::InvalidTarget {
                input: scheme.to_owned(),
                reason: "a pool key scheme is a letter followed by letters, digits, `+`, `-` or `.`, e.g. `https`".to_owned(),
            });
        }
        let scheme = scheme.to_ascii_lowercase().into_boxed_str();
        let hash = key_hasher().hash_one((&scheme, &target));
        Ok(Self(Arc::new(Parts {
            hash,
            scheme,
            target,
        })))
    }

    /// The scheme, lowercase.
    pub fn scheme(&self) -> &str {
        &self.0.scheme
    }

    /// Where connections for this key are dialed.
    pub fn target(&self) -> &Target {
        &self.0.target
    }
}

impl PartialEq for PoolKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash
                && self.0.scheme == other.0.scheme
                && self.0.target == other.0.target)
    }
}

impl Eq for PoolKey {}

impl Hash for PoolKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl PartialOrd for PoolKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PoolKey {
    /// By scheme, then target (not by hash): a stable, readable order for listings.
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.0.scheme, &self.0.target).cmp(&(&other.0.scheme, &other.0.target))
    }
}

/// The hasher of the pool's key map: [`PoolKey`] writes its precomputed hash, which is
/// passed through instead of being hashed again.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `PoolKey`; mix anything else in rather than ignore it.
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

/// The port a scheme implies when a key string leaves it out.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

impl FromStr for PoolKey {
    type Err = Error;

    /// Parses `scheme://host:port`; the port may be left out for `http`, `https`, `ws`
    /// and `wss`.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidTarget {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| invalid("expected scheme://host:port, e.g. https://example.com:443"))?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('/') {
            return Err(invalid(
                "a pool key has no path; give only scheme://host:port",
            ));
        }
        // A port is present unless the authority is a bare name or a bracketed IPv6
        // literal; `Target`'s parser then rejects an empty host or a bad port.
        let bracketed = authority.starts_with('[') && authority.ends_with(']');
        let has_port = authority.contains(':') && !bracketed;
        let target = if has_port {
            authority.parse::<Target>()?
        } else {
            let port = default_port(&scheme).ok_or_else(|| {
                invalid("this scheme has no default port; add one, e.g. h2c://example.com:8080")
            })?;
            if authority.is_empty() {
                return Err(invalid("the host is empty"));
            }
            Target::new(authority, port)
        };
        Self::new(&scheme, target)
    }
}

impl fmt::Display for PoolKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.0.scheme, self.0.target)
    }
}

impl fmt::Debug for PoolKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PoolKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_is_validated_and_lowercased() {
        let t: Target = "a:1".parse().unwrap();
        assert_eq!(PoolKey::new("H2C", t.clone()).unwrap().scheme(), "h2c");
        assert_eq!(
            PoolKey::new("coap+tcp", t.clone()).unwrap().scheme(),
            "coap+tcp"
        );
        for bad in ["", "1x", "ht tp", "-a", "http:"] {
            let err = PoolKey::new(bad, t.clone()).unwrap_err();
            assert!(err.to_string().contains("scheme"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn parse_forms() {
        let k: PoolKey = "http://Example.com".parse().unwrap();
        assert_eq!(k.to_string(), "http://example.com:80");
        let k: PoolKey = "wss://[::1]".parse().unwrap();
        assert_eq!(k.to_string(), "wss://[::1]:443");
        let k: PoolKey = "h2c://[::1]:8080/".parse().unwrap();
        assert_eq!(k.target().port, 8080);
        let k: PoolKey = "https://127.0.0.1:8443".parse().unwrap();
        assert_eq!(k.target().to_string(), "127.0.0.1:8443");
        for bad in [
            "example.com:80",
            "h2c://example.com",
            "http://",
            "http://:80",
            "http://a:1/path",
            "http://a:99999",
            "://a:1",
        ] {
            assert!(bad.parse::<PoolKey>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn equal_keys_hash_alike_through_the_pass_through_hasher() {
        use std::hash::BuildHasherDefault;
        let a: PoolKey = "http://a:80".parse().unwrap();
        let b = PoolKey::new("HTTP", "A:80".parse().unwrap()).unwrap();
        let build = BuildHasherDefault::<KeyHasher>::default();
        assert_eq!(a, b);
        assert_eq!(build.hash_one(&a), build.hash_one(&b));
        assert_eq!(build.hash_one(&a), a.0.hash);
        let mut set = std::collections::HashSet::with_hasher(build);
        set.insert(a);
        assert!(set.contains(&b));
        assert!(!set.contains(&"http://a:81".parse::<PoolKey>().unwrap()));
        let mut keys: Vec<PoolKey> = ["https://b:1", "http://b:1", "http://a:2"]
            .iter()
            .map(|k| k.parse().unwrap())
            .collect();
        keys.sort();
        let names: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["http://a:2", "http://b:1", "https://b:1"]);
    }

    #[test]
    fn keys_differ_by_scheme_and_target() {
        let a: PoolKey = "http://a:80".parse().unwrap();
        assert_ne!(a, "https://a:80".parse().unwrap());
        assert_ne!(a, "http://a:81".parse().unwrap());
        assert_eq!(a, a.clone());
        assert_eq!(format!("{a:?}"), "PoolKey(http://a:80)");
    }
}
