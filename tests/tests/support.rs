//! Helpers shared by the integration tests: running probe binaries without hanging.

#![allow(dead_code, unreachable_pub)]

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long a probe may run before the test declares a hang. Generous: this guards
/// against hangs, it does not measure speed.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Waits for `child`; kills it and panics if it outlives [`HANG_GUARD`].
pub fn wait_or_kill(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process did not exit within {HANG_GUARD:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
