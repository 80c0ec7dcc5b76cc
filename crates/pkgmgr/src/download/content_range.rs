//! `Content-Range` (RFC 9110 section 14.4), strictly: a malformed value is an error, not
//! a guess, because a wrong guess corrupts the file.

/// A parsed `Content-Range` of a byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes first-last/total` (`total` is `None` for `*`).
    Bytes {
        /// First byte offset, inclusive.
        first: u64,
        /// Last byte offset, inclusive.
        last: u64,
        /// Full length of the representation, when the server knows it.
        total: Option<u64>,
    },
    /// `bytes */total`: sent with 416 to say how long the representation is.
    Unsatisfied {
        /// Full length of the representation.
        total: u64,
    },
}

impl ContentRange {
    /// Parses a header value; `None` when it is not a valid byte `Content-Range`.
    ///
    /// ```
    /// use ghostnet_pkgmgr::download::ContentRange;
    ///
    /// assert_eq!(
    ///     ContentRange::parse("bytes 100-199/1000"),
    ///     Some(ContentRange::Bytes { first: 100, last: 199, total: Some(1000) })
    /// );
    /// assert_eq!(ContentRange::parse("bytes */1000"), Some(ContentRange::Unsatisfied { total: 1000 }));
    /// assert_eq!(ContentRange::parse("bytes 5-1/10"), None);
    /// ```
    pub fn parse(value: &str) -> Option<Self> {
        let rest = value.trim().strip_prefix("bytes ")?.trim_start();
        let (range, total) = rest.split_once('/')?;
        if range == "*" {
            return Some(Self::Unsatisfied {
                total: digits(total)?,
            });
        }
        let (first, last) = range.split_once('-')?;
        let (first, last) = (digits(first)?, digits(last)?);
        let total = if total == "*" {
            None
        } else {
            Some(digits(total)?)
        };
        if last < first || total.is_some_and(|t| last >= t) {
            return None;
        }
        Some(Self::Bytes { first, last, total })
    }
}

/// A non-empty run of ASCII digits that fits a u64 (no signs, spaces or hex).
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_forms() {
        assert_eq!(
            ContentRange::parse("bytes 0-0/1"),
            Some(ContentRange::Bytes {
                first: 0,
                last: 0,
                total: Some(1)
            })
        );
        assert_eq!(
            ContentRange::parse("bytes 10-19/*"),
            Some(ContentRange::Bytes {
                first: 10,
                last: 19,
                total: None
            })
        );
    }

    #[test]
    fn invalid_forms() {
        for bad in [
            "",
            "bytes",
            "items 0-1/2",
            "bytes 0-1",
            "bytes -1-5/10",
            "bytes +1-5/10",
            "bytes 0x1-5/10",
            "bytes 1-/10",
            "bytes 0-10/10",
            "bytes 0-1/-5",
            "bytes */*",
            "bytes 0-99999999999999999999999/1",
            "bytes 1 - 2/3",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad:?}");
        }
    }
}
