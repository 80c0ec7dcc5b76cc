//! Arbitrary AUR RPC bodies through the v5 parser, as info and as search results.
//! Invariant: no panic; malformed input is an error.
#![no_main]

use ghostnet_pkgmgr::aur::{PackageInfo, SearchResult, parse_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_response::<PackageInfo>(data).map(|v| v.len());
    let _ = parse_response::<SearchResult>(data).map(|v| v.len());
});
