//! The HTTP/1.1 client: [`Client`] sends `http::Request<Body>`s over a
//! [`ghostnet_transport::pool::Pool`] and returns `http::Response<ResponseBody>`s.
//!
//! It reuses the crate's sans-IO codec for responses (head parsing, Content-Length,
//! chunked and close-delimited bodies, limits) and adds what a client needs around it:
//!
//! - keep-alive reuse through the pool, and one retry on a new connection when a pooled
//!   one turns out to have been closed by the server (idempotent requests only);
//! - redirects with the browser rules for method and body, credential stripping across
//!   origins, and no https → http downgrade;
//! - timeouts for the response head, each body read (read-idle, for long downloads), and
//!   the whole call;
//! - transparent gzip, br, deflate and zstd decoding, with a decompression-bomb cap and
//!   wire/decoded progress counts;
//! - streamed request and response bodies, and `Expect: 100-continue` on request.
//!
//! Errors implement [`ghostnet_resilience::Classify`], so a retry policy can tell
//! timeouts and broken connections from permanent failures.
//!
//! ```
//! use ghostnet_http1::client::Client;
//! use ghostnet_http1::{Body, Server};
//! use ghostnet_runtime::Shutdown;
//! use ghostnet_transport::MemoryNetwork;
//! use http::{Request, Response};
//!
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! let net = MemoryNetwork::new();
//! let listener = net.listen(&"echo.test:80".parse().unwrap()).unwrap();
//! let shutdown = Shutdown::new();
//! let echo = |req: Request<Body>| async move {
//!     Response::new(Body::from(req.into_body().collect().await.unwrap()))
//! };
//! tokio::spawn(Server::builder().build().serve(listener, echo, shutdown.clone()));
//!
//! let client = Client::builder().build_with_dialer(net.dialer()).unwrap();
//! let req = Request::post("http://echo.test/").body(Body::from("ping")).unwrap();
//! let response = client.request(req).await.unwrap();
//! assert_eq!(response.into_body().bytes().await.unwrap(), "ping");
//! shutdown.trigger();
//! # }).unwrap();
//! ```

mod body;
mod classify;
mod config;
mod conn;
mod encode;
mod exchange;
mod head_reader;
mod http_client;
pub mod origin;
pub mod redirect;
mod resolve;
mod send;
mod wire;

pub use crate::coding::{BOMB_ALLOWANCE, DEFAULT_MAX_DECOMPRESSION_RATIO};
pub use body::{Progress, ResponseBody};
pub use config::{
    ClientBuilder, DEFAULT_EXPECT_CONTINUE_TIMEOUT, DEFAULT_MAX_BUFFERED_BODY_BYTES,
    DEFAULT_READ_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, RequestOptions,
};
pub use http_client::{Client, EffectiveUri};
pub use redirect::DEFAULT_MAX_REDIRECTS;
