//! The adaptive window's estimator, sans I/O: from the body bytes the application took
//! during each PING round trip it estimates the bandwidth-delay product and says when
//! the receive window should grow.
//!
//! A sample is window-limited when the bytes taken during one round trip reach most of
//! the window: the sender used all the credit it had, so it could have sent more. Then
//! the window doubles the sample (as hyper's estimator does, after gRPC's), up to a
//! limit. A round trip that moves less, or a bandwidth no higher than seen before,
//! leaves the window alone and spaces the next sample out, so a steady connection
//! soon sends a PING only every few seconds.

use std::time::Duration;

/// The first pause between samples; it halves when the window grows and quadruples
/// after every two samples that changed nothing, up to [`MAX_SAMPLE_DELAY`] or so.
const FIRST_SAMPLE_DELAY: Duration = Duration::from_millis(100);
/// Past this the pause stops growing.
const MAX_SAMPLE_DELAY: Duration = Duration::from_secs(10);
/// A round trip shorter than the clock can tell (a paused test clock reads 0) counts as
/// this, so the bandwidth stays finite.
const MIN_RTT: Duration = Duration::from_micros(1);

/// Estimates the bandwidth-delay product of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Bdp {
    window: u32,
    limit: u32,
    /// Smoothed round trip in seconds; 0 before the first sample.
    rtt: f64,
    max_bandwidth: f64,
    delay: Duration,
    stable_samples: u32,
}

impl Bdp {
    /// Starts from the stream window advertised at the handshake, growing to `limit`.
    pub(crate) fn new(window: u32, limit: u32) -> Self {
        Self {
            window,
            limit: limit.max(window),
            rtt: 0.0,
            max_bandwidth: 0.0,
            delay: FIRST_SAMPLE_DELAY,
            stable_samples: 0,
        }
    }

    /// The stream window now in force.
    #[cfg(test)]
    pub(crate) fn window(&self) -> u32 {
        self.window
    }

    /// How long to wait after a sample before the next PING.
    pub(crate) fn delay(&self) -> Duration {
        self.delay
    }

    /// One round trip: `bytes` taken by the application while a PING was out for
    /// `rtt`. `Some(window)` when the stream window should grow to `window`.
    pub(crate) fn sample(&mut self, bytes: u64, rtt: Duration) -> Option<u32> {
        if self.window >= self.limit {
            self.stabilize();
            return None;
        }
        let rtt = rtt.max(MIN_RTT).as_secs_f64();
        // A moving average weighing each new round trip 1/8, as TCP's SRTT does.
        self.rtt = if self.rtt == 0.0 {
            rtt
        } else {
            self.rtt + (rtt - self.rtt) / 8.0
        };
        let bandwidth = bytes as f64 / (self.rtt * 1.5);
        if bandwidth < self.max_bandwidth {
            self.stabilize();
            return None;
        }
        self.max_bandwidth = bandwidth;
        // Two thirds of the window moved in one round trip: the window is what limits.
        if bytes < u64::from(self.window) * 2 / 3 {
            self.stabilize();
            return None;
        }
        self.window = u32::try_from(bytes.saturating_mul(2))
            .unwrap_or(u32::MAX)
            .min(self.limit);
        self.stable_samples = 0;
        self.delay /= 2;
        Some(self.window)
    }

    fn stabilize(&mut self) {
        if self.delay < MAX_SAMPLE_DELAY {
            self.stable_samples += 1;
            if self.stable_samples >= 2 {
                self.delay *= 4;
                self.stable_samples = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u32 = 1024 * 1024;
    const RTT: Duration = Duration::from_millis(50);

    #[test]
    fn a_window_limited_sample_doubles_the_window_up_to_the_limit() {
        let mut bdp = Bdp::new(4 * MIB, 16 * MIB);
        // The sender filled the whole window in one round trip.
        assert_eq!(bdp.sample(u64::from(4 * MIB), RTT), Some(8 * MIB));
        assert_eq!(bdp.window(), 8 * MIB);
        // Again with the larger window: capped at the limit.
        assert_eq!(bdp.sample(u64::from(8 * MIB), RTT), Some(16 * MIB));
        // At the limit nothing more is computed.
        assert_eq!(bdp.sample(u64::from(16 * MIB), RTT), None);
        assert_eq!(bdp.window(), 16 * MIB);
    }

    #[test]
    fn a_sample_below_two_thirds_of_the_window_changes_nothing() {
        let mut bdp = Bdp::new(4 * MIB, 16 * MIB);
        assert_eq!(bdp.sample(u64::from(2 * MIB), RTT), None);
        assert_eq!(bdp.window(), 4 * MIB);
        // Just at two thirds it grows, to twice the sample.
        let two_thirds = u64::from(4 * MIB) * 2 / 3;
        let mut bdp = Bdp::new(4 * MIB, 16 * MIB);
        assert_eq!(bdp.sample(two_thirds, RTT), Some(2 * two_thirds as u32));
    }

    #[test]
    fn a_slower_round_trip_does_not_grow_the_window() {
        let mut bdp = Bdp::new(4 * MIB, 64 * MIB);
        assert_eq!(bdp.sample(u64::from(4 * MIB), RTT), Some(8 * MIB));
        // Enough bytes for the new window, but over a much longer round trip: the
        // bandwidth fell, so the window is not what limits.
        assert_eq!(bdp.sample(u64::from(6 * MIB), RTT * 20), None);
        assert_eq!(bdp.window(), 8 * MIB);
    }

    #[test]
    fn samples_space_out_while_nothing_changes_and_tighten_when_the_window_grows() {
        let mut bdp = Bdp::new(4 * MIB, 64 * MIB);
        assert_eq!(bdp.delay(), FIRST_SAMPLE_DELAY);
        bdp.sample(1000, RTT);
        assert_eq!(bdp.delay(), FIRST_SAMPLE_DELAY);
        bdp.sample(1000, RTT);
        assert_eq!(bdp.delay(), FIRST_SAMPLE_DELAY * 4);
        for _ in 0..20 {
            bdp.sample(1000, RTT);
        }
        // Stops growing once past the cap.
        let settled = bdp.delay();
        assert!(settled >= MAX_SAMPLE_DELAY && settled < MAX_SAMPLE_DELAY * 4);
        bdp.sample(1000, RTT);
        bdp.sample(1000, RTT);
        assert_eq!(bdp.delay(), settled);
        // A growing window samples sooner.
        assert!(bdp.sample(u64::from(8 * MIB), RTT).is_some());
        assert_eq!(bdp.delay(), settled / 2);
    }

    #[test]
    fn a_zero_round_trip_or_zero_bytes_stays_finite() {
        let mut bdp = Bdp::new(4 * MIB, 16 * MIB);
        assert_eq!(bdp.sample(0, Duration::ZERO), None);
        assert_eq!(
            bdp.sample(u64::from(4 * MIB), Duration::ZERO),
            Some(8 * MIB)
        );
        assert_eq!(bdp.sample(u64::MAX, Duration::ZERO), Some(16 * MIB));
    }

    #[test]
    fn a_limit_below_the_start_keeps_the_start() {
        let mut bdp = Bdp::new(4 * MIB, MIB);
        assert_eq!(bdp.sample(u64::from(4 * MIB), RTT), None);
        assert_eq!(bdp.window(), 4 * MIB);
    }
}
