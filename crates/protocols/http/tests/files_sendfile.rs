//! A file body keeps HTTP/1.1's sendfile path on plain TCP (protocol detection peeks
//! instead of reading, so the server gets the `TcpStream` itself), and takes the
//! portable path (reads on the blocking pool) over TLS and HTTP/2.
//!
//! How it is told apart: the runtime has one blocking thread, and the test keeps it
//! busy. The portable path needs that thread for every 64 KiB read, sendfile does not,
//! so only sendfile can finish a download while the thread is held.

mod support;

use std::time::Duration;

use ghostnet_http::{Body, Request, Response, Router, get};

const SIZE: usize = 4 << 20;

fn content() -> Vec<u8> {
    (0..SIZE).map(|i| (i % 251) as u8).collect()
}

#[test]
fn sendfile_on_plain_tcp_portable_path_elsewhere() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, content()).unwrap();
    let handler_path = path.clone();
    let router = Router::new().route(
        "/big",
        get(move |_req: Request| {
            // Opened right here (not on the blocking pool, which the test holds).
            let file = std::fs::File::open(&handler_path).unwrap();
            async move { Response::new(Body::file(file).unwrap()) }
        }),
    );
    rt.block_on(async {
        let plain = support::start(router.clone()).await;
        let tls = support::start_tls(router).await;

        // Hold the only blocking thread.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let holder = tokio::task::spawn_blocking(move || {
            let _ = started_tx.send(());
            let _ = held.recv();
        });
        started.await.unwrap();

        // Plain TCP + HTTP/1.1: sendfile, so it completes. (If it took the portable
        // path it would wait for the held thread, and the timeout would fail the test.)
        let res = tokio::time::timeout(Duration::from_secs(60), plain.h1("GET", "/big", &[]))
            .await
            .expect("a file download over plain TCP needed the blocking pool: no sendfile");
        assert_eq!(res.status, 200);
        assert_eq!(res.body.len(), SIZE);
        assert!(res.body == content(), "sendfile sent the file's bytes");

        release.send(()).unwrap();
        holder.await.unwrap();

        // TLS: the bytes must go through the TLS stream (the portable path); sendfile
        // would put cleartext on the wire and break the session.
        let mut stream = tls.tls(&["http/1.1"]).await;
        let res = support::h1_request(&mut stream, "GET", "/big", &[]).await;
        assert_eq!(res.status, 200);
        assert!(res.body == content(), "TLS: the file's bytes, encrypted");

        // HTTP/2 (cleartext): streamed as DATA frames.
        let h2 = plain.h2().await;
        let res = support::h2_request(&h2, "GET", "/big", &[]).await;
        assert!(res.body == content(), "HTTP/2: the file's bytes");
        drop(h2);
        plain.stop().await;
        tls.stop().await;
    });
}
