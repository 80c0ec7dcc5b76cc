//! Ranking the mirrors for one path. Pure functions over per-mirror views, so the rules
//! are tested without a manager or a clock.
//!
//! Usable mirrors come first, in three tiers (as aria2's feedback selector does, plus
//! the primary bonus):
//!
//! 1. measured, effective score at least `slow_below`: fastest first;
//! 2. unmeasured: in the order added, primaries first, ones that failed lately last;
//! 3. measured but slow: fastest first.
//!
//! A primary's score counts `1 + primary_bonus` times, and on equal scores a primary
//! goes first, then the mirror added first. With probability `exploration`, when the
//! front mirror is a measured one, an unmeasured or recovering mirror from further back
//! (picked uniformly) moves to the front: new and recovered mirrors get measured, the
//! fastest known one still gets most transfers.
//!
//! Unusable mirrors follow, marked as such: resting ones by the end of their cooldown,
//! then the ones health checks mark down.

use std::cmp::Ordering;

use ghostnet_runtime::Instant;
use rand::RngExt;
use rand::rngs::SmallRng;

use super::config::Config;

/// Whether a mirror may be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    Usable,
    Cooling(Instant),
    Down,
}

/// What ranking needs to know about one mirror.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View {
    pub(crate) index: usize,
    pub(crate) primary: bool,
    pub(crate) standing: Standing,
    pub(crate) score: Option<f64>,
    pub(crate) reliability: f64,
    /// Unmeasured, or back from a cooldown/outage without a success since.
    pub(crate) explorable: bool,
}

/// One place in a ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ranked {
    pub(crate) index: usize,
    pub(crate) usable: bool,
}

/// Orders `views` best first. `rng` is given when this selection may explore.
pub(crate) fn rank(views: &[View], cfg: &Config, rng: Option<&mut SmallRng>) -> Vec<Ranked> {
    let bonus = |v: &View| {
        if v.primary {
            1.0 + cfg.primary_bonus
        } else {
            1.0
        }
    };
    let slow_below = cfg.slow_below as f64;
    let (mut fast, mut unmeasured, mut slow, mut degraded) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for v in views {
        match (v.standing, v.score) {
            (Standing::Usable, Some(s)) if s * bonus(v) >= slow_below => {
                fast.push((s * bonus(v), v));
            }
            (Standing::Usable, Some(s)) => slow.push((s * bonus(v), v)),
            (Standing::Usable, None) => unmeasured.push((v.reliability * bonus(v), v)),
            _ => degraded.push(v),
        }
    }
    for tier in [&mut fast, &mut unmeasured, &mut slow] {
        tier.sort_by(|(a, va), (b, vb)| b.total_cmp(a).then_with(|| by_role_then_index(va, vb)));
    }
    let mut usable: Vec<&View> = fast
        .into_iter()
        .chain(unmeasured)
        .chain(slow)
        .map(|(_, v)| v)
        .collect();
    if let Some(rng) = rng {
        explore(&mut usable, cfg.exploration, rng);
    }
    degraded.sort_by(|a, b| {
        let key = |v: &View| match v.standing {
            Standing::Cooling(until) => (0, Some(until)),
            _ => (1, None),
        };
        key(a).cmp(&key(b)).then_with(|| by_role_then_index(a, b))
    });
    usable
        .into_iter()
        .map(|v| Ranked {
            index: v.index,
            usable: true,
        })
        .chain(degraded.into_iter().map(|v| Ranked {
            index: v.index,
            usable: false,
        }))
        .collect()
}

/// With probability `p`, moves one explorable mirror (uniformly chosen) to the front,
/// when the front is a measured mirror. Draws nothing when there is nothing to explore,
/// so seeded sequences depend only on the selections that could explore.
fn explore(usable: &mut Vec<&View>, p: f64, rng: &mut SmallRng) {
    if p <= 0.0 || usable.first().is_none_or(|v| v.score.is_none()) {
        return;
    }
    let pool: Vec<usize> = (1..usable.len())
        .filter(|&i| usable[i].explorable)
        .collect();
    if pool.is_empty() || !rng.random_bool(p) {
        return;
    }
    let pick = pool[rng.random_range(0..pool.len())];
    let v = usable.remove(pick);
    usable.insert(0, v);
}

fn by_role_then_index(a: &View, b: &View) -> Ordering {
    b.primary.cmp(&a.primary).then(a.index.cmp(&b.index))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn view(index: usize, primary: bool, score: Option<f64>) -> View {
        View {
            index,
            primary,
            standing: Standing::Usable,
            score,
            reliability: 1.0,
            explorable: score.is_none(),
        }
    }

    fn order(views: &[View], cfg: &Config) -> Vec<usize> {
        rank(views, cfg, None).iter().map(|r| r.index).collect()
    }

    const K: f64 = 1024.0;

    #[test]
    fn tiers_and_primary_bonus() {
        let cfg = Config::default();
        let views = [
            view(0, false, Some(5.0 * K)),    // slow
            view(1, false, None),             // unmeasured
            view(2, false, Some(1000.0 * K)), // fast
            view(3, true, Some(900.0 * K)),   // primary within 25 %: first
            view(4, true, None),              // unmeasured primary before unmeasured fallback
            view(5, false, Some(2000.0 * K)), // clearly faster than everything
        ];
        assert_eq!(order(&views, &cfg), [5, 3, 2, 4, 1, 0]);
        let cfg = Config {
            primary_bonus: 0.0,
            ..Config::default()
        };
        assert_eq!(order(&views, &cfg), [5, 2, 3, 4, 1, 0]);
        // Exact tie without a bonus: the primary, then the first added.
        let ties = [
            view(0, false, Some(K * K)),
            view(1, true, Some(K * K)),
            view(2, false, Some(K * K)),
        ];
        assert_eq!(order(&ties, &cfg), [1, 0, 2]);
    }

    #[test]
    fn failing_unmeasured_mirrors_sink() {
        let cfg = Config::default();
        let mut views = [view(0, true, None), view(1, false, None)];
        views[0].reliability = 0.7;
        assert_eq!(order(&views, &cfg), [1, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn degraded_last_by_readiness() {
        let cfg = Config::default();
        let now = Instant::now();
        let mut views = [
            view(0, true, Some(K * K)),
            view(1, false, None),
            view(2, false, None),
            view(3, false, None),
        ];
        views[0].standing = Standing::Down;
        views[1].standing = Standing::Cooling(now + std::time::Duration::from_secs(9));
        views[2].standing = Standing::Cooling(now + std::time::Duration::from_secs(3));
        let ranked = rank(&views, &cfg, None);
        let got: Vec<_> = ranked.iter().map(|r| (r.index, r.usable)).collect();
        assert_eq!(got, [(3, true), (2, false), (1, false), (0, false)]);
    }

    #[test]
    fn exploration_is_occasional_and_seeded() {
        let cfg = Config {
            exploration: 0.25,
            ..Config::default()
        };
        let views = [
            view(0, true, Some(K * K)),
            view(1, false, None),
            view(2, false, None),
        ];
        let run = |seed| {
            let mut rng = SmallRng::seed_from_u64(seed);
            (0..400)
                .map(|_| rank(&views, &cfg, Some(&mut rng))[0].index)
                .collect::<Vec<_>>()
        };
        let firsts = run(7);
        let count = |i| firsts.iter().filter(|&&f| f == i).count();
        assert!((200..400).contains(&count(0)), "{}", count(0));
        assert!(count(1) > 20 && count(2) > 20, "{} {}", count(1), count(2));
        assert_eq!(firsts, run(7), "same seed, same choices");
        // Nothing to explore when the front is unmeasured: the order is kept.
        let fresh = [view(0, true, None), view(1, false, None)];
        let mut rng = SmallRng::seed_from_u64(7);
        let cfg = Config {
            exploration: 1.0,
            ..Config::default()
        };
        assert!((0..50).all(|_| rank(&fresh, &cfg, Some(&mut rng))[0].index == 0));
    }
}
