//! [`TlsServerConfig`]: the server's certificate (reloadable), ALPN, client authentication
//! and handshake limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use super::describe::{Side, tls_error};
use super::pem::PemSource;
use super::reload::ReloadableCert;
use super::stream::TlsStream;
use super::vectored::Vectored;
use super::watch::CertWatcher;
use super::{
    DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_HANDSHAKES, check_alpn, check_timeout, provider,
};
use crate::error::{Error, Result};
use crate::stream::Stream;

/// The largest `max_handshakes` accepted: far above what one process can handshake at
/// once, and well inside what tokio's semaphores and channels can count.
const MAX_HANDSHAKES_LIMIT: usize = 1 << 20;

/// Whether the server asks clients for a certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// Do not ask (the default).
    #[default]
    None,
    /// Ask; accept clients without one, reject clients with an invalid one.
    Optional,
    /// Require a certificate signed by one of the client CAs.
    Required,
}

/// A ready TLS server configuration: cheap to clone (`Arc`s inside), shared by every
/// handshake of a [`TlsListener`](super::TlsListener).
///
/// ```no_run
/// use ghostnet_transport::tls::{ClientAuth, TlsServerConfig};
///
/// let config = TlsServerConfig::builder()
///     .cert_files("cert.pem", "key.pem")
///     .alpn(["h2", "http/1.1"])
///     .client_ca_file("clients-ca.pem")
///     .client_auth(ClientAuth::Required)
///     .build()?;
/// // Later, after the files were renewed:
/// config.reload()?;
/// # Ok::<(), ghostnet_transport::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsServerConfig {
    acceptor: tokio_rustls::TlsAcceptor,
    cert: Arc<ReloadableCert>,
    handshake_timeout: Duration,
    max_handshakes: usize,
}

impl TlsServerConfig {
    /// A builder: a certificate is required, everything else has a default.
    pub fn builder() -> TlsServerConfigBuilder {
        TlsServerConfigBuilder::default()
    }

    /// The certificate handshakes use, for [`ReloadableCert::reload`],
    /// [`ReloadableCert::replace_pem`] and [`ReloadableCert::generation`].
    pub fn cert(&self) -> &Arc<ReloadableCert> {
        &self.cert
    }

    /// Re-reads the certificate files and uses them for new handshakes; on error the old
    /// certificate stays. Established connections are not affected.
    pub fn reload(&self) -> Result<()> {
        self.cert.reload()
    }

    /// Starts a task that checks the certificate files every `interval` and reloads them
    /// when they change (see [`CertWatcher`]). Changes from the moment this returns are
    /// noticed.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime (like `tokio::spawn`).
    pub fn watch(&self, interval: Duration) -> CertWatcher {
        CertWatcher::start(self.cert.clone(), interval)
    }

    /// How long a handshake may take.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// How many handshakes a [`TlsListener`](super::TlsListener) runs at once.
    pub fn max_handshakes(&self) -> usize {
        self.max_handshakes
    }

    /// The rustls config in use.
    pub fn rustls_config(&self) -> &Arc<ServerConfig> {
        self.acceptor.config()
    }

    /// Runs the server handshake on an accepted `stream`, within the handshake timeout.
    /// [`TlsListener`](super::TlsListener) does this for every connection; call it
    /// directly to add TLS to a stream accepted some other way.
    pub async fn accept<S: Stream>(&self, stream: S) -> Result<TlsStream<S>> {
        let peer = stream.info().peer_addr;
        self.accept_from(stream, peer).await
    }

    /// [`accept`](Self::accept) with the peer's address (for errors) already known.
    pub(crate) async fn accept_from<S: Stream>(
        &self,
        stream: S,
        peer: Option<SocketAddr>,
    ) -> Result<TlsStream<S>> {
        // Formatted only on failure: the happy path allocates nothing for it.
        let name = || peer.map_or_else(|| "a client".to_owned(), |a| a.to_string());
        let handshake = self.acceptor.accept(Vectored(stream));
        match ghostnet_runtime::timeout(self.handshake_timeout, handshake).await {
            Ok(Ok(tls)) => Ok(TlsStream::from_server(tls)),
            Ok(Err(e)) => Err(tls_error(Side::Server, name(), e)),
            Err(_) => Err(Error::TlsHandshakeTimeout {
                peer: name(),
                after: self.handshake_timeout,
            }),
        }
    }
}

impl std::fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServerConfig")
            .field("cert", &self.cert)
            .field(
                "alpn",
                &self
                    .rustls_config()
                    .alpn_protocols
                    .iter()
                    .map(|p| String::from_utf8_lossy(p))
                    .collect::<Vec<_>>(),
            )
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_handshakes", &self.max_handshakes)
            .finish()
    }
}

/// Builds a [`TlsServerConfig`]. Setters only record; [`build`](Self::build) reads the
/// files and checks everything.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct TlsServerConfigBuilder {
    cert: Option<(PemSource, PemSource)>,
    alpn: Vec<Vec<u8>>,
    client_auth: ClientAuth,
    client_cas: Vec<PemSource>,
    handshake_timeout: Duration,
    max_handshakes: usize,
}

impl Default for TlsServerConfigBuilder {
    fn default() -> Self {
        Self {
            cert: None,
            alpn: Vec::new(),
            client_auth: ClientAuth::None,
            client_cas: Vec::new(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
        }
    }
}

impl TlsServerConfigBuilder {
    /// The certificate chain (PEM, leaf first, then intermediates) and its private key
    /// (PKCS#8, PKCS#1 or SEC1 PEM). [`TlsServerConfig::reload`] re-reads these files.
    pub fn cert_files(mut self, cert_chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.cert = Some((
            PemSource::File(cert_chain.into()),
            PemSource::File(key.into()),
        ));
        self
    }

    /// Like [`cert_files`](Self::cert_files), from PEM text in memory.
    pub fn cert_pem(mut self, cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Self {
        self.cert = Some((
            PemSource::Bytes(cert_chain.as_ref().to_vec()),
            PemSource::Bytes(key.as_ref().to_vec()),
        ));
        self
    }

    /// Protocols this server speaks over ALPN, most preferred first (e.g.
    /// `["h2", "http/1.1"]`). The server's order decides when the client offers several.
    /// A client that offers only protocols not in this list is refused with the
    /// `no_application_protocol` alert; a client that offers none gets no ALPN protocol.
    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Whether to ask clients for a certificate (default [`ClientAuth::None`]). Anything
    /// else needs the client CA ([`client_ca_file`](Self::client_ca_file)).
    pub fn client_auth(mut self, mode: ClientAuth) -> Self {
        self.client_auth = mode;
        self
    }

    /// Trust client certificates signed by the CAs in this PEM file.
    pub fn client_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_cas.push(PemSource::File(path.into()));
        self
    }

    /// Trust client certificates signed by the CAs in this PEM text.
    pub fn client_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.client_cas
            .push(PemSource::Bytes(pem.as_ref().to_vec()));
        self
    }

    /// How long a handshake may take (default [`DEFAULT_HANDSHAKE_TIMEOUT`], 10 s). A
    /// client that stalls longer is dropped.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// How many handshakes a [`TlsListener`](super::TlsListener) runs at once (default
    /// [`DEFAULT_MAX_HANDSHAKES`]); further connections wait in the inner listener.
    pub fn max_handshakes(mut self, n: usize) -> Self {
        self.max_handshakes = n;
        self
    }

    /// Reads the files and builds the config.
    ///
    /// Fails with [`Error::Certificate`] naming the file for an unreadable or malformed
    /// certificate, key or CA, or a key that does not match the certificate; with
    /// [`Error::InvalidConfig`] when no certificate was given, client auth lacks a CA, or
    /// a limit is zero.
    pub fn build(self) -> Result<TlsServerConfig> {
        check_alpn(&self.alpn)?;
        check_timeout(self.handshake_timeout)?;
        if !(1..=MAX_HANDSHAKES_LIMIT).contains(&self.max_handshakes) {
            return Err(Error::InvalidConfig {
                field: "max_handshakes",
                reason: format!(
                    "must be from 1 to {MAX_HANDSHAKES_LIMIT}, got {} (the default is \
                     {DEFAULT_MAX_HANDSHAKES})",
                    self.max_handshakes
                ),
            });
        }
        let (cert, key) = self.cert.clone().ok_or_else(|| Error::InvalidConfig {
            field: "cert",
            reason: "a TLS server needs a certificate: call cert_files(...) or cert_pem(...)"
                .to_owned(),
        })?;
        let provider = provider();
        let verifier = self.client_verifier(&provider)?;
        let cert = Arc::new(ReloadableCert::load(cert, key, provider.clone())?);
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::InvalidConfig {
                field: "protocol_versions",
                reason: e.to_string(),
            })?;
        let builder = match verifier {
            None => builder.with_no_client_auth(),
            Some(v) => builder.with_client_cert_verifier(v),
        };
        let mut config = builder.with_cert_resolver(cert.clone());
        config.alpn_protocols = self.alpn;
        Ok(TlsServerConfig {
            acceptor: Arc::new(config).into(),
            cert,
            handshake_timeout: self.handshake_timeout,
            max_handshakes: self.max_handshakes,
        })
    }

    fn client_verifier(
        &self,
        provider: &Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>> {
        let invalid = |reason: &str| Error::InvalidConfig {
            field: "client_auth",
            reason: reason.to_owned(),
        };
        match (self.client_auth, self.client_cas.is_empty()) {
            (ClientAuth::None, true) => return Ok(None),
            (ClientAuth::None, false) => {
                return Err(invalid(
                    "is None but client CAs were given; set client_auth(ClientAuth::Required) \
                     or ClientAuth::Optional, or drop the client CAs",
                ));
            }
            (_, true) => {
                return Err(invalid(
                    "needs the CA that signs client certificates: call client_ca_file(...) or \
                     client_ca_pem(...)",
                ));
            }
            (_, false) => {}
        }
        let mut roots = RootCertStore::empty();
        for ca in &self.client_cas {
            ca.add_cas_to(&mut roots)?;
        }
        let builder = WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone());
        let builder = if self.client_auth == ClientAuth::Optional {
            builder.allow_unauthenticated()
        } else {
            builder
        };
        let verifier = builder.build().map_err(|e| Error::Certificate {
            path: None,
            reason: format!("the client CAs cannot be used: {e}"),
        })?;
        Ok(Some(verifier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_required() {
        let e = TlsServerConfig::builder().build().unwrap_err();
        assert!(matches!(e, Error::InvalidConfig { field: "cert", .. }));
        assert!(e.to_string().contains("cert_files("), "{e}");
    }

    #[test]
    fn limits_are_checked_before_files() {
        let b = || TlsServerConfig::builder().cert_files("/nonexistent/c", "/nonexistent/k");
        let e = b().max_handshakes(0).build().unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidConfig {
                field: "max_handshakes",
                ..
            }
        ));
        let e = b().max_handshakes(usize::MAX).build().unwrap_err();
        assert!(e.to_string().contains("from 1 to 1048576"), "{e}");
        let e = b().handshake_timeout(Duration::ZERO).build().unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidConfig {
                field: "handshake_timeout",
                ..
            }
        ));
        let e = b().build().unwrap_err();
        assert!(matches!(e, Error::Certificate { path: Some(_), .. }), "{e}");
    }

    #[test]
    fn client_auth_needs_a_ca_and_a_ca_needs_client_auth() {
        let b = || TlsServerConfig::builder().cert_files("/nonexistent/c", "/nonexistent/k");
        let e = b().client_auth(ClientAuth::Required).build().unwrap_err();
        assert!(e.to_string().contains("client_ca_file("), "{e}");
        let e = b().client_ca_pem("x").build().unwrap_err();
        assert!(e.to_string().contains("ClientAuth::Required"), "{e}");
    }
}
