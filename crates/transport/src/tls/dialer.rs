//! [`TlsDialer`]: TLS on top of any [`Dial`].

use super::client::TlsClientConfig;
use super::stream::TlsStream;
use crate::error::Result;
use crate::target::Target;
use crate::traits::Dial;

/// Dials with an inner dialer (TCP, in-memory, a proxy) and runs the TLS client handshake
/// on the stream it returns.
///
/// The inner dial keeps its own timeouts; the handshake has the config's handshake
/// timeout (default 10 s) on top. Errors name the target and say what to do, e.g.
/// `TLS with example.test:443 failed: certificate for localhost is not valid for host
/// example.test`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ghostnet_transport::tls::{TlsClientConfig, TlsDialer};
/// use ghostnet_transport::{Dial, Error, MemoryNetwork};
///
/// let net = MemoryNetwork::new();
/// let dialer = TlsDialer::new(net.dialer(), TlsClientConfig::builder().build().unwrap());
/// // Nobody listens: the inner dial's error comes back unchanged.
/// let err = dialer.dial(&"api.test:443".parse().unwrap()).await.unwrap_err();
/// assert!(matches!(err, Error::Connect { .. }));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct TlsDialer<D> {
    inner: D,
    config: TlsClientConfig,
}

impl<D: Dial> TlsDialer<D> {
    /// TLS with `config` over streams from `inner`.
    pub fn new(inner: D, config: TlsClientConfig) -> Self {
        Self { inner, config }
    }

    /// The inner dialer.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The TLS config.
    pub fn config(&self) -> &TlsClientConfig {
        &self.config
    }
}

impl<D: Dial> Dial for TlsDialer<D> {
    type Stream = TlsStream<D::Stream>;

    async fn dial(&self, target: &Target) -> Result<Self::Stream> {
        let stream = self.inner.dial(target).await?;
        self.config.connect(target, stream).await
    }
}
