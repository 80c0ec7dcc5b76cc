//! Validators that make a resumed download safe: the part already on disk and the bytes
//! still to come must belong to the same version of the file.

use http::HeaderMap;
use http::header::{ETAG, LAST_MODIFIED};
use serde::{Deserialize, Serialize};

/// What identifies one version of a remote file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// A strong entity tag, quotes included (weak `W/` tags cannot be used in `If-Range`).
    pub etag: Option<String>,
    /// The `Last-Modified` date, as sent.
    pub last_modified: Option<String>,
}

impl Validators {
    /// Reads the validators of a response. Weak ETags are ignored.
    ///
    /// ```
    /// use ghostnet_pkgmgr::download::Validators;
    /// let mut h = http::HeaderMap::new();
    /// h.insert("etag", "W/\"weak\"".parse().unwrap());
    /// h.insert("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
    /// let v = Validators::from_headers(&h);
    /// assert_eq!(v.etag, None);
    /// assert_eq!(v.if_range().as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    /// ```
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            etag: text(ETAG).filter(|e| e.starts_with('"') && e.ends_with('"') && e.len() >= 2),
            last_modified: text(LAST_MODIFIED),
        }
    }

    /// The `If-Range` value to send: the strong ETag, else the Last-Modified date.
    pub fn if_range(&self) -> Option<String> {
        self.etag.clone().or_else(|| self.last_modified.clone())
    }

    /// Whether there is anything to validate a resume with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}
