//! Arbitrary os-release text. Invariants: no panic; the ID is never empty.
#![no_main]

use ghostnet_runtime::diagnostics::OsRelease;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let os = OsRelease::parse(&text);
    assert!(!os.id.is_empty());
    let _ = os.to_string();
});
