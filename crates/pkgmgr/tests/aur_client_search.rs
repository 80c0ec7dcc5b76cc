//! `AurClient::search` by every field, and the local server's other routes.

use bytes::Bytes;
use ghostnet_pkgmgr::aur::testing::{AurServer, generated_name};
use ghostnet_pkgmgr::aur::{AurClient, Envelope, PackageInfo, SearchBy, parse_response};
use http::{Method, Request};

/// One argument per field and a package it must find.
const CASES: [(SearchBy, &str, &str); 14] = [
    (SearchBy::Name, "demo-0001", "ghostnet-demo-0001"),
    (SearchBy::NameDesc, "pacman wrapper", "yay"),
    (SearchBy::Maintainer, "bob", "ghostnet-demo-0001"),
    (
        SearchBy::Depends,
        "ghostnet-demo-0003",
        "ghostnet-demo-0004",
    ),
    (SearchBy::MakeDepends, "go", "yay"),
    (SearchBy::OptDepends, "devtools", "paru"),
    (SearchBy::CheckDepends, "go-tools", "yay"),
    (SearchBy::Submitter, "Morganamilo", "paru"),
    (
        SearchBy::Provides,
        "ghostnet-virtual-0002",
        "ghostnet-demo-0002",
    ),
    (SearchBy::Conflicts, "yay-bin", "yay"),
    (
        SearchBy::Replaces,
        "ghostnet-demo-0002-old",
        "ghostnet-demo-0002",
    ),
    (SearchBy::Keywords, "helper", "paru"),
    (SearchBy::Groups, "ghostnet-generated", "ghostnet-demo-0000"),
    (SearchBy::CoMaintainers, "morganamilo", "yay"),
];

#[tokio::test]
async fn search_by_every_field() {
    let server = AurServer::builder().generated(6).start().unwrap();
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .build()
        .unwrap();
    assert_eq!(CASES.len(), SearchBy::ALL.len());
    for (by, arg, want) in CASES {
        let found = aur.search(arg, by).await.unwrap();
        assert!(
            found.iter().any(|p| p.name == want),
            "search {arg:?} by {} did not find {want}: {:?}",
            by.as_str(),
            found.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
    }
    // Exact fields do not match substrings.
    assert!(
        aur.search("bo", SearchBy::Maintainer)
            .await
            .unwrap()
            .is_empty()
    );
    // An empty maintainer lists orphans.
    let orphans = aur.search("", SearchBy::Maintainer).await.unwrap();
    assert!(orphans.iter().any(|p| p.name == "orphan-helper"));
    assert!(orphans.iter().all(|p| p.maintainer.is_none()));
    assert!(orphans.iter().any(|p| p.name == generated_name(3)));
    server.stop().await;
}

#[tokio::test]
async fn too_many_results_is_an_error() {
    let server = AurServer::builder()
        .generated(20)
        .max_results(10)
        .start()
        .unwrap();
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .build()
        .unwrap();
    let err = aur
        .search("ghostnet", SearchBy::NameDesc)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Too many package results."),
        "{err}"
    );
    server.stop().await;
}

fn call(server: &AurServer, method: Method, uri: &str, body: &'static str) -> (u16, Bytes) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap();
    let response = server.handle(req);
    (response.status().as_u16(), response.into_body())
}

#[test]
fn server_routes_speak_the_aurweb_format() {
    let server = AurServer::builder().in_process();

    let (status, body) = call(&server, Method::GET, "/rpc/v5/info/yay", "");
    assert_eq!(status, 200);
    let env: Envelope<PackageInfo> = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (env.kind.as_str(), env.result_count, env.version),
        ("multiinfo", 1, Some(5))
    );

    // `arg%5B%5D` is `arg[]`, as aurweb decodes the query before splitting it.
    let (_, body) = call(
        &server,
        Method::GET,
        "/rpc/v5/info?arg%5B%5D=yay&arg%5B%5D=paru",
        "",
    );
    let pkgs: Vec<PackageInfo> = parse_response(&body).unwrap();
    assert_eq!(pkgs.len(), 2);

    let (_, body) = call(
        &server,
        Method::POST,
        "/rpc/v5/search",
        r#"{"arg":"paru","by":"name"}"#,
    );
    assert_eq!(parse_response::<serde_json::Value>(&body).unwrap().len(), 1);
    let (_, body) = call(&server, Method::GET, "/rpc/v5/search/yay?by=name", "");
    assert_eq!(parse_response::<serde_json::Value>(&body).unwrap().len(), 1);

    let (status, body) = call(&server, Method::POST, "/rpc/v5/info", r#"{"arg":"yay"}"#);
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("must be of array type"));

    let (_, body) = call(&server, Method::GET, "/rpc/v6/info?arg[]=yay", "");
    assert!(String::from_utf8_lossy(&body).contains("Invalid version specified."));
    let (_, body) = call(&server, Method::GET, "/rpc/v5/search?arg=yay&by=colour", "");
    assert!(String::from_utf8_lossy(&body).contains("Incorrect by field specified."));
    assert_eq!(call(&server, Method::GET, "/elsewhere", "").0, 404);
    assert_eq!(call(&server, Method::DELETE, "/rpc/v5/info", "").0, 405);
}

#[test]
fn generated_packages_omit_empty_lists_like_aurweb() {
    let server = AurServer::builder().in_process();
    let (_, body) = call(&server, Method::GET, "/rpc/v5/info?arg[]=paru", "");
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains("CheckDepends"), "{text}");
    assert!(text.contains("\"OutOfDate\":1730000000"), "{text}");
}
