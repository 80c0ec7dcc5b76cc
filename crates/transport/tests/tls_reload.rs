//! Certificate hot reload: new handshakes get the new certificate, established
//! connections keep working, a broken file keeps the old certificate, and the watcher
//! notices changed files.

#[allow(dead_code)]
mod tls_support;

use std::path::Path;
use std::time::{Duration, SystemTime};

use ghostnet_transport::tls::{TlsDialer, TlsListener, TlsServerConfig, TlsStream};
use ghostnet_transport::{Dial, Error, MemoryDialer, MemoryNetwork, MemoryStream, Target};
use tls_support::{Ca, Leaf, TempDir, client, round_trip, server, spawn_echo};

fn target() -> Target {
    "api.test:443".parse().unwrap()
}

/// Writes `leaf`'s certificate and key to `dir`, stamping both with `mtime` so that a
/// change is visible whatever the file system's timestamp resolution.
fn write_pair(dir: &Path, cert_pem: &str, key_pem: &str, mtime: SystemTime) {
    for (name, text) in [("cert.pem", cert_pem), ("key.pem", key_pem)] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }
}

fn write_leaf(dir: &Path, leaf: &Leaf, mtime: SystemTime) {
    write_pair(dir, &leaf.cert_pem, &leaf.key_pem, mtime);
}

/// An echo server at `api.test:443` with the certificate files in `dir`; returns the
/// config (sharing the certificate with the listener) and a dialer.
fn serve_files(dir: &Path, ca: &Ca) -> (TlsServerConfig, TlsDialer<MemoryDialer>, MemoryNetwork) {
    let config = TlsServerConfig::builder()
        .cert_files(dir.join("cert.pem"), dir.join("key.pem"))
        .build()
        .unwrap();
    let net = MemoryNetwork::new();
    spawn_echo(TlsListener::new(
        net.listen(&target()).unwrap(),
        config.clone(),
    ));
    (config, full_handshakes(&net, ca), net)
}

/// A dialer that never resumes a session: a resumed session skips the certificate and
/// keeps the identity it was made with, so only full handshakes show a reload.
fn full_handshakes(net: &MemoryNetwork, ca: &Ca) -> TlsDialer<MemoryDialer> {
    TlsDialer::new(net.dialer(), client(ca).resumption(false).build().unwrap())
}

/// The leaf certificate the server presented on `s`.
fn leaf_of(s: &TlsStream<MemoryStream>) -> Vec<u8> {
    s.peer_certificates().unwrap()[0].as_ref().to_vec()
}

fn t0() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

#[tokio::test]
async fn reload_serves_new_handshakes_and_keeps_old_connections() {
    let ca = Ca::new("test CA");
    let (a, b) = (ca.server_leaf(&["api.test"]), ca.server_leaf(&["api.test"]));
    let dir = TempDir::new("reload");
    write_leaf(dir.path(), &a, t0());
    let (config, dialer, _net) = serve_files(dir.path(), &ca);

    let mut before = dialer.dial(&target()).await.unwrap();
    assert_eq!(leaf_of(&before), a.der);

    write_leaf(dir.path(), &b, t0() + Duration::from_secs(60));
    config.reload().unwrap();
    assert_eq!(config.cert().generation(), 1);

    // The connection made before the reload still works...
    round_trip(&mut before, b"still here").await;
    assert_eq!(leaf_of(&before), a.der);
    // ...and a new one gets the new certificate.
    let mut after = dialer.dial(&target()).await.unwrap();
    assert_eq!(leaf_of(&after), b.der);
    round_trip(&mut after, b"new cert").await;
}

#[tokio::test]
async fn a_broken_reload_keeps_the_old_certificate() {
    let ca = Ca::new("test CA");
    let (a, b) = (ca.server_leaf(&["api.test"]), ca.server_leaf(&["api.test"]));
    let dir = TempDir::new("badreload");
    write_leaf(dir.path(), &a, t0());
    let (config, dialer, _net) = serve_files(dir.path(), &ca);

    // Garbage instead of a certificate.
    write_pair(dir.path(), "not a certificate", &a.key_pem, t0());
    let err = config.reload().unwrap_err();
    assert!(matches!(err, Error::Certificate { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("cert.pem") && msg.contains("holds no certificate"),
        "{msg}"
    );

    // A new certificate with the old key (the key file was not replaced yet).
    write_pair(dir.path(), &b.cert_pem, &a.key_pem, t0());
    let msg = config.reload().unwrap_err().to_string();
    assert!(msg.contains("does not belong"), "{msg}");

    // A truncated certificate.
    let half = &b.cert_pem[..b.cert_pem.len() / 2];
    write_pair(dir.path(), half, &b.key_pem, t0());
    let msg = config.reload().unwrap_err().to_string();
    assert!(msg.contains("not valid PEM"), "{msg}");

    // Nothing was swapped: new connections still get the old certificate.
    assert_eq!(config.cert().generation(), 0);
    let s = dialer.dial(&target()).await.unwrap();
    assert_eq!(leaf_of(&s), a.der);
}

#[tokio::test]
async fn replace_pem_swaps_an_in_memory_certificate() {
    let ca = Ca::new("test CA");
    let (a, b) = (ca.server_leaf(&["api.test"]), ca.server_leaf(&["api.test"]));
    let config = server(&a).build().unwrap();
    let net = MemoryNetwork::new();
    spawn_echo(TlsListener::new(
        net.listen(&target()).unwrap(),
        config.clone(),
    ));
    let dialer = full_handshakes(&net, &ca);

    assert!(config.cert().replace_pem("junk", "junk").is_err());
    assert_eq!(leaf_of(&dialer.dial(&target()).await.unwrap()), a.der);

    config.cert().replace_pem(&b.cert_pem, &b.key_pem).unwrap();
    assert_eq!(leaf_of(&dialer.dial(&target()).await.unwrap()), b.der);
    // reload() re-reads the PEM given last, which still works.
    config.reload().unwrap();
    assert_eq!(config.cert().generation(), 2);
    assert!(config.cert().files().is_none());
}

/// Waits (real time, bounded) until the certificate's generation reaches `n`.
async fn wait_for_generation(config: &TlsServerConfig, n: u64) {
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while config.cert().generation() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "the watcher did not reload (generation {})",
        config.cert().generation()
    );
}

#[tokio::test]
async fn the_watcher_reloads_changed_files_and_skips_broken_ones() {
    let ca = Ca::new("test CA");
    let (a, b, c) = (
        ca.server_leaf(&["api.test"]),
        ca.server_leaf(&["api.test"]),
        ca.server_leaf(&["api.test"]),
    );
    let dir = TempDir::new("watch");
    write_leaf(dir.path(), &a, t0());
    let (config, dialer, _net) = serve_files(dir.path(), &ca);
    let watcher = config.watch(Duration::from_millis(10));
    let mut before = dialer.dial(&target()).await.unwrap();

    write_leaf(dir.path(), &b, t0() + Duration::from_secs(60));
    wait_for_generation(&config, 1).await;
    assert_eq!(leaf_of(&dialer.dial(&target()).await.unwrap()), b.der);
    round_trip(&mut before, b"untouched by the reload").await;

    // A broken write is skipped; the next good one is picked up.
    write_pair(
        dir.path(),
        "broken",
        &b.key_pem,
        t0() + Duration::from_secs(120),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    write_leaf(dir.path(), &c, t0() + Duration::from_secs(180));
    wait_for_generation(&config, 2).await;
    assert_eq!(
        config.cert().generation(),
        2,
        "the broken file was never swapped in"
    );
    assert_eq!(leaf_of(&dialer.dial(&target()).await.unwrap()), c.der);

    // A stopped watcher reloads nothing more.
    watcher.stop();
    write_leaf(dir.path(), &a, t0() + Duration::from_secs(240));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(config.cert().generation(), 2);
}
