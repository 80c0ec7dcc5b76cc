//! # ghostnet-pkgmgr
//!
//! What package managers need from the network and from the machine.
//!
//! - [`detect`]: which package managers are installed, where, with the evidence
//!   (executable on `PATH` or at a known location, os-release `ID`/`ID_LIKE`), and where
//!   each installs binaries, libraries and headers.
//! - [`download`]: the pieces of a download that never corrupts: the resume protocol
//!   (`Range` + `If-Range`, 206/200/416 handling), the `.part` file and its validator
//!   sidecar, SHA-256 verification and the atomic move into place.

pub mod detect;
pub mod download;
mod error;

pub use error::{Error, Result};
