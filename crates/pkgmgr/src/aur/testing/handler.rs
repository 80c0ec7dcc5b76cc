//! The RPC v5 routes as aurweb answers them: `GET /rpc/v5/info?arg[]=..`,
//! `GET /rpc/v5/info/{name}`, `POST /rpc/v5/info` (`{"arg": [..]}`),
//! `GET /rpc/v5/search?arg=..&by=..`, `GET /rpc/v5/search/{arg}`, `POST /rpc/v5/search`
//! (`{"arg": "..", "by": ".."}`); ETag from the body and `304` on `If-None-Match`;
//! `type: "error"` bodies for bad queries.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde::Serialize;

use super::{Failure, State};
use crate::aur::{Envelope, PackageInfo, SearchBy};

/// Answers one request.
pub(crate) fn handle(state: &State, req: Request<Bytes>) -> Response<Bytes> {
    state.stats.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(failure) = state.next_failure() {
        return failed(failure);
    }
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix("/rpc/v") else {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    };
    let (version, route) = rest.split_once('/').unwrap_or((rest, ""));
    let (kind, tail) = route.split_once('/').unwrap_or((route, ""));
    if version != "5" {
        return rpc_error(StatusCode::OK, "Invalid version specified.");
    }
    let query = query_pairs(req.uri().query().unwrap_or(""));
    let body = match (kind, req.method().clone()) {
        ("info", Method::GET) => {
            let mut args: Vec<String> = Vec::new();
            if !tail.is_empty() {
                args.push(decode(tail));
            }
            args.extend(
                query
                    .iter()
                    .filter(|(k, _)| k == "arg[]" || k == "arg")
                    .map(|(_, v)| v.clone()),
            );
            state.stats.info_get.fetch_add(1, Ordering::Relaxed);
            info(state, &args)
        }
        ("info", Method::POST) => {
            state.stats.info_post.fetch_add(1, Ordering::Relaxed);
            match post_args(req.body()) {
                Ok(args) => info(state, &args),
                Err(message) => return rpc_error(StatusCode::BAD_REQUEST, message),
            }
        }
        ("search", Method::GET) => {
            let arg = if tail.is_empty() {
                first(&query, "arg").unwrap_or_default()
            } else {
                decode(tail)
            };
            let by = first(&query, "by").unwrap_or_else(|| "name-desc".to_owned());
            state.stats.search.fetch_add(1, Ordering::Relaxed);
            search(state, &arg, &by)
        }
        ("search", Method::POST) => {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(req.body()) else {
                return rpc_error(StatusCode::BAD_REQUEST, "the body must be a JSON object");
            };
            let arg = v.get("arg").and_then(|a| a.as_str()).unwrap_or_default();
            let by = v.get("by").and_then(|a| a.as_str()).unwrap_or("name-desc");
            state.stats.search.fetch_add(1, Ordering::Relaxed);
            search(state, arg, by)
        }
        ("info" | "search", _) => {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        }
        _ => return plain(StatusCode::NOT_FOUND, "Not Found"),
    };
    let etag = etag_of(&body);
    let unchanged = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_matches(|c: char| c == '"' || c.is_whitespace()) == etag);
    let mut response = if unchanged {
        state.stats.not_modified.fetch_add(1, Ordering::Relaxed);
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        json(StatusCode::OK, body)
    };
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        response.headers_mut().insert(ETAG, v);
    }
    response
}

/// `info`: the packages among `args`, in the server's (name) order, not the request's.
fn info(state: &State, args: &[String]) -> Bytes {
    let mut found: Vec<usize> = args
        .iter()
        .filter_map(|a| state.by_name.get(a.as_str()).copied())
        .collect();
    found.sort_by(|&a, &b| state.packages[a].name.cmp(&state.packages[b].name));
    found.dedup();
    if found.len() > state.max_results {
        return envelope_error("Too many package results.");
    }
    envelope("multiinfo", found.iter().map(|&i| &state.info_json[i]))
}

/// `search`: matches as aurweb does (substring for names and descriptions, exact
/// otherwise, case-insensitive).
fn search(state: &State, arg: &str, by: &str) -> Bytes {
    let Some(by) = SearchBy::parse(by) else {
        return envelope_error("Incorrect by field specified.");
    };
    if matches!(by, SearchBy::Name | SearchBy::NameDesc) && arg.chars().count() < 2 {
        return envelope_error("Query arg too small.");
    }
    let needle = arg.to_lowercase();
    let found: Vec<usize> = (0..state.packages.len())
        .filter(|&i| matches(&state.packages[i], by, arg, &needle))
        .collect();
    if found.len() > state.max_results {
        return envelope_error("Too many package results.");
    }
    envelope("search", found.iter().map(|&i| &state.search_json[i]))
}

fn matches(p: &PackageInfo, by: SearchBy, arg: &str, needle: &str) -> bool {
    let contains = |s: &str| s.to_lowercase().contains(needle);
    let same = |s: &str| s.eq_ignore_ascii_case(arg);
    // A relation is `name`, `name>=1.0`, `name=1.0` or `name: reason` (optdepends).
    let relation = |list: &[String]| {
        list.iter().any(|d| {
            let name = d.split([':', '<', '>', '=']).next().unwrap_or("").trim();
            same(name)
        })
    };
    match by {
        SearchBy::Name => contains(&p.name),
        SearchBy::NameDesc => contains(&p.name) || p.description.as_deref().is_some_and(contains),
        SearchBy::Maintainer => match &p.maintainer {
            Some(m) => same(m),
            None => arg.is_empty(),
        },
        SearchBy::Submitter => p.submitter.as_deref().is_some_and(same),
        SearchBy::Depends => relation(&p.depends),
        SearchBy::MakeDepends => relation(&p.make_depends),
        SearchBy::OptDepends => relation(&p.opt_depends),
        SearchBy::CheckDepends => relation(&p.check_depends),
        SearchBy::Provides => relation(&p.provides) || same(&p.name),
        SearchBy::Conflicts => relation(&p.conflicts),
        SearchBy::Replaces => relation(&p.replaces),
        SearchBy::Keywords => p.keywords.iter().any(|k| same(k)),
        SearchBy::Groups => p.groups.iter().any(|g| same(g)),
        SearchBy::CoMaintainers => p.co_maintainers.iter().any(|c| same(c)),
    }
}

fn post_args(body: &[u8]) -> Result<Vec<String>, &'static str> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "the body must be a JSON object")?;
    match v.get("arg") {
        None => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => Ok(items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect()),
        Some(_) => Err("the 'arg' parameter must be of array type"),
    }
}

/// An answer from pre-serialized results, keys sorted as aurweb sorts them.
fn envelope<'a>(kind: &str, results: impl ExactSizeIterator<Item = &'a Bytes>) -> Bytes {
    let count = results.len();
    let mut out = Vec::with_capacity(64 + count * 1024);
    out.extend_from_slice(format!("{{\"resultcount\":{count},\"results\":[").as_bytes());
    for (i, r) in results.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r);
    }
    out.extend_from_slice(format!("],\"type\":\"{kind}\",\"version\":5}}").as_bytes());
    Bytes::from(out)
}

fn envelope_error(message: &str) -> Bytes {
    let env: Envelope<()> = Envelope {
        kind: "error".to_owned(),
        version: Some(5),
        result_count: 0,
        results: Vec::new(),
        error: Some(message.to_owned()),
    };
    sorted_json(&env)
}

/// JSON with object keys in sorted order (serde_json's map is ordered), as aurweb
/// sends it.
pub(crate) fn sorted_json<T: Serialize>(value: &T) -> Bytes {
    serde_json::to_value(value)
        .and_then(|v| serde_json::to_vec(&v))
        .map(Bytes::from)
        .unwrap_or_default()
}

fn rpc_error(status: StatusCode, message: &str) -> Response<Bytes> {
    json(status, envelope_error(message))
}

fn failed(failure: Failure) -> Response<Bytes> {
    match failure {
        Failure::RateLimited { retry_after } => {
            let mut r = rpc_error(StatusCode::TOO_MANY_REQUESTS, "Rate limit reached");
            if let Some(secs) = retry_after {
                r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            r
        }
        Failure::Error(message) => rpc_error(StatusCode::OK, &message),
        Failure::NotJson => plain(
            StatusCode::OK,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        ),
        Failure::Status(code) => plain(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal Server Error",
        ),
    }
}

fn json(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn plain(status: StatusCode, text: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(text.as_bytes()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// A digest of the body, as aurweb derives its ETag from the body (it uses MD5; any
/// stable digest will do for a local server, and SipHash is cheap).
fn etag_of(body: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    h.write(body);
    format!("{:016x}{:08x}", h.finish(), body.len())
}

/// Splits a query like aurweb: on `&` and the first `=`, then percent-decodes (a `+`
/// stays a `+`). `arg%5B%5D` is `arg[]`.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn first(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Index of packages by name.
pub(crate) fn index(packages: &[PackageInfo]) -> HashMap<String, usize> {
    packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), i))
        .collect()
}
