//! The client side: [`HttpClient`] speaks HTTP/1.1 and HTTP/2 (HTTP/3 once QUIC lands)
//! behind one API.
//!
//! - [`ClientConfig`]: timeouts, redirects, user agent, compression, protocol preference
//!   and fallback, the per-origin protocol cache, rate limiter, retry policy, pool
//!   settings; every one with a default.
//! - [`HttpClient::get`] and friends return a [`RequestBuilder`] (headers, bodies, JSON)
//!   that is awaited for a [`Response`] (status, headers, a streaming
//!   [`ResponseBody`], `bytes()`, `text()`, `json()`).
//! - [`HttpClient::batch_get`]: many GETs multiplexed on one HTTP/2 connection, or spread
//!   over pooled HTTP/1.1 connections, results in input order.
//!
//! HTTP/1.1 goes through [`ghostnet_http1::client::Client`], HTTP/2 through
//! [`ghostnet_http2::client`] on a [`MuxPool`](ghostnet_transport::pool::MuxPool); this
//! module adds the choice between them, redirects for both (the HTTP/1.1 crate's
//! policy), retries and rate limiting.
//!
//! ```no_run
//! # async fn demo() -> ghostnet_http::Result<()> {
//! use ghostnet_http::client::{ClientConfig, HttpClient};
//!
//! #[derive(serde::Deserialize)]
//! struct Release { version: String }
//!
//! let client = HttpClient::new(ClientConfig::default())?;
//! let release: Release = client.get("https://example.com/release.json").await?.json().await?;
//! println!("{}", release.version);
//! # Ok(()) }
//! ```

mod batch;
mod classify;
mod config;
mod h2_body;
mod h2_pool;
mod http_client;
mod protocol_cache;
mod request;
mod response;

pub use config::{
    ClientConfig, DEFAULT_MAX_BUFFERED_BODY_BYTES, DEFAULT_PROTOCOL_CACHE_TTL,
    DEFAULT_READ_IDLE_TIMEOUT, DEFAULT_TIMEOUT, Protocol,
};
pub use http_client::HttpClient;
pub use request::RequestBuilder;
pub use response::{Response, ResponseBody};
