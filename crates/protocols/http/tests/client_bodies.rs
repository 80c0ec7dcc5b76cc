//! Request and response bodies: JSON both ways, streamed responses read as they arrive,
//! streamed request bodies, buffering limits.

mod client_support;

use bytes::Bytes;
use client_support::{Speaks, State, router, serve};
use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_http::{Body, Error};
use ghostnet_transport::MemoryNetwork;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Item {
    name: String,
    count: u32,
}

fn clients(net: &MemoryNetwork) -> Vec<(Protocol, HttpClient<ghostnet_transport::MemoryDialer>)> {
    [(Protocol::Http11, false), (Protocol::H2, true)]
        .into_iter()
        .map(|(p, h2c)| {
            let config = ClientConfig::default().h2_prior_knowledge(h2c);
            (p, HttpClient::with_dialer(config, net.dialer()).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn json_round_trips() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    for (protocol, client) in clients(&net) {
        let item = Item {
            name: "thing".into(),
            count: 3,
        };
        let r = client
            .post("http://api.test/echo")
            .json(&item)
            .await
            .unwrap();
        assert_eq!(r.protocol(), protocol);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.json::<Item>().await.unwrap(), item);

        let r = client
            .post("http://api.test/echo")
            .body("{oops")
            .await
            .unwrap();
        let e = r.json::<Item>().await.unwrap_err();
        assert!(matches!(e, Error::Json(_)), "{e:?}");
        assert!(e.to_string().starts_with("json:"), "{e}");
    }
    shutdown.shutdown().await;
}

#[tokio::test]
async fn response_bodies_stream_as_they_arrive() {
    let net = MemoryNetwork::new();
    let state = State::default();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(state.clone()));
    for (protocol, client) in clients(&net) {
        let (open, gate) = tokio::sync::oneshot::channel();
        *state.gate.lock().await = Some(gate);
        let mut r = client.get("http://api.test/stream").await.unwrap();
        assert_eq!(r.protocol(), protocol);
        // The server holds its second chunk until the first has been read here.
        assert_eq!(r.chunk().await.unwrap().unwrap(), "first");
        open.send(()).unwrap();
        let mut rest = Vec::new();
        while let Some(chunk) = r.chunk().await {
            rest.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(rest, b"second");
    }
    shutdown.shutdown().await;
}

#[tokio::test]
async fn streamed_request_bodies_and_headers_arrive() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    for (_, client) in clients(&net) {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            for part in ["a", "b", "c"] {
                tx.send_data(Bytes::from(part)).await.unwrap();
            }
        });
        let r = client
            .post("http://api.test/echo")
            .header("content-type", "text/plain")
            .body_stream(body)
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "text/plain");
        assert_eq!(r.bytes().await.unwrap(), "abc");
    }
    shutdown.shutdown().await;
}

#[tokio::test]
async fn buffering_stops_at_the_limit() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    for h2c in [false, true] {
        let config = ClientConfig::default()
            .h2_prior_knowledge(h2c)
            .max_buffered_body_bytes(1000);
        let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
        let ok = client.get("http://api.test/big/1000").await.unwrap();
        assert_eq!(ok.bytes().await.unwrap().len(), 1000);
        let big = client.get("http://api.test/big/5000").await.unwrap();
        let e = big.bytes().await.unwrap_err();
        assert!(matches!(e, Error::BodyTooLarge { limit: 1000 }), "{e:?}");
        // A body can raise its own limit.
        let big = client.get("http://api.test/big/5000").await.unwrap();
        let body = big.into_body().with_limit(10_000).bytes().await.unwrap();
        assert_eq!(body.len(), 5000);
    }
    shutdown.shutdown().await;
}
