//! [`MirrorManager`]: selection, feedback and stats behind one cheap, shared handle.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ghostnet_runtime::Instant;
use http::Uri;
use rand::SeedableRng;
use rand::rngs::{SmallRng, SysRng};

use super::base::{join, normalise_path, parse_base};
use super::candidate::{Candidate, MirrorRole, SpeedVerdict};
use super::config::{Config, MirrorManagerBuilder};
use super::failure::MirrorFailure;
use super::health::Health;
use super::record::Record;
use super::select::{Ranked, Standing, View, rank};
use super::stats::MirrorStats;
use crate::error::{Error, Result};

/// Chooses mirrors for downloads and learns from how they do.
///
/// - **Selection**: [`best_mirror`](Self::best_mirror) and
///   [`candidates`](Self::candidates) rank the mirrors for a path by a score from
///   measured throughput, latency and failures (aria2's feedback selection: the fastest
///   measured first, unmeasured ones in the order added, slow ones last), with primaries
///   preferred when scores are close and an occasional exploration of unmeasured or
///   recovering mirrors. See [`MirrorManagerBuilder`] for the settings.
/// - **Feedback**: the download loop reports each transfer:
///   [`report_success`](Self::report_success), [`report_failure`](Self::report_failure),
///   [`report_throughput`](Self::report_throughput) mid-transfer,
///   [`report_latency`](Self::report_latency). Repeated failures put a mirror in
///   cooldown; a 404 only skips it for that path.
/// - **Failover**: [`next_after`](Self::next_after) names the mirror to continue the same
///   `.part` file on.
/// - **Health**: optional background probes (a `HEAD` request you pass in) through
///   [`ghostnet_resilience::HealthCheck`].
/// - **Stats**: [`stats`](Self::stats) at any time; `Display` prints one line per mirror
///   for the CLI.
///
/// Clones share everything (an `Arc` inside); all methods are synchronous and never hold
/// a lock across an `.await`. Time is tokio's, so paused-clock tests are exact.
///
/// ## When every mirror is down
///
/// [`best_mirror`](Self::best_mirror) and [`next_after`](Self::next_after) never hand out
/// a mirror in cooldown or marked down: they fail with [`Error::NoMirrorAvailable`],
/// which says how many are resting and when the first is back, so the loop can wait or
/// give up. Callers who would rather try the least bad mirror anyway take it from
/// [`candidates`](Self::candidates), which lists unavailable mirrors last (by when their
/// cooldown ends) with [`Candidate::is_available`] false.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use ghostnet_pkgmgr::mirror::{MirrorFailure, MirrorManager};
///
/// let mirrors = MirrorManager::builder()
///     .primary("https://a.example.org/arch")
///     .fallback("https://b.example.org/arch/")
///     .build()
///     .unwrap();
/// let path = "core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst";
/// let first = mirrors.best_mirror(path).unwrap();
/// assert_eq!(first.url(), "https://a.example.org/arch/core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst");
///
/// // `a` refuses the connection: continue on `b`.
/// mirrors.report_failure(&first, MirrorFailure::Connect).unwrap();
/// let next = mirrors.next_after(&first).unwrap();
/// assert_eq!(next.base(), "https://b.example.org/arch/");
/// mirrors.report_success(&next, 4 << 20, Duration::from_secs(2)).unwrap();
///
/// // `b` is measured now; `a` has one failure against it.
/// let stats = mirrors.stats();
/// assert_eq!(stats[1].throughput, Some(2.0 * 1024.0 * 1024.0));
/// assert_eq!(stats[0].consecutive_failures, 1);
/// println!("{mirrors}");
/// # }
/// ```
#[derive(Clone)]
pub struct MirrorManager {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: Config,
    mirrors: Box<[Mirror]>,
    state: Mutex<State>,
    health: Option<Health>,
}

struct Mirror {
    base: Uri,
    role: MirrorRole,
}

struct State {
    records: Vec<Record>,
    rng: SmallRng,
}

/// A ranking for one path, with what is needed to explain an empty one.
struct Selection {
    path: Arc<str>,
    ranked: Vec<Ranked>,
    cooling: usize,
    unhealthy: usize,
    retry_in: Option<Duration>,
}

impl Selection {
    fn unavailable(&self) -> Error {
        Error::NoMirrorAvailable {
            path: self.path.to_string(),
            cooling: self.cooling,
            unhealthy: self.unhealthy,
            retry_in: self.retry_in,
        }
    }
}

impl MirrorManager {
    /// A builder with the defaults and no mirrors.
    pub fn builder() -> MirrorManagerBuilder {
        MirrorManagerBuilder::default()
    }

    pub(crate) fn from_builder(b: MirrorManagerBuilder) -> Result<Self> {
        if b.mirrors.is_empty() {
            return Err(Error::NoMirrors);
        }
        let mut mirrors: Vec<Mirror> = Vec::with_capacity(b.mirrors.len());
        for (input, role) in &b.mirrors {
            let base = parse_base(input)?;
            if mirrors.iter().any(|m| m.base == base) {
                return Err(Error::DuplicateMirror {
                    url: base.to_string(),
                });
            }
            mirrors.push(Mirror { base, role: *role });
        }
        let bases: Vec<Uri> = mirrors.iter().map(|m| m.base.clone()).collect();
        let health = Health::start(&bases, b.health)?;
        let rng = b.seed.map_or_else(os_seeded_rng, SmallRng::seed_from_u64);
        let records = mirrors.iter().map(|_| Record::default()).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                cfg: b.cfg,
                mirrors: mirrors.into(),
                state: Mutex::new(State { records, rng }),
                health,
            }),
        })
    }

    /// The mirror to fetch `path` from now: usually the best ranked usable one,
    /// sometimes (see [`exploration`](MirrorManagerBuilder::exploration)) an unmeasured
    /// or recovering one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMirrorPath`] for a path that is not a file under the bases,
    /// [`Error::NotOnAnyMirror`] when every mirror (or `max_not_found` of them) answered
    /// 404 for it, [`Error::NoMirrorAvailable`] when every mirror that may have it is in
    /// cooldown or down.
    pub fn best_mirror(&self, path: &str) -> Result<Candidate> {
        let sel = self.select(normalise_path(path)?.into(), true)?;
        match sel.ranked.iter().find(|r| r.usable) {
            Some(r) => self.candidate(&sel.path, *r),
            None => Err(sel.unavailable()),
        }
    }

    /// Every mirror that may have `path`, best first (the first usable one is what
    /// [`best_mirror`](Self::best_mirror) would return), then the unavailable ones
    /// with [`Candidate::is_available`] false: resting ones by when their cooldown ends,
    /// then the ones marked down. Mirrors that answered 404 for it are left out.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMirrorPath`] and [`Error::NotOnAnyMirror`], as for
    /// [`best_mirror`](Self::best_mirror).
    pub fn candidates(&self, path: &str) -> Result<Vec<Candidate>> {
        let sel = self.select(normalise_path(path)?.into(), true)?;
        sel.ranked
            .iter()
            .map(|r| self.candidate(&sel.path, *r))
            .collect()
    }

    /// Where to continue after `failed` failed (report the failure first): the best
    /// usable mirror other than it, for the same path, without exploration. The `.part`
    /// file stays: resume it there with a `Range` request (see the module docs).
    ///
    /// When no other mirror is usable, `failed` itself is returned while it is still
    /// usable, so a lone mirror is retried until its failures put it in cooldown; a
    /// loop over `next_after` therefore ends after at most `failure_threshold` failures
    /// per mirror.
    ///
    /// # Errors
    ///
    /// [`Error::NotOnAnyMirror`], [`Error::NoMirrorAvailable`] (time to wait or give
    /// up), [`Error::UnknownMirror`] for a candidate from another manager.
    pub fn next_after(&self, failed: &Candidate) -> Result<Candidate> {
        let index = self.find(failed)?;
        let sel = self.select(failed.path.clone(), false)?;
        let pick = sel
            .ranked
            .iter()
            .find(|r| r.usable && r.index != index)
            .or_else(|| sel.ranked.iter().find(|r| r.usable));
        match pick {
            Some(r) => self.candidate(&sel.path, *r),
            None => Err(sel.unavailable()),
        }
    }

    /// A transfer from `mirror` finished and checked out: `bytes` in `elapsed` (from the
    /// request to the last byte). Resets its failure count, ends a cooldown, and counts
    /// as a throughput sample when it was big enough to say something about throughput
    /// (at least 64 KiB or 1 s).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownMirror`] for a candidate from another manager.
    pub fn report_success(&self, mirror: &Candidate, bytes: u64, elapsed: Duration) -> Result<()> {
        self.update(mirror, |r, cfg| r.success(bytes, elapsed, cfg))
    }

    /// A transfer from `mirror` failed. See [`MirrorFailure`] for what each kind does.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownMirror`] for a candidate from another manager.
    pub fn report_failure(&self, mirror: &Candidate, failure: MirrorFailure) -> Result<()> {
        let index = self.find(mirror)?;
        let now = Instant::now();
        let mut st = self.refreshed(now);
        let rest = st.records[index].failure(failure, &mirror.path, now, &self.inner.cfg);
        let consecutive = st.records[index].consecutive_failures;
        drop(st);
        match rest {
            Some(rest) => tracing::warn!(
                mirror = %mirror.base,
                cause = %failure,
                failures_in_row = consecutive,
                cooldown = ?rest,
                "mirror put in cooldown"
            ),
            None => tracing::debug!(
                mirror = %mirror.base,
                path = %mirror.path,
                cause = %failure,
                "mirror transfer failed"
            ),
        }
        Ok(())
    }

    /// A mid-transfer sample: `bytes` arrived in the last `elapsed`. Folds it into the
    /// mirror's throughput, and judges it against the
    /// [`lowest_speed_limit`](MirrorManagerBuilder::lowest_speed_limit). Send samples
    /// over a few seconds each (TCP ramps up; one slow second says little). A sample
    /// with zero `elapsed` carries no rate and is ignored.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownMirror`] for a candidate from another manager.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ghostnet_pkgmgr::mirror::{MirrorManager, SpeedVerdict};
    ///
    /// let mirrors = MirrorManager::builder()
    ///     .primary("http://a/")
    ///     .lowest_speed_limit(10_000)
    ///     .build()
    ///     .unwrap();
    /// let c = mirrors.best_mirror("x.tar").unwrap();
    /// let sec = Duration::from_secs(5);
    /// assert_eq!(mirrors.report_throughput(&c, 500_000, sec).unwrap(), SpeedVerdict::Fine);
    /// assert!(mirrors.report_throughput(&c, 20_000, sec).unwrap().is_too_slow());
    /// ```
    pub fn report_throughput(
        &self,
        mirror: &Candidate,
        bytes: u64,
        elapsed: Duration,
    ) -> Result<SpeedVerdict> {
        let index = self.find(mirror)?;
        let cfg = &self.inner.cfg;
        let mut st = self.refreshed(Instant::now());
        // What the mirrors are known to manage, before this sample.
        let best_known = st
            .records
            .iter()
            .filter_map(|r| r.throughput.get())
            .reduce(f64::max);
        let Some(rate) = st.records[index].sample(bytes, elapsed, cfg) else {
            return Ok(SpeedVerdict::Fine);
        };
        if cfg.lowest_speed_limit == 0 {
            return Ok(SpeedVerdict::Fine);
        }
        // aria2's adaptive selector: never demand more than a quarter of the best known
        // speed, or a slow network makes every mirror "too slow".
        let limit = match best_known {
            Some(best) => (cfg.lowest_speed_limit as f64).min(best / 4.0),
            None => cfg.lowest_speed_limit as f64,
        };
        Ok(if rate < limit {
            SpeedVerdict::TooSlow { rate, limit }
        } else {
            SpeedVerdict::Fine
        })
    }

    /// How long `mirror` took to answer (response headers after the request was sent).
    /// Feeds the latency average, which matters most for small files.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownMirror`] for a candidate from another manager.
    pub fn report_latency(&self, mirror: &Candidate, latency: Duration) -> Result<()> {
        self.update(mirror, |r, cfg| r.latency_sample(latency, cfg))
    }

    /// A snapshot of every mirror, in the order they were added.
    pub fn stats(&self) -> Vec<MirrorStats> {
        let st = self.refreshed(Instant::now());
        self.inner
            .mirrors
            .iter()
            .zip(&st.records)
            .map(|(m, r)| MirrorStats::new(m.base.clone(), m.role, r))
            .collect()
    }

    /// Whether background health probes are running (false without
    /// [`health_check`](MirrorManagerBuilder::health_check), or after its shutdown).
    pub fn health_checks_running(&self) -> bool {
        self.inner.health.as_ref().is_some_and(Health::is_running)
    }

    /// Ranks the mirrors for a normalised `path`.
    fn select(&self, path: Arc<str>, explore: bool) -> Result<Selection> {
        let now = Instant::now();
        let cfg = &self.inner.cfg;
        let mut st = self.refreshed(now);
        let mut views = Vec::with_capacity(st.records.len());
        let mut not_found = 0;
        for (index, (m, r)) in self.inner.mirrors.iter().zip(&st.records).enumerate() {
            if r.is_not_found(&path, now) {
                not_found += 1;
                continue;
            }
            let score = r.score();
            views.push(View {
                index,
                primary: m.role == MirrorRole::Primary,
                standing: r.standing(),
                score,
                reliability: r.reliability(),
                explorable: score.is_none() || r.recovering,
            });
        }
        let limit = usize::try_from(cfg.max_not_found).unwrap_or(usize::MAX);
        if views.is_empty() || (limit > 0 && not_found >= limit) {
            return Err(Error::NotOnAnyMirror {
                path: path.to_string(),
                mirrors: not_found,
            });
        }
        let ranked = rank(&views, cfg, explore.then_some(&mut st.rng));
        drop(st);
        let first_back = views
            .iter()
            .filter_map(|v| match v.standing {
                Standing::Cooling(until) => Some(until),
                _ => None,
            })
            .min();
        Ok(Selection {
            path,
            ranked,
            cooling: views
                .iter()
                .filter(|v| matches!(v.standing, Standing::Cooling(_)))
                .count(),
            unhealthy: views
                .iter()
                .filter(|v| v.standing == Standing::Down)
                .count(),
            retry_in: first_back.map(|t| t.saturating_duration_since(now)),
        })
    }

    fn candidate(&self, path: &Arc<str>, r: Ranked) -> Result<Candidate> {
        let m = &self.inner.mirrors[r.index];
        Ok(Candidate {
            index: r.index,
            base: m.base.clone(),
            role: m.role,
            url: join(&m.base, path)?,
            path: path.clone(),
            available: r.usable,
        })
    }

    /// The mirror a candidate names: by position when it matches, else by base URL (a
    /// candidate from another manager over the same mirror is understood).
    fn find(&self, c: &Candidate) -> Result<usize> {
        let mirrors = &self.inner.mirrors;
        if mirrors.get(c.index).is_some_and(|m| m.base == c.base) {
            return Ok(c.index);
        }
        mirrors
            .iter()
            .position(|m| m.base == c.base)
            .ok_or_else(|| Error::UnknownMirror {
                url: c.base.to_string(),
            })
    }

    /// Applies `f` to the record of `mirror`, brought up to date first.
    fn update(&self, mirror: &Candidate, f: impl FnOnce(&mut Record, &Config)) -> Result<()> {
        let index = self.find(mirror)?;
        let mut st = self.refreshed(Instant::now());
        f(&mut st.records[index], &self.inner.cfg);
        Ok(())
    }

    /// The state, locked, with every record brought up to date (cooldowns that ended,
    /// new health probe results).
    fn refreshed(&self, now: Instant) -> MutexGuard<'_, State> {
        // Every critical section leaves the records consistent: poisoning is harmless.
        let mut st = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let health = self.inner.health.as_ref().map(Health::statuses);
        for (i, r) in st.records.iter_mut().enumerate() {
            let status = health.as_ref().and_then(|h| h.get(i));
            if let Some(why) = r.refresh(now, status, &self.inner.cfg) {
                tracing::info!(mirror = %self.inner.mirrors[i].base, why, "mirror back in rotation");
            }
        }
        st
    }
}

/// A generator seeded by the OS, or by the clock when the OS has no entropy to give
/// (very early boot): exploration needs spread, not secrecy, and must not panic.
fn os_seeded_rng() -> SmallRng {
    SmallRng::try_from_rng(&mut SysRng).unwrap_or_else(|_| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        SmallRng::seed_from_u64(nanos ^ u64::from(std::process::id()).rotate_left(32))
    })
}

impl fmt::Display for MirrorManager {
    /// One line per mirror, in the order added (see [`MirrorStats`]'s `Display`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.stats().iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            s.fmt(f)?;
        }
        Ok(())
    }
}

impl fmt::Debug for MirrorManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats();
        let mirrors: Vec<_> = stats
            .iter()
            .map(|s| (s.base.to_string(), s.role, s.state.clone()))
            .collect();
        f.debug_struct("MirrorManager")
            .field("mirrors", &mirrors)
            .field("health_checks_running", &self.health_checks_running())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_shareable_across_threads() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<MirrorManager>();
        send_sync::<Candidate>();
        send_sync::<MirrorStats>();
    }
}
