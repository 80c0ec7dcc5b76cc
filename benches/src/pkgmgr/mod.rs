//! The `pkgmgr` suite (`cargo xtask bench pkgmgr`): one module per part, each returning
//! its rows, so the `bench_pkgmgr` binary concatenates them.
//!
//! - [`metadata`]: 200 AUR `info` lookups against the local AUR-format endpoint.
//! - [`download`]: one large file and many small ones vs curl and aria2c, and the time
//!   lost to a failover at 50%.

pub mod download;
pub mod metadata;
