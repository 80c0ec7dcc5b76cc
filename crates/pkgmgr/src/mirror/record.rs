//! What the manager knows about one mirror, and how each report changes it.
//!
//! Pure bookkeeping: no locks, no clock reads (`now` is passed in), so every rule is
//! tested directly. The manager keeps one `Record` per mirror under its mutex.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ghostnet_resilience::{Backoff, EndpointStatus};
use ghostnet_runtime::Instant;
use http::Uri;

use super::config::Config;
use super::failure::MirrorFailure;
use super::select::Standing;

/// A transfer shorter than both of these says more about latency than throughput, so
/// [`Record::success`] does not count it as a throughput sample.
pub(crate) const MIN_SAMPLE_BYTES: u64 = 64 * 1024;
/// See [`MIN_SAMPLE_BYTES`].
pub(crate) const MIN_SAMPLE_TIME: Duration = Duration::from_secs(1);

/// Transfer size the score is expressed for: latency matters as much as throughput for a
/// file of about this size (a typical package).
const SCORE_REFERENCE_BYTES: f64 = 1024.0 * 1024.0;

/// An exponentially weighted moving average; empty until the first sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Ewma(Option<f64>);

impl Ewma {
    /// Folds in `x` with weight `w` (the first sample is taken as is). Non-finite
    /// samples are dropped, so the average can never become NaN.
    pub(crate) fn add(&mut self, x: f64, w: f64) {
        if !x.is_finite() {
            return;
        }
        self.0 = Some(match self.0 {
            None => x,
            Some(v) => v + w * (x - v),
        });
    }

    pub(crate) fn get(self) -> Option<f64> {
        self.0
    }
}

/// A mirror resting after errors.
#[derive(Debug, Clone)]
pub(crate) struct Cooldown {
    pub(crate) until: Instant,
    pub(crate) cause: MirrorFailure,
    /// Health probes seen when it started: a later successful probe may end it early.
    checks_at_start: u64,
    /// Whether a successful health probe ends it (not after a checksum mismatch: the
    /// server answers fine, it is the data that is bad).
    health_lifts: bool,
}

/// The manager's view of one mirror.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// Bytes per second.
    pub(crate) throughput: Ewma,
    /// Seconds to the first byte (or to a health probe's answer).
    pub(crate) latency: Ewma,
    /// Moving average of outcomes (1 success, 0 failure); starts at 1.
    reliability: Ewma,
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    pub(crate) not_found_total: u64,
    pub(crate) consecutive_failures: u32,
    pub(crate) bytes: u64,
    /// Cooldowns since the last success: each lasts twice as long as the one before.
    cooldowns_in_row: u32,
    pub(crate) cooldown: Option<Cooldown>,
    /// Back from a cooldown or from being down, without a success since.
    pub(crate) recovering: bool,
    /// Paths this mirror answered 404 for, and when that stops counting.
    not_found: HashMap<Arc<str>, Instant>,
    pub(crate) last_failure: Option<MirrorFailure>,
    /// Health: probes seen so far, whether the last seen status was down, and why.
    health_checks_seen: u64,
    pub(crate) health_down: bool,
    pub(crate) health_error: Option<String>,
}

impl Record {
    /// Brings time-driven state up to date: ends an expired cooldown, applies new health
    /// probe results. Returns why a cooldown ended, if one did (for the log, which knows
    /// the mirror's name).
    pub(crate) fn refresh(
        &mut self,
        now: Instant,
        health: Option<&EndpointStatus<Uri>>,
        cfg: &Config,
    ) -> Option<&'static str> {
        let mut ended = None;
        if let Some(s) = health {
            if s.checks != self.health_checks_seen {
                self.health_checks_seen = s.checks;
                if s.last_error.is_none()
                    && let Some(latency) = s.last_latency
                {
                    self.latency.add(latency.as_secs_f64(), cfg.ewma_weight);
                }
                if let Some(c) = &self.cooldown
                    && c.health_lifts
                    && s.consecutive_successes > 0
                    && s.checks > c.checks_at_start
                {
                    self.cooldown = None;
                    self.recovering = true;
                    ended = Some("a health probe succeeded");
                }
            }
            if self.health_down && s.healthy {
                self.recovering = true;
            }
            self.health_down = !s.healthy;
            self.health_error = if s.healthy {
                None
            } else {
                s.last_error.clone()
            };
        }
        if self.cooldown.as_ref().is_some_and(|c| now >= c.until) {
            self.cooldown = None;
            self.recovering = true;
            ended = Some("the cooldown is over");
        }
        ended
    }

    /// A transfer of `bytes` finished (and verified) in `elapsed`.
    pub(crate) fn success(&mut self, bytes: u64, elapsed: Duration, cfg: &Config) {
        self.successes += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        self.consecutive_failures = 0;
        self.cooldowns_in_row = 0;
        self.cooldown = None;
        self.recovering = false;
        self.reliability.add(1.0, cfg.ewma_weight);
        if bytes >= MIN_SAMPLE_BYTES || elapsed >= MIN_SAMPLE_TIME {
            self.sample(bytes, elapsed, cfg);
        }
    }

    /// Folds a throughput sample in; returns its rate, or `None` for a zero `elapsed`.
    pub(crate) fn sample(&mut self, bytes: u64, elapsed: Duration, cfg: &Config) -> Option<f64> {
        if elapsed.is_zero() {
            return None;
        }
        let rate = bytes as f64 / elapsed.as_secs_f64();
        self.throughput.add(rate, cfg.ewma_weight);
        Some(rate)
    }

    /// A time to first byte.
    pub(crate) fn latency_sample(&mut self, latency: Duration, cfg: &Config) {
        self.latency.add(latency.as_secs_f64(), cfg.ewma_weight);
    }

    /// A failed transfer of `path` (normalised). Returns the cooldown it started, if any.
    pub(crate) fn failure(
        &mut self,
        failure: MirrorFailure,
        path: &Arc<str>,
        now: Instant,
        cfg: &Config,
    ) -> Option<Duration> {
        if failure == MirrorFailure::NotFound {
            self.not_found_total += 1;
            self.not_found.retain(|_, until| *until > now);
            self.not_found.insert(path.clone(), now + cfg.not_found_ttl);
            return None;
        }
        self.failures += 1;
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_failure = Some(failure);
        self.reliability.add(0.0, cfg.ewma_weight);
        let serious = failure == MirrorFailure::ChecksumMismatch;
        if self.cooldown.is_some() && !serious {
            // A transfer that started before the cooldown: it proves nothing new, and
            // several failing together must not escalate the cooldown several times.
            return None;
        }
        let mut rest = None;
        if serious {
            rest = Some(cfg.max_cooldown);
        } else if self.consecutive_failures >= cfg.failure_threshold {
            self.cooldowns_in_row = self.cooldowns_in_row.saturating_add(1);
            rest = Some(Backoff::Exponential.cap(
                self.cooldowns_in_row,
                cfg.cooldown,
                cfg.max_cooldown,
            ));
        }
        if let MirrorFailure::ServerError {
            retry_after: Some(d),
            ..
        } = failure
        {
            rest = rest.max(Some(d.min(cfg.max_cooldown)));
        }
        let rest = rest.filter(|d| !d.is_zero())?;
        self.cooldown = Some(Cooldown {
            until: now + rest,
            cause: failure,
            checks_at_start: self.health_checks_seen,
            health_lifts: !serious,
        });
        Some(rest)
    }

    /// Whether this mirror answered 404 for `path` recently enough to skip it.
    pub(crate) fn is_not_found(&self, path: &str, now: Instant) -> bool {
        self.not_found.get(path).is_some_and(|until| *until > now)
    }

    /// Moving average of outcomes, 1 before any.
    pub(crate) fn reliability(&self) -> f64 {
        self.reliability.get().unwrap_or(1.0)
    }

    /// Whether it may be handed out: not resting, not down.
    pub(crate) fn standing(&self) -> Standing {
        match (&self.cooldown, self.health_down) {
            (Some(c), _) => Standing::Cooling(c.until),
            (None, true) => Standing::Down,
            (None, false) => Standing::Usable,
        }
    }

    /// Effective bytes per second for a typical file: throughput, slowed by latency and
    /// scaled by reliability. `None` until a throughput sample arrived.
    ///
    /// `REF / (latency + REF / throughput) × reliability`: the rate at which a file of
    /// `REF` bytes arrives including the wait for its first byte, times the chance the
    /// transfer works out.
    pub(crate) fn score(&self) -> Option<f64> {
        let throughput = self.throughput.get()?;
        let latency = self.latency.get().unwrap_or(0.0);
        let score = if throughput > 0.0 {
            SCORE_REFERENCE_BYTES / (latency + SCORE_REFERENCE_BYTES / throughput)
                * self.reliability()
        } else {
            0.0
        };
        // Inputs are finite and non-negative, so this is too; be sure anyway.
        Some(if score.is_finite() { score } else { 0.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);
    const MIB: u64 = 1024 * 1024;

    fn cfg() -> Config {
        Config::default()
    }

    #[test]
    fn ewma_weights_new_samples() {
        let mut e = Ewma::default();
        assert_eq!(e.get(), None);
        e.add(10.0, 0.5);
        assert_eq!(e.get(), Some(10.0));
        e.add(20.0, 0.5);
        assert_eq!(e.get(), Some(15.0));
        e.add(f64::NAN, 0.5);
        e.add(f64::INFINITY, 0.5);
        assert_eq!(e.get(), Some(15.0));
    }

    #[tokio::test(start_paused = true)]
    async fn cooldown_after_threshold_escalates_and_resets() {
        let (cfg, now, path) = (cfg(), Instant::now(), Arc::from("x"));
        let mut r = Record::default();
        for _ in 0..2 {
            r.failure(MirrorFailure::Timeout, &path, now, &cfg);
        }
        assert!(r.cooldown.is_none());
        r.failure(MirrorFailure::Timeout, &path, now, &cfg);
        assert_eq!(r.cooldown.as_ref().unwrap().until, now + cfg.cooldown);
        // A late failure while resting does not extend it.
        r.failure(MirrorFailure::Connect, &path, now, &cfg);
        assert_eq!(r.cooldown.as_ref().unwrap().until, now + cfg.cooldown);
        let later = now + cfg.cooldown;
        r.refresh(later, None, &cfg);
        assert!(r.cooldown.is_none() && r.recovering);
        // One more failure after a cooldown: straight back, twice as long.
        r.failure(MirrorFailure::Connect, &path, later, &cfg);
        assert_eq!(r.cooldown.as_ref().unwrap().until, later + 2 * cfg.cooldown);
        r.success(MIB, SEC, &cfg);
        assert!(r.cooldown.is_none() && !r.recovering);
        assert_eq!((r.consecutive_failures, r.failures, r.successes), (0, 5, 1));
        for _ in 0..3 {
            r.failure(MirrorFailure::Timeout, &path, later, &cfg);
        }
        assert_eq!(
            r.cooldown.as_ref().unwrap().until,
            later + cfg.cooldown,
            "a success resets the escalation"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn escalation_is_capped() {
        let (cfg, mut now, path) = (cfg(), Instant::now(), Arc::from("x"));
        let mut r = Record::default();
        for _ in 0..20 {
            r.failure(MirrorFailure::Timeout, &path, now, &cfg);
            now = r.cooldown.as_ref().map_or(now, |c| c.until);
            r.refresh(now, None, &cfg);
        }
        r.failure(MirrorFailure::Timeout, &path, now, &cfg);
        assert_eq!(r.cooldown.unwrap().until, now + cfg.max_cooldown);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_and_checksum_rest_at_once() {
        let (cfg, now, path) = (cfg(), Instant::now(), Arc::from("x"));
        let mut r = Record::default();
        let busy = MirrorFailure::ServerError {
            status: 503,
            retry_after: Some(Duration::from_secs(90)),
        };
        r.failure(busy, &path, now, &cfg);
        assert_eq!(r.cooldown.as_ref().unwrap().until, now + 90 * SEC);
        let mut r = Record::default();
        let huge = MirrorFailure::ServerError {
            status: 503,
            retry_after: Some(Duration::from_secs(86_400)),
        };
        r.failure(huge, &path, now, &cfg);
        assert_eq!(r.cooldown.as_ref().unwrap().until, now + cfg.max_cooldown);
        let mut r = Record::default();
        r.failure(MirrorFailure::Timeout, &path, now, &cfg);
        r.failure(MirrorFailure::ChecksumMismatch, &path, now, &cfg);
        let c = r.cooldown.as_ref().unwrap();
        assert_eq!((c.until, c.health_lifts), (now + cfg.max_cooldown, false));
    }

    #[tokio::test(start_paused = true)]
    async fn not_found_is_per_path_and_expires() {
        let (cfg, now) = (cfg(), Instant::now());
        let mut r = Record::default();
        r.failure(MirrorFailure::NotFound, &Arc::from("a"), now, &cfg);
        assert!(r.is_not_found("a", now));
        assert!(!r.is_not_found("b", now));
        assert_eq!(r.standing(), Standing::Usable);
        assert_eq!(
            (r.failures, r.not_found_total, r.reliability()),
            (0, 1, 1.0)
        );
        assert!(!r.is_not_found("a", now + cfg.not_found_ttl));
        // Expired entries are dropped when new ones arrive: memory stays bounded.
        r.failure(
            MirrorFailure::NotFound,
            &Arc::from("b"),
            now + cfg.not_found_ttl,
            &cfg,
        );
        assert_eq!(r.not_found.len(), 1);
    }

    #[test]
    fn samples() {
        let cfg = cfg();
        let mut r = Record::default();
        assert_eq!(r.score(), None);
        r.success(1000, Duration::from_millis(10), &cfg);
        assert_eq!(r.throughput.get(), None, "tiny transfers are not samples");
        r.success(1000, 2 * SEC, &cfg);
        assert_eq!(r.throughput.get(), Some(500.0), "long ones are");
        assert_eq!(r.sample(100, Duration::ZERO, &cfg), None);
        let mut r = Record::default();
        r.success(MIB, SEC, &cfg);
        assert_eq!(r.score(), Some(MIB as f64));
        r.latency_sample(SEC, &cfg);
        assert_eq!(
            r.score(),
            Some(MIB as f64 / 2.0),
            "1 s latency halves a 1 MiB/s score"
        );
        let mut r = Record::default();
        r.sample(0, SEC, &cfg);
        assert_eq!(
            r.score(),
            Some(0.0),
            "a stalled mirror scores zero, not NaN"
        );
    }
}
