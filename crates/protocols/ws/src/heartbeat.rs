//! The connection's one timer: heartbeat pings, the pong deadline, and the close
//! deadline.
//!
//! Liveness is "any byte received", read from a flag the stream wrapper
//! ([`Tracked`](crate::tracked::Tracked)) sets. The timer does not move on every message:
//! it only looks at the flag when it fires. A busy connection therefore costs nothing per
//! message, and a ping goes out after `ping_interval` to `2 × ping_interval` of silence.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use ghostnet_runtime::{Instant, Sleep, sleep_until};

/// What the timer asks the connection to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fired {
    /// Send a heartbeat ping now.
    SendPing,
    /// Nothing arrived within the pong timeout: the connection is dead.
    PongTimeout,
    /// The close handshake (or the lingering close of a failed connection) ran out of
    /// time.
    CloseTimeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No deadline armed.
    Off,
    /// Waiting out `ping_interval`.
    Idle,
    /// A ping is out; waiting `pong_timeout` for any byte.
    AwaitPong,
    /// Closing; waiting `close_timeout`.
    Closing,
}

#[derive(Debug)]
pub(crate) struct Timer {
    // Boxed: a `Sleep` is large and !Unpin, and the connection moves.
    sleep: Option<Pin<Box<Sleep>>>,
    phase: Phase,
    ping_interval: Option<Duration>,
    pong_timeout: Duration,
    close_timeout: Duration,
}

impl Timer {
    pub(crate) fn new(
        ping_interval: Option<Duration>,
        pong_timeout: Duration,
        close_timeout: Duration,
    ) -> Self {
        let mut t = Self {
            sleep: None,
            phase: Phase::Off,
            ping_interval,
            pong_timeout,
            close_timeout,
        };
        if let Some(every) = ping_interval {
            t.arm(Phase::Idle, every);
        }
        t
    }

    fn arm(&mut self, phase: Phase, after: Duration) {
        self.phase = phase;
        // A huge configured duration must not overflow the clock: cap it at ~30 years.
        let now = Instant::now();
        let deadline = now
            .checked_add(after)
            .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 24 * 3600));
        match &mut self.sleep {
            Some(s) => s.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(sleep_until(deadline))),
        }
    }

    /// The close handshake started: from now on only the close deadline counts.
    pub(crate) fn start_closing(&mut self) {
        if self.phase != Phase::Closing {
            self.arm(Phase::Closing, self.close_timeout);
        }
    }

    /// The pong timeout, for error messages.
    pub(crate) fn pong_timeout(&self) -> Duration {
        self.pong_timeout
    }

    /// The close timeout, for error messages.
    pub(crate) fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// Waits for the next thing to do. `received` is the stream's "a byte arrived" flag;
    /// the timer clears it each time it looks.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, received: &mut bool) -> Poll<Fired> {
        loop {
            let Some(sleep) = self.sleep.as_mut() else {
                return Poll::Pending;
            };
            if self.phase == Phase::Off {
                return Poll::Pending;
            }
            ready!(sleep.as_mut().poll(cx));
            let alive = std::mem::take(received);
            match self.phase {
                Phase::Off => return Poll::Pending,
                Phase::Idle | Phase::AwaitPong if alive => match self.ping_interval {
                    Some(every) => self.arm(Phase::Idle, every),
                    None => self.phase = Phase::Off,
                },
                Phase::Idle => {
                    self.arm(Phase::AwaitPong, self.pong_timeout);
                    return Poll::Ready(Fired::SendPing);
                }
                Phase::AwaitPong => {
                    self.phase = Phase::Off;
                    return Poll::Ready(Fired::PongTimeout);
                }
                Phase::Closing => {
                    self.phase = Phase::Off;
                    return Poll::Ready(Fired::CloseTimeout);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    async fn next(t: &mut Timer, received: &mut bool) -> (Fired, Duration) {
        let start = Instant::now();
        let fired = poll_fn(|cx| t.poll(cx, received)).await;
        (fired, start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn silent_peer_gets_a_ping_then_times_out() {
        let mut t = Timer::new(
            Some(Duration::from_secs(30)),
            Duration::from_secs(20),
            Duration::from_secs(5),
        );
        let mut rx = false;
        assert_eq!(
            next(&mut t, &mut rx).await,
            (Fired::SendPing, Duration::from_secs(30))
        );
        assert_eq!(
            next(&mut t, &mut rx).await,
            (Fired::PongTimeout, Duration::from_secs(20))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn any_byte_after_the_ping_keeps_the_connection() {
        let mut t = Timer::new(
            Some(Duration::from_secs(10)),
            Duration::from_secs(5),
            Duration::from_secs(5),
        );
        let mut rx = false;
        assert_eq!(next(&mut t, &mut rx).await.0, Fired::SendPing);
        rx = true; // the pong arrived
        // Back to idle: the next ping comes a whole interval after the deadline.
        assert_eq!(
            next(&mut t, &mut rx).await,
            (Fired::SendPing, Duration::from_secs(15))
        );
        assert!(!rx, "the timer consumed the flag");
    }

    #[tokio::test(start_paused = true)]
    async fn traffic_postpones_pings() {
        let mut t = Timer::new(
            Some(Duration::from_secs(10)),
            Duration::from_secs(5),
            Duration::from_secs(5),
        );
        let mut rx = true; // busy connection
        assert_eq!(
            next(&mut t, &mut rx).await,
            (Fired::SendPing, Duration::from_secs(20))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn closing_replaces_the_heartbeat() {
        let mut t = Timer::new(
            Some(Duration::from_secs(10)),
            Duration::from_secs(5),
            Duration::from_secs(3),
        );
        t.start_closing();
        let mut rx = true; // traffic does not extend the close deadline
        assert_eq!(
            next(&mut t, &mut rx).await,
            (Fired::CloseTimeout, Duration::from_secs(3))
        );
        let pending = poll_fn(|cx| Poll::Ready(t.poll(cx, &mut rx).is_pending())).await;
        assert!(pending, "nothing more after the close deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn no_heartbeat_means_no_timer() {
        let mut t = Timer::new(None, Duration::from_secs(5), Duration::from_secs(3));
        let mut rx = false;
        let pending = poll_fn(|cx| Poll::Ready(t.poll(cx, &mut rx).is_pending())).await;
        assert!(pending);
        t.start_closing();
        assert_eq!(next(&mut t, &mut rx).await.0, Fired::CloseTimeout);
    }
}
