//! Mirrors on the in-memory network (ghostnet-pkgmgr's `mirror::testing` server) and
//! small helpers for the download tests.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use ghostnet_http1::client::Client;
use ghostnet_transport::{MemoryDialer, MemoryNetwork};

pub use ghostnet_pkgmgr::mirror::testing::{Behaviour, MirrorServer as Mirror};

/// The network and a client that dials into it.
pub struct Net {
    pub net: MemoryNetwork,
    pub client: Client<MemoryDialer>,
}

impl Net {
    pub fn new() -> Self {
        let net = MemoryNetwork::new();
        let client = Client::builder().build_with_dialer(net.dialer()).unwrap();
        Self { net, client }
    }

    /// Serves `files` (path -> content) at `host` with `behaviour`, in 8 KiB pieces.
    pub fn mirror(&self, host: &str, files: Vec<(&str, Bytes)>, behaviour: Behaviour) -> Mirror {
        self.mirror_paced(host, files, behaviour, 8 * 1024, Duration::ZERO)
    }

    /// As [`mirror`](Self::mirror), each body sent in `piece`-byte pieces with `pause`
    /// between them.
    pub fn mirror_paced(
        &self,
        host: &str,
        files: Vec<(&str, Bytes)>,
        behaviour: Behaviour,
        piece: usize,
        pause: Duration,
    ) -> Mirror {
        let listener = self
            .net
            .listen(&format!("{host}:80").parse().unwrap())
            .unwrap();
        let builder = files
            .into_iter()
            .fold(Mirror::builder(), |b, (path, data)| b.file(path, data));
        builder
            .behaviour(behaviour)
            .paced(piece, pause)
            .serve_on(listener, format!("http://{host}/"))
    }
}

/// `a` as primary and `b` as fallback, without exploration, so the order is fixed.
pub fn primary_then(a: &Mirror, b: &Mirror) -> ghostnet_pkgmgr::mirror::MirrorManager {
    ghostnet_pkgmgr::mirror::MirrorManager::builder()
        .primary(a.base())
        .fallback(b.base())
        .exploration(0.0)
        .build()
        .unwrap()
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Bytes {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// A fresh, empty directory for one test.
pub fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ghostnet-dl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    ghostnet_pkgmgr::download::to_hex(&Sha256::digest(data))
}

pub fn part_of(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}
