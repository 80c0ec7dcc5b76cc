//! The HTTP/1.1 server: an accept loop over any [`Listen`], one task per connection.

mod conn;
mod date;
mod exchange;
mod io;
mod sendfile;
mod service;
mod shutdown;
mod timer;

use std::sync::Arc;
use std::time::Duration;

use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Listen, Stream, accept_until};
use tokio_util::sync::CancellationToken;

use crate::codec::Limits;
use crate::error::Result;

pub use service::Service;

/// Default for [`ServerBuilder::header_read_timeout`]: 30 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`ServerBuilder::keep_alive_timeout`]: 60 s.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default for [`ServerBuilder::body_read_timeout`]: 30 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`ServerBuilder::max_drain_bytes`]: 64 KiB.
pub const DEFAULT_MAX_DRAIN_BYTES: u64 = 64 * 1024;
/// Default for [`ServerBuilder::write_high_water`]: 64 KiB.
pub const DEFAULT_WRITE_HIGH_WATER: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) limits: Limits,
    pub(crate) header_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) keep_alive: bool,
    pub(crate) max_drain_bytes: u64,
    pub(crate) write_high_water: usize,
}

/// An HTTP/1.1 server. Cheap to clone; build it with [`Server::builder`].
///
/// ```
/// use std::time::Duration;
/// use ghostnet_http1::{Limits, Server};
///
/// let server = Server::builder()
///     .limits(Limits::default().max_body_bytes(Some(16 << 20)))
///     .header_read_timeout(Duration::from_secs(10))
///     .build();
/// # let _ = server;
/// ```
#[derive(Debug, Clone)]
pub struct Server {
    config: Arc<Config>,
}

/// Options of a [`Server`]; every one has a default.
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    config: Config,
}

impl Server {
    /// A builder with the defaults.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: Config {
                limits: Limits::default(),
                header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
                keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
                body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
                keep_alive: true,
                max_drain_bytes: DEFAULT_MAX_DRAIN_BYTES,
                write_high_water: DEFAULT_WRITE_HIGH_WATER,
            },
        }
    }

    /// Accepts connections from `listener` and serves each on its own task until
    /// `shutdown` fires; then stops accepting and returns.
    ///
    /// Connection tasks are spawned with [`Shutdown::spawn`], so
    /// [`Shutdown::shutdown`] waits for them: idle connections close at once, in-flight
    /// requests finish and their responses say `Connection: close`.
    ///
    /// # Errors
    ///
    /// None today: accept errors (such as running out of file descriptors) are logged
    /// and retried after a short pause, as the listener may recover.
    pub async fn serve<L, S>(self, listener: L, service: S, shutdown: Shutdown) -> Result<()>
    where
        L: Listen,
        S: Service,
    {
        let service = Arc::new(service);
        accept_until(&listener, &shutdown, |io, peer| {
            let conn = conn::serve(io, self.config.clone(), service.clone(), shutdown.token());
            // Boxed once here: `Shutdown::spawn`'s wrapper and tokio move the task's
            // future several times before it first runs, and a pointer moves for
            // free where a connection's state (kilobytes) does not.
            let conn = Box::pin(conn);
            shutdown.spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(%peer, "http1 connection ended: {e}");
                }
            });
        })
        .await;
        Ok(())
    }

    /// Serves one already-accepted connection until it ends. `token` plays the role of
    /// the shutdown signal: once cancelled, the connection closes when idle.
    ///
    /// # Errors
    ///
    /// What ended the connection abnormally: I/O failure, a malformed request (after the
    /// 4xx response was sent), a timeout, or a response that could not be sent.
    pub async fn serve_connection<S, Svc>(
        &self,
        io: S,
        service: Arc<Svc>,
        token: CancellationToken,
    ) -> Result<()>
    where
        S: Stream,
        Svc: Service,
    {
        conn::serve(io, self.config.clone(), service, token).await
    }
}

impl ServerBuilder {
    /// Parsing limits (header count and size, URI length, body sizes, ...).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Longest time to receive a whole request head, from the connection's start or the
    /// first byte of the request (slowloris protection; default 30 s). Past it: 408 and
    /// close.
    pub fn header_read_timeout(mut self, t: Duration) -> Self {
        self.config.header_read_timeout = t;
        self
    }

    /// Longest time a kept-alive connection may sit idle between requests (default 60 s).
    pub fn keep_alive_timeout(mut self, t: Duration) -> Self {
        self.config.keep_alive_timeout = t;
        self
    }

    /// Longest wait for the next piece of a request body the handler is reading
    /// (default 30 s). Past it the body fails with
    /// [`Error::Timeout`](crate::Error::Timeout), the client gets 408 if no response was
    /// sent yet, and the connection closes.
    pub fn body_read_timeout(mut self, t: Duration) -> Self {
        self.config.body_read_timeout = t;
        self
    }

    /// Whether connections may carry more than one request (default true).
    pub fn keep_alive(mut self, yes: bool) -> Self {
        self.config.keep_alive = yes;
        self
    }

    /// Body bytes the server reads and discards after a response when the handler did
    /// not read the request body, to keep the connection (default 64 KiB). Longer bodies
    /// close the connection instead.
    pub fn max_drain_bytes(mut self, n: u64) -> Self {
        self.config.max_drain_bytes = n;
        self
    }

    /// Queued response bytes above which the server writes without waiting for the end
    /// of a pipelined batch (default 64 KiB).
    pub fn write_high_water(mut self, n: usize) -> Self {
        self.config.write_high_water = n.max(1);
        self
    }

    /// The server.
    pub fn build(self) -> Server {
        Server {
            config: Arc::new(self.config),
        }
    }
}
