//! [`PoolStats`], and the atomic counters behind them (readable without taking the
//! pool's lock).

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a pool's counters, for the whole pool or one key.
///
/// Counters (`created`, `reused`, `evicted`, `discarded`) only grow; gauges (`in_use`,
/// `idle`, `connecting`, `waiting`, `leases`) say what is true now. Totals are read
/// without any lock, so a snapshot taken while other tasks use the pool may mix values
/// from just before and just after one operation.
///
/// ```
/// use ghostnet_transport::pool::PoolStats;
///
/// let s = PoolStats::default();
/// assert_eq!(s.open(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections opened (dialed, and established for a `MuxPool`).
    pub created: u64,
    /// Checkouts served by a connection that already existed.
    pub reused: u64,
    /// Connections the pool closed without a user asking: idle too long, closed by the
    /// peer, carrying unsolicited bytes, or pushed out to make room.
    pub evicted: u64,
    /// Connections that left the pool after use because their user marked them not
    /// reusable (`discard`, a protocol error) or took them out (`into_inner`).
    pub discarded: u64,
    /// Connections with at least one user now.
    pub in_use: usize,
    /// Connections with no user now, kept for reuse.
    pub idle: usize,
    /// Connections being dialed now.
    pub connecting: usize,
    /// Callers queued for a connection now.
    pub waiting: usize,
    /// Checkouts held now: equal to `in_use` for a [`Pool`](super::Pool), the number of
    /// concurrent users (streams) for a [`MuxPool`](super::MuxPool).
    pub leases: usize,
}

impl PoolStats {
    /// Connections counted against the limits: in use, idle, and being dialed.
    pub fn open(&self) -> usize {
        self.in_use + self.idle + self.connecting
    }
}

/// One counter or gauge of [`Counters`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stat {
    Created,
    Reused,
    Evicted,
    Discarded,
    InUse,
    Idle,
    Connecting,
    Waiting,
    Leases,
}

const STATS: usize = 9;

/// The pool's totals: atomic, changed under the pool's lock (so they agree with its
/// state) and read without it.
#[derive(Debug, Default)]
pub(crate) struct Counters([AtomicU64; STATS]);

impl Counters {
    pub(crate) fn inc(&self, s: Stat) {
        self.0[s as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dec(&self, s: Stat) {
        self.0[s as usize].fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self, s: Stat) -> u64 {
        self.0[s as usize].load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> PoolStats {
        snapshot(|s| self.get(s))
    }

    /// Connections open (idle, in use, being dialed).
    pub(crate) fn open(&self) -> usize {
        gauge(self.get(Stat::Idle) + self.get(Stat::InUse) + self.get(Stat::Connecting))
    }
}

/// One key's counters: plain integers, read and written under the pool's lock.
#[derive(Debug, Default, Clone)]
pub(crate) struct KeyCounts([u64; STATS]);

impl KeyCounts {
    pub(crate) fn snapshot(&self) -> PoolStats {
        snapshot(|s| self.0[s as usize])
    }
}

fn gauge(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn snapshot(get: impl Fn(Stat) -> u64) -> PoolStats {
    PoolStats {
        created: get(Stat::Created),
        reused: get(Stat::Reused),
        evicted: get(Stat::Evicted),
        discarded: get(Stat::Discarded),
        in_use: gauge(get(Stat::InUse)),
        idle: gauge(get(Stat::Idle)),
        connecting: gauge(get(Stat::Connecting)),
        waiting: gauge(get(Stat::Waiting)),
        leases: gauge(get(Stat::Leases)),
    }
}

/// A key's counts and the pool's totals, changed together.
pub(crate) struct Pair<'a> {
    pub(crate) key: &'a mut KeyCounts,
    pub(crate) total: &'a Counters,
}

impl Pair<'_> {
    pub(crate) fn inc(&mut self, s: Stat) {
        self.key.0[s as usize] += 1;
        self.total.inc(s);
    }

    pub(crate) fn dec(&mut self, s: Stat) {
        let k = &mut self.key.0[s as usize];
        *k = k.saturating_sub(1);
        self.total.dec(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_moves_key_and_total_together() {
        let (mut k, t) = (KeyCounts::default(), Counters::default());
        let mut p = Pair {
            key: &mut k,
            total: &t,
        };
        p.inc(Stat::Created);
        p.inc(Stat::Idle);
        p.inc(Stat::Connecting);
        p.dec(Stat::Connecting);
        assert_eq!(k.snapshot(), t.snapshot());
        let s = t.snapshot();
        assert_eq!((s.created, s.idle, s.connecting, s.open()), (1, 1, 0, 1));
        assert_eq!(t.open(), 1);
    }
}
