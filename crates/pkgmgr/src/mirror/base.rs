//! Mirror base URLs and the paths fetched under them: parsing, normalising, joining.
//!
//! A base is a directory: `http://a/pkgs` and `HTTP://A:80/pkgs/` are the same mirror,
//! `http://a/pkgs/`. A path is always *under* the base (never an absolute URL, never
//! `..`), so resolving is appending, not RFC 3986 reference resolution: with
//! `http://a/pkgs/` and `/x.tar` the result is `http://a/pkgs/x.tar`, not `http://a/x.tar`.

use http::Uri;
use http::uri::Scheme;

use crate::error::{Error, Result};

/// Parses a mirror base URL and normalises it: lowercase scheme and host, no default
/// port, path percent-encoded where needed and ending in `/`.
pub(crate) fn parse_base(input: &str) -> Result<Uri> {
    let invalid = |reason: String| Error::InvalidMirror {
        url: input.to_owned(),
        reason,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(invalid("it is empty".into()));
    }
    // http::Uri drops a fragment silently; a base with one is almost surely a mistake.
    if text.contains('#') {
        return Err(invalid("it has a fragment (`#...`)".into()));
    }
    // Checked before parsing: http::Uri refuses some other schemes' URLs (`file:///x`)
    // with a vaguer message.
    let unsupported = |s: &str| {
        invalid(format!(
            "scheme `{s}` is not supported; use http:// or https://"
        ))
    };
    if let Some((s, _)) = text.split_once("://")
        && !s.eq_ignore_ascii_case("http")
        && !s.eq_ignore_ascii_case("https")
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err(unsupported(s));
    }
    let uri: Uri = text
        .parse()
        .map_err(|e| invalid(format!("it is not a URL ({e})")))?;
    let scheme = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") => Scheme::HTTP,
        Some(s) if s.eq_ignore_ascii_case("https") => Scheme::HTTPS,
        Some(s) => return Err(unsupported(s)),
        None => return Err(invalid("it needs an http:// or https:// scheme".into())),
    };
    let Some(authority) = uri.authority() else {
        return Err(invalid("it has no host".into()));
    };
    if authority.as_str().contains('@') {
        // Credentials in a URL end up in logs and the CLI summary.
        return Err(invalid(
            "it contains credentials; give them to the HTTP client instead".into(),
        ));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(invalid("it has no host".into()));
    }
    // Without userinfo the authority is `host[:port]`.
    let port = match authority.as_str()[host.len()..].strip_prefix(':') {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(invalid(format!("port `{p}` is not valid"))),
            Ok(p) => Some(p),
        },
    };
    if uri.query().is_some() {
        return Err(invalid(
            "it has a query (`?...`); a mirror base is a directory".into(),
        ));
    }
    let mut path = encode_path(uri.path());
    if path
        .split('/')
        .any(|seg| is_dot_segment(seg) || is_dot_dot_segment(seg))
    {
        return Err(invalid(
            "its path has `.` or `..` segments; give the directory itself".into(),
        ));
    }
    if !path.ends_with('/') {
        path.push('/'); // a base is a directory
    }
    let default_port = if scheme == Scheme::HTTPS { 443 } else { 80 };
    let host = host.to_ascii_lowercase();
    let authority = match port {
        Some(p) if p != default_port => format!("{host}:{p}"),
        _ => host,
    };
    Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(path)
        .build()
        .map_err(|e| invalid(format!("it is not a URL ({e})")))
}

/// Checks a path to fetch and returns it relative (no leading `/`) and percent-encoded.
///
/// One leading `/` is allowed and still means "under the base".
pub(crate) fn normalise_path(input: &str) -> Result<String> {
    let invalid = |reason: &'static str| Error::InvalidMirrorPath {
        path: input.to_owned(),
        reason,
    };
    let rel = input.strip_prefix('/').unwrap_or(input);
    if rel.is_empty() {
        return Err(invalid("it is empty"));
    }
    if rel.chars().any(char::is_control) {
        return Err(invalid("it contains a control character"));
    }
    if rel.contains('\\') {
        return Err(invalid("it contains `\\`; separate segments with `/`"));
    }
    if rel.contains(['?', '#']) {
        return Err(invalid(
            "it has a query or fragment; give only the file's path",
        ));
    }
    let mut segments = rel.split('/').peekable();
    while let Some(seg) = segments.next() {
        if seg.is_empty() {
            return Err(invalid(if segments.peek().is_none() {
                "it ends with `/`; name a file, not a directory"
            } else {
                "it has an empty segment (`//`)"
            }));
        }
        if is_dot_segment(seg) || is_dot_dot_segment(seg) {
            return Err(invalid(
                "it has a `.` or `..` segment, which would leave the mirror's directory",
            ));
        }
    }
    Ok(encode_path(rel))
}

/// `base` (a normalised base) with the normalised relative `path` appended.
pub(crate) fn join(base: &Uri, path: &str) -> Result<Uri> {
    let mut full = String::with_capacity(base.path().len() + path.len());
    full.push_str(base.path());
    full.push_str(path);
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(full.try_into().map_err(|_| Error::InvalidMirrorPath {
        path: path.to_owned(),
        reason: "it does not fit in a URL (too long)",
    })?);
    Uri::from_parts(parts).map_err(|_| Error::InvalidMirrorPath {
        path: path.to_owned(),
        reason: "it does not fit in a URL (too long)",
    })
}

/// `.` or its encoded form (servers decode before resolving).
fn is_dot_segment(seg: &str) -> bool {
    seg == "." || seg.eq_ignore_ascii_case("%2e")
}

/// `..` in any mix of literal and encoded dots.
fn is_dot_dot_segment(seg: &str) -> bool {
    let lower = seg.to_ascii_lowercase();
    matches!(lower.as_str(), ".." | "%2e." | ".%2e" | "%2e%2e")
}

/// Percent-encodes what may not appear in a URI path (RFC 3986 `pchar` and `/`). Valid
/// `%XX` escapes are kept (with uppercase hex, so equal paths compare equal); a `%` that
/// starts none is encoded.
fn encode_path(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && h.is_ascii_hexdigit()
            && l.is_ascii_hexdigit()
        {
            out.push('%');
            out.push(char::from(h.to_ascii_uppercase()));
            out.push(char::from(l.to_ascii_uppercase()));
            i += 3;
            continue;
        }
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> String {
        parse_base(s).unwrap().to_string()
    }

    fn base_err(s: &str) -> String {
        match parse_base(s) {
            Err(Error::InvalidMirror { reason, .. }) => reason,
            other => panic!("{s}: expected InvalidMirror, got {other:?}"),
        }
    }

    fn path_err(s: &str) -> &'static str {
        match normalise_path(s) {
            Err(Error::InvalidMirrorPath { reason, .. }) => reason,
            other => panic!("{s:?}: expected InvalidMirrorPath, got {other:?}"),
        }
    }

    #[test]
    fn bases_are_normalised_directories() {
        assert_eq!(base("http://a/pkgs"), "http://a/pkgs/");
        assert_eq!(
            base("HTTP://Mirror.Example:80/Pkgs/"),
            "http://mirror.example/Pkgs/"
        );
        assert_eq!(base("https://a:443"), "https://a/");
        assert_eq!(base("https://a:8443/x"), "https://a:8443/x/");
        assert_eq!(base(" http://[::1]:8080/x "), "http://[::1]:8080/x/");
        assert_eq!(base("http://a/p%2fq"), "http://a/p%2Fq/");
        assert_eq!(base("http://a/é"), "http://a/%C3%A9/");
        assert_eq!(base("http://a:/x"), "http://a/x/");
    }

    #[test]
    fn bad_bases_say_why() {
        assert!(base_err("").contains("empty"));
        assert!(base_err("ftp://a/").contains("`ftp` is not supported"));
        assert!(base_err("file:///srv/").contains("`file` is not supported"));
        assert!(base_err("a/pkgs").contains("not a URL"));
        assert!(base_err("/pkgs/").contains("scheme"));
        assert!(base_err("http://u:p@a/").contains("credentials"));
        assert!(base_err("http://a/x?y=1").contains("query"));
        assert!(base_err("http://a/x#y").contains("fragment"));
        assert!(base_err("http://:80/").contains("no host"));
        assert!(base_err("http://a:99999/").contains("port"));
        assert!(base_err("http://a:0/").contains("port"));
        assert!(base_err("http://a/x/../y/").contains("`..`"));
        assert!(base_err("http://a/x y/").contains("not a URL"));
    }

    #[test]
    fn paths_resolve_under_the_base() {
        let b = parse_base("http://a/pkgs").unwrap();
        let url = |p: &str| join(&b, &normalise_path(p).unwrap()).unwrap().to_string();
        assert_eq!(url("pkgs/x.tar"), "http://a/pkgs/pkgs/x.tar");
        assert_eq!(url("/x.tar"), "http://a/pkgs/x.tar");
        assert_eq!(
            url("ffmpeg-2:6.1-1-x86_64.pkg.tar.zst"),
            "http://a/pkgs/ffmpeg-2:6.1-1-x86_64.pkg.tar.zst"
        );
        assert_eq!(url("a b+c.tar"), "http://a/pkgs/a%20b+c.tar");
        assert_eq!(url("a%2fb"), "http://a/pkgs/a%2Fb");
        assert_eq!(url("100%"), "http://a/pkgs/100%25");
        assert_eq!(url("ü.tar"), "http://a/pkgs/%C3%BC.tar");
    }

    #[test]
    fn bad_paths_say_why() {
        assert!(path_err("").contains("empty"));
        assert!(path_err("/").contains("empty"));
        assert!(path_err("a/").contains("ends with `/`"));
        assert!(path_err("a//b").contains("empty segment"));
        assert!(path_err("//a").contains("empty segment"));
        assert!(path_err("../etc/passwd").contains("`..`"));
        assert!(path_err("a/./b").contains("`.`"));
        assert!(path_err("a/%2E%2e/b").contains("`..`"));
        assert!(path_err("a?x=1").contains("query"));
        assert!(path_err("a#x").contains("fragment"));
        assert!(path_err("a\\b").contains("`\\`"));
        assert!(path_err("a\nb").contains("control"));
        let long = "x".repeat(70_000);
        let b = parse_base("http://a/").unwrap();
        assert!(matches!(
            join(&b, &normalise_path(&long).unwrap()),
            Err(Error::InvalidMirrorPath { .. })
        ));
    }
}
