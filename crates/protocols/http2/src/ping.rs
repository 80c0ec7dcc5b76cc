//! The connection's PINGs, which h2 lets only one of be out at a time, shared by two
//! users:
//!
//! - keepalive: a PING when the connection has been silent for an interval, and the
//!   connection closed when its ACK does not come back in time. Silence is judged from
//!   [`Activity`], which counts reads: any frame from the peer proves it alive, so a
//!   busy connection never pings for keepalive.
//! - the adaptive window: while the application takes body bytes, a PING now and then
//!   measures the round trip, and [`Bdp`] says from the bytes taken meanwhile whether
//!   the receive window should grow.
//!
//! Whichever sent the PING in flight, its ACK serves both.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use h2::{Ping, PingPong};
use tokio::time::{Instant, Sleep};

use crate::bdp::Bdp;
use crate::error::Error;
use crate::io::Activity;
use crate::settings::{MAX_WINDOW_SIZE, Settings};

/// What the connection must act on.
#[derive(Debug)]
pub(crate) enum PingEvent {
    /// A keepalive PING went unanswered: close the connection with this error.
    KeepaliveTimeout(Error),
    /// Raise the receive windows: every stream's to `stream`, the connection's to
    /// `connection`.
    GrowWindow { stream: u32, connection: u32 },
}

pub(crate) struct Pinger {
    ping_pong: PingPong,
    activity: Activity,
    in_flight: Option<InFlight>,
    keepalive: Option<Keepalive>,
    adaptive: Option<Adaptive>,
}

/// The PING now out.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    sent_at: Instant,
    body_bytes: u64,
}

struct Keepalive {
    interval: Duration,
    timeout: Duration,
    /// The read count when the current interval started.
    seen: u64,
    /// The PING in flight is being timed against `timeout`.
    awaiting_pong: bool,
    sleep: Pin<Box<Sleep>>,
}

struct Adaptive {
    bdp: Bdp,
    /// The connection window never drops below what the handshake advertised.
    initial_connection_window: u32,
    /// No sample before this.
    next_sample: Instant,
    /// The body byte count when last looked at: a PING goes out only once it moves.
    seen: u64,
}

impl Pinger {
    /// `None` when keepalive and the adaptive window are both disabled, or h2 has no
    /// PING handle to give.
    pub(crate) fn new(
        settings: &Settings,
        ping_pong: Option<PingPong>,
        activity: Activity,
    ) -> Option<Self> {
        let keepalive = settings.keepalive_interval.map(|interval| Keepalive {
            interval,
            timeout: settings.keepalive_timeout,
            seen: activity.reads(),
            awaiting_pong: false,
            sleep: Box::pin(tokio::time::sleep(interval)),
        });
        let adaptive = settings.adaptive_window.then(|| Adaptive {
            bdp: Bdp::new(
                settings.initial_stream_window_size,
                settings.max_adaptive_window,
            ),
            initial_connection_window: settings.initial_connection_window_size,
            next_sample: Instant::now(),
            seen: activity.body_bytes(),
        });
        if keepalive.is_none() && adaptive.is_none() {
            return None;
        }
        Some(Self {
            ping_pong: ping_pong?,
            activity,
            in_flight: None,
            keepalive,
            adaptive,
        })
    }

    /// `Ready` with what the connection must do; otherwise `Pending`, with the timers
    /// armed and the ACK awaited.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<PingEvent> {
        loop {
            if let Some(sent) = self.in_flight {
                match self.ping_pong.poll_pong(cx) {
                    Poll::Ready(Ok(_)) => {
                        self.in_flight = None;
                        if let Some(event) = self.ponged(sent) {
                            return Poll::Ready(event);
                        }
                        continue;
                    }
                    // The connection is closing; its own poll reports why.
                    Poll::Ready(Err(_)) => return Poll::Pending,
                    Poll::Pending => {}
                }
                if let Some(k) = &mut self.keepalive {
                    if !k.awaiting_pong && k.poll_silent(cx, &self.activity) {
                        // Silent for an interval while a PING (sent for the window) is
                        // out: time that one instead of sending another.
                        k.await_pong();
                    }
                    if k.awaiting_pong && k.sleep.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(PingEvent::KeepaliveTimeout(Error::KeepaliveTimeout(
                            k.timeout,
                        )));
                    }
                }
                return Poll::Pending;
            }
            if let Some(k) = &mut self.keepalive
                && k.poll_silent(cx, &self.activity)
            {
                if !self.send() {
                    return Poll::Pending;
                }
                tracing::trace!("keepalive: connection silent, PING sent");
                if let Some(k) = &mut self.keepalive {
                    k.await_pong();
                }
                continue;
            }
            if let Some(a) = &mut self.adaptive {
                let bytes = self.activity.body_bytes();
                if bytes != a.seen {
                    a.seen = bytes;
                    if Instant::now() >= a.next_sample {
                        if !self.send() {
                            return Poll::Pending;
                        }
                        continue;
                    }
                }
            }
            return Poll::Pending;
        }
    }

    /// Sends a PING; `false` when the connection is closing (its own poll reports why).
    fn send(&mut self) -> bool {
        if self.ping_pong.send_ping(Ping::opaque()).is_err() {
            return false;
        }
        self.in_flight = Some(InFlight {
            sent_at: Instant::now(),
            body_bytes: self.activity.body_bytes(),
        });
        true
    }

    /// The ACK of `sent` arrived.
    fn ponged(&mut self, sent: InFlight) -> Option<PingEvent> {
        let now = Instant::now();
        if let Some(k) = &mut self.keepalive {
            k.awaiting_pong = false;
            k.restart(&self.activity);
        }
        let a = self.adaptive.as_mut()?;
        let bytes = self.activity.body_bytes() - sent.body_bytes;
        if bytes == 0 {
            // Nothing was read (a keepalive PING on an idle connection): the round trip
            // says nothing about the window.
            return None;
        }
        let grown = a.bdp.sample(bytes, now - sent.sent_at);
        a.next_sample = now + a.bdp.delay();
        let stream = grown?;
        let connection = stream
            .saturating_mul(2)
            .min(MAX_WINDOW_SIZE)
            .max(a.initial_connection_window);
        tracing::debug!(
            stream,
            connection,
            "adaptive window: {bytes} body bytes in one round trip, window raised"
        );
        Some(PingEvent::GrowWindow { stream, connection })
    }
}

impl Keepalive {
    /// Whether the interval ended without a read; restarts it when there were reads.
    fn poll_silent(&mut self, cx: &mut Context<'_>, activity: &Activity) -> bool {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return false;
            }
            if activity.reads() == self.seen {
                return true;
            }
            // Heard from the peer during the interval: it is alive.
            self.restart(activity);
        }
    }

    fn await_pong(&mut self) {
        self.awaiting_pong = true;
        let deadline = Instant::now() + self.timeout;
        self.sleep.as_mut().reset(deadline);
    }

    fn restart(&mut self, activity: &Activity) {
        self.seen = activity.reads();
        let deadline = Instant::now() + self.interval;
        self.sleep.as_mut().reset(deadline);
    }
}
