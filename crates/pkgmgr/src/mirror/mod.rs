//! Mirrors: choose where to download from, learn from every transfer, fail over without
//! losing the partial file.
//!
//! A [`MirrorManager`] holds primary and fallback mirrors (base URLs such as
//! `https://mirror.example.org/archlinux/`; a base without a trailing `/` is still a
//! directory). For a path such as `core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst` it
//! ranks them ([`best_mirror`](MirrorManager::best_mirror),
//! [`candidates`](MirrorManager::candidates)) by a score from what the download loop
//! reports: throughput, latency, failures. It knows nothing about HTTP clients: the loop
//! requests [`Candidate::url`] with whatever client it has and reports the outcome.
//!
//! The selection follows aria2's `--uri-selector=feedback`: the fastest measured mirror
//! first, unmeasured ones next in the order given, measured-but-slow ones last; plus
//! a preference for primaries when scores are close and an occasional try of an
//! unmeasured or recovering mirror ([`exploration`](MirrorManagerBuilder::exploration)).
//! Failures put a mirror in cooldown; a 404 only skips it for that path; the lowest
//! speed limit and `--max-file-not-found` have their equivalents
//! ([`lowest_speed_limit`](MirrorManagerBuilder::lowest_speed_limit),
//! [`max_not_found`](MirrorManagerBuilder::max_not_found)).
//!
//! ## The download loop
//!
//! 1. `best_mirror(path)`, then request its URL. On a resumed download, ask for the rest
//!    of the `.part` file with [`plan_resume`](crate::download::plan_resume).
//! 2. While the body arrives, call [`report_throughput`](MirrorManager::report_throughput)
//!    every few seconds; on [`SpeedVerdict::TooSlow`], stop and treat it as a
//!    [`MirrorFailure::LowSpeed`].
//! 3. On success (checksum verified), [`report_success`](MirrorManager::report_success)
//!    with the bytes and the time taken.
//! 4. On failure, keep the `.part` file, [`report_failure`](MirrorManager::report_failure)
//!    with its kind (a checksum mismatch is [`MirrorFailure::ChecksumMismatch`]; the part
//!    is gone then, start from zero), and continue on
//!    [`next_after`](MirrorManager::next_after): a `Range` request from the part's
//!    length. Validators (`ETag`) of one mirror mean nothing to another: when a SHA-256
//!    will check the result, resume without `If-Range` (`plan_resume(len, None, true)`);
//!    otherwise send only the `Last-Modified` date, or start over.
//! 5. Stop on [`Error::NotOnAnyMirror`](crate::Error::NotOnAnyMirror) (the file does not
//!    exist) or [`Error::NoMirrorAvailable`](crate::Error::NoMirrorAvailable) (wait its
//!    `retry_in`, or give up). Every mirror goes into cooldown after `failure_threshold`
//!    failures in a row, so the loop always ends.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), ghostnet_pkgmgr::Error> {
//! use std::time::Duration;
//! use ghostnet_pkgmgr::mirror::{MirrorFailure, MirrorManager};
//! use ghostnet_runtime::Instant;
//!
//! /// Stand-in for the HTTP client: fetches `url` from byte `offset` on, and says how
//! /// many bytes arrived before it finished or failed. Mirror `a` drops the connection
//! /// after 1 MiB.
//! async fn fetch(url: &http::Uri, offset: u64) -> (u64, Result<(), MirrorFailure>) {
//!     const SIZE: u64 = 3 << 20;
//!     tokio::time::sleep(Duration::from_secs(1)).await;
//!     if url.host() == Some("a.example.org") {
//!         (1 << 20, Err(MirrorFailure::Connect))
//!     } else {
//!         (SIZE - offset, Ok(()))
//!     }
//! }
//!
//! let mirrors = MirrorManager::builder()
//!     .primary("https://a.example.org/arch")
//!     .fallback("https://b.example.org/arch/")
//!     .build()?;
//!
//! let path = "core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst";
//! let mut part_len = 0; // `PartFile::len()` in the real loop
//! let mut mirror = mirrors.best_mirror(path)?;
//! loop {
//!     let started = Instant::now();
//!     let (got, outcome) = fetch(mirror.url(), part_len).await;
//!     part_len += got; // what arrived stays in the `.part` file
//!     match outcome {
//!         Ok(()) => {
//!             mirrors.report_success(&mirror, got, started.elapsed())?;
//!             break;
//!         }
//!         Err(failure) => {
//!             mirrors.report_throughput(&mirror, got, started.elapsed())?;
//!             mirrors.report_failure(&mirror, failure)?;
//!             mirror = mirrors.next_after(&mirror)?; // continue the same `.part` there
//!         }
//!     }
//! }
//! assert_eq!(part_len, 3 << 20);
//! assert_eq!(mirror.base(), "https://b.example.org/arch/");
//! let stats = mirrors.stats();
//! assert_eq!((stats[0].failures, stats[1].successes), (1, 1));
//! # Ok(()) }
//! ```

mod base;
mod candidate;
mod config;
mod failure;
mod health;
mod manager;
mod record;
mod select;
mod stats;
#[cfg(feature = "testing")]
pub mod testing;

pub use candidate::{Candidate, MirrorRole, SpeedVerdict};
pub use config::{
    DEFAULT_COOLDOWN, DEFAULT_EWMA_WEIGHT, DEFAULT_EXPLORATION, DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_HEALTH_INTERVAL, DEFAULT_MAX_COOLDOWN, DEFAULT_NOT_FOUND_TTL, DEFAULT_PRIMARY_BONUS,
    DEFAULT_SLOW_BELOW, MirrorManagerBuilder,
};
pub use failure::MirrorFailure;
pub use manager::MirrorManager;
pub use stats::{MirrorState, MirrorStats};
