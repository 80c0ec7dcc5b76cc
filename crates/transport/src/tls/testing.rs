//! A throwaway certificate authority for tests, examples and benchmarks (feature
//! `testing`): a CA and a server certificate it signed for `localhost` and `127.0.0.1`.
//!
//! ```
//! use ghostnet_transport::tls::testing::TestPki;
//! use ghostnet_transport::tls::{TlsClientConfig, TlsServerConfig};
//!
//! let pki = TestPki::localhost();
//! let server = TlsServerConfig::builder().cert_pem(&pki.cert_pem, &pki.key_pem).build();
//! assert!(server.is_ok());
//! let client = TlsClientConfig::builder()
//!     .webpki_roots(false)
//!     .native_roots(false)
//!     .extra_ca_pem(&pki.ca_pem)
//!     .build();
//! assert!(client.is_ok());
//! ```

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A CA certificate and a leaf certificate with its key, all PEM.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TestPki {
    /// The CA certificate: what clients trust.
    pub ca_pem: String,
    /// The server certificate, signed by the CA.
    pub cert_pem: String,
    /// The server certificate's private key (PKCS#8).
    pub key_pem: String,
}

impl TestPki {
    /// A fresh CA and a server certificate for `localhost` and `127.0.0.1`.
    ///
    /// # Panics
    ///
    /// When rcgen cannot generate a key or sign, which only a broken crypto provider does
    /// (this is test code; a panic is the clearest failure there).
    pub fn localhost() -> Self {
        Self::for_names(&["localhost", "127.0.0.1"])
    }

    /// A fresh CA and a server certificate for `names` (DNS names or IP addresses).
    ///
    /// # Panics
    ///
    /// As [`localhost`](Self::localhost), and for a name rcgen rejects.
    pub fn for_names(names: &[&str]) -> Self {
        let ca_key = KeyPair::generate().expect("generate CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "ghostnet test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("self-sign CA");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("generate server key");
        let mut leaf =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .expect("server certificate params");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = leaf
            .signed_by(&key, &issuer)
            .expect("sign server certificate");
        Self {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}
