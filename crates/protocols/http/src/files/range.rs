//! `Range: bytes=...` (RFC 9110 §14): parsing against a representation's length.

use std::ops::Range;

/// What a `Range` header asks of a representation of a given length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// Serve these byte ranges (each non-empty, within the length), in request order.
    Satisfiable(Vec<Range<u64>>),
    /// No range overlaps the representation: `416` with `Content-Range: bytes */len`.
    Unsatisfiable,
    /// Malformed, another unit, more ranges than allowed, or asking for more bytes than
    /// the whole: ignored, the whole representation is sent (`200`), as RFC 9110
    /// allows. This also defuses overlapping-range amplification.
    Ignore,
}

/// Parses `value` for a representation of `len` bytes, allowing at most `max_ranges`
/// ranges (work is bounded by that, whatever the header's size).
pub(crate) fn parse(value: &str, len: u64, max_ranges: usize) -> Ranges {
    let Some((unit, specs)) = value.split_once('=') else {
        return Ranges::Ignore;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ranges::Ignore;
    }
    let mut out = Vec::new();
    let mut count = 0usize;
    let mut total: u64 = 0;
    for spec in specs.split(',') {
        let spec = spec.trim();
        if spec.is_empty() {
            continue; // empty list elements are allowed
        }
        count += 1;
        if count > max_ranges {
            return Ranges::Ignore;
        }
        let Some((first, last)) = spec.split_once('-') else {
            return Ranges::Ignore;
        };
        let (first, last) = (first.trim(), last.trim());
        let range = if first.is_empty() {
            // Suffix: the last N bytes.
            let Some(n) = number(last) else {
                return Ranges::Ignore;
            };
            if n == 0 || len == 0 {
                continue; // unsatisfiable on its own
            }
            len.saturating_sub(n)..len
        } else {
            let Some(start) = number(first) else {
                return Ranges::Ignore;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match number(last) {
                    Some(end) if end >= start => end,
                    _ => return Ranges::Ignore,
                }
            };
            if start >= len {
                continue; // unsatisfiable on its own
            }
            start..end.min(len - 1) + 1
        };
        total = total.saturating_add(range.end - range.start);
        out.push(range);
    }
    if count == 0 {
        return Ranges::Ignore;
    }
    if out.is_empty() {
        return Ranges::Unsatisfiable;
    }
    if out.len() > 1 && total > len {
        // Overlapping ranges that add up to more than the whole: send the whole once.
        return Ranges::Ignore;
    }
    Ranges::Satisfiable(out)
}

/// `1*DIGIT` as a `u64`; `None` for signs, spaces, empty or overflow.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sat(v: &[Range<u64>]) -> Ranges {
        Ranges::Satisfiable(v.to_vec())
    }

    #[test]
    fn single_ranges() {
        assert_eq!(parse("bytes=0-99", 1000, 8), sat(&[0..100]));
        assert_eq!(parse("bytes=900-", 1000, 8), sat(&[900..1000]));
        assert_eq!(parse("bytes=-100", 1000, 8), sat(&[900..1000]));
        assert_eq!(parse("bytes=-5000", 1000, 8), sat(&[0..1000]));
        assert_eq!(parse("bytes=990-5000", 1000, 8), sat(&[990..1000]));
        assert_eq!(parse("Bytes = 1-1", 10, 8), sat(&[1..2]));
    }

    #[test]
    fn multiple_ranges() {
        assert_eq!(
            parse("bytes=0-1, 5-6,,-1", 10, 8),
            sat(&[0..2, 5..7, 9..10])
        );
        assert_eq!(
            parse("bytes=0-1,50-60", 10, 8),
            sat(&[0..2]),
            "one unsatisfiable"
        );
        assert_eq!(
            parse("bytes=0-,0-", 10, 8),
            Ranges::Ignore,
            "more than the whole"
        );
        assert_eq!(
            parse("bytes=0-0,1-1,2-2", 10, 2),
            Ranges::Ignore,
            "too many"
        );
        let huge = format!("bytes={}", vec!["0-0"; 100_000].join(","));
        assert_eq!(parse(&huge, 10, 16), Ranges::Ignore);
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(parse("bytes=1000-", 1000, 8), Ranges::Unsatisfiable);
        assert_eq!(parse("bytes=-0", 1000, 8), Ranges::Unsatisfiable);
        assert_eq!(parse("bytes=0-", 0, 8), Ranges::Unsatisfiable);
        assert_eq!(parse("bytes=-5", 0, 8), Ranges::Unsatisfiable);
    }

    #[test]
    fn malformed_is_ignored() {
        for bad in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "items=0-1",
            "bytes=a-b",
            "bytes=5-1",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=0x1-2",
            "bytes=--1",
            "bytes=1",
            "bytes=99999999999999999999-",
        ] {
            assert_eq!(parse(bad, 1000, 8), Ranges::Ignore, "{bad:?}");
        }
    }
}
