//! The two servers: same routes, same runtime (one worker), default HTTP/2 settings.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use ghostnet::http2::{Body, Server};
use ghostnet::runtime::Shutdown;
use ghostnet::transport::{TcpListener, TcpOptions};
use http::{Request, Response};
use http_body_util::{Either, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::repeat::Repeat;
use super::{DOWNLOAD_PATH, HELLO, Side};

/// The size asked for by `GET /download/<bytes>`, if that is the route.
fn download_len(path: &str) -> Option<u64> {
    path.strip_prefix(DOWNLOAD_PATH)?.parse().ok()
}

async fn ghostnet_route(req: Request<Body>) -> Response<Body> {
    match download_len(req.uri().path()) {
        Some(len) => Response::new(Body::wrap(Repeat::new(len))),
        None => Response::new(Body::from(HELLO)),
    }
}

/// Binds 127.0.0.1:0, reports the address, and serves `side` until the process ends.
pub async fn run(side: Side, ready: impl FnOnce(SocketAddr)) {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    match side {
        Side::Ghostnet => {
            let listener = TcpListener::bind(any, TcpOptions::default()).expect("bind");
            ready(listener.local_addr());
            let server = Server::new(super::ghostnet_settings()).expect("default settings");
            let _ = server
                .serve(listener, ghostnet_route, Shutdown::new())
                .await;
        }
        Side::Hyper => {
            let listener = tokio::net::TcpListener::bind(any).await.expect("bind");
            ready(listener.local_addr().expect("bound address"));
            hyper(listener).await;
        }
    }
}

type HyperBody = Either<Full<Bytes>, Repeat>;

async fn hyper_route(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<HyperBody>, Infallible> {
    Ok(match download_len(req.uri().path()) {
        Some(len) => Response::new(Either::Right(Repeat::new(len))),
        None => Response::new(Either::Left(Full::new(Bytes::from_static(
            HELLO.as_bytes(),
        )))),
    })
}

/// Serves hyper's HTTP/2 (h2c prior knowledge) on `listener` until the process ends.
async fn hyper(listener: tokio::net::TcpListener) {
    loop {
        let Ok((io, _)) = listener.accept().await else {
            continue;
        };
        let _ = io.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(io), hyper::service::service_fn(hyper_route))
                .await;
        });
    }
}
