//! The resume protocol as pure functions: what to request given the partial file, and
//! what to do with the response. No I/O here, so every branch is tested directly.

use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};

use super::content_range::ContentRange;
use super::validators::Validators;
use crate::error::{Error, Result};

/// The range request for a partial file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRequest {
    /// The byte offset the body should start at (0: a fresh download).
    pub offset: u64,
    /// The `Range` header value, e.g. `bytes=1000-`.
    pub range: Option<String>,
    /// The `If-Range` header value: the server sends the whole new file (200) instead of
    /// a range if the file changed since the part was started.
    pub if_range: Option<String>,
}

/// Plans the request for a partial file of `part_len` bytes started under `stored`.
///
/// Without validators a resume cannot prove that both halves are the same file; it is done
/// only when `verified_later` (a SHA-256 will check the result), otherwise the download
/// restarts from zero.
///
/// ```
/// use ghostnet_pkgmgr::download::{plan_resume, Validators};
///
/// let v = Validators { etag: Some("\"v1\"".into()), last_modified: None };
/// let req = plan_resume(1000, Some(&v), false);
/// assert_eq!(req.range.as_deref(), Some("bytes=1000-"));
/// assert_eq!(req.if_range.as_deref(), Some("\"v1\""));
/// assert_eq!(plan_resume(1000, None, false).offset, 0);
/// ```
pub fn plan_resume(
    part_len: u64,
    stored: Option<&Validators>,
    verified_later: bool,
) -> ResumeRequest {
    let fresh = ResumeRequest {
        offset: 0,
        range: None,
        if_range: None,
    };
    if part_len == 0 {
        return fresh;
    }
    let if_range = stored.and_then(Validators::if_range);
    if if_range.is_none() && !verified_later {
        return fresh;
    }
    ResumeRequest {
        offset: part_len,
        range: Some(format!("bytes={part_len}-")),
        if_range,
    }
}

/// What to do with a response to a (possibly ranged) request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseAction {
    /// 206 starting where the part ends: append the body.
    Append {
        /// Where the body starts.
        offset: u64,
        /// Full size of the file, when known.
        total: Option<u64>,
    },
    /// 200: the body is the whole file; truncate the part and write from zero.
    Restart {
        /// Full size of the file, when known.
        total: Option<u64>,
    },
    /// 416 and the part already has exactly the full size: nothing to fetch.
    Complete {
        /// Full size of the file.
        total: u64,
    },
    /// 416 and the part does not match the file's size: discard it and ask again without
    /// a range.
    RetryFromZero,
}

/// Decides what to do with a response to a request made at `requested_offset`.
/// `expected_total` is the full size recorded when the part was started, if any.
///
/// # Errors
///
/// [`Error::Status`] for any status other than 200, 206 and 416 (the body must not be
/// written: it is an error page), and [`Error::ContentRange`] for a 206 whose range does
/// not continue the part or whose total differs from `expected_total`.
pub fn classify_response(
    url: &str,
    requested_offset: u64,
    expected_total: Option<u64>,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<ResponseAction> {
    let mismatch = |reason: String| Error::ContentRange {
        url: url.to_owned(),
        reason,
    };
    let content_range = headers
        .get(CONTENT_RANGE)
        .map(|v| v.to_str().ok().and_then(ContentRange::parse));
    match status {
        StatusCode::OK => Ok(ResponseAction::Restart {
            total: content_length(headers),
        }),
        StatusCode::PARTIAL_CONTENT => {
            if headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| {
                    t.trim_start()
                        .to_ascii_lowercase()
                        .starts_with("multipart/byteranges")
                })
            {
                return Err(mismatch(
                    "a multipart answer to a single-range request".into(),
                ));
            }
            let Some(Some(ContentRange::Bytes { first, last, total })) = content_range else {
                return Err(mismatch("206 without a valid Content-Range".into()));
            };
            if first != requested_offset {
                return Err(mismatch(format!(
                    "asked for bytes from {requested_offset}, got {first}-{last}"
                )));
            }
            if let (Some(expected), Some(total)) = (expected_total, total)
                && expected != total
            {
                return Err(mismatch(format!(
                    "the file was {expected} bytes when the download started and is now {total}"
                )));
            }
            if let Some(len) = content_length(headers)
                && len != last - first + 1
            {
                return Err(mismatch(format!(
                    "Content-Length {len} does not match range {first}-{last}"
                )));
            }
            Ok(ResponseAction::Append {
                offset: first,
                total,
            })
        }
        StatusCode::RANGE_NOT_SATISFIABLE => match content_range {
            Some(Some(ContentRange::Unsatisfied { total })) if total == requested_offset => {
                Ok(ResponseAction::Complete { total })
            }
            _ => Ok(ResponseAction::RetryFromZero),
        },
        other => Err(Error::Status {
            url: url.to_owned(),
            status: other.as_u16(),
        }),
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(CONTENT_LENGTH)?.to_str().ok()?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn classify(
        offset: u64,
        expected: Option<u64>,
        status: u16,
        h: &[(&str, &str)],
    ) -> Result<ResponseAction> {
        classify_response(
            "http://m/x",
            offset,
            expected,
            StatusCode::from_u16(status).unwrap(),
            &headers(h),
        )
    }

    #[test]
    fn plan_uses_strong_etag_then_last_modified() {
        let both = Validators {
            etag: Some("\"e\"".into()),
            last_modified: Some("Tue, 01 Jan 2030 00:00:00 GMT".into()),
        };
        assert_eq!(
            plan_resume(5, Some(&both), false).if_range.as_deref(),
            Some("\"e\"")
        );
        let lm = Validators {
            etag: None,
            last_modified: Some("Tue, 01 Jan 2030 00:00:00 GMT".into()),
        };
        assert_eq!(
            plan_resume(5, Some(&lm), false).if_range.as_deref(),
            lm.last_modified.as_deref()
        );
        assert_eq!(
            plan_resume(0, Some(&both), false).range,
            None,
            "nothing to resume"
        );
    }

    #[test]
    fn plan_without_validators_needs_a_checksum() {
        assert_eq!(
            plan_resume(9, Some(&Validators::default()), false).offset,
            0
        );
        let r = plan_resume(9, None, true);
        assert_eq!(
            (r.offset, r.range.as_deref(), r.if_range),
            (9, Some("bytes=9-"), None)
        );
    }

    #[test]
    fn ok_restarts_and_partial_appends() {
        assert_eq!(
            classify(100, None, 200, &[("content-length", "1000")]).unwrap(),
            ResponseAction::Restart { total: Some(1000) }
        );
        assert_eq!(
            classify(
                100,
                Some(1000),
                206,
                &[
                    ("content-range", "bytes 100-999/1000"),
                    ("content-length", "900")
                ]
            )
            .unwrap(),
            ResponseAction::Append {
                offset: 100,
                total: Some(1000)
            }
        );
    }

    #[test]
    fn mismatched_ranges_are_errors() {
        for (h, why) in [
            (
                vec![("content-range", "bytes 0-999/1000")],
                "asked for bytes from 100",
            ),
            (
                vec![("content-range", "bytes 100-1999/2000")],
                "was 1000 bytes",
            ),
            (vec![], "without a valid Content-Range"),
            (
                vec![("content-range", "garbage")],
                "without a valid Content-Range",
            ),
            (
                vec![
                    ("content-range", "bytes 100-999/1000"),
                    ("content-length", "5"),
                ],
                "does not match range",
            ),
            (
                vec![
                    ("content-range", "bytes 100-999/1000"),
                    ("content-type", "multipart/byteranges; boundary=x"),
                ],
                "multipart",
            ),
        ] {
            let err = classify(100, Some(1000), 206, &h).unwrap_err();
            assert!(matches!(err, Error::ContentRange { .. }), "{err}");
            assert!(err.to_string().contains(why), "{err} should mention {why}");
        }
    }

    #[test]
    fn unsatisfiable_compares_sizes() {
        assert_eq!(
            classify(1000, None, 416, &[("content-range", "bytes */1000")]).unwrap(),
            ResponseAction::Complete { total: 1000 }
        );
        assert_eq!(
            classify(1200, None, 416, &[("content-range", "bytes */1000")]).unwrap(),
            ResponseAction::RetryFromZero
        );
        assert_eq!(
            classify(1200, None, 416, &[]).unwrap(),
            ResponseAction::RetryFromZero
        );
    }

    #[test]
    fn error_statuses_write_nothing() {
        for status in [204, 301, 403, 404, 500, 503] {
            let err = classify(0, None, status, &[("content-type", "text/html")]).unwrap_err();
            assert!(matches!(err, Error::Status { status: s, .. } if s == status));
            assert!(err.to_string().contains("nothing was written"));
        }
    }
}
