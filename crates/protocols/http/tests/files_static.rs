//! Static files: content types, ranges (single, suffix, multiple, unsatisfiable,
//! malformed, too many), validators (ETag / If-None-Match, Last-Modified /
//! If-Modified-Since, If-Range), directories, and traversal attempts.

mod support;

use ghostnet_http::files::{MultiRange, ServeDir};
use ghostnet_http::{Router, get};
use support::{Resp, TestServer};
use tokio::io::AsyncWriteExt;

const CONTENT: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

struct Site {
    server: TestServer,
    _dir: tempfile::TempDir,
}

async fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("data.txt"), CONTENT).unwrap();
    std::fs::write(root.join("style.css"), b"body{}").unwrap();
    std::fs::write(root.join("logo.png"), b"\x89PNG").unwrap();
    std::fs::write(root.join("sub/index.html"), b"<h1>sub</h1>").unwrap();
    std::fs::write(dir.path().join("secret"), b"secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("secret"), root.join("escape")).unwrap();
    let router = Router::new()
        .route("/static/*path", get(ServeDir::new(&root)))
        .route(
            "/first/*path",
            get(ServeDir::new(&root).multi_range(MultiRange::First)),
        )
        .route("/noindex/*path", get(ServeDir::new(&root).index_file(None)));
    Site {
        server: support::start(router).await,
        _dir: dir,
    }
}

impl Site {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.server.h1("GET", path, headers).await
    }
}

#[tokio::test]
async fn whole_files_with_types_and_validators() {
    let site = site().await;
    let res = site.get("/static/data.txt", &[]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, CONTENT);
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert!(res.header("etag").unwrap().starts_with('"'));
    assert!(res.header("last-modified").unwrap().ends_with("GMT"));
    assert_eq!(
        site.get("/static/style.css", &[])
            .await
            .header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        site.get("/static/logo.png", &[])
            .await
            .header("content-type"),
        Some("image/png")
    );
    let head = site.server.h1("HEAD", "/static/data.txt", &[]).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("62"));
    let post = site
        .server
        .h1("POST", "/static/data.txt", &[("content-length", "0")])
        .await;
    assert_eq!(post.status, 405);
}

#[tokio::test]
async fn single_and_suffix_ranges() {
    let site = site().await;
    let res = site
        .get("/static/data.txt", &[("range", "bytes=0-9")])
        .await;
    assert_eq!(res.status, 206);
    assert_eq!(res.body, &CONTENT[..10]);
    assert_eq!(res.header("content-range"), Some("bytes 0-9/62"));
    let res = site.get("/static/data.txt", &[("range", "bytes=-5")]).await;
    assert_eq!(res.body, &CONTENT[57..]);
    assert_eq!(res.header("content-range"), Some("bytes 57-61/62"));
    let res = site
        .get("/static/data.txt", &[("range", "bytes=60-1000")])
        .await;
    assert_eq!(res.body, &CONTENT[60..]);
}

#[tokio::test]
async fn multiple_ranges_as_multipart_or_first_only() {
    let site = site().await;
    let res = site
        .get("/static/data.txt", &[("range", "bytes=0-1, 10-11")])
        .await;
    assert_eq!(res.status, 206);
    let ct = res.header("content-type").unwrap();
    let boundary = ct
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("{ct}"));
    let body = res.text();
    let expected = format!(
        "--{boundary}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-range: bytes 0-1/62\r\n\r\n01\
         \r\n--{boundary}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-range: bytes 10-11/62\r\n\r\nab\
         \r\n--{boundary}--\r\n"
    );
    assert_eq!(body, expected);

    let res = site
        .get("/first/data.txt", &[("range", "bytes=0-1, 10-11")])
        .await;
    assert_eq!(res.status, 206);
    assert_eq!(res.body, "01");
    assert_eq!(res.header("content-range"), Some("bytes 0-1/62"));

    // Over HTTP/2 too.
    let h2 = site.server.h2().await;
    let res = support::h2_request(
        &h2,
        "GET",
        "/static/data.txt",
        &[("range", "bytes=2-3,5-5")],
    )
    .await;
    assert_eq!(res.status, 206);
    assert!(
        res.text()
            .contains("content-range: bytes 5-5/62\r\n\r\n5\r\n")
    );
}

#[tokio::test]
async fn bad_ranges() {
    let site = site().await;
    let res = site
        .get("/static/data.txt", &[("range", "bytes=100-")])
        .await;
    assert_eq!(res.status, 416);
    assert_eq!(res.header("content-range"), Some("bytes */62"));
    for ignored in ["bytes=abc", "lines=1-2", "bytes=5-1", "bytes=0-,0-,0-"] {
        let res = site.get("/static/data.txt", &[("range", ignored)]).await;
        assert_eq!(res.status, 200, "{ignored}");
        assert_eq!(res.body, CONTENT, "{ignored}");
    }
    let many = vec!["0-0"; 200].join(",");
    let res = site
        .get("/static/data.txt", &[("range", &format!("bytes={many}"))])
        .await;
    assert_eq!(res.status, 200, "too many ranges: the whole file");
    assert_eq!(res.body, CONTENT);
}

#[tokio::test]
async fn conditional_requests() {
    let site = site().await;
    let first = site.get("/static/data.txt", &[]).await;
    let etag = first.header("etag").unwrap().to_owned();
    let lm = first.header("last-modified").unwrap().to_owned();

    let res = site
        .get("/static/data.txt", &[("if-none-match", &etag)])
        .await;
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());
    assert_eq!(res.header("etag"), Some(etag.as_str()));
    let weak = format!("W/{etag}");
    let res = site
        .get(
            "/static/data.txt",
            &[("if-none-match", &format!("\"x\", {weak}"))],
        )
        .await;
    assert_eq!(res.status, 304, "weak comparison");
    let res = site
        .get("/static/data.txt", &[("if-none-match", "\"other\"")])
        .await;
    assert_eq!(res.status, 200);
    let res = site
        .get(
            "/static/data.txt",
            &[("if-none-match", "\"other\""), ("if-modified-since", &lm)],
        )
        .await;
    assert_eq!(res.status, 200, "If-None-Match wins over If-Modified-Since");

    let res = site
        .get("/static/data.txt", &[("if-modified-since", &lm)])
        .await;
    assert_eq!(res.status, 304);
    let old = "Sat, 01 Jan 2000 00:00:00 GMT";
    assert_eq!(
        site.get("/static/data.txt", &[("if-modified-since", old)])
            .await
            .status,
        200
    );

    let res = site
        .get(
            "/static/data.txt",
            &[("range", "bytes=0-1"), ("if-range", &etag)],
        )
        .await;
    assert_eq!(res.status, 206, "If-Range matches");
    let res = site
        .get(
            "/static/data.txt",
            &[("range", "bytes=0-1"), ("if-range", "\"stale\"")],
        )
        .await;
    assert_eq!(res.status, 200, "If-Range mismatch: the whole file");
    assert_eq!(res.body, CONTENT);
    let res = site
        .get(
            "/static/data.txt",
            &[("range", "bytes=0-1"), ("if-range", &weak)],
        )
        .await;
    assert_eq!(res.status, 200, "a weak tag never satisfies If-Range");
    let res = site
        .get(
            "/static/data.txt",
            &[("range", "bytes=0-1"), ("if-range", &lm)],
        )
        .await;
    assert_eq!(res.status, 206, "If-Range by date");
}

#[tokio::test]
async fn directories() {
    let site = site().await;
    let res = site.get("/static/sub", &[]).await;
    assert_eq!(res.status, 301);
    assert_eq!(res.header("location"), Some("/static/sub/"));
    let res = site.get("/static/sub/", &[]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "<h1>sub</h1>");
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(site.get("/noindex/sub/", &[]).await.status, 404);
    assert_eq!(site.get("/static/missing.txt", &[]).await.status, 404);
}

#[tokio::test]
async fn traversal_attempts_never_leave_the_root() {
    let site = site().await;
    for (path, want) in [
        ("/static/../secret", 400),
        ("/static/sub/../../secret", 400),
        ("/static/%2e%2e/secret", 400),
        ("/static/%2E%2E%2Fsecret", 400),
        ("/static/..%2fsecret", 400),
        ("/static/sub%2F..%2F..%2Fsecret", 400),
        ("/static/..%5csecret", 400),
        ("/static/%00", 400),
        ("/static//etc/passwd", 404),
        ("/static/%2Fetc%2Fpasswd", 404),
        ("/static/escape", 404), // a symlink out of the root
    ] {
        let res = site.get(path, &[]).await;
        assert_eq!(res.status.as_u16(), want, "{path}");
        assert!(!res.text().contains("secret"), "{path}");
    }
    // A raw request line, byte for byte as an attacker would send it.
    let mut tcp = site.server.tcp().await;
    tcp.write_all(b"GET /static/./../../secret HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let raw = support::read_to_close(&mut tcp).await;
    let res = support::parse_response(&raw, false);
    assert_eq!(res.status, 400);
}
