//! TLS over any [`Dial`](crate::Dial) / [`Listen`](crate::Listen), with rustls and the
//! `ring` crypto provider.
//!
//! - Client: build a [`TlsClientConfig`] (trusted roots, extra CA, SNI, ALPN, client
//!   certificate, handshake timeout) and wrap any dialer in a [`TlsDialer`].
//! - Server: build a [`TlsServerConfig`] (certificate and key from PEM files or memory,
//!   ALPN, client authentication, handshake timeout, concurrent-handshake limit) and wrap
//!   any listener in a [`TlsListener`]. Handshakes run concurrently, off the accept path;
//!   failed ones are logged and skipped.
//! - Hot reload: [`TlsServerConfig::reload`] re-reads the certificate files (a broken file
//!   keeps the old certificate), [`TlsServerConfig::watch`] does it when they change.
//!   Established connections are not touched; new handshakes get the new certificate.
//!
//! Both sides yield a [`TlsStream`], whose [`info`](crate::Stream::info) reports transport
//! `tls`, the inner stream's addresses and the negotiated ALPN protocol.
//!
//! Every config is built with the `ring` provider explicitly, never with a process-wide
//! default, so linking another rustls user cannot change what ghostnet negotiates.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use ghostnet_transport::tls::{TlsClientConfig, TlsDialer, TlsListener, TlsServerConfig};
//! use ghostnet_transport::{Dial, Listen, MemoryNetwork, Stream, Target};
//!
//! // A self-signed certificate for the example; a real server uses cert_files(...).
//! let key = rcgen::KeyPair::generate().unwrap();
//! let cert = rcgen::CertificateParams::new(vec!["api.test".into()]).unwrap()
//!     .self_signed(&key).unwrap();
//!
//! let net = MemoryNetwork::new(); // or TCP: any Dial / Listen works
//! let target: Target = "api.test:443".parse().unwrap();
//! let server = TlsServerConfig::builder()
//!     .cert_pem(cert.pem(), key.serialize_pem())
//!     .alpn(["h2", "http/1.1"])
//!     .build()
//!     .unwrap();
//! let listener = TlsListener::new(net.listen(&target).unwrap(), server);
//!
//! let client = TlsClientConfig::builder()
//!     .extra_ca_pem(cert.pem()) // trust our test certificate
//!     .alpn(["h2", "http/1.1"])
//!     .build()
//!     .unwrap();
//! let dialer = TlsDialer::new(net.dialer(), client);
//! let (stream, accepted) = tokio::join!(dialer.dial(&target), listener.accept());
//! let stream = stream.unwrap();
//! assert_eq!(stream.info().transport, "tls");
//! assert_eq!(stream.info().alpn.as_deref(), Some(&b"h2"[..]));
//! assert_eq!(stream.get_ref().info().transport, "memory");
//! # drop(accepted);
//! # });
//! ```

mod client;
mod describe;
mod dialer;
mod listener;
mod pem;
mod reload;
mod server;
mod stream;
#[cfg(feature = "testing")]
pub mod testing;
mod vectored;
mod watch;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;

pub use client::{TlsClientConfig, TlsClientConfigBuilder};
pub use dialer::TlsDialer;
pub use listener::{TlsListener, TlsListenerStats};
pub use reload::ReloadableCert;
pub use server::{ClientAuth, TlsServerConfig, TlsServerConfigBuilder};
pub use stream::TlsStream;
pub use watch::CertWatcher;

/// The rustls version ghostnet is built on, for code that needs its types directly
/// (e.g. [`TlsClientConfig::from_rustls`]).
pub use rustls;

/// How long a TLS handshake may take, on either side, unless configured otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many server handshakes a [`TlsListener`] runs at once unless configured otherwise.
/// Connections beyond it wait in the inner listener's backlog.
pub const DEFAULT_MAX_HANDSHAKES: usize = 256;

/// How often a [`CertWatcher`] checks the certificate files unless told otherwise.
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(30);

/// The one crypto provider of ghostnet: `ring` (see docs/architecture.md for why), shared
/// by every config this module builds.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Checks an ALPN list: every protocol name must be 1 to 255 bytes (RFC 7301).
pub(crate) fn check_alpn(alpn: &[Vec<u8>]) -> crate::Result<()> {
    match alpn.iter().find(|p| p.is_empty() || p.len() > 255) {
        Some(bad) => Err(crate::Error::InvalidConfig {
            field: "alpn",
            reason: format!(
                "protocol names must be 1 to 255 bytes long, got {} bytes ({:?})",
                bad.len(),
                String::from_utf8_lossy(&bad[..bad.len().min(32)])
            ),
        }),
        None => Ok(()),
    }
}

/// Checks a handshake timeout: zero would fail every handshake.
pub(crate) fn check_timeout(timeout: Duration) -> crate::Result<()> {
    if timeout.is_zero() {
        return Err(crate::Error::InvalidConfig {
            field: "handshake_timeout",
            reason: format!(
                "must be greater than zero (the default is {DEFAULT_HANDSHAKE_TIMEOUT:?})"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_names_are_checked() {
        assert!(check_alpn(&[b"h2".to_vec(), b"http/1.1".to_vec()]).is_ok());
        let e = check_alpn(&[Vec::new()]).unwrap_err().to_string();
        assert!(e.contains("`alpn`") && e.contains("1 to 255"), "{e}");
        assert!(check_alpn(&[vec![b'a'; 256]]).is_err());
    }

    #[test]
    fn zero_timeout_is_refused() {
        let e = check_timeout(Duration::ZERO).unwrap_err().to_string();
        assert!(e.contains("handshake_timeout"), "{e}");
        assert!(check_timeout(Duration::from_millis(1)).is_ok());
    }

    #[test]
    fn provider_is_ring_and_shared() {
        assert!(Arc::ptr_eq(&provider(), &provider()));
        // ring offers TLS 1.3 and TLS 1.2 suites, ECDSA/Ed25519/RSA key loading.
        assert!(!provider().cipher_suites.is_empty());
    }
}
