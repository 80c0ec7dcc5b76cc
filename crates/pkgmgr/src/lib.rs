//! # ghostnet-pkgmgr
//!
//! What package managers need from the network and from the machine.
//!
//! - [`detect`]: which package managers are installed, where, with the evidence
//!   (executable on `PATH` or at a known location, os-release `ID`/`ID_LIKE`), and where
//!   each installs binaries, libraries and headers.

pub mod detect;
