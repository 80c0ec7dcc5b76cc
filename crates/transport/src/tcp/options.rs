//! TCP socket options: one struct for dialers and listeners, applied through socket2
//! before `connect` or `listen`, so the first SYN already carries them.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};

use crate::error::{Error, Result};
use crate::socket::{check_buffer_size, set_buffer_sizes, set_reuse};

/// Listen backlog used when none is set: tokio's default too. The kernel caps it at
/// `net.core.somaxconn`.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// The most whole seconds Linux takes for `TCP_KEEPIDLE` and `TCP_KEEPINTVL`.
const MAX_KEEPALIVE_SECS: u64 = 32_767;
/// The most probes Linux takes for `TCP_KEEPCNT`.
const MAX_KEEPALIVE_RETRIES: u32 = 127;

/// TCP keepalive: after `time` without traffic the OS sends a probe every `interval`, and
/// drops the connection after `retries` unanswered probes. Unset fields keep the OS
/// default (Linux: 75 s interval, 9 probes). Times are whole seconds; fractions are dropped.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_transport::tcp::Keepalive;
///
/// let ka = Keepalive::new(Duration::from_secs(60))
///     .interval(Duration::from_secs(10))
///     .retries(3);
/// assert_eq!(ka.retries, Some(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Keepalive {
    /// Idle time before the first probe (`TCP_KEEPIDLE`).
    pub time: Duration,
    /// Time between probes (`TCP_KEEPINTVL`); `None` keeps the OS default.
    pub interval: Option<Duration>,
    /// Unanswered probes before the connection is dropped (`TCP_KEEPCNT`); `None` keeps
    /// the OS default.
    pub retries: Option<u32>,
}

impl Keepalive {
    /// Probes after `time` idle, with the OS's interval and probe count.
    pub fn new(time: Duration) -> Self {
        Self {
            time,
            interval: None,
            retries: None,
        }
    }

    /// Sets [`Keepalive::interval`].
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Sets [`Keepalive::retries`].
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    fn validate(&self) -> Result<()> {
        check_keepalive_secs("keepalive.time", self.time)?;
        if let Some(i) = self.interval {
            check_keepalive_secs("keepalive.interval", i)?;
        }
        match self.retries {
            Some(0) => Err(Error::InvalidConfig {
                field: "keepalive.retries",
                reason: "is 0; use at least 1 probe, or None for the OS default".into(),
            }),
            Some(n) if n > MAX_KEEPALIVE_RETRIES => Err(Error::InvalidConfig {
                field: "keepalive.retries",
                reason: format!("is {n}; the OS takes at most {MAX_KEEPALIVE_RETRIES}"),
            }),
            _ => Ok(()),
        }
    }

    fn to_socket2(self) -> TcpKeepalive {
        let ka = TcpKeepalive::new().with_time(self.time);
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios",
            target_os = "freebsd",
            target_os = "netbsd",
            target_os = "windows"
        ))]
        let ka = match self.interval {
            Some(i) => ka.with_interval(i),
            None => ka,
        };
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios",
            target_os = "freebsd",
            target_os = "netbsd",
            target_os = "windows"
        ))]
        let ka = match self.retries {
            Some(n) => ka.with_retries(n),
            None => ka,
        };
        ka
    }
}

fn check_keepalive_secs(field: &'static str, d: Duration) -> Result<()> {
    if d.as_secs() == 0 {
        return Err(Error::InvalidConfig {
            field,
            reason: format!("is {d:?}; the OS counts whole seconds, so use at least 1 s"),
        });
    }
    if d.as_secs() > MAX_KEEPALIVE_SECS {
        return Err(Error::InvalidConfig {
            field,
            reason: format!("is {d:?}; the OS takes at most {MAX_KEEPALIVE_SECS} s"),
        });
    }
    Ok(())
}

/// Socket options for TCP dialers and listeners. Start from [`TcpOptions::default`] and
/// adjust with the chainable setters; [`TcpOptions::validate`] names a bad field.
///
/// | option | default | applies to |
/// |---|---|---|
/// | `nodelay` (`TCP_NODELAY`) | on | dialed and accepted connections |
/// | `keepalive` | off (OS default) | dialed and accepted connections |
/// | `send_buffer_size` / `recv_buffer_size` | OS default | connections and the listening socket |
/// | `reuse_address` (`SO_REUSEADDR`) | on (Unix), off (Windows) | listeners, and dials with a `local_addr` |
/// | `reuse_port` (`SO_REUSEPORT`) | off | listeners, and dials with a `local_addr` |
/// | `backlog` | [`DEFAULT_BACKLOG`] | listeners |
/// | `local_addr` (bind before connect) | none | dials |
///
/// ```
/// use std::time::Duration;
/// use ghostnet_transport::tcp::{Keepalive, TcpOptions};
///
/// let opts = TcpOptions::default()
///     .nodelay(false)
///     .keepalive(Keepalive::new(Duration::from_secs(30)))
///     .recv_buffer_size(256 * 1024);
/// opts.validate().unwrap();
/// assert!(TcpOptions::default().send_buffer_size(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpOptions {
    /// Send small writes at once instead of waiting to coalesce them (Nagle off).
    pub nodelay: bool,
    /// TCP keepalive probes; `None` leaves them off (the OS default).
    pub keepalive: Option<Keepalive>,
    /// `SO_SNDBUF` in bytes; `None` keeps the OS default (and its auto-tuning).
    pub send_buffer_size: Option<usize>,
    /// `SO_RCVBUF` in bytes; `None` keeps the OS default (and its auto-tuning). Set on the
    /// listening socket too, because the window scale is fixed at the handshake.
    pub recv_buffer_size: Option<usize>,
    /// `SO_REUSEADDR`: rebind a port whose old connections are still in `TIME_WAIT`. On
    /// by default on Unix (as tokio and std listeners do); off on Windows, where it
    /// would let another socket take over a bound port.
    pub reuse_address: bool,
    /// `SO_REUSEPORT`: let several sockets bind the same address (Linux balances accepted
    /// connections between listeners). Unsupported platforms reject `true`.
    pub reuse_port: bool,
    /// Pending connections the kernel queues before `accept` (capped by the OS).
    pub backlog: u32,
    /// Bind dialed sockets to this address before connecting (choose the source IP or
    /// port). Only candidates of the same address family are tried.
    pub local_addr: Option<SocketAddr>,
}

impl Default for TcpOptions {
    fn default() -> Self {
        Self {
            nodelay: true,
            keepalive: None,
            send_buffer_size: None,
            recv_buffer_size: None,
            reuse_address: cfg!(unix),
            reuse_port: false,
            backlog: DEFAULT_BACKLOG,
            local_addr: None,
        }
    }
}

impl TcpOptions {
    /// Sets [`TcpOptions::nodelay`].
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Sets [`TcpOptions::keepalive`].
    pub fn keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = Some(keepalive);
        self
    }

    /// Sets [`TcpOptions::send_buffer_size`] in bytes.
    pub fn send_buffer_size(mut self, bytes: usize) -> Self {
        self.send_buffer_size = Some(bytes);
        self
    }

    /// Sets [`TcpOptions::recv_buffer_size`] in bytes.
    pub fn recv_buffer_size(mut self, bytes: usize) -> Self {
        self.recv_buffer_size = Some(bytes);
        self
    }

    /// Sets [`TcpOptions::reuse_address`].
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }

    /// Sets [`TcpOptions::reuse_port`].
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// Sets [`TcpOptions::backlog`].
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Sets [`TcpOptions::local_addr`].
    pub fn local_addr(mut self, addr: SocketAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }

    /// Checks every field and says which one is wrong and what to use instead.
    pub fn validate(&self) -> Result<()> {
        check_buffer_size("send_buffer_size", self.send_buffer_size)?;
        check_buffer_size("recv_buffer_size", self.recv_buffer_size)?;
        if self.backlog > i32::MAX as u32 {
            return Err(Error::InvalidConfig {
                field: "backlog",
                reason: format!(
                    "is {}; the OS takes at most {} (and caps it at net.core.somaxconn)",
                    self.backlog,
                    i32::MAX
                ),
            });
        }
        if let Some(ka) = &self.keepalive {
            ka.validate()?;
        }
        Ok(())
    }

    /// Applies the per-connection options (nodelay, keepalive, buffer sizes): to a socket
    /// about to connect, or to one just accepted.
    pub(crate) fn apply_to_connection(&self, socket: SockRef<'_>) -> Result<()> {
        socket
            .set_tcp_nodelay(self.nodelay)
            .map_err(|e| Error::io("set TCP_NODELAY", e))?;
        if let Some(ka) = self.keepalive {
            socket
                .set_tcp_keepalive(&ka.to_socket2())
                .map_err(|e| Error::io("set TCP keepalive", e))?;
        }
        set_buffer_sizes(socket, self.send_buffer_size, self.recv_buffer_size)
    }

    /// A non-blocking socket ready to connect to `peer`: options applied and, with a
    /// `local_addr`, bound.
    pub(crate) fn dial_socket(&self, peer: SocketAddr) -> Result<Socket> {
        let socket = new_stream_socket(peer)?;
        self.apply_to_connection(SockRef::from(&socket))?;
        if let Some(local) = self.local_addr {
            set_reuse(SockRef::from(&socket), self.reuse_address, self.reuse_port)?;
            socket
                .bind(&local.into())
                .map_err(|e| Error::io(format!("bind {local} before connecting"), e))?;
        }
        Ok(socket)
    }

    /// A non-blocking socket listening on `addr`.
    pub(crate) fn listen_socket(&self, addr: SocketAddr) -> Result<Socket> {
        let socket = new_stream_socket(addr)?;
        set_reuse(SockRef::from(&socket), self.reuse_address, self.reuse_port)?;
        // Buffer sizes go on the listener too: accepted sockets inherit them, and the
        // receive buffer decides the window scale offered in the SYN-ACK.
        set_buffer_sizes(
            SockRef::from(&socket),
            self.send_buffer_size,
            self.recv_buffer_size,
        )?;
        socket
            .bind(&addr.into())
            .map_err(|e| Error::io(format!("bind {addr}"), e))?;
        // `validate` keeps the backlog within i32.
        let backlog = i32::try_from(self.backlog).unwrap_or(i32::MAX);
        socket
            .listen(backlog)
            .map_err(|e| Error::io(format!("listen on {addr}"), e))?;
        Ok(socket)
    }
}

/// A non-blocking, close-on-exec TCP socket of `addr`'s family.
fn new_stream_socket(addr: SocketAddr) -> Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| Error::io("create a TCP socket", e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| Error::io("make a TCP socket non-blocking", e))?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = TcpOptions::default();
        assert!(o.nodelay);
        assert_eq!(o.reuse_address, cfg!(unix));
        assert!(!o.reuse_port);
        assert_eq!(o.backlog, DEFAULT_BACKLOG);
        assert_eq!(o.keepalive, None);
        assert_eq!(o.local_addr, None);
        o.validate().unwrap();
    }

    #[test]
    fn validate_names_the_field() {
        let cases = [
            (
                TcpOptions::default().send_buffer_size(0),
                "send_buffer_size",
            ),
            (
                TcpOptions::default().recv_buffer_size(0),
                "recv_buffer_size",
            ),
            (TcpOptions::default().backlog(u32::MAX), "backlog"),
            (
                TcpOptions::default().keepalive(Keepalive::new(Duration::from_millis(500))),
                "keepalive.time",
            ),
            (
                TcpOptions::default().keepalive(
                    Keepalive::new(Duration::from_secs(1)).interval(Duration::from_secs(40_000)),
                ),
                "keepalive.interval",
            ),
            (
                TcpOptions::default().keepalive(Keepalive::new(Duration::from_secs(1)).retries(0)),
                "keepalive.retries",
            ),
            (
                TcpOptions::default()
                    .keepalive(Keepalive::new(Duration::from_secs(1)).retries(1000)),
                "keepalive.retries",
            ),
        ];
        for (opts, field) in cases {
            match opts.validate() {
                Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected InvalidConfig, got {other:?}"),
            }
        }
    }

    #[test]
    fn dial_socket_applies_options_before_connect() {
        let opts = TcpOptions::default()
            .nodelay(true)
            .keepalive(
                Keepalive::new(Duration::from_secs(45))
                    .interval(Duration::from_secs(7))
                    .retries(4),
            )
            .send_buffer_size(96 * 1024)
            .local_addr("127.0.0.1:0".parse().unwrap());
        let s = opts.dial_socket("127.0.0.1:9".parse().unwrap()).unwrap();
        assert!(s.tcp_nodelay().unwrap());
        assert!(s.keepalive().unwrap());
        #[cfg(target_os = "linux")]
        {
            assert_eq!(s.tcp_keepalive_time().unwrap(), Duration::from_secs(45));
            assert_eq!(s.tcp_keepalive_interval().unwrap(), Duration::from_secs(7));
            assert_eq!(s.tcp_keepalive_retries().unwrap(), 4);
        }
        assert!(s.send_buffer_size().unwrap() >= 96 * 1024);
        assert_eq!(s.reuse_address().unwrap(), cfg!(unix));
        let local = s.local_addr().unwrap().as_socket().unwrap();
        assert_eq!(local.ip().to_string(), "127.0.0.1");
        assert_ne!(local.port(), 0, "bound before connect");
    }
}
