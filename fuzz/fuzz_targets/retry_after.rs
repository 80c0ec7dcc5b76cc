//! Arbitrary `Retry-After` values (delta-seconds and the three HTTP-date forms).
//! Invariants: no panic, and an accepted delay never exceeds the cap.
#![no_main]

use std::time::{Duration, SystemTime};

use ghostnet_resilience::retry::parse_retry_after_capped;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cap = Duration::from_secs(3600);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    if let Ok(d) = parse_retry_after_capped(data, now, cap) {
        assert!(d <= cap, "{d:?} above the cap");
    }
});
