//! `ghostnet serve DIR`: a directory over HTTP/1.1 and HTTP/2 (ranges, ETags), usable as
//! a local mirror for `ghostnet get`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use ghostnet_http::files::ServeDir;
use ghostnet_http::middleware::Logger;
use ghostnet_http::{ALPN, Router, Server};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{TcpListener, TcpOptions, TlsListener, TlsServerConfig};

use super::CommandResult;

/// Arguments of `ghostnet serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The directory to serve (files below it only; `..` and escaping symlinks are refused).
    dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// PEM certificate chain: serve HTTPS (ALPN h2 and http/1.1) instead of cleartext
    /// HTTP/1.1 and h2c.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

pub(crate) async fn run(args: ServeArgs) -> CommandResult {
    if !args.dir.is_dir() {
        return Err(format!("{} is not a directory", args.dir.display()).into());
    }
    let router = Router::new()
        .fallback(ServeDir::new(&args.dir))
        .layer(Logger::new());
    let server = Server::builder().build()?;
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals()?;
    let tcp = TcpListener::bind(args.addr, TcpOptions::default())
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let local = tcp.local_addr();
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let config = TlsServerConfig::builder()
                .cert_files(cert, key)
                .alpn(ALPN)
                .build()?;
            println!("serving {} on https://{local}/", args.dir.display());
            server
                .serve(TlsListener::new(tcp, config), router, shutdown.clone())
                .await?;
        }
        _ => {
            println!("serving {} on http://{local}/", args.dir.display());
            server.serve(tcp, router, shutdown.clone()).await?;
        }
    }
    shutdown.shutdown().await;
    Ok(())
}
