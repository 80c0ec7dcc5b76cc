//! # ghostnet-runtime
//!
//! The bottom layer of ghostnet: a small, curated face over [tokio]. tokio is the executor;
//! this crate adds what network programs keep rewriting on top of it, and costs nothing
//! measurable over raw tokio (`cargo xtask bench runtime` checks that).
//!
//! - **Entry point**: [`run`] with a [`Config`] preset ([`Config::for_cli`],
//!   [`Config::for_server`], [`Config::optimal`], [`Config::for_embedded`]); returns as soon
//!   as `main` does, so short CLIs never hang on leftover tasks.
//! - **Tasks**: [`spawn`] → [`TaskHandle`]; [`TaskGroup`] to join or cancel many together.
//! - **Channels**: [`channel::bounded`], [`channel::unbounded`] with defined close rules;
//!   [`channel::oneshot`], [`channel::broadcast`], [`channel::watch`].
//! - **Sync**: [`Semaphore`], [`Mutex`], [`RwLock`], [`Notify`].
//! - **Control flow**: [`sleep`], [`interval`], [`yield_now`], [`timeout`], [`race`],
//!   [`all`], [`any`], and tokio's [`select!`], [`join!`], [`try_join!`].
//! - **Shutdown**: [`Shutdown`] fires on SIGINT/SIGTERM or by hand, drains, then aborts.
//! - **Diagnostics**: [`Capabilities::detect`], [`RuntimeStats`].
//!
//! ```
//! use std::time::Duration;
//! use ghostnet_runtime::{channel, run, timeout, Config, TaskGroup};
//!
//! let total = run(Config::for_cli(), async {
//!     let (tx, mut rx) = channel::bounded(16);
//!     let mut workers = TaskGroup::new();
//!     for id in 0..4u32 {
//!         let tx = tx.clone();
//!         workers.spawn(async move { tx.send(id).await });
//!     }
//!     drop(tx);
//!     let mut total = 0;
//!     while let Ok(Some(v)) = timeout(Duration::from_secs(5), rx.recv()).await {
//!         total += v;
//!     }
//!     total
//! })
//! .unwrap();
//! assert_eq!(total, 6);
//! ```
//!
//! ## Errors
//!
//! One [`Error`] enum for the crate; channel sends return the unsent value in
//! [`channel::SendError`] and convert into [`Error::Closed`] with `?`.

pub mod channel;
mod combinators;
mod config;
pub mod diagnostics;
mod error;
mod group;
mod run;
mod shutdown;
pub mod sync;
mod task;
mod time;

pub use combinators::{All, Any, BoxedFutureSet, FutureSet, IntoFutureSet, Race, all, any, race};
pub use config::{Config, Flavor};
pub use diagnostics::{Capabilities, RuntimeStats};
pub use error::{Error, Result};
pub use group::{TaskGroup, TryJoinError};
pub use run::{run, run_local};
pub use shutdown::{DEFAULT_DRAIN_DEADLINE, Shutdown, ShutdownReport};
pub use sync::{Mutex, Notify, RwLock, Semaphore};
pub use task::{TaskHandle, spawn, spawn_blocking};
pub use time::{
    Instant, Interval, MissedTickBehavior, Sleep, Timeout, interval, sleep, sleep_until, timeout,
    yield_now,
};
/// The tokio version this crate is built on, for code that needs tokio directly.
#[doc(no_inline)]
pub use tokio;
/// Runs several futures of different types concurrently and waits for all. tokio's macro.
pub use tokio::join;
/// Waits on several futures of different types at once; the first to finish wins.
/// tokio's macro, re-exported.
pub use tokio::select;
/// Like [`join!`], but stops at the first `Err`. tokio's macro.
pub use tokio::try_join;
