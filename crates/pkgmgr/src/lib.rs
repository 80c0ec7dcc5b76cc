//! # ghostnet-pkgmgr
//!
//! What package managers need from the network and from the machine.
//!
//! - [`detect`]: which package managers are installed, where, with the evidence
//!   (executable on `PATH` or at a known location, os-release `ID`/`ID_LIKE`), and where
//!   each installs binaries, libraries and headers.
//! - [`aur`]: the AUR RPC v5 response types (every field) and error handling.
//! - [`download`]: the pieces of a download that never corrupts: the resume protocol
//!   (`Range` + `If-Range`, 206/200/416 handling), the `.part` file and its validator
//!   sidecar, SHA-256 verification and the atomic move into place.
//! - [`fetch`]: the one HTTP seam, [`fetch::HttpFetch`] (an `http::Request` in, an
//!   `http::Response` with a streaming body out), implemented for the HTTP/1.1 client.
//! - [`mirror`]: primary and fallback mirrors ranked by measured throughput, latency and
//!   failures (aria2's feedback selection), cooldowns, per-path 404s, health checks,
//!   failover that continues the same `.part` file, and per-mirror stats.

pub mod aur;
pub mod detect;
pub mod download;
mod error;
pub mod fetch;
pub mod mirror;

pub use error::{Error, Result};
