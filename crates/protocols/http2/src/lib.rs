//! # ghostnet-http2
//!
//! HTTP/2 for ghostnet, on [h2]: h2 does the framing, HPACK and flow-control state
//! machines; this crate adds what a program needs around them.
//!
//! - **[`Server`]**: accepts over any [`ghostnet_transport::Listen`]; h2c with prior
//!   knowledge (the preface is checked first: a non-HTTP/2 peer gets GOAWAY
//!   `PROTOCOL_ERROR`), TLS with ALPN `h2`, and h2c upgrade from HTTP/1.1
//!   ([`Server::serve_upgrade`], helpers in [`h2c`]). Handlers are a one-method
//!   [`Service`] (any `async Fn(Request<Body>) -> Response<Body>`); a handler runs on
//!   the connection's task until it first waits, then on a task of its own.
//!   Graceful shutdown with GOAWAY through [`ghostnet_runtime::Shutdown`].
//! - **[`client`]**: the connection level: [`client::handshake`] over any
//!   [`ghostnet_transport::Stream`], a cloneable [`client::SendRequest`] multiplexing
//!   requests, readiness and closed checks for a pool.
//! - **[`Settings`]**: one validated set of limits for both sides, with safe defaults:
//!   concurrency, windows (grown by an adaptive, BDP-estimating window up to
//!   [`DEFAULT_MAX_ADAPTIVE_WINDOW`]), frame and header sizes, keepalive PING with timeout, and
//!   rapid-reset (CVE-2023-44487) and invalid-stream flood limits.
//! - **[`Body`]**: streamed both ways; received bodies give flow-control window back
//!   as the caller reads, so a slow reader slows the sender.
//!
//! ```
//! use ghostnet_http2::{Body, Server, Settings};
//! use ghostnet_runtime::Shutdown;
//! use ghostnet_transport::MemoryNetwork;
//! use http::{Request, Response};
//!
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! let net = MemoryNetwork::new();
//! let listener = net.listen(&"web.test:80".parse().unwrap()).unwrap();
//! let shutdown = Shutdown::new();
//! let server = Server::new(Settings::default()).unwrap();
//! let echo = |req: Request<Body>| async move {
//!     let body = req.into_body().collect().await.unwrap_or_default();
//!     Response::new(Body::from(body))
//! };
//! tokio::spawn(server.serve(listener, echo, shutdown.clone()));
//! // ... clients dial "web.test:80" ...
//! let report = shutdown.shutdown().await; // GOAWAY, drain, close
//! assert!(report.is_clean());
//! # }).unwrap();
//! ```
//!
//! ## Errors
//!
//! One [`Error`] enum; [`Error::is_retryable`] tells a client whether a failed request
//! was certainly not processed and may be sent again.

mod bdp;
mod body;
pub mod client;
mod error;
pub mod h2c;
mod headers;
mod io;
mod ping;
mod preface;
mod server;
mod service;
mod settings;

pub use body::{Body, BodySender, DEFAULT_COLLECT_LIMIT, Frame};
pub use error::{BoxError, Error, Reason, Result};
pub use server::Server;
pub use service::Service;
pub use settings::{
    DEFAULT_CONNECTION_WINDOW, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_HEADER_TABLE_SIZE,
    DEFAULT_KEEPALIVE_INTERVAL, DEFAULT_KEEPALIVE_TIMEOUT, DEFAULT_MAX_ADAPTIVE_WINDOW,
    DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_HEADER_LIST_SIZE,
    DEFAULT_MAX_LOCAL_ERROR_RESET_STREAMS, DEFAULT_MAX_PENDING_ACCEPT_RESET_STREAMS,
    DEFAULT_MAX_SEND_BUFFER_SIZE, DEFAULT_STREAM_WINDOW, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE,
    MIN_MAX_FRAME_SIZE, PROTOCOL_CONNECTION_WINDOW, Settings,
};
