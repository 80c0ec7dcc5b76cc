//! # ghostnet
//!
//! A Rust networking toolkit built as layered micro-crates. This umbrella crate re-exports
//! them behind feature flags, so one dependency line gives what a program needs:
//!
//! | feature | module | what it is |
//! |---|---|---|
//! | `runtime` (default) | [`runtime`] | tasks, groups, channels, sync, combinators, shutdown, presets |
//! | `transport` | [`transport`] | `Dial` / `Listen` / `Datagram`, in-memory transport, TLS (rustls, ring) |
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
