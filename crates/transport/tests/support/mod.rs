//! Test helpers for the TCP and UDP tests: addresses that refuse, and addresses that
//! never answer.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// A TCP address that silently drops SYNs: a listener with backlog 0 whose accept queue
/// is full and never drained. Connecting there hangs as against a firewalled host.
pub(crate) struct BlackHole {
    /// Where to connect.
    pub(crate) addr: SocketAddr,
    _listener: Socket,
    _fillers: Vec<TcpStream>,
}

/// A [`BlackHole`] on `ip` (e.g. `127.0.0.1`, `::1`).
pub(crate) fn black_hole(ip: &str) -> BlackHole {
    let bind: SocketAddr = SocketAddr::new(ip.parse().unwrap(), 0);
    let listener =
        Socket::new(Domain::for_address(bind), Type::STREAM, Some(Protocol::TCP)).expect("socket");
    listener.bind(&bind.into()).expect("bind black hole");
    listener.listen(0).expect("listen");
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    // Fill the accept queue until a connection no longer completes. The wait only
    // detects "full": a full queue drops the SYN, so the probe cannot succeed later.
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => fillers.push(s),
            Err(_) => {
                return BlackHole {
                    addr,
                    _listener: listener,
                    _fillers: fillers,
                };
            }
        }
    }
    panic!("the accept queue of {addr} never filled up");
}

/// A TCP address that refuses connections: a bound socket that is not listening, so the
/// port stays ours and every SYN is answered with RST.
pub(crate) struct Refusing {
    /// Where to connect.
    pub(crate) addr: SocketAddr,
    _socket: Socket,
}

/// A [`Refusing`] address on `ip`.
pub(crate) fn refusing(ip: &str) -> Refusing {
    let bind: SocketAddr = SocketAddr::new(ip.parse().unwrap(), 0);
    let socket =
        Socket::new(Domain::for_address(bind), Type::STREAM, Some(Protocol::TCP)).expect("socket");
    socket.bind(&bind.into()).expect("bind");
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    Refusing {
        addr,
        _socket: socket,
    }
}

/// Whether this machine has IPv6 loopback; tests that need it say so and stop when not.
pub(crate) fn has_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}
