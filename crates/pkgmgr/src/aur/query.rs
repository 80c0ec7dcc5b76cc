//! How AUR RPC v5 requests are spelled: the endpoint, the `info` batches (GET while the
//! URL stays short, POST with a JSON body otherwise) and `search`.
//!
//! aurweb accepts `GET /rpc/v5/info?arg[]=a&arg[]=b`, `POST /rpc/v5/info` with the JSON
//! body `{"arg": ["a", "b"]}`, and `GET /rpc/v5/search?arg=term&by=field`. It decodes
//! the query with a plain percent-decode (a `+` stays a `+`), so everything outside the
//! unreserved set is percent-encoded here, spaces included.

use bytes::Bytes;
use http::{Method, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{Error, Result};

use super::SearchBy;

/// RFC 3986 unreserved characters stay as they are; everything else is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The `info` query key, spelled as aurweb documents it.
const INFO_KEY: &str = "arg[]=";

/// A validated endpoint: scheme and authority plus an optional base path, without the
/// trailing slash (`https://aur.archlinux.org`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    base: String,
}

impl Endpoint {
    /// Checks `url`: an absolute `http` or `https` URL without query or fragment.
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::AurConfig {
            field: "endpoint",
            reason: format!(
                "{url:?} {reason}; expected e.g. `https://aur.archlinux.org` or `http://127.0.0.1:8080`"
            ),
        };
        let uri: Uri = url.parse().map_err(|_| invalid("is not a URL"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            Some(_) => return Err(invalid("has a scheme other than http or https")),
            None => return Err(invalid("is not an absolute URL")),
        }
        if uri.authority().is_none() {
            return Err(invalid("has no host"));
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(invalid("has a query or fragment"));
        }
        Ok(Self {
            base: url.trim_end_matches('/').to_owned(),
        })
    }

    /// The endpoint as given, without a trailing slash.
    pub(crate) fn as_str(&self) -> &str {
        &self.base
    }

    /// `GET .../rpc/v5/info?arg[]=a&arg[]=b`, as a string so its length can be checked.
    pub(crate) fn info_get_url<S: AsRef<str>>(&self, names: &[S]) -> String {
        let mut url = format!("{}/rpc/v5/info", self.base);
        for (i, name) in names.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(INFO_KEY);
            url.extend(utf8_percent_encode(name.as_ref(), COMPONENT));
        }
        url
    }

    /// The URL of `POST .../rpc/v5/info`.
    pub(crate) fn info_post_url(&self) -> String {
        format!("{}/rpc/v5/info", self.base)
    }

    /// `GET .../rpc/v5/search?arg=term&by=field`.
    pub(crate) fn search_url(&self, arg: &str, by: SearchBy) -> String {
        format!(
            "{}/rpc/v5/search?arg={}&by={}",
            self.base,
            utf8_percent_encode(arg, COMPONENT),
            by.as_str()
        )
    }
}

/// One request, ready to send (and to key the ETag cache with).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: String,
    /// The JSON body of a POST; empty for GET.
    pub(crate) body: Bytes,
}

impl Call {
    /// The `info` request for `names`: GET when its URL fits in `max_url_len`, else POST.
    pub(crate) fn info<S: AsRef<str>>(
        endpoint: &Endpoint,
        names: &[S],
        max_url_len: usize,
    ) -> Self {
        let url = endpoint.info_get_url(names);
        if url.len() <= max_url_len {
            return Self {
                method: Method::GET,
                url,
                body: Bytes::new(),
            };
        }
        let args: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        let body = serde_json::to_vec(&serde_json::json!({ "arg": args }))
            .map(Bytes::from)
            .unwrap_or_default();
        Self {
            method: Method::POST,
            url: endpoint.info_post_url(),
            body,
        }
    }

    /// The `search` request.
    pub(crate) fn search(endpoint: &Endpoint, arg: &str, by: SearchBy) -> Self {
        Self {
            method: Method::GET,
            url: endpoint.search_url(arg, by),
            body: Bytes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_checks_and_trims() {
        let e = Endpoint::parse("https://aur.archlinux.org/").unwrap();
        assert_eq!(e.as_str(), "https://aur.archlinux.org");
        for bad in [
            "",
            "aur.archlinux.org",
            "ftp://x/",
            "http://x/?a=b",
            "http:///x",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn info_get_encodes_names() {
        let e = Endpoint::parse("http://h:1").unwrap();
        let call = Call::info(&e, &["gtk+", "a b", "yay"], 1000);
        assert_eq!(call.method, Method::GET);
        assert_eq!(
            call.url,
            "http://h:1/rpc/v5/info?arg[]=gtk%2B&arg[]=a%20b&arg[]=yay"
        );
        call.url.parse::<Uri>().expect("the http crate accepts it");
    }

    #[test]
    fn long_lists_become_post() {
        let e = Endpoint::parse("http://h:1").unwrap();
        let call = Call::info(&e, &["yay", "paru"], 20);
        assert_eq!(call.method, Method::POST);
        assert_eq!(call.url, "http://h:1/rpc/v5/info");
        assert_eq!(&call.body[..], br#"{"arg":["yay","paru"]}"#);
    }

    #[test]
    fn search_url_has_arg_and_by() {
        let e = Endpoint::parse("http://h:1/aur").unwrap();
        let call = Call::search(&e, "aur helper", SearchBy::NameDesc);
        assert_eq!(
            call.url,
            "http://h:1/aur/rpc/v5/search?arg=aur%20helper&by=name-desc"
        );
    }
}
