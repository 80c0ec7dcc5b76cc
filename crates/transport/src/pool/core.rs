//! The engine both pool modes share: per-key connection lists, the per-key and total
//! limits, the FIFO queue of waiters, eviction, statistics and close. The front ends
//! ([`Pool`](super::Pool), [`MuxPool`](super::MuxPool)) only dial and wrap leases in
//! guards.
//!
//! A connection is an [`Entry`] that carries up to `capacity` leases at once: 1 for an
//! exclusive stream (the lease *is* the stream, moved out while checked out), many for a
//! multiplexed handle (each lease is a clone). The differences live in [`Flavor`].
//!
//! All state sits behind one `std::sync::Mutex`, held for short non-blocking sections and
//! never across an `.await`. Connections to close are collected in a [`Grave`] and dropped
//! after the lock is released (closing a socket is a syscall; nobody should wait on it).
//! Waiters are served by handing them a [`Grant`] through a oneshot channel *under the
//! lock*; a waiter that gives up also takes the lock, so a grant is either still in its
//! channel (and is given back) or was never sent. That is what makes cancellation lose
//! neither a connection nor a slot.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::config::PoolConfig;
use super::key::{KeyHasher, PoolKey};
use super::reaper::Reaper;
use super::stats::{Counters, KeyCounts, Pair, PoolStats, Stat};
use crate::error::{Error, Result};

/// What differs between exclusive and multiplexed pooling.
pub(crate) trait Flavor: Send + Sync + 'static {
    /// What an entry holds.
    type Conn: Send + 'static;
    /// What a user holds while checked out.
    type Lease: Send + 'static;
    /// Pick the most recently used connection with room (`true`: a socket that was just
    /// in use is the least likely to have been closed by the server) or the oldest
    /// (`false`: pack users onto few multiplexed connections).
    const NEWEST_FIRST: bool;

    /// Most leases `conn` carries at once.
    fn capacity(&self, conn: &Self::Conn) -> usize;
    /// The capacity a connection being dialed will probably have: how many queued callers
    /// one dial in flight will serve.
    fn expected_capacity(&self) -> usize;
    /// Whether `conn` can take another lease (`active` are out now); `false` evicts it.
    /// Runs under the pool's lock: must not block.
    fn is_usable(&self, conn: &mut Self::Conn, active: usize) -> bool;
    /// Takes a lease; `None` if the connection cannot give one (it is then evicted).
    fn lease(&self, conn: &mut Self::Conn) -> Option<Self::Lease>;
    /// Returns a lease taken by [`Flavor::lease`].
    fn unlease(&self, conn: &mut Self::Conn, lease: Self::Lease);
}

/// The shared state of one pool.
pub(crate) struct Core<F: Flavor> {
    config: PoolConfig,
    flavor: F,
    /// Totals, readable without the lock.
    totals: Counters,
    state: Mutex<State<F>>,
    pub(super) reaper: Reaper,
}

struct State<F: Flavor> {
    keys: HashMap<PoolKey, KeyState<F>, BuildHasherDefault<KeyHasher>>,
    next_id: u64,
    closed: bool,
}

struct KeyState<F: Flavor> {
    /// Open connections, oldest first.
    entries: Vec<Entry<F::Conn>>,
    /// Dials in flight.
    connecting: usize,
    /// Callers queued, first come first served.
    waiters: VecDeque<Waiter<F::Lease>>,
    counts: KeyCounts,
    /// Last checkout, return or dial; a key with nothing open is forgotten one idle
    /// timeout after this.
    touched: Instant,
}

struct Entry<C> {
    id: u64,
    conn: C,
    /// Leases out now.
    active: usize,
    /// When `active` last dropped to 0 (or the entry was created).
    idle_since: Instant,
}

struct Waiter<L> {
    /// Also the arrival order across keys.
    id: u64,
    /// Wants a new connection, not a reused one.
    fresh: bool,
    tx: oneshot::Sender<Grant<L>>,
}

/// What a queued caller is handed.
pub(crate) enum Grant<L> {
    /// A lease on entry `id`.
    Lease { id: u64, lease: L },
    /// A reserved slot: dial a new connection.
    Dial,
}

#[derive(Clone, Copy)]
enum Removal {
    /// Closed by the pool: idle too long, dead, or making room. Counted as evicted.
    Evicted,
    /// Its user marked it not reusable. Counted as discarded.
    Discarded,
    /// The pool was closed. Not counted.
    Closed,
}

/// Connections and leases to drop once the lock is released.
pub(crate) struct Grave<F: Flavor> {
    conns: Vec<F::Conn>,
    leases: Vec<F::Lease>,
}

impl<F: Flavor> Default for Grave<F> {
    fn default() -> Self {
        Self {
            conns: Vec::new(),
            leases: Vec::new(),
        }
    }
}

impl<F: Flavor> Grave<F> {
    fn is_empty(&self) -> bool {
        self.conns.is_empty() && self.leases.is_empty()
    }
}

/// What every state operation needs besides the state: config, flavor, totals and one
/// reading of the clock.
struct Env<'a, F> {
    cfg: &'a PoolConfig,
    flavor: &'a F,
    totals: &'a Counters,
    now: Instant,
}

impl<F> Env<'_, F> {
    fn expired(&self, since: Instant) -> bool {
        self.now.saturating_duration_since(since) >= self.cfg.idle_timeout
    }

    fn pair<'b>(&'b self, key: &'b mut KeyCounts) -> Pair<'b> {
        Pair {
            key,
            total: self.totals,
        }
    }
}

/// The result of [`Core::checkout`].
pub(crate) enum Checkout<F: Flavor> {
    /// A lease on an existing connection.
    Leased(Leased<F>),
    /// No connection was free but there is room: the caller dials.
    Dial(DialPermit<F>),
}

/// A lease and the ticket that gives it back.
pub(crate) struct Leased<F: Flavor> {
    pub(crate) ticket: Ticket<F>,
    pub(crate) lease: F::Lease,
    /// The connection existed before this checkout.
    pub(crate) reused: bool,
}

/// Identifies a checked-out lease so it can be given back.
pub(crate) struct Ticket<F: Flavor> {
    core: Arc<Core<F>>,
    key: PoolKey,
    id: u64,
}

impl<F: Flavor> Ticket<F> {
    pub(crate) fn key(&self) -> &PoolKey {
        &self.key
    }

    /// Gives the lease back. With `reusable == false`, or no lease (the user took the
    /// connection out), the connection leaves the pool and its slot is freed.
    pub(crate) fn release(&self, lease: Option<F::Lease>, reusable: bool) {
        let mut grave = Grave::default();
        let env = self.core.env();
        let mut st = self.core.lock();
        st.release(&env, &self.key, self.id, lease, reusable, &mut grave);
        drop(st);
    }
}

/// A reserved slot for one new connection. Dropped without [`DialPermit::complete`]
/// (dial failed, timed out or was cancelled), it frees the slot for the next waiter.
pub(crate) struct DialPermit<F: Flavor> {
    core: Arc<Core<F>>,
    key: PoolKey,
    armed: bool,
}

impl<F: Flavor> DialPermit<F> {
    /// Adds the new connection to the pool with one lease out (`lease`) and returns it.
    /// Fails with [`Error::PoolClosed`] (closing the connection) if the pool was closed
    /// meanwhile.
    pub(crate) fn complete(mut self, conn: F::Conn, lease: F::Lease) -> Result<Leased<F>> {
        self.armed = false;
        let mut grave = Grave::default();
        let env = self.core.env();
        let mut st = self.core.lock();
        let done = st.dial_done(&env, &self.key, conn, lease, &mut grave);
        drop(st);
        let (id, lease) = done?;
        Ok(Leased {
            ticket: Ticket {
                core: Arc::clone(&self.core),
                key: self.key.clone(),
                id,
            },
            lease,
            reused: false,
        })
    }
}

impl<F: Flavor> Drop for DialPermit<F> {
    fn drop(&mut self) {
        if self.armed {
            let mut grave = Grave::default();
            let env = self.core.env();
            let mut st = self.core.lock();
            st.dial_failed(&env, &self.key, &mut grave);
            drop(st);
        }
    }
}

/// A queued caller. Dropped before its grant was taken (timeout, cancellation), it leaves
/// the queue, or gives back a grant that arrived meanwhile.
struct Waiting<'a, F: Flavor> {
    core: &'a Core<F>,
    key: &'a PoolKey,
    id: u64,
    rx: oneshot::Receiver<Grant<F::Lease>>,
    done: bool,
}

impl<F: Flavor> Drop for Waiting<'_, F> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut grave = Grave::default();
        let env = self.core.env();
        let mut st = self.core.lock();
        // Grants are sent under this lock: either one is in the channel now, or we are
        // still queued. Nothing can arrive after this check.
        match self.rx.try_recv() {
            Ok(grant) => st.take_back(&env, self.key, grant, &mut grave),
            Err(_) => st.remove_waiter(&env, self.key, self.id, &mut grave),
        }
        drop(st);
    }
}

impl<F: Flavor> Core<F> {
    /// A pool core; `config` must already be validated.
    pub(crate) fn new(config: PoolConfig, flavor: F) -> Arc<Self> {
        Arc::new(Self {
            config,
            flavor,
            totals: Counters::default(),
            state: Mutex::new(State {
                keys: HashMap::default(),
                next_id: 0,
                closed: false,
            }),
            reaper: Reaper::default(),
        })
    }

    pub(crate) fn config(&self) -> &PoolConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State<F>> {
        // A panic in user code under the lock (a probe, `is_closed`) leaves the state
        // consistent enough to go on: every mutation is completed before such calls.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn env(&self) -> Env<'_, F> {
        Env {
            cfg: &self.config,
            flavor: &self.flavor,
            totals: &self.totals,
            now: Instant::now(),
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.totals.snapshot()
    }

    pub(crate) fn key_stats(&self, key: &PoolKey) -> Option<PoolStats> {
        self.lock().keys.get(key).map(|k| k.counts.snapshot())
    }

    pub(crate) fn stats_by_key(&self) -> Vec<(PoolKey, PoolStats)> {
        let st = self.lock();
        let mut all: Vec<_> = st
            .keys
            .iter()
            .map(|(k, ks)| (k.clone(), ks.counts.snapshot()))
            .collect();
        drop(st);
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Closes the pool: queued callers fail with [`Error::PoolClosed`], idle connections
    /// are closed now, checked-out ones when they come back; later checkouts fail.
    pub(crate) fn close(&self) {
        self.reaper.stop();
        let mut grave = Grave::default();
        let env = self.env();
        let mut st = self.lock();
        st.close(&env, &mut grave);
        drop(st);
    }

    /// One pass of the reaper: closes idle-expired and dead connections.
    pub(crate) fn reap(&self) {
        let mut grave = Grave::default();
        let env = self.env();
        let mut st = self.lock();
        st.reap(&env, &mut grave);
        drop(st);
    }

    /// A lease on a usable connection of `key`, or a permit to dial one; queues (FIFO)
    /// when a limit is reached, for at most the wait timeout. With `fresh`, existing
    /// connections are not reused (an idle one of the key is closed to make room).
    pub(crate) async fn checkout(
        self: &Arc<Self>,
        key: &PoolKey,
        fresh: bool,
    ) -> Result<Checkout<F>> {
        self.start_reaper();
        let (id, rx) = {
            let mut grave = Grave::default();
            let env = self.env();
            let mut st = self.lock();
            if st.closed {
                return Err(Error::PoolClosed);
            }
            st.ensure_key(key, env.now);
            // Newcomers go behind queued callers: the queue is served in arrival order.
            if st.keys.get(key).is_some_and(|ks| ks.waiters.is_empty()) {
                if !fresh && let Some((id, lease)) = st.try_lease(&env, key, &mut grave) {
                    st.count_reuse(&env, key);
                    drop(st);
                    return Ok(Checkout::Leased(self.leased(key, id, lease)));
                }
                if st.wants_dial(&env, key, 1) && st.try_reserve(&env, key, fresh, &mut grave) {
                    drop(st);
                    return Ok(Checkout::Dial(self.permit(key)));
                }
            }
            let (tx, rx) = oneshot::channel();
            let id = st.next_id();
            st.enqueue(&env, key, Waiter { id, fresh, tx });
            st.dispatch(&env, key, &mut grave);
            if !grave.is_empty() {
                // Evictions above freed room that callers of other keys may be queued for.
                st.dispatch_blocked(&env, &mut grave);
            }
            drop(st);
            (id, rx)
        };

        let mut waiting = Waiting {
            core: self,
            key,
            id,
            rx,
            done: false,
        };
        let limit = self.config.wait_timeout;
        let grant = match ghostnet_runtime::timeout(limit, &mut waiting.rx).await {
            Ok(Ok(grant)) => grant,
            // Only `close` drops a queued caller's sender.
            Ok(Err(_)) => {
                waiting.done = true;
                return Err(Error::PoolClosed);
            }
            // `waiting` is dropped on return: it leaves the queue or gives back a grant.
            Err(_) => {
                return Err(Error::PoolTimeout {
                    key: key.to_string(),
                    after: limit,
                });
            }
        };
        waiting.done = true;
        Ok(match grant {
            Grant::Lease { id, lease } => {
                // Counted on receipt, not when sent: a waiter that gave up meanwhile
                // handed it back unused.
                let env = self.env();
                self.lock().count_reuse(&env, key);
                Checkout::Leased(self.leased(key, id, lease))
            }
            Grant::Dial => Checkout::Dial(self.permit(key)),
        })
    }

    fn leased(self: &Arc<Self>, key: &PoolKey, id: u64, lease: F::Lease) -> Leased<F> {
        Leased {
            ticket: Ticket {
                core: Arc::clone(self),
                key: key.clone(),
                id,
            },
            lease,
            reused: true,
        }
    }

    fn permit(self: &Arc<Self>, key: &PoolKey) -> DialPermit<F> {
        DialPermit {
            core: Arc::clone(self),
            key: key.clone(),
            armed: true,
        }
    }
}

impl<F: Flavor> KeyState<F> {
    fn new(now: Instant) -> Self {
        Self {
            entries: Vec::new(),
            connecting: 0,
            waiters: VecDeque::new(),
            counts: KeyCounts::default(),
            touched: now,
        }
    }

    /// Connections counted against the per-key limit.
    fn open(&self) -> usize {
        self.entries.len() + self.connecting
    }

    /// The entry with room to lease next, per [`Flavor::NEWEST_FIRST`].
    fn pick(&self, flavor: &F) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, e) in self.entries.iter().enumerate() {
            if e.active >= flavor.capacity(&e.conn) {
                continue;
            }
            if !F::NEWEST_FIRST {
                return Some(i);
            }
            if best.is_none_or(|b| e.idle_since >= self.entries[b].idle_since) {
                best = Some(i);
            }
        }
        best
    }

    /// The idle entry unused for longest.
    fn oldest_idle(&self) -> Option<usize> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.active == 0)
            .min_by_key(|(_, e)| e.idle_since)
            .map(|(i, _)| i)
    }

    /// Takes entry `i` out of the pool; its connection goes to `grave`.
    fn remove(&mut self, env: &Env<'_, F>, i: usize, why: Removal, grave: &mut Grave<F>) {
        let e = self.entries.remove(i);
        let mut c = env.pair(&mut self.counts);
        c.dec(if e.active == 0 {
            Stat::Idle
        } else {
            Stat::InUse
        });
        match why {
            Removal::Evicted => c.inc(Stat::Evicted),
            Removal::Discarded => c.inc(Stat::Discarded),
            Removal::Closed => {}
        }
        grave.conns.push(e.conn);
    }
}

impl<F: Flavor> State<F> {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds `key` if it is new. (Looked up first: cloning the key on every checkout, as
    /// `entry` needs, costs two atomic operations.)
    fn ensure_key(&mut self, key: &PoolKey, now: Instant) {
        if !self.keys.contains_key(key) {
            self.keys.insert(key.clone(), KeyState::new(now));
        }
    }

    fn enqueue(&mut self, env: &Env<'_, F>, key: &PoolKey, w: Waiter<F::Lease>) {
        let ks = self
            .keys
            .entry(key.clone())
            .or_insert_with(|| KeyState::new(env.now));
        env.pair(&mut ks.counts).inc(Stat::Waiting);
        ks.waiters.push_back(w);
    }

    fn count_reuse(&mut self, env: &Env<'_, F>, key: &PoolKey) {
        match self.keys.get_mut(key) {
            Some(ks) => env.pair(&mut ks.counts).inc(Stat::Reused),
            None => env.totals.inc(Stat::Reused),
        }
    }

    /// Leases a usable connection of `key` with room, closing dead or expired idle ones
    /// met on the way.
    fn try_lease(
        &mut self,
        env: &Env<'_, F>,
        key: &PoolKey,
        grave: &mut Grave<F>,
    ) -> Option<(u64, F::Lease)> {
        let ks = self.keys.get_mut(key)?;
        loop {
            let i = ks.pick(env.flavor)?;
            let e = &mut ks.entries[i];
            let expired = e.active == 0 && env.expired(e.idle_since);
            if expired || !env.flavor.is_usable(&mut e.conn, e.active) {
                ks.remove(env, i, Removal::Evicted, grave);
                continue;
            }
            let Some(lease) = env.flavor.lease(&mut e.conn) else {
                ks.remove(env, i, Removal::Evicted, grave);
                continue;
            };
            e.active += 1;
            let (id, was_idle) = (e.id, e.active == 1);
            ks.touched = env.now;
            let mut c = env.pair(&mut ks.counts);
            c.inc(Stat::Leases);
            if was_idle {
                c.dec(Stat::Idle);
                c.inc(Stat::InUse);
            }
            return Some((id, lease));
        }
    }

    /// Whether `demand` callers need another dial, beyond what dials in flight will
    /// serve (a multiplexed connection being dialed serves many).
    fn wants_dial(&self, env: &Env<'_, F>, key: &PoolKey, demand: usize) -> bool {
        let Some(ks) = self.keys.get(key) else {
            return false;
        };
        let others_per_dial = env.flavor.expected_capacity().saturating_sub(1);
        demand > ks.connecting.saturating_mul(others_per_dial)
    }

    /// Reserves a slot to dial for `key` if the per-key and total limits allow, closing
    /// an idle connection to make room where that helps: one of `key` itself for a
    /// `fresh` caller, the least recently used of any key at the total limit.
    fn try_reserve(
        &mut self,
        env: &Env<'_, F>,
        key: &PoolKey,
        fresh: bool,
        grave: &mut Grave<F>,
    ) -> bool {
        let Some(ks) = self.keys.get_mut(key) else {
            return false;
        };
        if ks.open() >= env.cfg.max_per_host {
            match ks.oldest_idle() {
                Some(i) if fresh => ks.remove(env, i, Removal::Evicted, grave),
                _ => return false,
            }
        }
        if env.totals.open() >= env.cfg.max_total && !self.evict_lru(env, grave) {
            return false;
        }
        let Some(ks) = self.keys.get_mut(key) else {
            return false;
        };
        ks.connecting += 1;
        env.pair(&mut ks.counts).inc(Stat::Connecting);
        true
    }

    /// Closes the idle connection (of any key) unused for longest.
    fn evict_lru(&mut self, env: &Env<'_, F>, grave: &mut Grave<F>) -> bool {
        let victim = self
            .keys
            .iter()
            .filter_map(|(k, ks)| ks.oldest_idle().map(|i| (ks.entries[i].idle_since, k, i)))
            .min_by_key(|(since, _, _)| *since)
            .map(|(_, k, i)| (k.clone(), i));
        let Some((k, i)) = victim else {
            return false;
        };
        if let Some(ks) = self.keys.get_mut(&k) {
            ks.remove(env, i, Removal::Evicted, grave);
        }
        true
    }

    /// Serves the queue of `key` from the front for as long as there is something to
    /// hand out: a lease, or a slot to dial.
    fn dispatch(&mut self, env: &Env<'_, F>, key: &PoolKey, grave: &mut Grave<F>) {
        loop {
            let Some(ks) = self.keys.get(key) else {
                return;
            };
            let Some(front) = ks.waiters.front() else {
                return;
            };
            let (fresh, demand) = (front.fresh, ks.waiters.len());
            let lease = if fresh {
                None
            } else {
                self.try_lease(env, key, grave)
            };
            let grant = match lease {
                Some((id, lease)) => Grant::Lease { id, lease },
                None if self.wants_dial(env, key, demand)
                    && self.try_reserve(env, key, fresh, grave) =>
                {
                    Grant::Dial
                }
                None => return,
            };
            self.deliver(env, key, grant, grave);
        }
    }

    /// Hands `grant` to the first waiter of `key`.
    fn deliver(
        &mut self,
        env: &Env<'_, F>,
        key: &PoolKey,
        grant: Grant<F::Lease>,
        grave: &mut Grave<F>,
    ) {
        let waiter = self.keys.get_mut(key).and_then(|ks| {
            let w = ks.waiters.pop_front()?;
            env.pair(&mut ks.counts).dec(Stat::Waiting);
            Some(w)
        });
        let undelivered = match waiter {
            Some(w) => w.tx.send(grant).err(),
            None => Some(grant),
        };
        // A waiter leaves the queue (under the lock) before dropping its receiver, so this
        // does not happen; if it did, the grant must not be lost.
        if let Some(grant) = undelivered {
            self.take_back(env, key, grant, grave);
        }
    }

    /// Serves callers queued only because of the total limit (their key has room), oldest
    /// first, after room appeared anywhere in the pool.
    fn dispatch_blocked(&mut self, env: &Env<'_, F>, grave: &mut Grave<F>) {
        loop {
            let before = env.totals.get(Stat::Waiting);
            if before == 0 {
                return;
            }
            let mut heads: Vec<(u64, PoolKey)> = self
                .keys
                .iter()
                .filter(|(_, ks)| ks.open() < env.cfg.max_per_host)
                .filter_map(|(k, ks)| ks.waiters.front().map(|w| (w.id, k.clone())))
                .collect();
            heads.sort_unstable_by_key(|(id, _)| *id);
            let progressed = heads.iter().any(|(_, k)| {
                self.dispatch(env, k, grave);
                env.totals.get(Stat::Waiting) != before
            });
            if !progressed {
                return;
            }
        }
    }

    /// Undoes a grant nobody picked up.
    fn take_back(
        &mut self,
        env: &Env<'_, F>,
        key: &PoolKey,
        grant: Grant<F::Lease>,
        grave: &mut Grave<F>,
    ) {
        match grant {
            Grant::Lease { id, lease } => self.release(env, key, id, Some(lease), true, grave),
            Grant::Dial => self.dial_failed(env, key, grave),
        }
    }

    fn remove_waiter(&mut self, env: &Env<'_, F>, key: &PoolKey, id: u64, grave: &mut Grave<F>) {
        let Some(ks) = self.keys.get_mut(key) else {
            return;
        };
        let Some(i) = ks.waiters.iter().position(|w| w.id == id) else {
            return;
        };
        ks.waiters.remove(i);
        env.pair(&mut ks.counts).dec(Stat::Waiting);
        if i == 0 {
            // A fresh waiter at the front can block ones behind it that could reuse.
            self.dispatch(env, key, grave);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn release(
        &mut self,
        env: &Env<'_, F>,
        key: &PoolKey,
        id: u64,
        lease: Option<F::Lease>,
        reusable: bool,
        grave: &mut Grave<F>,
    ) {
        let closed = self.closed;
        let Some(ks) = self.keys.get_mut(key) else {
            // Evicted and forgotten meanwhile (a multiplexed connection found closed).
            env.totals.dec(Stat::Leases);
            grave.leases.extend(lease);
            return;
        };
        env.pair(&mut ks.counts).dec(Stat::Leases);
        let Some(i) = ks.entries.iter().position(|e| e.id == id) else {
            // The connection was already evicted (a multiplexed one found closed).
            grave.leases.extend(lease);
            return;
        };
        ks.touched = env.now;
        match lease {
            Some(lease) if reusable && !closed => {
                let e = &mut ks.entries[i];
                env.flavor.unlease(&mut e.conn, lease);
                e.active -= 1;
                if e.active == 0 {
                    e.idle_since = env.now;
                    let mut c = env.pair(&mut ks.counts);
                    c.dec(Stat::InUse);
                    c.inc(Stat::Idle);
                    // Closed by the peer during use, or unread bytes left: do not keep it.
                    if !env.flavor.is_usable(&mut e.conn, 0) {
                        ks.remove(env, i, Removal::Evicted, grave);
                    }
                }
            }
            lease => {
                grave.leases.extend(lease);
                let why = if closed {
                    Removal::Closed
                } else {
                    Removal::Discarded
                };
                ks.remove(env, i, why, grave);
            }
        }
        self.dispatch(env, key, grave);
        self.dispatch_blocked(env, grave);
    }

    fn dial_failed(&mut self, env: &Env<'_, F>, key: &PoolKey, grave: &mut Grave<F>) {
        if let Some(ks) = self.keys.get_mut(key) {
            ks.connecting -= 1;
            env.pair(&mut ks.counts).dec(Stat::Connecting);
        }
        self.dispatch(env, key, grave);
        self.dispatch_blocked(env, grave);
    }

    fn dial_done(
        &mut self,
        env: &Env<'_, F>,
        key: &PoolKey,
        conn: F::Conn,
        lease: F::Lease,
        grave: &mut Grave<F>,
    ) -> Result<(u64, F::Lease)> {
        let id = self.next_id();
        let closed = self.closed;
        let Some(ks) = self.keys.get_mut(key) else {
            grave.conns.push(conn);
            grave.leases.push(lease);
            return Err(Error::PoolClosed);
        };
        ks.connecting -= 1;
        let mut c = env.pair(&mut ks.counts);
        c.dec(Stat::Connecting);
        if closed {
            grave.conns.push(conn);
            grave.leases.push(lease);
            return Err(Error::PoolClosed);
        }
        ks.entries.push(Entry {
            id,
            conn,
            active: 1,
            idle_since: env.now,
        });
        ks.touched = env.now;
        c.inc(Stat::Created);
        c.inc(Stat::InUse);
        c.inc(Stat::Leases);
        // A multiplexed connection has room for the callers that queued behind this dial.
        self.dispatch(env, key, grave);
        Ok((id, lease))
    }

    fn reap(&mut self, env: &Env<'_, F>, grave: &mut Grave<F>) {
        let mut wake = Vec::new();
        for (k, ks) in &mut self.keys {
            let mut removed = false;
            let mut i = 0;
            while i < ks.entries.len() {
                let e = &mut ks.entries[i];
                let expired = e.active == 0 && env.expired(e.idle_since);
                if expired || !env.flavor.is_usable(&mut e.conn, e.active) {
                    ks.remove(env, i, Removal::Evicted, grave);
                    removed = true;
                } else {
                    i += 1;
                }
            }
            if removed && !ks.waiters.is_empty() {
                wake.push(k.clone());
            }
        }
        // Forget keys with nothing open or queued for an idle timeout (their counters go).
        self.keys
            .retain(|_, ks| ks.open() > 0 || !ks.waiters.is_empty() || !env.expired(ks.touched));
        for k in &wake {
            self.dispatch(env, k, grave);
        }
        self.dispatch_blocked(env, grave);
    }

    fn close(&mut self, env: &Env<'_, F>, grave: &mut Grave<F>) {
        self.closed = true;
        for ks in self.keys.values_mut() {
            let mut i = 0;
            while i < ks.entries.len() {
                if ks.entries[i].active == 0 {
                    ks.remove(env, i, Removal::Closed, grave);
                } else {
                    i += 1;
                }
            }
            // Dropping a sender wakes its waiter with "closed".
            for _ in ks.waiters.drain(..) {
                env.pair(&mut ks.counts).dec(Stat::Waiting);
            }
        }
    }
}
