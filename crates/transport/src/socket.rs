//! What TCP and UDP sockets share: option checks and setters that go through socket2, and
//! the check that a tokio runtime is present before a socket is registered with it.

use std::io;

use socket2::SockRef;

use crate::error::{Error, Result};

/// The largest buffer size the kernel interfaces take (`int` in `setsockopt`).
const MAX_BUFFER_SIZE: usize = i32::MAX as usize;

/// Registering a socket with tokio outside a runtime panics; say so as an error instead.
pub(crate) fn require_runtime(op: impl FnOnce() -> String) -> Result<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Ok(()),
        Err(_) => Err(Error::io(
            op(),
            io::Error::other(
                "sockets need a tokio runtime with I/O enabled: call this inside \
                 ghostnet_runtime::run or a #[tokio::main] function",
            ),
        )),
    }
}

/// Checks an optional `SO_SNDBUF`/`SO_RCVBUF` value.
pub(crate) fn check_buffer_size(field: &'static str, size: Option<usize>) -> Result<()> {
    match size {
        Some(0) => Err(Error::InvalidConfig {
            field,
            reason: "is 0; leave it unset (None) for the OS default, or give a size in bytes"
                .into(),
        }),
        Some(n) if n > MAX_BUFFER_SIZE => Err(Error::InvalidConfig {
            field,
            reason: format!("is {n} bytes; the OS takes at most {MAX_BUFFER_SIZE}"),
        }),
        _ => Ok(()),
    }
}

/// Sets `SO_SNDBUF` and `SO_RCVBUF` when given. Linux doubles the value for bookkeeping
/// and caps it at `net.core.{w,r}mem_max`, so reading it back gives a different number.
pub(crate) fn set_buffer_sizes(
    socket: SockRef<'_>,
    send: Option<usize>,
    recv: Option<usize>,
) -> Result<()> {
    if let Some(n) = send {
        socket
            .set_send_buffer_size(n)
            .map_err(|e| Error::io(format!("set SO_SNDBUF to {n}"), e))?;
    }
    if let Some(n) = recv {
        socket
            .set_recv_buffer_size(n)
            .map_err(|e| Error::io(format!("set SO_RCVBUF to {n}"), e))?;
    }
    Ok(())
}

/// Sets `SO_REUSEADDR` and, where the platform has it, `SO_REUSEPORT`.
pub(crate) fn set_reuse(socket: SockRef<'_>, address: bool, port: bool) -> Result<()> {
    socket
        .set_reuse_address(address)
        .map_err(|e| Error::io("set SO_REUSEADDR", e))?;
    set_reuse_port(socket, port)
}

#[cfg(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
))]
fn set_reuse_port(socket: SockRef<'_>, port: bool) -> Result<()> {
    // Only touch the option when asked: off is the default everywhere.
    if port {
        socket
            .set_reuse_port(true)
            .map_err(|e| Error::io("set SO_REUSEPORT", e))?;
    }
    Ok(())
}

#[cfg(not(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
)))]
fn set_reuse_port(_socket: SockRef<'_>, port: bool) -> Result<()> {
    if port {
        return Err(Error::InvalidConfig {
            field: "reuse_port",
            reason: "is not supported on this platform; leave it false".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_size_checks() {
        assert!(check_buffer_size("send_buffer_size", None).is_ok());
        assert!(check_buffer_size("send_buffer_size", Some(4096)).is_ok());
        let zero = check_buffer_size("send_buffer_size", Some(0)).unwrap_err();
        assert!(
            zero.to_string().contains("`send_buffer_size` is 0"),
            "{zero}"
        );
        let huge = check_buffer_size("recv_buffer_size", Some(usize::MAX)).unwrap_err();
        assert!(huge.to_string().contains("at most"), "{huge}");
    }

    #[test]
    fn runtime_is_required() {
        let err = require_runtime(|| "bind 127.0.0.1:0".into()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bind 127.0.0.1:0 failed"), "{msg}");
        assert!(msg.contains("tokio runtime"), "{msg}");
    }
}
