//! Reading certificates, keys and CAs from PEM files or memory, with errors that say which
//! file is wrong and how.

use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// Where PEM text comes from: a file (re-read on every load, which is what reload needs)
/// or bytes given by the program.
#[derive(Clone)]
pub(crate) enum PemSource {
    File(PathBuf),
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for PemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Never print key material.
            Self::File(p) => write!(f, "File({})", p.display()),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

impl PemSource {
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Self::File(p) => Some(p),
            Self::Bytes(_) => None,
        }
    }

    /// An [`Error::Certificate`] about this source.
    pub(crate) fn error(&self, reason: impl Into<String>) -> Error {
        Error::Certificate {
            path: self.path().map(Path::to_path_buf),
            reason: reason.into(),
        }
    }

    fn read(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            Self::Bytes(b) => Ok(b.as_slice().into()),
            Self::File(p) => std::fs::read(p)
                .map(Into::into)
                .map_err(|e| self.error(format!("could not be read: {e}"))),
        }
    }

    /// Every `CERTIFICATE` block, in order (leaf first for a chain). At least one.
    pub(crate) fn certs(&self) -> Result<Vec<CertificateDer<'static>>> {
        let text = self.read()?;
        let certs = CertificateDer::pem_slice_iter(&text)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.error(format!("is not valid PEM: {}", pem_reason(&e))))?;
        if certs.is_empty() {
            let hint = if PrivateKeyDer::from_pem_slice(&text).is_ok() {
                "; it holds a private key: are the certificate and key swapped?"
            } else {
                "; expected PEM text starting with -----BEGIN CERTIFICATE-----"
            };
            return Err(self.error(format!("holds no certificate{hint}")));
        }
        Ok(certs)
    }

    /// The first private key (PKCS#8, PKCS#1 or SEC1).
    pub(crate) fn key(&self) -> Result<PrivateKeyDer<'static>> {
        let text = self.read()?;
        PrivateKeyDer::from_pem_slice(&text).map_err(|e| match e {
            pem::Error::NoItemsFound => {
                let hint = if CertificateDer::pem_slice_iter(&text).any(|c| c.is_ok()) {
                    "; it holds a certificate: are the certificate and key swapped?"
                } else {
                    "; expected a PEM block such as -----BEGIN PRIVATE KEY-----"
                };
                self.error(format!("holds no private key{hint}"))
            }
            other => self.error(format!("is not valid PEM: {}", pem_reason(&other))),
        })
    }

    /// Adds every certificate of this source to `roots` as a trust anchor.
    pub(crate) fn add_cas_to(&self, roots: &mut RootCertStore) -> Result<()> {
        for cert in self.certs()? {
            roots.add(cert).map_err(|e| {
                self.error(format!("holds a certificate that is not a usable CA: {e}"))
            })?;
        }
        Ok(())
    }
}

/// Loads a certificate chain and its key into a [`CertifiedKey`], checking that the key
/// parses and belongs to the leaf certificate.
pub(crate) fn certified_key(
    cert: &PemSource,
    key: &PemSource,
    provider: &CryptoProvider,
) -> Result<CertifiedKey> {
    let chain = cert.certs()?;
    let key_der = key.key()?;
    CertifiedKey::from_der(chain, key_der, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => Error::Certificate {
            path: key.path().map(Path::to_path_buf),
            reason: format!(
                "the private key does not belong to the certificate{}",
                cert.path()
                    .map(|p| format!(" in {}", p.display()))
                    .unwrap_or_default()
            ),
        },
        rustls::Error::InvalidCertificate(_) => {
            cert.error(format!("holds a malformed certificate: {e}"))
        }
        other => key.error(format!("the private key cannot be used: {other}")),
    })
}

fn pem_reason(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a block has no end line {:?} (truncated file?)",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => {
            format!("malformed BEGIN line {:?}", String::from_utf8_lossy(line))
        }
        pem::Error::Base64Decode(d) => format!("a block is not valid base64 ({d})"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_PEM: &[u8] = b"hello world\n";
    const TRUNCATED: &[u8] = b"-----BEGIN CERTIFICATE-----\nMIIB\n";

    fn bytes(b: &[u8]) -> PemSource {
        PemSource::Bytes(b.to_vec())
    }

    #[test]
    fn missing_file_names_the_path() {
        let src = PemSource::File("/nonexistent/ghostnet/cert.pem".into());
        let e = src.certs().unwrap_err().to_string();
        assert!(
            e.contains("/nonexistent/ghostnet/cert.pem") && e.contains("could not be read"),
            "{e}"
        );
    }

    #[test]
    fn no_certificate_and_no_key_are_explained() {
        let e = bytes(NOT_PEM).certs().unwrap_err().to_string();
        assert!(
            e.contains("holds no certificate") && e.contains("BEGIN CERTIFICATE"),
            "{e}"
        );
        let e = bytes(NOT_PEM).key().unwrap_err().to_string();
        assert!(e.contains("holds no private key"), "{e}");
    }

    #[test]
    fn truncated_pem_is_reported() {
        let e = bytes(TRUNCATED).certs().unwrap_err().to_string();
        assert!(
            e.contains("not valid PEM") && e.contains("truncated"),
            "{e}"
        );
    }

    #[test]
    fn garbage_certificate_is_not_a_ca() {
        let pem = b"-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        let mut roots = RootCertStore::empty();
        let e = bytes(pem).add_cas_to(&mut roots).unwrap_err().to_string();
        assert!(e.contains("not a usable CA"), "{e}");
    }

    #[test]
    fn debug_never_shows_bytes() {
        let s = format!("{:?}", bytes(b"-----BEGIN PRIVATE KEY-----"));
        assert_eq!(s, "Bytes(27 bytes)");
    }
}
