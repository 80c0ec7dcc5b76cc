//! Helpers shared by the integration tests: start a server, speak raw bytes to it, read
//! responses with the crate's own response decoder.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ghostnet_http1::codec::{Event, ResponseDecoder, ResponseHead};
use ghostnet_http1::{Body, Limits, Server, ServerBuilder, Service};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{TcpListener, TcpOptions};
use http::{Method, Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Guard against hangs in real-clock tests: no assertion depends on it.
pub const GUARD: Duration = Duration::from_secs(20);

/// A server running on 127.0.0.1:0.
pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<ghostnet_http1::Result<()>>,
}

impl TestServer {
    pub async fn start<S: Service>(service: S) -> Self {
        Self::start_with(Server::builder(), service).await
    }

    pub async fn start_with<S: Service>(builder: ServerBuilder, service: S) -> Self {
        let listener =
            TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
        let addr = listener.local_addr();
        let shutdown = Shutdown::with_deadline(Duration::from_secs(5));
        let task = tokio::spawn(builder.build().serve(listener, service, shutdown.clone()));
        Self {
            addr,
            shutdown,
            task,
        }
    }

    pub async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap().unwrap();
        let report = self.shutdown.shutdown().await;
        assert!(report.is_clean(), "{report}");
    }
}

/// Echoes the request body (read whole, within the default limit); errors become
/// their status.
pub async fn echo(req: Request<Body>) -> Response<Body> {
    match req.into_body().collect().await {
        Ok(b) => Response::new(Body::from(b)),
        Err(e) => Response::builder()
            .status(e.status().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .body(Body::from(e.to_string()))
            .unwrap(),
    }
}

/// Answers `hello` without reading the body.
pub async fn hello(_req: Request<Body>) -> Response<Body> {
    Response::new(Body::from("hello"))
}

/// A parsed response: head, body, trailers.
#[derive(Debug)]
pub struct Reply {
    pub head: ResponseHead,
    pub body: Bytes,
}

impl Reply {
    pub fn status(&self) -> StatusCode {
        self.head.status
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Reads responses from a connection with ghostnet's own decoder.
pub struct Client<S> {
    pub io: S,
    buf: BytesMut,
    decoder: ResponseDecoder,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(io: S) -> Self {
        Self {
            io,
            buf: BytesMut::new(),
            decoder: ResponseDecoder::new(Limits::default()),
        }
    }

    pub async fn send(&mut self, raw: &[u8]) {
        self.io.write_all(raw).await.unwrap();
    }

    /// Reads one final response (skipping 1xx interim ones unless `interim`).
    pub async fn read(&mut self, method: Method) -> Option<Reply> {
        self.read_inner(method, false).await
    }

    /// Reads the next response head, interim or final, with its body.
    pub async fn read_any(&mut self, method: Method) -> Option<Reply> {
        self.read_inner(method, true).await
    }

    async fn read_inner(&mut self, method: Method, interim: bool) -> Option<Reply> {
        self.decoder.expect(method);
        let mut head = None;
        let mut body = BytesMut::new();
        loop {
            let ev = self.decoder.decode(&mut self.buf).expect("valid response");
            match ev {
                Event::Head(h) => {
                    if h.status.is_informational() && h.status != StatusCode::SWITCHING_PROTOCOLS {
                        if interim {
                            return Some(Reply {
                                head: h,
                                body: Bytes::new(),
                            });
                        }
                        continue;
                    }
                    if h.status == StatusCode::SWITCHING_PROTOCOLS {
                        return Some(Reply {
                            head: h,
                            body: Bytes::new(),
                        });
                    }
                    head = Some(h);
                }
                Event::Data(d) => body.extend_from_slice(&d),
                Event::Trailers(_) => {}
                Event::End => {
                    return Some(Reply {
                        head: head.expect("head before end"),
                        body: body.freeze(),
                    });
                }
                Event::NeedMore => {
                    let n = tokio::time::timeout(GUARD, self.io.read_buf(&mut self.buf))
                        .await
                        .expect("response in time")
                        .unwrap_or(0);
                    if n == 0 {
                        match self.decoder.decode_eof(&self.buf) {
                            Ok(Event::End) => {
                                return Some(Reply {
                                    head: head.expect("head before end"),
                                    body: body.freeze(),
                                });
                            }
                            _ => return None,
                        }
                    }
                }
            }
        }
    }

    /// Reads exactly `n` raw bytes (after a 101), starting with what is already buffered.
    pub async fn read_raw(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            let r = tokio::time::timeout(GUARD, self.io.read_buf(&mut self.buf))
                .await
                .expect("bytes in time")
                .unwrap();
            assert!(r > 0, "connection closed early");
        }
        self.buf.split_to(n).to_vec()
    }

    /// Whether the server closed the connection (EOF, or reset) with nothing more sent.
    pub async fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut b = [0u8; 1];
        match tokio::time::timeout(GUARD, self.io.read(&mut b)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) => false,
            Err(_) => false,
        }
    }
}

/// Sends `raw` on a new connection and returns everything the server sent until it
/// closed the connection (guarded, so a server that never closes fails the test).
pub async fn raw_exchange(addr: SocketAddr, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(GUARD, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "server did not close the connection; got {:?}",
        String::from_utf8_lossy(&out)
    );
    String::from_utf8_lossy(&out).into_owned()
}

/// A server on an in-memory network, for paused-clock tests.
pub struct MemServer {
    pub net: ghostnet_transport::MemoryNetwork,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<ghostnet_http1::Result<()>>,
}

impl MemServer {
    pub fn start<S: Service>(builder: ServerBuilder, service: S) -> Self {
        let net = ghostnet_transport::MemoryNetwork::new();
        let listener = net.listen(&"web.test:80".parse().unwrap()).unwrap();
        let shutdown = Shutdown::with_deadline(Duration::from_secs(5));
        let task = tokio::spawn(builder.build().serve(listener, service, shutdown.clone()));
        Self {
            net,
            shutdown,
            task,
        }
    }

    pub async fn connect(&self) -> Client<ghostnet_transport::MemoryStream> {
        use ghostnet_transport::Dial;
        let s = self
            .net
            .dialer()
            .dial(&"web.test:80".parse().unwrap())
            .await
            .unwrap();
        Client::new(s)
    }
}
