//! Resolving a `Location` reference against the URI it came from (RFC 3986 section 5.2),
//! since `http::Uri` parses only absolute forms.

use http::Uri;

/// The parts of a URI reference; `None` means absent, `Some("")` present but empty
/// (`?` with no query is not the same as no `?`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

/// Splits a reference into its parts (RFC 3986 appendix B); the fragment is dropped,
/// as it is never sent.
fn split(reference: &str) -> Parts<'_> {
    let mut rest = reference.split('#').next().unwrap_or("");
    let mut parts = Parts::default();
    if let Some(colon) = rest.find(':') {
        let candidate = &rest[..colon];
        let mut chars = candidate.chars();
        let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if is_scheme {
            parts.scheme = Some(candidate);
            rest = &rest[colon + 1..];
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?']).unwrap_or(after.len());
        parts.authority = Some(&after[..end]);
        rest = &after[end..];
    }
    match rest.split_once('?') {
        Some((path, query)) => {
            parts.path = path;
            parts.query = Some(query);
        }
        None => parts.path = rest,
    }
    parts
}

/// RFC 3986 section 5.2.4: removes `.` and `..` segments.
fn remove_dot_segments(input: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let absolute = input.starts_with('/');
    let segments: Vec<&str> = input.split('/').collect();
    let last = segments.len().saturating_sub(1);
    // A trailing `.` or `..` leaves the path ending in `/`.
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        if i == 0 && absolute {
            continue; // the empty segment before the leading `/`
        }
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut path = String::with_capacity(input.len());
    if absolute {
        path.push('/');
    }
    path.push_str(&out.join("/"));
    if trailing_slash && !path.ends_with('/') {
        path.push('/');
    }
    path
}

/// Percent-encodes the bytes `http::Uri` refuses (controls, space, non-ASCII, and
/// `"<>\^`{|}`) so that a `Location` written loosely, as browsers accept it, still parses.
fn encode_loose(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |b: u8| b <= b' ' || b >= 0x7f || b"\"<>\\^`{|}".contains(&b);
    if !s.bytes().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for b in s.bytes() {
        if bad(b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Resolves `reference` (a `Location` value) against `base`; `None` when the result is
/// not a valid absolute URI.
pub(crate) fn resolve(base: &Uri, reference: &str) -> Option<Uri> {
    let reference = encode_loose(reference.trim());
    let r = split(&reference);
    let base_path = base.path();
    let base_query = base.query();
    let (scheme, authority, path, query);
    if let Some(s) = r.scheme {
        scheme = s.to_owned();
        authority = r.authority.map(str::to_owned);
        path = remove_dot_segments(r.path);
        query = r.query;
    } else {
        scheme = base.scheme_str()?.to_owned();
        if let Some(a) = r.authority {
            authority = Some(a.to_owned());
            path = remove_dot_segments(r.path);
            query = r.query;
        } else {
            authority = Some(base.authority()?.as_str().to_owned());
            if r.path.is_empty() {
                path = base_path.to_owned();
                query = r.query.or(base_query);
            } else {
                path = if r.path.starts_with('/') {
                    remove_dot_segments(r.path)
                } else {
                    // Merge (5.2.3): the base path up to its last `/`, then the reference.
                    let dir = base_path.rfind('/').map_or("/", |i| &base_path[..=i]);
                    remove_dot_segments(&format!("{dir}{}", r.path))
                };
                query = r.query;
            }
        }
    }
    let mut target = format!("{scheme}://{}", authority?);
    if !path.starts_with('/') {
        target.push('/');
    }
    target.push_str(&path);
    if let Some(q) = query {
        target.push('?');
        target.push_str(q);
    }
    target.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of RFC 3986 section 5.4 (those with an authority-bearing result).
    #[test]
    fn rfc3986_examples() {
        let base: Uri = "http://a/b/c/d;p?q".parse().unwrap();
        let cases = [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            (";x", "http://a/b/c/;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("https://other:8443/x?z", "https://other:8443/x?z"),
        ];
        for (reference, expected) in cases {
            let got = resolve(&base, reference).map(|u| u.to_string());
            assert_eq!(got.as_deref(), Some(expected), "{reference:?}");
        }
    }

    /// Whatever a server puts in `Location`, resolving it never panics (a cheap stand-in
    /// for a fuzz target: the function is crate-private).
    #[test]
    fn arbitrary_references_never_panic() {
        let base: Uri = "https://a.test:8443/x/y/z?q=1".parse().unwrap();
        let alphabet: Vec<char> = "/.?#:@%[]a1-_ \u{e9}\u{1f600}\t\\".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let reference: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if let Some(uri) = resolve(&base, &reference) {
                assert!(
                    uri.scheme().is_some() && uri.authority().is_some(),
                    "{reference:?}"
                );
            }
        }
    }

    #[test]
    fn loose_locations_are_encoded() {
        let base: Uri = "http://a/dir/".parse().unwrap();
        let got = resolve(&base, "/caf\u{e9} menu").unwrap();
        assert_eq!(got.to_string(), "http://a/caf%C3%A9%20menu");
        assert!(resolve(&base, "http://").is_none());
    }
}
