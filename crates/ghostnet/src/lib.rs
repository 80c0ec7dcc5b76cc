//! # ghostnet
//!
//! A Rust networking toolkit built as layered micro-crates. This umbrella crate re-exports
//! them behind feature flags, so one dependency line gives what a program needs:
//!
//! | feature | module | what it is |
//! |---|---|---|
//! | `runtime` (default) | [`runtime`] | tasks, groups, channels, sync, combinators, shutdown, presets |
//! | `transport` | [`transport`] | `Dial`/`Listen`/`Datagram`, TCP, UDP, TLS, in-memory transport, connection pool |
//! | `resilience` | [`resilience`] | retry with backoff and budget, rate limiting, circuit breaker, health checks |
//! | `http1` | [`http1`] | HTTP/1.1 sans-IO codec and server, strict against request smuggling |
//! | `pkgmgr` | [`pkgmgr`] | package-manager detection, downloads, mirrors, AUR |
//! | `http2` | [`http2`] | HTTP/2 server (h2c, ALPN h2, h2c upgrade) and connection-level client |
//! | `ws` | [`ws`] | WebSocket server (upgrade from HTTP/1.1) and client, heartbeat, limits, backpressure |
//! | `full` | all of the above | |
//!
//! ```
//! use ghostnet::runtime::{run, Config};
//!
//! let answer = run(Config::for_cli(), async { 42 }).unwrap();
//! assert_eq!(answer, 42);
//! ```

#[cfg(feature = "runtime")]
#[doc(inline)]
pub use ghostnet_runtime as runtime;

#[cfg(feature = "transport")]
#[doc(inline)]
pub use ghostnet_transport as transport;

#[cfg(feature = "resilience")]
#[doc(inline)]
pub use ghostnet_resilience as resilience;

#[cfg(feature = "http1")]
#[doc(inline)]
pub use ghostnet_http1 as http1;

#[cfg(feature = "pkgmgr")]
#[doc(inline)]
pub use ghostnet_pkgmgr as pkgmgr;

#[cfg(feature = "http2")]
#[doc(inline)]
pub use ghostnet_http2 as http2;

#[cfg(feature = "ws")]
#[doc(inline)]
pub use ghostnet_ws as ws;
