//! The pkgmgr seam over the unified client (`ghostnet_http::client::HttpClient`): a
//! download that fails over mid-file resumes with a Range the client passes through
//! untouched, a download over h2c from a ghostnet-http file server, and AUR batches
//! multiplexed on HTTP/2. In-memory network, paused clock.

mod support;

use std::sync::Arc;

use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_http::files::ServeDir;
use ghostnet_http::{Body, Router, Server};
use ghostnet_pkgmgr::aur::AurClient;
use ghostnet_pkgmgr::aur::testing::{AurServer, generated_name};
use ghostnet_pkgmgr::download::{DownloadOptions, Downloader};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{MemoryDialer, MemoryNetwork};
use support::{Behaviour, Net, data, primary_then, sha256_hex, tmp_dir};

const FILE: &str = "extra/os/x86_64/ripgrep-14.1.1-1-x86_64.pkg.tar.zst";

fn client(net: &MemoryNetwork, config: ClientConfig) -> HttpClient<MemoryDialer> {
    HttpClient::with_dialer(config, net.dialer()).unwrap()
}

/// `service` on `host:80` of `net` over ghostnet-http (HTTP/1.1 and h2c on one port).
fn serve(net: &MemoryNetwork, host: &str, service: Router) -> Shutdown {
    let listener = net.listen(&format!("{host}:80").parse().unwrap()).unwrap();
    let shutdown = Shutdown::new();
    let server = Server::builder().build().unwrap();
    tokio::spawn(server.serve(listener, service, shutdown.clone()));
    shutdown
}

#[tokio::test(start_paused = true)]
async fn failover_resumes_with_a_range_through_the_unified_client() {
    let net = Net::new();
    let body = data(300_000, 41);
    let a = net.mirror(
        "a.test",
        vec![(FILE, body.clone())],
        Behaviour::DropAfter(120_000),
    );
    let b = net.mirror("b.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let mirrors = primary_then(&a, &b);
    let dir = tmp_dir("http-client-failover");
    let dest = dir.join("rg.pkg.tar.zst");
    let report = Downloader::new(client(&net.net, ClientConfig::default()))
        .download_from(
            &mirrors,
            FILE,
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(b.ranges(), vec![Some("bytes=120000-".to_owned())]);
    assert_eq!((report.failovers, report.received), (1, 300_000));
}

#[tokio::test(start_paused = true)]
async fn downloads_over_h2c_from_a_file_server() {
    let net = MemoryNetwork::new();
    let root = tmp_dir("http-client-h2-root");
    let body = data(2_000_000, 42);
    std::fs::write(root.join("big.tar"), &body).unwrap();
    let shutdown = serve(
        &net,
        "files.test",
        Router::new().fallback(ServeDir::new(&root)),
    );
    let http = client(&net, ClientConfig::default().h2_prior_knowledge(true));
    let dest = tmp_dir("http-client-h2").join("big.tar");
    let url = "http://files.test/big.tar";
    let report = Downloader::new(http.clone())
        .download(
            url,
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(report.size, 2_000_000);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(http.cached_protocol(url), Some(Protocol::H2));
    shutdown.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn aur_batches_go_over_http2() {
    let net = MemoryNetwork::new();
    let aur = Arc::new(AurServer::builder().generated(300).in_process());
    let router = Router::new().fallback(move |req: ghostnet_http::Request| {
        let aur = aur.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap_or_default();
            aur.handle(http::Request::from_parts(parts, body))
                .map(Body::from)
        }
    });
    let shutdown = serve(&net, "aur.test", router);
    let http = client(&net, ClientConfig::default().h2_prior_knowledge(true));
    let endpoint = "http://aur.test";
    let aur_client = AurClient::builder()
        .endpoint(endpoint)
        .rate_limit(None)
        .batch_size(50)
        .build_with(http.clone())
        .unwrap();
    let names: Vec<String> = (0..300).map(generated_name).collect();
    let found = aur_client.info(&names).await.unwrap();
    let got: Vec<&str> = found.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(got, names);
    assert!(found.missing.is_empty());
    assert_eq!(aur_client.stats().requests, 6);
    assert_eq!(http.cached_protocol(endpoint), Some(Protocol::H2));
    // An unknown name over the same connection: found nowhere, no error.
    let none = aur_client.info(&["no-such-package"]).await.unwrap();
    assert_eq!(none.missing, ["no-such-package"]);
    shutdown.shutdown().await;
}
