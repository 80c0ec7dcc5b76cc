//! Keepalive: a PING when the connection has been silent for an interval, and the
//! connection closed when its ACK does not come back in time.
//!
//! Silence is judged from [`Activity`], which counts reads: any frame from the peer
//! (data, headers, its own PINGs, the ACK of ours) proves it alive, so a busy
//! connection never pings.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use h2::{Ping, PingPong};
use tokio::time::{Instant, Sleep};

use crate::error::Error;
use crate::io::Activity;
use crate::settings::Settings;

pub(crate) struct Keepalive {
    ping_pong: PingPong,
    interval: Duration,
    timeout: Duration,
    activity: Activity,
    /// The read count when the current interval started.
    seen: u64,
    awaiting_pong: bool,
    sleep: Pin<Box<Sleep>>,
}

impl Keepalive {
    /// `None` when keepalive is disabled or h2 has no PING handle to give.
    pub(crate) fn new(
        settings: &Settings,
        ping_pong: Option<PingPong>,
        activity: Activity,
    ) -> Option<Self> {
        let interval = settings.keepalive_interval?;
        Some(Self {
            ping_pong: ping_pong?,
            interval,
            timeout: settings.keepalive_timeout,
            seen: activity.reads(),
            activity,
            awaiting_pong: false,
            sleep: Box::pin(tokio::time::sleep(interval)),
        })
    }

    /// `Ready` with the error to close the connection with, when a PING went
    /// unanswered; otherwise `Pending` (with the timer armed).
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        loop {
            if self.awaiting_pong {
                match self.ping_pong.poll_pong(cx) {
                    Poll::Ready(Ok(_)) => {
                        self.awaiting_pong = false;
                        self.restart();
                        continue;
                    }
                    // The connection is closing; its own poll reports why.
                    Poll::Ready(Err(_)) => return Poll::Pending,
                    Poll::Pending => {}
                }
                if self.sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Error::KeepaliveTimeout(self.timeout));
                }
                return Poll::Pending;
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let reads = self.activity.reads();
            if reads != self.seen {
                // Heard from the peer during the interval: it is alive.
                self.restart();
                continue;
            }
            if self.ping_pong.send_ping(Ping::opaque()).is_err() {
                // Only fails when the connection is closing; its own poll reports why.
                return Poll::Pending;
            }
            tracing::trace!("keepalive: connection silent, PING sent");
            self.awaiting_pong = true;
            let deadline = Instant::now() + self.timeout;
            self.sleep.as_mut().reset(deadline);
        }
    }

    fn restart(&mut self) {
        self.seen = self.activity.reads();
        let deadline = Instant::now() + self.interval;
        self.sleep.as_mut().reset(deadline);
    }
}
