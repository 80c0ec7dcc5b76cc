//! TCP: a [`Dial`](crate::Dial) implementation with Happy Eyeballs and a connect timeout,
//! a [`Listen`](crate::Listen) implementation, socket options in one struct, and a
//! graceful close.
//!
//! - [`TcpDialer`]: resolve ([`Resolve`]; IP literals skip it), interleave IPv6/IPv4,
//!   stagger attempts by [`DEFAULT_ATTEMPT_DELAY`], first success wins, all within
//!   [`DEFAULT_CONNECT_TIMEOUT`].
//! - [`TcpListener`]: bind with [`TcpOptions`], accept with per-connection options.
//! - [`TcpOptions`]: nodelay (on), keepalive, buffer sizes, reuse flags, backlog,
//!   bind-before-connect; applied with socket2 before `connect`/`listen`.
//! - [`close_gracefully`]: FIN, drain to EOF (bounded), close — the peer sees a clean
//!   end instead of an RST.
//!
//! Streams are tokio's `TcpStream`, which implements [`Stream`](crate::Stream).

mod close;
mod dialer;
mod eyeballs;
mod listener;
mod options;
mod resolve;

pub use close::{
    CloseOptions, CloseOutcome, DEFAULT_DRAIN_LIMIT, DEFAULT_DRAIN_TIMEOUT, close_gracefully,
};
pub use dialer::{DEFAULT_ATTEMPT_DELAY, DEFAULT_CONNECT_TIMEOUT, MIN_ATTEMPT_DELAY, TcpDialer};
pub use eyeballs::AttemptErrors;
pub use listener::TcpListener;
pub use options::{DEFAULT_BACKLOG, Keepalive, TcpOptions};
pub use resolve::{Resolve, StaticResolver, SystemResolver};
