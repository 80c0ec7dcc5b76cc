//! The `pkgmgr` suite (`cargo xtask bench pkgmgr`): one module per part, each returning
//! its rows, so the `bench_pkgmgr` binary concatenates them.
//!
//! - [`metadata`]: 200 AUR `info` lookups against the local AUR-format endpoint.

pub mod metadata;
