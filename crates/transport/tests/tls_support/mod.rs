//! Shared by the `tls_*` integration tests: a throwaway PKI made with rcgen, a minimal TCP
//! `Dial`/`Listen` over tokio (the crate's own TCP transport lands separately), an echo
//! server, and temporary directories.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use ghostnet_transport::tls::{TlsClientConfig, TlsClientConfigBuilder, TlsServerConfig};
use ghostnet_transport::{Dial, Error, Listen, Result, Stream, Target};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A test certificate authority.
pub(crate) struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub(crate) cert_pem: String,
}

/// A certificate signed by a [`Ca`], with its key.
pub(crate) struct Leaf {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    pub(crate) der: Vec<u8>,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        Self {
            issuer: Issuer::new(params, key),
            cert_pem: cert.pem(),
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub(crate) fn server_leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |p| {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        })
    }

    /// A client certificate.
    pub(crate) fn client_leaf(&self, name: &str) -> Leaf {
        self.leaf_with(&[name], |p| {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        })
    }

    /// A certificate for `names`, after `edit` has changed its parameters.
    pub(crate) fn leaf_with(
        &self,
        names: &[&str],
        edit: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        static SERIAL: AtomicU32 = AtomicU32::new(1);
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.serial_number = Some(SerialNumber::from(u64::from(
            SERIAL.fetch_add(1, Ordering::Relaxed),
        )));
        edit(&mut params);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// A server config with `leaf`, to adjust further.
pub(crate) fn server(leaf: &Leaf) -> ghostnet_transport::tls::TlsServerConfigBuilder {
    TlsServerConfig::builder().cert_pem(&leaf.cert_pem, &leaf.key_pem)
}

/// A client config that trusts only `ca`, to adjust further.
pub(crate) fn client(ca: &Ca) -> TlsClientConfigBuilder {
    TlsClientConfig::builder()
        .webpki_roots(false)
        .extra_ca_pem(&ca.cert_pem)
}

/// Dials with tokio's `TcpStream::connect`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpDial;

impl Dial for TcpDial {
    type Stream = TcpStream;

    async fn dial(&self, target: &Target) -> Result<TcpStream> {
        TcpStream::connect(target.to_string())
            .await
            .map_err(|source| Error::Connect {
                target: target.to_string(),
                source,
            })
    }
}

/// Accepts with tokio's `TcpListener`.
#[derive(Debug)]
pub(crate) struct TcpListen(pub(crate) TcpListener);

impl TcpListen {
    pub(crate) async fn bind() -> (Self, SocketAddr) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        (Self(l), addr)
    }
}

impl Listen for TcpListen {
    type Stream = TcpStream;

    async fn accept(&self) -> Result<(TcpStream, SocketAddr)> {
        self.0.accept().await.map_err(|e| Error::io("accept", e))
    }
}

/// Dials `target` and accepts the connection on `listener`, concurrently. Panics instead
/// of hanging when the accept never comes (after 60 s, virtual time under a paused clock).
pub(crate) async fn connect<D: Dial, L: Listen>(
    dialer: &D,
    listener: &L,
    target: &Target,
) -> (D::Stream, L::Stream) {
    let both = async { tokio::join!(dialer.dial(target), listener.accept()) };
    let (c, s) = tokio::time::timeout(std::time::Duration::from_secs(60), both)
        .await
        .expect("dial + accept did not finish");
    (c.unwrap(), s.unwrap().0)
}

/// Serves `listener` in the background: every connection echoes what it reads.
pub(crate) fn spawn_echo<L: Listen>(listener: L) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = s.read(&mut buf).await {
                    if s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}

/// Writes `msg` and expects it back.
pub(crate) async fn round_trip<S: Stream>(s: &mut S, msg: &[u8]) {
    s.write_all(msg).await.unwrap();
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).await.unwrap();
    assert_eq!(back, msg);
}

/// A directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ghostnet-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
