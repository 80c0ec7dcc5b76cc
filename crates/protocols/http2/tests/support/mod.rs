//! Helpers shared by the integration tests: start a server over TCP or the in-memory
//! network, speak raw frames to it, or use the crate's own client.
#![allow(dead_code, unreachable_pub)]

pub mod frames;
pub mod h1shim;

use std::net::SocketAddr;
use std::time::Duration;

use ghostnet_http2::{Body, Server, Service, Settings, client};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{BoxStream, Dial, MemoryNetwork, Target, TcpListener, TcpOptions};
use http::{Request, Response, StatusCode};

pub use frames::Peer;

/// Where a test server listens.
pub enum Addr {
    Tcp(SocketAddr),
    Memory(MemoryNetwork, Target),
}

/// A server running until [`stop`](Self::stop).
pub struct TestServer {
    pub addr: Addr,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<ghostnet_http2::Result<()>>,
}

impl TestServer {
    /// On 127.0.0.1:0.
    pub async fn tcp<S: Service>(settings: Settings, service: S) -> Self {
        let listener =
            TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
        let addr = listener.local_addr();
        let shutdown = Shutdown::with_deadline(Duration::from_secs(5));
        let server = Server::new(settings).unwrap();
        let task = tokio::spawn(server.serve(listener, service, shutdown.clone()));
        Self {
            addr: Addr::Tcp(addr),
            shutdown,
            task,
        }
    }

    /// On the in-memory network (for paused-clock tests).
    pub async fn memory<S: Service>(settings: Settings, service: S) -> Self {
        Self::memory_with_deadline(settings, service, Duration::from_secs(5)).await
    }

    pub async fn memory_with_deadline<S: Service>(
        settings: Settings,
        service: S,
        deadline: Duration,
    ) -> Self {
        let net = MemoryNetwork::new();
        let target: Target = "h2.test:80".parse().unwrap();
        let listener = net.listen(&target).unwrap();
        let shutdown = Shutdown::with_deadline(deadline);
        let server = Server::new(settings).unwrap();
        let task = tokio::spawn(server.serve(listener, service, shutdown.clone()));
        Self {
            addr: Addr::Memory(net, target),
            shutdown,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        match &self.addr {
            Addr::Tcp(a) => a.port(),
            Addr::Memory(..) => panic!("memory servers have no port"),
        }
    }

    /// A new connection to the server.
    pub async fn connect(&self) -> BoxStream {
        match &self.addr {
            Addr::Tcp(a) => Box::new(tokio::net::TcpStream::connect(a).await.unwrap()),
            Addr::Memory(net, t) => Box::new(net.dialer().dial(t).await.unwrap()),
        }
    }

    /// A raw-frame peer on a new connection.
    pub async fn raw(&self) -> Peer<BoxStream> {
        Peer::new(self.connect().await)
    }

    /// A raw-frame peer that has done the connection start.
    pub async fn raw_ready(&self) -> Peer<BoxStream> {
        let mut p = self.raw().await;
        p.handshake().await;
        p
    }

    /// This crate's client on a new connection.
    pub async fn client(&self) -> client::SendRequest {
        client::connect(self.connect().await, &Settings::default())
            .await
            .unwrap()
    }

    /// Shuts down and checks the drain was clean. Drop raw peers first: a graceful
    /// shutdown waits for the peer to answer h2's PING, which an idle raw peer never
    /// reads.
    pub async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap().unwrap();
        let report = self.shutdown.shutdown().await;
        assert!(report.is_clean(), "{report}");
    }
}

/// `GET http://test<path>` with an empty body.
pub fn get(path: &str) -> Request<Body> {
    Request::get(format!("http://test{path}"))
        .body(Body::empty())
        .unwrap()
}

/// Answers `Hello, World!` to everything, echoes POST bodies (whole, within the default
/// limit; too large becomes 413), and never answers `/hang` (without reading its body).
pub async fn hello_or_echo(req: Request<Body>) -> Response<Body> {
    if req.uri().path() == "/hang" {
        return std::future::pending().await;
    }
    if req.method() == http::Method::POST {
        return match req.into_body().collect().await {
            Ok(body) => Response::new(Body::from(body)),
            Err(ghostnet_http2::Error::BodyTooLarge { .. }) => {
                status(StatusCode::PAYLOAD_TOO_LARGE)
            }
            Err(_) => status(StatusCode::BAD_REQUEST),
        };
    }
    Response::new(Body::from("Hello, World!"))
}

pub fn status(code: StatusCode) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .unwrap()
}
