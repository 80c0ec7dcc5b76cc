//! Observable connection state: [`State`], published on a watch channel so any task can
//! follow a connection (or wait for it to close) without owning it.

use std::fmt;

use ghostnet_runtime::channel::watch;

use crate::message::{CloseCode, CloseFrame};

/// Where a connection is in its life.
///
/// ```
/// use ghostnet_ws::{CloseCode, State};
///
/// let s = State::Open;
/// assert!(s.is_open());
/// assert_eq!(s.close_code(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// The client is dialing or in the opening handshake.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// A close frame was sent or received; the close handshake is under way.
    Closing,
    /// The connection is over.
    Closed(Closed),
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Closed {
    /// The close code: the one in the close frame that ended the connection,
    /// [`CloseCode::Status`] (1005) for a close frame without one, or
    /// [`CloseCode::Abnormal`] (1006) when it ended without a close handshake.
    pub code: CloseCode,
    /// The close frame's reason, or what went wrong when there was none.
    pub reason: String,
    /// Which side sent the first close frame (or failed the connection).
    pub initiator: Side,
    /// Whether both close frames were exchanged.
    pub clean: bool,
}

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// This end.
    Local,
    /// The peer.
    Remote,
}

impl State {
    /// Whether messages can flow.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open)
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }

    /// The close code once closed.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Closed(c) => Some(c.code),
            _ => None,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connecting => f.write_str("connecting"),
            Self::Open => f.write_str("open"),
            Self::Closing => f.write_str("closing"),
            Self::Closed(c) => write!(
                f,
                "closed by {} with {}{}{}",
                match c.initiator {
                    Side::Local => "us",
                    Side::Remote => "the peer",
                },
                u16::from(c.code),
                if c.reason.is_empty() { "" } else { ": " },
                c.reason
            ),
        }
    }
}

impl Closed {
    /// A close described by the close frame `frame` (or its absence).
    pub(crate) fn from_frame(frame: Option<&CloseFrame>, initiator: Side, clean: bool) -> Self {
        match frame {
            Some(f) => Self {
                code: f.code,
                reason: f.reason.as_str().to_owned(),
                initiator,
                clean,
            },
            None => Self {
                code: CloseCode::Status,
                reason: String::new(),
                initiator,
                clean,
            },
        }
    }

    /// An end without a close handshake.
    pub(crate) fn abnormal(initiator: Side, reason: String) -> Self {
        Self {
            code: CloseCode::Abnormal,
            reason,
            initiator,
            clean: false,
        }
    }
}

/// The publishing end, owned by the connection.
#[derive(Debug)]
pub(crate) struct StateTx(watch::Sender<State>);

impl StateTx {
    pub(crate) fn new(initial: State) -> Self {
        Self(watch::Sender::new(initial))
    }

    pub(crate) fn get(&self) -> State {
        self.0.borrow().clone()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<State> {
        self.0.subscribe()
    }

    /// Moves to `next` unless the connection is already closed (the first ending wins).
    pub(crate) fn set(&self, next: State) {
        self.0.send_if_modified(|s| {
            if s.is_closed() || *s == next {
                return false;
            }
            *s = next;
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_close_wins_and_watchers_see_it() {
        let tx = StateTx::new(State::Connecting);
        let mut rx = tx.subscribe();
        tx.set(State::Open);
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), State::Open);
        tx.set(State::Closed(Closed::abnormal(
            Side::Remote,
            "reset".into(),
        )));
        tx.set(State::Closed(Closed::from_frame(None, Side::Local, true)));
        let s = tx.get();
        assert_eq!(s.close_code(), Some(CloseCode::Abnormal));
        assert_eq!(s.to_string(), "closed by the peer with 1006: reset");
        tx.set(State::Open);
        assert!(tx.get().is_closed(), "a closed connection never reopens");
    }

    #[test]
    fn close_frame_without_code_reads_as_1005() {
        let c = Closed::from_frame(None, Side::Remote, true);
        assert_eq!(c.code, CloseCode::Status);
        let f = CloseFrame {
            code: CloseCode::Away,
            reason: "bye".into(),
        };
        let c = Closed::from_frame(Some(&f), Side::Local, true);
        assert_eq!((u16::from(c.code), c.reason.as_str()), (1001, "bye"));
    }
}
