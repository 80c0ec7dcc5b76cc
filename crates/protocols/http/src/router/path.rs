//! Route patterns and the segment trie that matches request paths against them.
//!
//! A pattern is `/`-separated segments: literal text, `:name` (one non-empty segment)
//! or `*name` (the rest of the path, possibly empty; last only). Matching prefers a
//! literal segment over a parameter over a wildcard at each position, and backtracks,
//! so `/users/new` and `/users/:id` live side by side. Request segments are
//! percent-decoded before they are compared, so `/caf%C3%A9` matches `/café`.

use std::borrow::Cow;
use std::sync::Arc;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};

/// A node of the trie: one path position.
#[derive(Default, Clone)]
pub(crate) struct Node {
    /// Literal children. A short list: a position rarely has more than a handful.
    statics: Vec<(String, Node)>,
    param: Option<(Arc<str>, Box<Node>)>,
    /// A wildcard taking the rest, and its endpoint.
    wildcard: Option<(Arc<str>, usize)>,
    endpoint: Option<usize>,
}

/// One parsed pattern segment.
enum Segment<'a> {
    Static(&'a str),
    Param(&'a str),
    Wildcard(&'a str),
}

fn invalid(pattern: &str, reason: &'static str) -> Error {
    Error::InvalidRoute {
        pattern: pattern.to_owned(),
        reason,
    }
}

fn parse(pattern: &str) -> Result<Vec<Segment<'_>>> {
    let Some(rest) = pattern.strip_prefix('/') else {
        return Err(invalid(pattern, "a pattern must start with `/`"));
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let mut names: Vec<&str> = Vec::new();
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let seg = if let Some(name) = part.strip_prefix(':') {
            Segment::Param(name)
        } else if let Some(name) = part.strip_prefix('*') {
            if i + 1 != parts.len() {
                return Err(invalid(pattern, "a `*wildcard` must be the last segment"));
            }
            Segment::Wildcard(name)
        } else {
            Segment::Static(part)
        };
        if let Segment::Param(name) | Segment::Wildcard(name) = seg {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(
                    pattern,
                    "parameter names must be non-empty and use only ASCII letters, digits and `_`",
                ));
            }
            if names.contains(&name) {
                return Err(invalid(pattern, "a parameter name is used twice"));
            }
            names.push(name);
        }
        out.push(seg);
    }
    Ok(out)
}

impl Node {
    /// The endpoint index for `pattern`: the existing one if the pattern was added
    /// before, else `next` (and the caller adds that endpoint).
    pub(crate) fn insert(&mut self, pattern: &str, next: usize) -> Result<usize> {
        let segments = parse(pattern)?;
        let mut node = self;
        for seg in segments {
            node = match seg {
                Segment::Static(s) => {
                    let pos = match node.statics.iter().position(|(k, _)| k == s) {
                        Some(pos) => pos,
                        None => {
                            node.statics.push((s.to_owned(), Node::default()));
                            node.statics.len() - 1
                        }
                    };
                    &mut node.statics[pos].1
                }
                Segment::Param(name) => {
                    let (existing, child) = node
                        .param
                        .get_or_insert_with(|| (Arc::from(name), Box::default()));
                    if &**existing != name {
                        return Err(invalid(
                            pattern,
                            "another route has a parameter of another name at this position; use the same name",
                        ));
                    }
                    child
                }
                Segment::Wildcard(name) => {
                    return match &node.wildcard {
                        Some((existing, idx)) if &**existing == name => Ok(*idx),
                        Some(_) => Err(invalid(
                            pattern,
                            "another route has a wildcard of another name here; use the same name",
                        )),
                        None => {
                            node.wildcard = Some((Arc::from(name), next));
                            Ok(next)
                        }
                    };
                }
            };
        }
        Ok(*node.endpoint.get_or_insert(next))
    }

    /// The endpoint matching the decoded `segments`, with the parameters it binds.
    pub(crate) fn find(
        &self,
        segments: &[Cow<'_, str>],
        params: &mut Vec<(Arc<str>, String)>,
    ) -> Option<usize> {
        let Some((seg, rest)) = segments.split_first() else {
            return self.endpoint;
        };
        if let Some((_, child)) = self.statics.iter().find(|(k, _)| k == seg)
            && let Some(found) = child.find(rest, params)
        {
            return Some(found);
        }
        if let Some((name, child)) = &self.param
            && !seg.is_empty()
        {
            params.push((name.clone(), seg.clone().into_owned()));
            if let Some(found) = child.find(rest, params) {
                return Some(found);
            }
            params.pop();
        }
        if let Some((name, idx)) = &self.wildcard {
            params.push((name.clone(), segments.join("/")));
            return Some(*idx);
        }
        None
    }
}

/// The percent-decoded segments of a request path (after its leading `/`), or `None`
/// when one does not decode to UTF-8.
pub(crate) fn segments(path: &str) -> Option<Vec<Cow<'_, str>>> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    if rest.is_empty() {
        return Some(Vec::new());
    }
    rest.split('/')
        .map(|s| percent_decode_str(s).decode_utf8().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(patterns: &[&str]) -> Node {
        let mut root = Node::default();
        for (i, p) in patterns.iter().enumerate() {
            assert_eq!(root.insert(p, i).unwrap(), i, "{p}");
        }
        root
    }

    fn find(root: &Node, path: &str) -> Option<(usize, Vec<(String, String)>)> {
        let segs = segments(path)?;
        let mut params = Vec::new();
        let idx = root.find(&segs, &mut params)?;
        Some((
            idx,
            params
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ))
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn literals_params_and_wildcards() {
        let root = table(&[
            "/",
            "/users",
            "/users/new",
            "/users/:id",
            "/users/:id/posts/:post",
            "/static/*path",
        ]);
        assert_eq!(find(&root, "/"), Some((0, vec![])));
        assert_eq!(find(&root, "/users"), Some((1, vec![])));
        assert_eq!(find(&root, "/users/new"), Some((2, vec![])));
        assert_eq!(find(&root, "/users/42"), Some((3, p(&[("id", "42")]))));
        assert_eq!(
            find(&root, "/users/7/posts/x%20y"),
            Some((4, p(&[("id", "7"), ("post", "x y")])))
        );
        assert_eq!(
            find(&root, "/static/css/site.css"),
            Some((5, p(&[("path", "css/site.css")])))
        );
        assert_eq!(find(&root, "/static/"), Some((5, p(&[("path", "")]))));
        assert_eq!(find(&root, "/static"), None);
        assert_eq!(find(&root, "/users/"), None, "a parameter is never empty");
        assert_eq!(find(&root, "/nope"), None);
        assert_eq!(find(&root, "/users/%FF"), None, "not UTF-8");
    }

    #[test]
    fn backtracks_from_a_literal_to_a_parameter() {
        let root = table(&["/a/b/c", "/a/:x/d"]);
        assert_eq!(find(&root, "/a/b/d"), Some((1, p(&[("x", "b")]))));
    }

    #[test]
    fn same_pattern_twice_gives_the_same_endpoint() {
        let mut root = table(&["/x/:id"]);
        assert_eq!(root.insert("/x/:id", 9).unwrap(), 0);
    }

    #[test]
    fn bad_patterns_are_refused() {
        let mut root = table(&["/u/:id"]);
        for bad in [
            "no-slash",
            "/a/*rest/b",
            "/a/:",
            "/a/:x-y",
            "/a/:x/:x",
            "/u/:name",
            "/*",
        ] {
            let e = root.insert(bad, 5).unwrap_err();
            assert!(matches!(e, Error::InvalidRoute { .. }), "{bad}: {e}");
        }
    }
}
