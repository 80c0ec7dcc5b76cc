//! # ghostnet-http
//!
//! One HTTP API over HTTP/1.1 and HTTP/2 for ghostnet, built on
//! [`ghostnet_http1`] and [`ghostnet_http2`] (no second parser, no second HTTP/2 stack).
//!
//! - **[`Body`]**: one body type for requests and responses, servers and clients: empty,
//!   full, streamed (channel or any `http_body::Body`), file ranges (sendfile on
//!   HTTP/1.1 over plain TCP), converted to and from the protocol crates' bodies
//!   without copying.
//! - **[`Server`]**: one [`Service`] over HTTP/1.1 and HTTP/2 on one port: h2c with prior
//!   knowledge, h2c upgrade, TLS with ALPN; graceful shutdown.
//! - **[`Router`]**: method + path routing with `:params` and `*wildcards`, 404, 405
//!   with `Allow`, HEAD by GET, typed parameters and shared state ([`RequestExt`]).
//! - **[`middleware`]**: a chain of [`Middleware`](middleware::Middleware): logging,
//!   auth hook, CORS, per-IP rate limit, compression.
//! - **[`files`]**: static files with ranges, validators (ETag, Last-Modified) and
//!   content types, safe against path traversal.
//! - **[`sse`]**: Server-Sent Events over HTTP/1.1 and HTTP/2.
//! - **[`client`]**: [`HttpClient`](client::HttpClient) over HTTP/1.1 and HTTP/2 with
//!   protocol choice (ALPN, h2c), fallback, a per-origin protocol cache, redirects,
//!   retries, rate limiting and `batch_get`.
//!
//! ```
//! use ghostnet_http::middleware::Logger;
//! use ghostnet_http::{Error, Request, RequestExt, Router, Server, get};
//! use ghostnet_runtime::Shutdown;
//! use ghostnet_transport::MemoryNetwork;
//!
//! async fn user(req: Request) -> Result<String, Error> {
//!     let id: u64 = req.param("id")?;
//!     Ok(format!("user {id}\n"))
//! }
//!
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! let router = Router::new()
//!     .route("/users/:id", get(user))
//!     .layer(Logger::new());
//! let net = MemoryNetwork::new();
//! let listener = net.listen(&"api.test:80".parse().unwrap()).unwrap();
//! let shutdown = Shutdown::new();
//! let server = Server::builder().build().unwrap();
//! tokio::spawn(server.serve(listener, router, shutdown.clone()));
//! // ... HTTP/1.1 and HTTP/2 clients dial "api.test:80" ...
//! shutdown.shutdown().await;
//! # }).unwrap();
//! ```
//!
//! ## Errors
//!
//! One [`Error`] enum; [`Error::status`] is the status a server answers it with, and
//! handlers may return it (it is an [`IntoResponse`]).

mod body;
pub mod client;
mod error;
pub mod files;
mod guard;
pub mod handler;
pub mod middleware;
mod response;
mod router;
mod serve;
mod server;
pub mod sse;

pub use body::{Body, BodySender, DEFAULT_COLLECT_LIMIT, Frame};
pub use error::{BoxError, Error, Result};
pub use handler::{Handler, Service};
pub use response::IntoResponse;
pub use router::{
    MethodRouter, Params, RequestExt, Router, any, delete, get, head, options, patch, post, put,
};
pub use server::{
    ALPN, ConnInfo, DEFAULT_DETECT_TIMEOUT, DEFAULT_HANDLER_TIMEOUT, Server, ServerBuilder,
    ShutdownSignal,
};

/// The `http` crate this crate's API uses (`Method`, `StatusCode`, `HeaderMap`, ...).
pub use http;

/// A request with this crate's [`Body`].
pub type Request<B = Body> = http::Request<B>;
/// A response with this crate's [`Body`].
pub type Response<B = Body> = http::Response<B>;
