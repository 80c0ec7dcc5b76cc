//! Happy Eyeballs (RFC 8305): order the candidate addresses, then race staggered
//! connection attempts; the first to connect wins and the rest are dropped.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use ghostnet_runtime::{Instant, sleep};
use tokio::net::{TcpSocket, TcpStream};

use super::options::TcpOptions;

/// Orders resolved addresses as RFC 8305 §4 asks: duplicates removed, then the two
/// address families interleaved, starting with the family of the first address (the
/// resolver's preference), one address at a time ("First Address Family Count" 1). The
/// order within each family is kept.
pub(crate) fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let mut unique: Vec<SocketAddr> = Vec::with_capacity(addrs.len());
    for a in addrs {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    let Some(first) = unique.first() else {
        return unique;
    };
    let preferred_v6 = first.is_ipv6();
    let (preferred, other): (Vec<_>, Vec<_>) = unique
        .into_iter()
        .partition(|a| a.is_ipv6() == preferred_v6);
    let mut out = Vec::with_capacity(preferred.len() + other.len());
    let (mut p, mut o) = (preferred.into_iter(), other.into_iter());
    loop {
        match (p.next(), o.next()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// Every failed attempt of one dial, in the order they failed. It is the source of the
/// dial's [`Error::Connect`](crate::Error::Connect) when the target was a name, so callers
/// can see what each address answered:
///
/// ```
/// use ghostnet_transport::{Error, tcp::AttemptErrors};
///
/// fn explain(err: &Error) {
///     if let Error::Connect { source, .. } = err {
///         if let Some(all) = source.get_ref().and_then(|e| e.downcast_ref::<AttemptErrors>()) {
///             for (addr, e) in all.attempts() {
///                 eprintln!("{addr}: {e}");
///             }
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct AttemptErrors {
    attempts: Vec<(SocketAddr, io::Error)>,
}

impl AttemptErrors {
    /// Each address tried and what it answered, in the order they failed.
    pub fn attempts(&self) -> &[(SocketAddr, io::Error)] {
        &self.attempts
    }

    /// The error that best explains the failure: the last one, except that "network or
    /// host unreachable" (typical of IPv6 on an IPv4-only host) gives way to any other.
    pub fn most_relevant(&self) -> Option<&io::Error> {
        let noise = |e: &io::Error| {
            matches!(
                e.kind(),
                io::ErrorKind::NetworkUnreachable
                    | io::ErrorKind::HostUnreachable
                    | io::ErrorKind::AddrNotAvailable
            )
        };
        self.attempts
            .iter()
            .rev()
            .map(|(_, e)| e)
            .find(|e| !noise(e))
            .or_else(|| self.attempts.last().map(|(_, e)| e))
    }

    /// The attempts, by value.
    pub(crate) fn into_attempts(self) -> Vec<(SocketAddr, io::Error)> {
        self.attempts
    }

    /// Wraps the list in an `io::Error` of the most relevant error's kind.
    pub(crate) fn into_io_error(self) -> io::Error {
        let kind = self
            .most_relevant()
            .map_or(io::ErrorKind::NotConnected, io::Error::kind);
        io::Error::new(kind, self)
    }
}

impl fmt::Display for AttemptErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attempts.is_empty() {
            return f.write_str("no address was tried");
        }
        for (i, (addr, e)) in self.attempts.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{addr}: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AttemptErrors {}

type Attempt<'a> = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send + 'a>>;

/// One connection attempt: a socket2 socket with the options applied, handed to tokio to
/// connect.
pub(crate) async fn attempt(addr: SocketAddr, options: &TcpOptions) -> io::Result<TcpStream> {
    let socket = options.dial_socket(addr).map_err(io::Error::from)?;
    TcpSocket::from_std_stream(socket.into())
        .connect(addr)
        .await
}

/// Starts an attempt to the next queued candidate; `false` when none is left.
fn start_next<'a>(
    queue: &mut impl Iterator<Item = SocketAddr>,
    running: &mut Vec<(SocketAddr, Attempt<'a>)>,
    options: &'a TcpOptions,
) -> bool {
    match queue.next() {
        Some(addr) => {
            tracing::trace!(%addr, "starting connection attempt");
            running.push((addr, Box::pin(attempt(addr, options))));
            true
        }
        None => false,
    }
}

/// Races attempts to `candidates` (already ordered, non-empty): one starts at once, the
/// next when `delay` has passed since the last start or as soon as one fails. The first
/// connected stream is returned and every other attempt is dropped, closing its socket.
/// Not bounded in time: the caller wraps it in the connect timeout.
pub(crate) async fn connect_first(
    candidates: &[SocketAddr],
    delay: Duration,
    options: &TcpOptions,
) -> Result<TcpStream, AttemptErrors> {
    let mut queue = candidates.iter().copied();
    let mut running: Vec<(SocketAddr, Attempt<'_>)> = Vec::with_capacity(2);
    let mut failed = Vec::new();
    let mut timer = pin!(sleep(delay));

    start_next(&mut queue, &mut running, options);

    poll_fn(|cx| {
        loop {
            // Finished attempts first: a success wins even if the timer fired meanwhile.
            let done =
                running
                    .iter_mut()
                    .enumerate()
                    .find_map(|(i, (_, a))| match a.as_mut().poll(cx) {
                        Poll::Ready(r) => Some((i, r)),
                        Poll::Pending => None,
                    });
            if let Some((i, result)) = done {
                let (addr, _) = running.swap_remove(i);
                match result {
                    Ok(stream) => return Poll::Ready(Ok(stream)),
                    Err(e) => {
                        tracing::debug!(%addr, error = %e, "connection attempt failed");
                        failed.push((addr, e));
                        // A failure frees the slot at once (RFC 8305 §5).
                        if start_next(&mut queue, &mut running, options) {
                            timer.as_mut().reset(Instant::now() + delay);
                        }
                        continue;
                    }
                }
            }
            if running.is_empty() {
                // Nothing in flight and (since failures start the next at once) nothing
                // queued either: every candidate failed.
                return Poll::Ready(Err(AttemptErrors {
                    attempts: std::mem::take(&mut failed),
                }));
            }
            if queue.len() > 0 && timer.as_mut().poll(cx).is_ready() {
                start_next(&mut queue, &mut running, options);
                timer.as_mut().reset(Instant::now() + delay);
                continue;
            }
            return Poll::Pending;
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn interleaves_families_starting_with_the_first() {
        let got = interleave(addrs(&[
            "[::1]:1",
            "[::2]:1",
            "[::3]:1",
            "10.0.0.1:1",
            "10.0.0.2:1",
        ]));
        assert_eq!(
            got,
            addrs(&["[::1]:1", "10.0.0.1:1", "[::2]:1", "10.0.0.2:1", "[::3]:1"])
        );
        let got = interleave(addrs(&["10.0.0.1:1", "[::1]:1", "[::2]:1", "10.0.0.2:1"]));
        assert_eq!(
            got,
            addrs(&["10.0.0.1:1", "[::1]:1", "10.0.0.2:1", "[::2]:1"])
        );
    }

    #[test]
    fn single_family_and_duplicates() {
        assert_eq!(
            interleave(addrs(&["10.0.0.1:1", "10.0.0.2:1", "10.0.0.1:1"])),
            addrs(&["10.0.0.1:1", "10.0.0.2:1"])
        );
        assert!(interleave(Vec::new()).is_empty());
    }

    #[test]
    fn attempt_errors_pick_the_relevant_one() {
        let e = AttemptErrors {
            attempts: vec![
                (
                    "[::1]:1".parse().unwrap(),
                    io::ErrorKind::ConnectionRefused.into(),
                ),
                (
                    "10.0.0.1:1".parse().unwrap(),
                    io::ErrorKind::NetworkUnreachable.into(),
                ),
            ],
        };
        assert_eq!(
            e.most_relevant().unwrap().kind(),
            io::ErrorKind::ConnectionRefused
        );
        let shown = e.to_string();
        assert!(shown.starts_with("[::1]:1: "), "{shown}");
        assert!(shown.contains("; 10.0.0.1:1: "), "{shown}");
        assert_eq!(e.into_io_error().kind(), io::ErrorKind::ConnectionRefused);

        let only_noise = AttemptErrors {
            attempts: vec![(
                "[::1]:1".parse().unwrap(),
                io::ErrorKind::NetworkUnreachable.into(),
            )],
        };
        assert_eq!(
            only_noise.most_relevant().unwrap().kind(),
            io::ErrorKind::NetworkUnreachable
        );
    }
}
