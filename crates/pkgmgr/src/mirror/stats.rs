//! What can be read about each mirror at any time, and how the CLI shows it.

use std::fmt;
use std::time::Duration;

use ghostnet_runtime::Instant;
use http::Uri;

use super::candidate::MirrorRole;
use super::failure::MirrorFailure;
use super::record::Record;

/// Whether a mirror is being handed out.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorState {
    /// In use.
    Active,
    /// Resting after errors until `until` (tokio time); a successful health probe may end
    /// it earlier.
    Cooldown {
        /// When it is handed out again.
        until: Instant,
        /// The failure that started it.
        cause: MirrorFailure,
    },
    /// Health checks mark it down; it is handed out again once probes succeed.
    Unhealthy {
        /// Why the last probe failed.
        last_error: Option<String>,
    },
}

impl MirrorState {
    /// Whether the mirror is in use.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active)
    }
}

impl fmt::Display for MirrorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Active => f.write_str("active"),
            Self::Cooldown { until, cause } => {
                let left = until.saturating_duration_since(Instant::now());
                write!(f, "cooldown {}s ({cause})", left.as_secs_f64().ceil())
            }
            Self::Unhealthy {
                last_error: Some(e),
            } => write!(f, "down ({e})"),
            Self::Unhealthy { last_error: None } => f.write_str("down"),
        }
    }
}

/// A snapshot of one mirror, from [`MirrorManager::stats`](super::MirrorManager::stats).
///
/// `Display` gives the one-line CLI summary, e.g.
/// `https://a.example/pkgs/ primary active score 3.8 MiB/s, 4.0 MiB/s, 21 ms, 12 ok, 1 failed (0 in a row)`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct MirrorStats {
    /// The normalised base URL.
    pub base: Uri,
    /// Primary or fallback.
    pub role: MirrorRole,
    /// Active, resting, or down.
    pub state: MirrorState,
    /// What it is ranked by: bytes/s a typical (1 MiB) file arrives at, latency
    /// included, scaled by reliability. `None` until measured.
    pub score: Option<f64>,
    /// Moving average of transfer throughput, bytes/s.
    pub throughput: Option<f64>,
    /// Moving average of time to first byte and health probe round trips.
    pub latency: Option<Duration>,
    /// Moving average of outcomes: 1 when everything worked, towards 0 as failures
    /// pile up.
    pub reliability: f64,
    /// Transfers reported as successful.
    pub successes: u64,
    /// Transfers reported as failed (404s not included).
    pub failures: u64,
    /// 404 answers, for any path.
    pub not_found: u64,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Bytes of successful transfers.
    pub bytes: u64,
    /// Back from a cooldown or an outage, not yet proven by a success.
    pub recovering: bool,
    /// The most recent failure (404s not included).
    pub last_failure: Option<MirrorFailure>,
}

impl MirrorStats {
    pub(crate) fn new(base: Uri, role: MirrorRole, r: &Record) -> Self {
        let state = match (&r.cooldown, r.health_down) {
            (Some(c), _) => MirrorState::Cooldown {
                until: c.until,
                cause: c.cause,
            },
            (None, true) => MirrorState::Unhealthy {
                last_error: r.health_error.clone(),
            },
            (None, false) => MirrorState::Active,
        };
        Self {
            base,
            role,
            state,
            score: r.score(),
            throughput: r.throughput.get(),
            latency: r.latency.get().map(Duration::from_secs_f64),
            reliability: r.reliability(),
            successes: r.successes,
            failures: r.failures,
            not_found: r.not_found_total,
            consecutive_failures: r.consecutive_failures,
            bytes: r.bytes,
            recovering: r.recovering,
            last_failure: r.last_failure,
        }
    }
}

impl fmt::Display for MirrorStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.base, self.role, self.state)?;
        if self.recovering {
            f.write_str(" (recovering)")?;
        }
        match self.score {
            Some(s) => write!(f, " score {}", Rate(s))?,
            None => f.write_str(" unmeasured")?,
        }
        if let Some(t) = self.throughput {
            write!(f, ", {}", Rate(t))?;
        }
        if let Some(l) = self.latency {
            write!(f, ", {} ms", l.as_millis())?;
        }
        write!(
            f,
            ", {} ok, {} failed ({} in a row)",
            self.successes, self.failures, self.consecutive_failures
        )?;
        if self.not_found > 0 {
            write!(f, ", {} not found", self.not_found)?;
        }
        Ok(())
    }
}

/// Bytes per second in binary units, one decimal.
struct Rate(f64);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
        let mut v = self.0;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            write!(f, "{v:.0} {}", UNITS[0])
        } else {
            write!(f, "{v:.1} {}", UNITS[unit])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(Rate(512.0).to_string(), "512 B/s");
        assert_eq!(Rate(1536.0).to_string(), "1.5 KiB/s");
        assert_eq!(Rate(4.0 * 1024.0 * 1024.0).to_string(), "4.0 MiB/s");
        assert_eq!(Rate(3.0 * 1024f64.powi(4)).to_string(), "3072.0 GiB/s");
    }

    #[tokio::test(start_paused = true)]
    async fn states() {
        let until = Instant::now() + Duration::from_millis(24_500);
        let s = MirrorState::Cooldown {
            until,
            cause: MirrorFailure::Timeout,
        };
        assert_eq!(s.to_string(), "cooldown 25s (timeout)");
        assert!(!s.is_active());
        let down = MirrorState::Unhealthy {
            last_error: Some("connection refused".into()),
        };
        assert_eq!(down.to_string(), "down (connection refused)");
        assert_eq!(MirrorState::Active.to_string(), "active");
    }
}
