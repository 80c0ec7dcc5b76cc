//! # ghostnet-ws
//!
//! WebSocket (RFC 6455) for ghostnet, on [tungstenite],
//! which does the framing, masking, UTF-8 checks and the close handshake. This crate
//! adds what a network program needs around it:
//!
//! - **Server**: [`Acceptor`] upgrades requests of the ghostnet HTTP/1.1 server
//!   (`ghostnet-http1`) through its upgrade hook, so WebSocket and plain HTTP routes
//!   share a port. It validates the opening handshake, negotiates the subprotocol by the
//!   server's preference, runs an origin check, and answers `101` with
//!   `Sec-WebSocket-Accept` (or 400/403/426 with the reason).
//! - **Client**: [`Client`] dials `ws://` over ghostnet-transport's TCP dialer and
//!   `wss://` over its TLS dialer (rustls), or any [`Dial`](ghostnet_transport::Dial)
//!   (the in-memory network in tests), with connect and handshake timeouts, extra headers
//!   and subprotocols. For a `wss://` server, serve the HTTP/1.1 server on a
//!   [`TlsListener`](ghostnet_transport::tls::TlsListener).
//! - **Connection**: [`WebSocket`] with text, binary, ping/pong and close; size limits
//!   with defaults ([`Config`]); a heartbeat that pings a silent peer and drops it when
//!   nothing comes back; a bounded close; protocol errors answered with the right close
//!   code (1002, 1007, 1009) before the connection is dropped; observable [`State`];
//!   write coalescing with [`WebSocket::feed`]; an orderly end (TCP FIN, TLS
//!   close_notify) after the close handshake.
//! - **Backpressure**: `send` waits while the peer does not read; tungstenite's write
//!   buffer is capped; [`WebSocket::split`] gives cloneable [`Sender`]s over a queue
//!   bounded in bytes.
//!
//! permessage-deflate (RFC 7692) is not offered or accepted: tungstenite 0.30 does not
//! implement it.
//!
//! ```
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! use ghostnet_http1::{Body, Server};
//! use ghostnet_runtime::Shutdown;
//! use ghostnet_transport::MemoryNetwork;
//! use ghostnet_ws::{Acceptor, Client, CloseCode, Message};
//! use http::Request;
//!
//! // A server: HTTP/1.1 with an echo WebSocket on every path.
//! let net = MemoryNetwork::new();
//! let listener = net.listen(&"echo.test:80".parse().unwrap()).unwrap();
//! let acceptor = Acceptor::new();
//! let handler = move |req: Request<Body>| {
//!     let acceptor = acceptor.clone();
//!     async move {
//!         acceptor.upgrade(req, |mut ws| async move {
//!             while let Some(Ok(msg)) = ws.recv().await {
//!                 if msg.is_data() && ws.send(msg).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         })
//!     }
//! };
//! let shutdown = Shutdown::new();
//! tokio::spawn(Server::builder().build().serve(listener, handler, shutdown.clone()));
//!
//! // A client over the same in-memory network.
//! let (mut ws, _response) = Client::new()
//!     .connect_with(&net.dialer(), "ws://echo.test/")
//!     .await?;
//! ws.send("hello").await?;
//! assert_eq!(ws.recv().await.unwrap()?, Message::from("hello"));
//! ws.close(CloseCode::Normal, "bye").await?;
//! assert_eq!(ws.state().close_code(), Some(CloseCode::Normal));
//! shutdown.trigger();
//! # Ok::<_, ghostnet_ws::Error>(()) }).unwrap().unwrap();
//! ```
//!
//! ## Errors
//!
//! One [`Error`] enum. [`Error::close_code`] is the code a connection was failed with,
//! [`Error::status`] the HTTP status a refused handshake gets.

mod client;
mod config;
mod error;
mod heartbeat;
mod message;
mod server;
mod socket;
mod split;
mod state;
mod tracked;

pub use client::{
    Client, ClientBuilder, Connect, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, connect,
};
pub use config::{
    Config, DEFAULT_CLOSE_TIMEOUT, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_PING_INTERVAL, DEFAULT_PONG_TIMEOUT, DEFAULT_READ_BUFFER_SIZE,
    DEFAULT_SEND_QUEUE_BYTES, DEFAULT_WRITE_BUFFER_SIZE,
};
pub use error::{Error, Result};
pub use message::{CloseCode, CloseFrame, Message, Utf8Bytes};
pub use server::{Acceptor, AcceptorBuilder, PendingUpgrade, is_upgrade_request, rejection};
pub use socket::{Role, WebSocket};
pub use split::{Receiver, SendError, Sender};
pub use state::{Closed, Side, State};
/// The tungstenite version this crate is built on, for code that needs its types.
pub use tokio_tungstenite::tungstenite;
