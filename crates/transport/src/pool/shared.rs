//! [`Shared`]: one user's share of a multiplexed connection.

use std::fmt;
use std::ops::Deref;

use super::core::Ticket;
use super::key::PoolKey;
use super::multiplexed::{Multiplex, Multiplexed};

/// One stream's share of a connection from a [`MuxPool`](super::MuxPool): derefs to the
/// handle (e.g. h2's `SendRequest`) and holds one of the connection's stream slots until
/// dropped. Keep it for as long as the stream runs (until the response body is read).
///
/// If the connection misbehaves (a protocol error, a GOAWAY the handle does not report),
/// call [`mark_broken`](Shared::mark_broken): no new stream will be put on it, and the
/// next caller gets a new connection.
pub struct Shared<H: Multiplexed> {
    handle: H,
    ticket: Ticket<Multiplex<H>>,
    reused: bool,
    broken: bool,
}

impl<H: Multiplexed> Shared<H> {
    pub(crate) fn new(ticket: Ticket<Multiplex<H>>, handle: H, reused: bool) -> Self {
        Self {
            handle,
            ticket,
            reused,
            broken: false,
        }
    }

    /// Whether the connection existed before this checkout (it was not opened for this
    /// stream). A stream refused on a reused connection can be retried on another.
    pub fn is_reused(&self) -> bool {
        self.reused
    }

    /// Takes the connection out of the pool when this share drops: no new streams go to
    /// it (those running keep their handles). Counted as discarded.
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// The key this share was checked out for.
    pub fn key(&self) -> &PoolKey {
        self.ticket.key()
    }
}

impl<H: Multiplexed> Deref for Shared<H> {
    type Target = H;

    fn deref(&self) -> &H {
        &self.handle
    }
}

impl<H: Multiplexed> Drop for Shared<H> {
    fn drop(&mut self) {
        self.ticket.release(Some(self.handle.clone()), !self.broken);
    }
}

impl<H: Multiplexed> fmt::Debug for Shared<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("key", self.key())
            .field("reused", &self.reused)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}
