//! # ghostnet-http1
//!
//! HTTP/1.1 for ghostnet: a sans-IO [`codec`] and a [`Server`].
//!
//! - **Codec**: request and response heads tokenized by httparse; framing is ours
//!   (Content-Length, chunked with trailers, close-delimited, HEAD/1xx/204/304 rules).
//!   Strict where parsers disagree, which is where request smuggling lives: CL with TE,
//!   repeated or odd Content-Length, chunked not last, TE in HTTP/1.0, obs-fold, bare LF
//!   or CR, whitespace before a colon, malformed chunk sizes. Every limit ([`Limits`]) has
//!   a default.
//! - **Server**: accepts over any [`ghostnet_transport::Listen`]; one task per
//!   connection; keep-alive and pipelining with responses coalesced into few writes;
//!   head (slowloris), idle and body timeouts; graceful shutdown; `Expect: 100-continue`;
//!   full, streaming, chunked and file bodies (sendfile on plain TCP); an [`upgrade`] hook.
//! - **Client** ([`client::Client`]): over the transport's connection pool; keep-alive
//!   with a safe retry of stale connections, redirects, request/read-idle/total timeouts,
//!   gzip/br/deflate/zstd decoding with a bomb cap, streamed bodies.
//! - **Content codings** ([`coding`]): the decoding the client uses, over any
//!   `http_body::Body`, so that ghostnet-http decodes HTTP/2 bodies with the same code.
//!
//! ```
//! use ghostnet_http1::{Body, Server};
//! use ghostnet_runtime::Shutdown;
//! use ghostnet_transport::MemoryNetwork;
//! use http::{Request, Response};
//!
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! let net = MemoryNetwork::new();
//! let listener = net.listen(&"web.test:80".parse().unwrap()).unwrap();
//! let shutdown = Shutdown::new();
//! let server = Server::builder().build();
//! let hello = |_req: Request<Body>| async { Response::new(Body::from("Hello, World!")) };
//! let serving = tokio::spawn(server.serve(listener, hello, shutdown.clone()));
//! // ... dial "web.test:80" from net.dialer() and speak HTTP/1.1 ...
//! shutdown.trigger();
//! serving.await.unwrap().unwrap();
//! # }).unwrap();
//! ```
//!
//! ## Errors
//!
//! One [`Error`] enum; [`Error::status`] is the response status a server answers it with.

mod body;
pub mod client;
pub mod codec;
pub mod coding;
mod error;
mod server;
pub mod upgrade;

pub use body::{Body, BodySender, BoxError, Frame};
/// The `bytes` crate this crate's API uses.
pub use bytes;
pub use codec::Limits;
pub use error::{Error, Result};
/// The `http` crate this crate's API uses (`Request`, `Response`, `HeaderMap`, ...).
pub use http;
pub use server::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT,
    DEFAULT_MAX_DRAIN_BYTES, DEFAULT_WRITE_HIGH_WATER, Server, ServerBuilder, Service,
};
