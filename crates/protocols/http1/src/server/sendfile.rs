//! sendfile(2) for file bodies on plain TCP connections (Linux).
//!
//! The connection's stream type is generic (`Listen::Stream`); the zero-copy path applies
//! when it *is* a `tokio::net::TcpStream`, found by downcasting (no trait bound is needed,
//! and TLS or in-memory streams simply take the portable path). A transport whose TCP
//! stream is a wrapper type adds its type to [`as_tcp`].

use std::any::Any;

/// The raw TCP stream behind `io`, when there is one.
pub(crate) fn as_tcp<S: Any>(io: &mut S) -> Option<&mut tokio::net::TcpStream> {
    (io as &mut dyn Any).downcast_mut::<tokio::net::TcpStream>()
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::os::fd::AsRawFd;

    use tokio::io::Interest;

    use crate::body::FileBody;

    /// Bytes per sendfile call: large enough to need few calls, small enough that one
    /// connection does not hog its worker.
    const STEP: u64 = 1 << 20;

    /// Sends the rest of `file` over `tcp` without copying it through user space.
    pub(crate) async fn send_file(
        tcp: &tokio::net::TcpStream,
        file: &mut FileBody,
    ) -> io::Result<()> {
        while file.remaining > 0 {
            tcp.writable().await?;
            let count = file.remaining.min(STEP) as usize;
            let mut offset = file.offset as libc::off_t;
            let sent = tcp.try_io(Interest::WRITABLE, || {
                #[allow(unsafe_code)]
                // SAFETY: both descriptors are owned by live objects borrowed for the whole
                // call (`tcp`, and `file.file` behind an Arc); `offset` is a valid, writable
                // local; sendfile touches no other memory of ours.
                let n = unsafe {
                    libc::sendfile(tcp.as_raw_fd(), file.file.as_raw_fd(), &mut offset, count)
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as u64)
                }
            });
            match sent {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file is shorter than its body length (truncated while sending?)",
                    ));
                }
                Ok(n) => file.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
pub(crate) use imp::send_file;
