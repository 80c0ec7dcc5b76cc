//! The `pkgmgr` suite (`cargo xtask bench pkgmgr`): each part of
//! `ghostnet_benches::pkgmgr` measures its own comparisons; this binary runs them in turn
//! and prints one JSON array of results in the shape of `shared/bench.md`.
//!
//! `--quick` runs fewer, shorter rounds (a smoke test, not a measurement).

use ghostnet_benches::pkgmgr;
use ghostnet_benches::report::{SuiteArgs, emit};

fn main() {
    let args = SuiteArgs::from_env();
    let mut results = Vec::new();
    results.extend(pkgmgr::metadata::run(args));
    emit(&results);
}
