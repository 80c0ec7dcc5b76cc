//! The AUR RPC v5 interface: response types (every field), parsing that turns
//! `type: "error"` into a clear error, and [`AurClient`]: batched concurrent `info`,
//! `search` by any field, a client-side rate limit and an ETag cache.
//!
//! With the `testing` feature, `testing::AurServer` is a local AUR-format endpoint.

mod cache;
mod client;
mod query;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use client::{
    AurClient, AurClientBuilder, AurStats, DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY,
    DEFAULT_ENDPOINT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_URL_LEN, DEFAULT_RATE_LIMIT,
    DEFAULT_REQUEST_TIMEOUT, InfoResults,
};
pub use types::{Envelope, PackageInfo, SearchBy, SearchResult};

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::{Error, Result};

/// Parses an AUR RPC response body. An `error` response (e.g. "Too many package
/// results.") becomes [`Error::Aur`], malformed JSON becomes [`Error::AurFormat`].
///
/// ```
/// use ghostnet_pkgmgr::aur::{parse_response, SearchResult};
/// let body = br#"{"type":"error","error":"Query arg too small.","resultcount":0,"results":[],"version":5}"#;
/// let err = parse_response::<SearchResult>(body).unwrap_err();
/// assert!(err.to_string().contains("Query arg too small."));
/// ```
pub fn parse_response<T: DeserializeOwned>(body: &[u8]) -> Result<Vec<T>> {
    // Straight into the typed results (one pass); only when that fails is the body read
    // again, loosely, to tell an `error` envelope from a malformed one.
    match serde_json::from_slice::<Envelope<T>>(body) {
        Ok(env) if env.kind == "error" => Err(rpc_error(env.error)),
        Ok(env) => Ok(env.results),
        Err(typed) => match serde_json::from_slice::<Envelope<IgnoredAny>>(body) {
            Ok(env) if env.kind == "error" => Err(rpc_error(env.error)),
            _ => Err(Error::AurFormat {
                reason: typed.to_string(),
            }),
        },
    }
}

fn rpc_error(message: Option<String>) -> Error {
    Error::Aur {
        message: message.unwrap_or_else(|| "unspecified error".to_owned()),
    }
}
