//! Validators: a strong `ETag` from file metadata, `Last-Modified`, and the conditional
//! headers that use them (RFC 9110 §13).

use std::fs::Metadata;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A file's validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validators {
    /// A strong entity tag, quotes included: `"<len>-<mtime ns>-<inode>"` in hex. Any
    /// write that changes the size or the modification time, or a replacement by
    /// rename (a new inode), changes it.
    pub(crate) etag: String,
    /// The modification time, whole seconds (HTTP dates have no finer resolution).
    pub(crate) modified: Option<SystemTime>,
}

impl Validators {
    pub(crate) fn of(meta: &Metadata) -> Self {
        let modified = meta.modified().ok();
        let nanos = modified
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let etag = format!("\"{:x}-{:x}-{:x}\"", meta.len(), nanos, inode(meta));
        Self {
            etag,
            modified: modified.map(whole_seconds),
        }
    }

    /// The `Last-Modified` value.
    pub(crate) fn last_modified(&self) -> Option<String> {
        self.modified.map(httpdate::fmt_http_date)
    }

    /// `If-None-Match` (weak comparison): whether one of `values` matches, so the
    /// answer is `304`.
    pub(crate) fn none_match<'a>(&self, mut values: impl Iterator<Item = &'a [u8]>) -> bool {
        values.any(|v| {
            v.trim_ascii() == b"*"
                || EntityTags::new(v).any(|(_, tag)| tag == opaque(self.etag.as_bytes()))
        })
    }

    /// `If-Modified-Since`: whether the file is unchanged since `value` (then `304`).
    /// An invalid date is ignored, as RFC 9110 requires.
    pub(crate) fn not_modified_since(&self, value: &[u8]) -> bool {
        let (Some(modified), Some(since)) = (self.modified, parse_date(value)) else {
            return false;
        };
        modified <= since
    }

    /// `If-Range`: whether the range may be served. An entity tag must match strongly
    /// (a weak one never does); a date must equal `Last-Modified` exactly.
    pub(crate) fn if_range(&self, value: &[u8]) -> bool {
        let value = value.trim_ascii();
        if value.starts_with(b"\"") || value.starts_with(b"W/") {
            let mut tags = EntityTags::new(value);
            return matches!(tags.next(), Some((false, tag)) if tag == opaque(self.etag.as_bytes()))
                && tags.next().is_none();
        }
        matches!((self.modified, parse_date(value)), (Some(m), Some(d)) if m == d)
    }
}

fn whole_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        Err(_) => t,
    }
}

fn parse_date(value: &[u8]) -> Option<SystemTime> {
    httpdate::parse_http_date(std::str::from_utf8(value).ok()?.trim()).ok()
}

/// The quoted part of a strong tag we made (`"..."` → `...`).
fn opaque(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"\"")
        .and_then(|t| t.strip_suffix(b"\""))
        .unwrap_or(tag)
}

#[cfg(unix)]
fn inode(meta: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &Metadata) -> u64 {
    0
}

/// The entity tags of a list (`W/"a", "b,c"`): `(weak, opaque)` pairs. Parsing stops at
/// the first malformed element (a list that is not entity tags matches nothing).
struct EntityTags<'a> {
    rest: &'a [u8],
}

impl<'a> EntityTags<'a> {
    fn new(list: &'a [u8]) -> Self {
        Self { rest: list }
    }
}

impl<'a> Iterator for EntityTags<'a> {
    type Item = (bool, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let mut s = self.rest.trim_ascii_start();
        while let Some(r) = s.strip_prefix(b",") {
            s = r.trim_ascii_start();
        }
        let (weak, s) = match s.strip_prefix(b"W/") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let s = s.strip_prefix(b"\"")?;
        let end = s.iter().position(|&b| b == b'"')?;
        let (tag, rest) = (&s[..end], &s[end + 1..]);
        self.rest = rest;
        Some((weak, tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Validators {
        Validators {
            etag: "\"a-b-c\"".into(),
            modified: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        }
    }

    #[test]
    fn if_none_match_is_weak() {
        let v = v();
        let check = |s: &str| v.none_match(std::iter::once(s.as_bytes()));
        assert!(check("\"a-b-c\""));
        assert!(check("W/\"a-b-c\""));
        assert!(check("\"x\", \"a-b-c\""));
        assert!(check("*"));
        assert!(!check("\"x\""));
        assert!(!check("a-b-c"), "unquoted is not a tag");
        assert!(!check(""));
    }

    #[test]
    fn if_range_is_strong() {
        let v = v();
        assert!(v.if_range(b"\"a-b-c\""));
        assert!(!v.if_range(b"W/\"a-b-c\""));
        assert!(!v.if_range(b"\"other\""));
        assert!(v.if_range(v.last_modified().unwrap().as_bytes()));
        assert!(!v.if_range(b"Tue, 14 Nov 2023 22:13:21 GMT"));
        assert!(!v.if_range(b"garbage"));
    }

    #[test]
    fn if_modified_since() {
        let v = v();
        let lm = v.last_modified().unwrap();
        assert!(v.not_modified_since(lm.as_bytes()));
        assert!(v.not_modified_since(b"Sat, 01 Jan 2050 00:00:00 GMT"));
        assert!(!v.not_modified_since(b"Sat, 01 Jan 2000 00:00:00 GMT"));
        assert!(!v.not_modified_since(b"not a date"));
    }

    #[test]
    fn etag_changes_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"one").unwrap();
        let a = Validators::of(&std::fs::metadata(&p).unwrap());
        std::fs::write(&p, b"three").unwrap();
        let b = Validators::of(&std::fs::metadata(&p).unwrap());
        assert_ne!(a.etag, b.etag);
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
    }
}
