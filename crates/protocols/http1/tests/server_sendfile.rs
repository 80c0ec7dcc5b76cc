//! File bodies: sendfile(2) on TCP, the portable path on other streams; both byte-exact.

mod support;

use std::io::Write;
use std::sync::Arc;

use ghostnet_http1::{Body, Server};
use http::{Method, Request, Response};
use support::{Client, MemServer, TestServer};

fn temp_file(len: usize) -> (std::path::PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
    let path = std::env::temp_dir().join(format!(
        "ghostnet-http1-sendfile-{}-{len}",
        std::process::id()
    ));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&data)
        .unwrap();
    (path, data)
}

fn file_service(path: Arc<std::path::PathBuf>) -> impl ghostnet_http1::Service {
    move |req: Request<Body>| {
        let path = path.clone();
        async move {
            let file = std::fs::File::open(&*path).unwrap();
            let body = if req.uri().path() == "/range" {
                Body::file_range(file, 10, 1000)
            } else {
                Body::file(file).unwrap()
            };
            Response::new(body)
        }
    }
}

#[tokio::test]
async fn file_over_tcp_uses_sendfile_and_is_exact() {
    let (path, data) = temp_file(3 * 1024 * 1024 + 17);
    let server = TestServer::start(file_service(Arc::new(path.clone()))).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /range HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(
        r.header("content-length"),
        Some(data.len().to_string().as_str())
    );
    assert!(r.body == data, "file body differs");
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(&r.body[..], &data[10..1010]);
    let r = c.read(Method::HEAD).await.unwrap();
    assert!(r.body.is_empty());
    server.stop().await;
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn file_over_memory_stream_uses_the_portable_path() {
    let (path, data) = temp_file(200_000);
    let server = MemServer::start(Server::builder(), file_service(Arc::new(path.clone())));
    let mut c = server.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let r = c.read(Method::GET).await.unwrap();
    assert!(r.body == data, "file body differs");
    std::fs::remove_file(path).unwrap();
}
