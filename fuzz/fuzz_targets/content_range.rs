//! Arbitrary `Content-Range` values. Invariants: no panic; a parsed range is ordered and
//! inside its total.
#![no_main]

use ghostnet_pkgmgr::download::ContentRange;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(ContentRange::Bytes { first, last, total }) = ContentRange::parse(text) {
        assert!(first <= last);
        if let Some(total) = total {
            assert!(last < total);
        }
    }
});
