//! [`TlsClientConfig`]: what a TLS client trusts and offers, and the handshake on an
//! already-connected stream.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::ServerName;

use super::describe::{Side, tls_error};
use super::pem::{PemSource, certified_key};
use super::stream::TlsStream;
use super::vectored::Vectored;
use super::{DEFAULT_HANDSHAKE_TIMEOUT, check_alpn, check_timeout, provider};
use crate::error::{Error, Result};
use crate::stream::Stream;
use crate::target::{Host, Target};

/// A ready TLS client configuration: cheap to clone (an `Arc` inside), shared by every
/// connection of a [`TlsDialer`](super::TlsDialer).
///
/// ```
/// use std::time::Duration;
/// use ghostnet_transport::tls::TlsClientConfig;
///
/// let config = TlsClientConfig::builder()   // trusts the webpki (Mozilla) roots
///     .alpn(["h2", "http/1.1"])
///     .handshake_timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(config.handshake_timeout(), Duration::from_secs(5));
/// ```
#[derive(Clone)]
pub struct TlsClientConfig {
    connector: tokio_rustls::TlsConnector,
    handshake_timeout: Duration,
}

impl TlsClientConfig {
    /// A builder with the defaults: webpki roots, SNI on, no ALPN, no client certificate,
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub fn builder() -> TlsClientConfigBuilder {
        TlsClientConfigBuilder::default()
    }

    /// Wraps a rustls config built by hand, for what the builder does not offer (custom
    /// verifiers, session stores, key logging). Build it with the `ring` provider, as in
    /// `ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))`.
    pub fn from_rustls(config: Arc<ClientConfig>) -> Self {
        Self {
            connector: config.into(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The same config with another handshake timeout; zero is refused.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Result<Self> {
        check_timeout(timeout)?;
        self.handshake_timeout = timeout;
        Ok(self)
    }

    /// How long a handshake may take.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The rustls config in use.
    pub fn rustls_config(&self) -> &Arc<ClientConfig> {
        self.connector.config()
    }

    /// Runs the client handshake on `stream`, already connected to `target`, within the
    /// handshake timeout. `target`'s host is what the server's certificate must name (and,
    /// for DNS names with SNI on, what is sent as SNI; IP targets never send SNI and are
    /// checked against the certificate's IP addresses).
    pub async fn connect<S: Stream>(&self, target: &Target, stream: S) -> Result<TlsStream<S>> {
        let name = server_name(target)?;
        let handshake = self.connector.connect(name, Vectored(stream));
        match ghostnet_runtime::timeout(self.handshake_timeout, handshake).await {
            Ok(Ok(tls)) => Ok(TlsStream::from_client(tls)),
            Ok(Err(e)) => Err(tls_error(Side::Client, target.to_string(), e)),
            Err(_) => Err(Error::TlsHandshakeTimeout {
                peer: target.to_string(),
                after: self.handshake_timeout,
            }),
        }
    }
}

impl std::fmt::Debug for TlsClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.rustls_config();
        f.debug_struct("TlsClientConfig")
            .field("sni", &c.enable_sni)
            .field(
                "alpn",
                &c.alpn_protocols
                    .iter()
                    .map(|p| String::from_utf8_lossy(p))
                    .collect::<Vec<_>>(),
            )
            .field("client_cert", &c.client_auth_cert_resolver.has_certs())
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

/// What the certificate must name, from the target's host.
fn server_name(target: &Target) -> Result<ServerName<'static>> {
    match &target.host {
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
        Host::Name(name) => ServerName::try_from(name.clone()).map_err(|_| Error::InvalidTarget {
            input: target.to_string(),
            reason: "the host is not a valid DNS name, so no certificate can match it".to_owned(),
        }),
    }
}

/// Builds a [`TlsClientConfig`]. Setters only record; files are read and checked by
/// [`build`](Self::build), which names the file and the problem when one is wrong.
///
/// ```no_run
/// use ghostnet_transport::tls::TlsClientConfig;
///
/// // A private service: trust only its CA, present a client certificate.
/// let config = TlsClientConfig::builder()
///     .webpki_roots(false)
///     .extra_ca_file("ca.pem")
///     .client_cert_files("client.pem", "client.key")
///     .build()?;
/// # Ok::<(), ghostnet_transport::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct TlsClientConfigBuilder {
    webpki_roots: bool,
    native_roots: bool,
    extra_cas: Vec<PemSource>,
    sni: bool,
    alpn: Vec<Vec<u8>>,
    client_cert: Option<(PemSource, PemSource)>,
    handshake_timeout: Duration,
    resumption: bool,
}

impl Default for TlsClientConfigBuilder {
    fn default() -> Self {
        Self {
            webpki_roots: true,
            native_roots: false,
            extra_cas: Vec::new(),
            sni: true,
            alpn: Vec::new(),
            client_cert: None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            resumption: true,
        }
    }
}

impl TlsClientConfigBuilder {
    /// Trust the Mozilla root CAs compiled in from `webpki-roots` (default: on). They work
    /// the same on every machine, including containers without a CA bundle.
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.webpki_roots = on;
        self
    }

    /// Also trust the operating system's CA store (default: off). A machine with no
    /// readable store is fine as long as another source of roots is on; errors reading
    /// it are logged, not fatal.
    pub fn native_roots(mut self, on: bool) -> Self {
        self.native_roots = on;
        self
    }

    /// Also trust every CA certificate in this PEM file (e.g. a private or test CA).
    pub fn extra_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_cas.push(PemSource::File(path.into()));
        self
    }

    /// Also trust every CA certificate in this PEM text.
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_cas.push(PemSource::Bytes(pem.as_ref().to_vec()));
        self
    }

    /// Send the host name as SNI (default: on). Off hides the name from observers but
    /// servers hosting several names then cannot pick the right certificate. The
    /// certificate is checked against the name either way.
    pub fn sni(mut self, on: bool) -> Self {
        self.sni = on;
        self
    }

    /// Protocols to offer with ALPN, most preferred first (e.g. `["h2", "http/1.1"]`).
    /// The server picks by its own preference. If it supports none of them the handshake
    /// fails; if it does not use ALPN, the connection has no ALPN protocol.
    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Present this client certificate chain (PEM, leaf first) and key when the server asks.
    pub fn client_cert_files(
        mut self,
        cert_chain: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some((
            PemSource::File(cert_chain.into()),
            PemSource::File(key.into()),
        ));
        self
    }

    /// Like [`client_cert_files`](Self::client_cert_files), from PEM text.
    pub fn client_cert_pem(mut self, cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Self {
        self.client_cert = Some((
            PemSource::Bytes(cert_chain.as_ref().to_vec()),
            PemSource::Bytes(key.as_ref().to_vec()),
        ));
        self
    }

    /// How long a handshake may take (default [`DEFAULT_HANDSHAKE_TIMEOUT`], 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Resume earlier sessions with the same server (default: on), which skips most of the
    /// handshake's cost. Off forces a full handshake every time.
    pub fn resumption(mut self, on: bool) -> Self {
        self.resumption = on;
        self
    }

    /// Reads the files and builds the config.
    ///
    /// Fails with [`Error::Certificate`] for an unreadable or malformed CA, certificate or
    /// key (naming the file), or when no root is trusted at all; with
    /// [`Error::InvalidConfig`] for a bad ALPN name or a zero timeout.
    pub fn build(self) -> Result<TlsClientConfig> {
        check_alpn(&self.alpn)?;
        check_timeout(self.handshake_timeout)?;
        let roots = self.roots()?;
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::InvalidConfig {
                field: "protocol_versions",
                reason: e.to_string(),
            })?
            .with_root_certificates(roots);
        let mut config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let key = certified_key(cert, key, &provider)?;
                builder
                    .with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(key)))
            }
        };
        config.enable_sni = self.sni;
        config.alpn_protocols = self.alpn;
        if !self.resumption {
            config.resumption = rustls::client::Resumption::disabled();
        }
        Ok(TlsClientConfig {
            connector: Arc::new(config).into(),
            handshake_timeout: self.handshake_timeout,
        })
    }

    fn roots(&self) -> Result<RootCertStore> {
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(error = %e, "could not read part of the system CA store");
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "loaded system CA certificates");
        }
        for ca in &self.extra_cas {
            ca.add_cas_to(&mut roots)?;
        }
        if roots.is_empty() {
            return Err(Error::Certificate {
                path: None,
                reason: "no trusted root certificates: turn on webpki_roots(true) or \
                         native_roots(true) (the system store may be empty here), or add a CA \
                         with extra_ca(...) (extra_ca_file or extra_ca_pem)"
                    .to_owned(),
            });
        }
        Ok(roots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build_with_webpki_roots() {
        let c = TlsClientConfig::builder().build().unwrap();
        assert_eq!(c.handshake_timeout(), DEFAULT_HANDSHAKE_TIMEOUT);
        assert!(c.rustls_config().enable_sni);
        assert!(c.rustls_config().alpn_protocols.is_empty());
        assert!(!c.rustls_config().client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn options_reach_the_rustls_config() {
        let c = TlsClientConfig::builder()
            .sni(false)
            .alpn(["h2", "http/1.1"])
            .build()
            .unwrap();
        let r = c.rustls_config();
        assert!(!r.enable_sni);
        assert_eq!(r.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }

    #[test]
    fn no_roots_at_all_is_an_error() {
        let e = TlsClientConfig::builder()
            .webpki_roots(false)
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no trusted root") && e.contains("extra_ca("),
            "{e}"
        );
    }

    #[test]
    fn native_roots_never_fail_the_build_when_webpki_is_on() {
        // Whatever this machine's store holds (maybe nothing), webpki roots keep it usable.
        assert!(
            TlsClientConfig::builder()
                .native_roots(true)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = TlsClientConfig::builder()
            .extra_ca_file("/nonexistent/ca.pem")
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Certificate { path: Some(_), .. }), "{e}");
        let e = TlsClientConfig::builder()
            .handshake_timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidConfig {
                field: "handshake_timeout",
                ..
            }
        ));
        let e = TlsClientConfig::builder().alpn([""]).build().unwrap_err();
        assert!(matches!(e, Error::InvalidConfig { field: "alpn", .. }));
        let e = TlsClientConfig::builder()
            .client_cert_pem("not pem", "not pem")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
    }

    #[test]
    fn server_names() {
        let ip = server_name(&"127.0.0.1:443".parse().unwrap()).unwrap();
        assert!(matches!(ip, ServerName::IpAddress(_)));
        let dns = server_name(&"Example.COM:443".parse().unwrap()).unwrap();
        assert_eq!(dns.to_str(), "example.com");
        let e = server_name(&Target::new("bad name!", 443)).unwrap_err();
        assert!(e.to_string().contains("not a valid DNS name"), "{e}");
    }
}
