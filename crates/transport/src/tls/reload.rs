//! [`ReloadableCert`]: the server certificate behind an atomic swap, so it can be replaced
//! while the server runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::pem::{PemSource, certified_key};
use crate::error::Result;

/// The server's certificate and key, replaceable at run time: rustls asks it for the
/// certificate at every handshake ([`ResolvesServerCert`]), and [`reload`](Self::reload)
/// swaps in a new one.
///
/// A swap only affects handshakes that start after it: established connections keep the
/// keys they negotiated and are never dropped. A new certificate is fully checked first
/// (PEM parses, the key matches the leaf); if anything is wrong the old one stays and the
/// error says what. Clients that resume a session made before the swap skip the
/// certificate exchange (that is what resumption is for) and keep that session's identity
/// until it expires.
///
/// Get it from [`TlsServerConfig::cert`](super::TlsServerConfig::cert).
pub struct ReloadableCert {
    /// Where the certificate comes from; locked for a whole reload so reloads never
    /// interleave.
    source: Mutex<(PemSource, PemSource)>,
    /// What handshakes use now. A read lock per handshake is uncontended in practice
    /// (writes happen on reload only) and costs nanoseconds next to the handshake.
    current: RwLock<Arc<CertifiedKey>>,
    provider: Arc<CryptoProvider>,
    /// Successful swaps since creation.
    generation: AtomicU64,
}

impl ReloadableCert {
    /// Loads the first certificate; fails when it cannot be used.
    pub(crate) fn load(
        cert: PemSource,
        key: PemSource,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self> {
        let first = certified_key(&cert, &key, &provider)?;
        Ok(Self {
            source: Mutex::new((cert, key)),
            current: RwLock::new(Arc::new(first)),
            provider,
            generation: AtomicU64::new(0),
        })
    }

    /// Re-reads the certificate and key from where they came from (the files given to
    /// [`cert_files`](super::TlsServerConfigBuilder::cert_files), or the PEM last given)
    /// and swaps them in. On any error the current certificate stays in use.
    ///
    /// This reads files synchronously (a few KB); from async code on slow storage, call it
    /// in `spawn_blocking`.
    pub fn reload(&self) -> Result<()> {
        let source = self.source.lock().unwrap_or_else(PoisonError::into_inner);
        let new = certified_key(&source.0, &source.1, &self.provider)?;
        self.swap(new, source.0.path());
        Ok(())
    }

    /// Validates this PEM certificate chain and key, swaps them in, and makes them the
    /// source of later [`reload`](Self::reload)s. On error nothing changes.
    pub fn replace_pem(&self, cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<()> {
        let cert = PemSource::Bytes(cert_chain.as_ref().to_vec());
        let key = PemSource::Bytes(key.as_ref().to_vec());
        let mut source = self.source.lock().unwrap_or_else(PoisonError::into_inner);
        let new = certified_key(&cert, &key, &self.provider)?;
        self.swap(new, None);
        *source = (cert, key);
        Ok(())
    }

    fn swap(&self, new: CertifiedKey, file: Option<&Path>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(new);
        let generation = self.generation.fetch_add(1, Ordering::Release) + 1;
        tracing::info!(file = ?file, generation, "TLS certificate replaced");
    }

    /// The certificate and key new handshakes use.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times the certificate was replaced since the config was built.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The certificate and key files, when the certificate comes from files.
    pub fn files(&self) -> Option<(PathBuf, PathBuf)> {
        let source = self.source.lock().unwrap_or_else(PoisonError::into_inner);
        Some((
            source.0.path()?.to_path_buf(),
            source.1.path()?.to_path_buf(),
        ))
    }
}

impl ResolvesServerCert for ReloadableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl std::fmt::Debug for ReloadableCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = self.source.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("ReloadableCert")
            .field("cert", &source.0)
            .field("key", &source.1)
            .field("generation", &self.generation())
            .finish()
    }
}
