//! The manager's settings, their defaults, and the builder that checks them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ghostnet_resilience::health;
use ghostnet_runtime::Shutdown;
use http::Uri;

use super::candidate::MirrorRole;
use super::manager::MirrorManager;
use crate::error::{Error, Result};

/// Default failures in a row that put a mirror in cooldown: 3.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
/// Default first cooldown: 30 s. Each further cooldown without a success in between
/// lasts twice as long, up to [`DEFAULT_MAX_COOLDOWN`].
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);
/// Default longest cooldown, also the rest after a checksum mismatch: 10 min.
pub const DEFAULT_MAX_COOLDOWN: Duration = Duration::from_secs(600);
/// Default time a 404 keeps a mirror out for that path: 10 min (mirrors sync later).
pub const DEFAULT_NOT_FOUND_TTL: Duration = Duration::from_secs(600);
/// Default advantage of primary mirrors: 0.25, so a fallback must score more than 25 %
/// higher to go first.
pub const DEFAULT_PRIMARY_BONUS: f64 = 0.25;
/// Default chance that a selection tries an unmeasured or recovering mirror first: 0.1.
pub const DEFAULT_EXPLORATION: f64 = 0.1;
/// Default weight of a new sample in the moving averages: 0.3.
pub const DEFAULT_EWMA_WEIGHT: f64 = 0.3;
/// Default score under which a measured mirror ranks after unmeasured ones: 20 KiB/s
/// (aria2's feedback selector uses the same line).
pub const DEFAULT_SLOW_BELOW: u64 = 20 * 1024;
/// Default time between health probe rounds: 60 s (public mirrors should not be probed
/// much more often).
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(60);

/// The checked settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) failure_threshold: u32,
    pub(crate) cooldown: Duration,
    pub(crate) max_cooldown: Duration,
    pub(crate) not_found_ttl: Duration,
    pub(crate) max_not_found: u32,
    pub(crate) primary_bonus: f64,
    pub(crate) exploration: f64,
    pub(crate) ewma_weight: f64,
    pub(crate) slow_below: u64,
    pub(crate) lowest_speed_limit: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            cooldown: DEFAULT_COOLDOWN,
            max_cooldown: DEFAULT_MAX_COOLDOWN,
            not_found_ttl: DEFAULT_NOT_FOUND_TTL,
            max_not_found: 0,
            primary_bonus: DEFAULT_PRIMARY_BONUS,
            exploration: DEFAULT_EXPLORATION,
            ewma_weight: DEFAULT_EWMA_WEIGHT,
            slow_below: DEFAULT_SLOW_BELOW,
            lowest_speed_limit: 0,
        }
    }
}

impl Config {
    fn check(&self) -> Result<()> {
        let bad = |field, reason: String| Err(Error::InvalidMirrorConfig { field, reason });
        if self.failure_threshold == 0 {
            return bad(
                "failure_threshold",
                "is 0; use at least 1 (default 3)".into(),
            );
        }
        if self.cooldown.is_zero() {
            return bad("cooldown", "is 0; use e.g. 30 s".into());
        }
        if self.max_cooldown < self.cooldown {
            return bad(
                "max_cooldown",
                format!(
                    "is {:?}, shorter than `cooldown` ({:?}); use at least the cooldown",
                    self.max_cooldown, self.cooldown
                ),
            );
        }
        if self.not_found_ttl.is_zero() {
            return bad(
                "not_found_ttl",
                "is 0, so a 404 would be forgotten at once; use e.g. 10 min".into(),
            );
        }
        let b = self.primary_bonus;
        if !(b.is_finite() && b >= 0.0) {
            return bad(
                "primary_bonus",
                format!("is {b}; use a finite share of 0 or more, e.g. 0.25"),
            );
        }
        let e = self.exploration;
        if !(0.0..=1.0).contains(&e) {
            return bad(
                "exploration",
                format!("is {e}; use a probability from 0 to 1, e.g. 0.1"),
            );
        }
        let w = self.ewma_weight;
        if !(w > 0.0 && w <= 1.0) {
            return bad(
                "ewma_weight",
                format!("is {w}; use a weight above 0 and at most 1, e.g. 0.3"),
            );
        }
        Ok(())
    }
}

/// A boxed health probe: succeeds when the mirror is usable.
pub(crate) type Probe = Arc<
    dyn Fn(Uri) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// Health check settings, passed on to [`ghostnet_resilience::HealthCheck`].
pub(crate) struct HealthConfig {
    pub(crate) probe: Option<Probe>,
    pub(crate) path: Option<String>,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) unhealthy_threshold: u32,
    pub(crate) healthy_threshold: u32,
    pub(crate) shutdown: Option<Shutdown>,
}

/// Builds a [`MirrorManager`]; [`build`](Self::build) checks everything and starts the
/// health checks.
///
/// | setting | default |
/// |---|---|
/// | `failure_threshold` | 3 failures in a row |
/// | `cooldown` / `max_cooldown` | 30 s, doubling per cooldown in a row / 10 min |
/// | `not_found_ttl` | 10 min |
/// | `max_not_found` | 0 (ask every mirror) |
/// | `primary_bonus` | 0.25 |
/// | `exploration` | 0.1 |
/// | `ewma_weight` | 0.3 |
/// | `slow_below` | 20 KiB/s |
/// | `lowest_speed_limit` | 0 (off) |
/// | `health_check` | none |
/// | `health_interval` / `health_timeout` | 60 s / 3 s |
/// | `health_thresholds` | down after 3 failed probes, up after 2 good ones |
/// | `seed` | from the OS |
///
/// ```
/// use std::time::Duration;
/// use ghostnet_pkgmgr::mirror::MirrorManager;
///
/// let mirrors = MirrorManager::builder()
///     .primary("https://mirror.local/archlinux")
///     .fallbacks(["https://a.example.org/archlinux/", "https://b.example.org/arch/"])
///     .failure_threshold(2)
///     .cooldown(Duration::from_secs(60))
///     .build()
///     .unwrap();
/// assert_eq!(mirrors.stats().len(), 3);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct MirrorManagerBuilder {
    pub(crate) mirrors: Vec<(String, MirrorRole)>,
    pub(crate) cfg: Config,
    pub(crate) health: HealthConfig,
    pub(crate) seed: Option<u64>,
}

impl Default for MirrorManagerBuilder {
    fn default() -> Self {
        Self {
            mirrors: Vec::new(),
            cfg: Config::default(),
            health: HealthConfig {
                probe: None,
                path: None,
                interval: DEFAULT_HEALTH_INTERVAL,
                timeout: health::DEFAULT_PROBE_TIMEOUT,
                unhealthy_threshold: health::DEFAULT_UNHEALTHY_THRESHOLD,
                healthy_threshold: health::DEFAULT_HEALTHY_THRESHOLD,
                shutdown: None,
            },
            seed: None,
        }
    }
}

impl MirrorManagerBuilder {
    /// Adds a primary mirror: preferred while its score is within
    /// [`primary_bonus`](Self::primary_bonus) of the best. A base without a trailing
    /// `/` is still a directory.
    pub fn primary(mut self, base: impl Into<String>) -> Self {
        self.mirrors.push((base.into(), MirrorRole::Primary));
        self
    }

    /// Adds a fallback mirror. Unmeasured mirrors are tried in the order added,
    /// primaries first.
    pub fn fallback(mut self, base: impl Into<String>) -> Self {
        self.mirrors.push((base.into(), MirrorRole::Fallback));
        self
    }

    /// Adds several fallback mirrors, e.g. the `Server =` lines of a mirror list.
    pub fn fallbacks<S: Into<String>>(mut self, bases: impl IntoIterator<Item = S>) -> Self {
        self.mirrors
            .extend(bases.into_iter().map(|b| (b.into(), MirrorRole::Fallback)));
        self
    }

    /// Failures in a row that put a mirror in cooldown. Default 3.
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.cfg.failure_threshold = n;
        self
    }

    /// The first cooldown; each further one in a row lasts twice as long, up to
    /// [`max_cooldown`](Self::max_cooldown). Default 30 s.
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cfg.cooldown = d;
        self
    }

    /// The longest cooldown, also used after a checksum mismatch and as the cap on a
    /// server's `Retry-After`. Default 10 min.
    pub fn max_cooldown(mut self, d: Duration) -> Self {
        self.cfg.max_cooldown = d;
        self
    }

    /// How long a 404 keeps a mirror out for that path. Default 10 min.
    pub fn not_found_ttl(mut self, d: Duration) -> Self {
        self.cfg.not_found_ttl = d;
        self
    }

    /// Give up on a path once this many mirrors answered 404 for it (aria2's
    /// `--max-file-not-found`); 0, the default, asks every mirror.
    pub fn max_not_found(mut self, n: u32) -> Self {
        self.cfg.max_not_found = n;
        self
    }

    /// How much primaries are preferred: their score counts `1 + bonus` times when
    /// ranking, so equal scores always favour a primary. Default 0.25; 0 ranks by score
    /// alone (primaries still win exact ties).
    pub fn primary_bonus(mut self, bonus: f64) -> Self {
        self.cfg.primary_bonus = bonus;
        self
    }

    /// Chance, per selection, of trying an unmeasured or recovering mirror before the
    /// best measured one, so new and recovered mirrors get measured. Default 0.1; 0
    /// never explores.
    pub fn exploration(mut self, probability: f64) -> Self {
        self.cfg.exploration = probability;
        self
    }

    /// Weight of a new sample in the throughput, latency and reliability averages. Higher
    /// follows changes faster, lower smooths more. Default 0.3.
    pub fn ewma_weight(mut self, weight: f64) -> Self {
        self.cfg.ewma_weight = weight;
        self
    }

    /// Score (bytes/s) under which a measured mirror ranks after the unmeasured ones.
    /// Default 20 KiB/s.
    pub fn slow_below(mut self, bytes_per_sec: u64) -> Self {
        self.cfg.slow_below = bytes_per_sec;
        self
    }

    /// Transfers slower than this (bytes/s) are judged too slow by
    /// [`report_throughput`](MirrorManager::report_throughput) (aria2's
    /// `--lowest-speed-limit`). When the fastest mirror known is itself under 4 times
    /// the limit, a quarter of its speed is used instead, so a slow network does not make
    /// every mirror too slow. Default 0: off.
    pub fn lowest_speed_limit(mut self, bytes_per_sec: u64) -> Self {
        self.cfg.lowest_speed_limit = bytes_per_sec;
        self
    }

    /// Probes every mirror in the background with `probe` (e.g. a `HEAD` request),
    /// through [`ghostnet_resilience::HealthCheck`]. The probe gets the mirror's base URL,
    /// or [`health_path`](Self::health_path) under it, and succeeds when the mirror is
    /// usable; its error's `Display` shows in the stats.
    ///
    /// A mirror marked down is not handed out until probes succeed again; a successful
    /// probe also ends a cooldown early (not one after a checksum mismatch). Probe
    /// latencies feed the latency average. [`build`](Self::build) must then run inside a
    /// tokio runtime.
    pub fn health_check<P, Fut, T, E>(mut self, probe: P) -> Self
    where
        P: Fn(Uri) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        E: fmt::Display,
    {
        self.health.probe = Some(Arc::new(move |url| {
            let fut = probe(url);
            Box::pin(async move { fut.await.map(drop).map_err(|e| e.to_string()) })
        }));
        self
    }

    /// What health probes fetch, under each base (e.g. Arch mirrors' `lastsync`).
    /// Default: the base itself.
    pub fn health_path(mut self, path: impl Into<String>) -> Self {
        self.health.path = Some(path.into());
        self
    }

    /// Time between health probe rounds. Default 60 s.
    pub fn health_interval(mut self, d: Duration) -> Self {
        self.health.interval = d;
        self
    }

    /// Limit on one health probe. Default 3 s.
    pub fn health_timeout(mut self, d: Duration) -> Self {
        self.health.timeout = d;
        self
    }

    /// Failed probes in a row that mark a mirror down, and good ones that mark it up
    /// again. Default 3 and 2.
    pub fn health_thresholds(mut self, unhealthy: u32, healthy: u32) -> Self {
        self.health.unhealthy_threshold = unhealthy;
        self.health.healthy_threshold = healthy;
        self
    }

    /// Stops the health checks when `shutdown` fires (and lets it wait for them).
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.health.shutdown = Some(shutdown.clone());
        self
    }

    /// Seeds the generator behind exploration, for reproducible selections in tests and
    /// simulations. Default: seeded from the OS.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks the settings, parses the mirrors and starts the health checks.
    ///
    /// # Errors
    ///
    /// [`Error::NoMirrors`], [`Error::InvalidMirror`] (not an http(s) directory URL),
    /// [`Error::DuplicateMirror`], [`Error::InvalidMirrorConfig`] (a setting out of
    /// range: zero threshold or cooldown, NaN or negative weights),
    /// [`Error::InvalidMirrorPath`] (a bad `health_path`), [`Error::HealthCheck`] (bad
    /// health settings, or no tokio runtime to run the probes in).
    pub fn build(self) -> Result<MirrorManager> {
        self.cfg.check()?;
        MirrorManager::from_builder(self)
    }
}

impl fmt::Debug for MirrorManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MirrorManagerBuilder")
            .field("mirrors", &self.mirrors)
            .field("config", &self.cfg)
            .field("health_check", &self.health.probe.is_some())
            .field("health_interval", &self.health.interval)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(b: MirrorManagerBuilder) -> &'static str {
        match b.primary("http://a/").build() {
            Err(Error::InvalidMirrorConfig { field, .. }) => field,
            other => panic!("expected InvalidMirrorConfig, got {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_settings() {
        let b = MirrorManager::builder;
        assert_eq!(field(b().failure_threshold(0)), "failure_threshold");
        assert_eq!(field(b().cooldown(Duration::ZERO)), "cooldown");
        assert_eq!(
            field(
                b().cooldown(Duration::from_secs(60))
                    .max_cooldown(Duration::from_secs(59))
            ),
            "max_cooldown"
        );
        assert_eq!(field(b().not_found_ttl(Duration::ZERO)), "not_found_ttl");
        for v in [f64::NAN, f64::INFINITY, -0.1] {
            assert_eq!(field(b().primary_bonus(v)), "primary_bonus");
        }
        for v in [f64::NAN, -0.1, 1.5] {
            assert_eq!(field(b().exploration(v)), "exploration");
        }
        for v in [f64::NAN, 0.0, 1.01] {
            assert_eq!(field(b().ewma_weight(v)), "ewma_weight");
        }
        b().primary("http://a/")
            .exploration(1.0)
            .ewma_weight(1.0)
            .primary_bonus(0.0)
            .build()
            .unwrap();
        assert!(format!("{:?}", b()).contains("failure_threshold: 3"));
    }
}
