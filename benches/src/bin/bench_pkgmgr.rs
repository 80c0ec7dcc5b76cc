//! The `pkgmgr` suite (`cargo xtask bench pkgmgr`): each part of
//! `ghostnet_benches::pkgmgr` measures its own comparisons; this binary runs them in turn
//! and prints one JSON array of results in the shape of `shared/bench.md`.
//!
//! `--quick` runs fewer, shorter rounds (a smoke test, not a measurement).
//! `--part metadata|download` runs one part only.

use ghostnet_benches::pkgmgr;
use ghostnet_benches::report::{SuiteArgs, emit};

fn main() {
    let args = SuiteArgs::from_env();
    let argv: Vec<String> = std::env::args().collect();
    let part = argv
        .iter()
        .position(|a| a == "--part")
        .and_then(|i| argv.get(i + 1))
        .map(String::as_str);
    let wants = |name: &str| part.is_none_or(|p| p == name);
    let mut results = Vec::new();
    if wants("metadata") {
        results.extend(pkgmgr::metadata::run(args));
    }
    if wants("download") {
        results.extend(pkgmgr::download::run(args));
    }
    emit(&results);
}
