//! Autobahn groups 1 to 7 (framing, pings, reserved bits, opcodes, fragmentation, UTF-8,
//! close handling) in both directions, against kosoku (PyPI), so CI catches conformance
//! regressions. The full set, large messages included, is `cargo xtask interop ws`.
//!
//! The test installs kosoku into `<workspace>/.venv-ws` when it is missing (the same venv
//! the xtask uses, created under a file lock), and fails with pip's output if that does
//! not work. Our server and client run in this process; kosoku runs as a child process.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use ghostnet_ws::{Acceptor, Client, Message, WebSocket};
use serde_json::Value;
use support::TestServer;
use tokio::process::Command;
use tokio::time::timeout;

/// Groups 1-7: everything but large messages (9), limits (10) and deflate (12, 13).
const GROUPS: &[&str] = &["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*"];
/// Bound on one direction; it takes seconds, this only stops a hang.
const LIMIT: Duration = Duration::from_secs(180);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(3)
        .expect("crates/protocols/ws is three levels below the workspace root")
        .to_path_buf()
}

/// `<root>/.venv-ws/bin/kosoku`, created with pip when missing. Test binaries and the xtask
/// may race to create it, so creation happens under an exclusive lock.
fn kosoku() -> PathBuf {
    let root = workspace_root();
    let venv = root.join(".venv-ws");
    let kosoku = venv.join("bin").join("kosoku");
    if kosoku.is_file() {
        return kosoku;
    }
    let lock = File::create(root.join(".venv-ws.lock")).expect("create .venv-ws.lock");
    lock.lock().expect("lock .venv-ws.lock");
    if !kosoku.is_file() {
        let run = |cmd: &mut std::process::Command, what: &str| {
            let out = cmd.output().unwrap_or_else(|e| {
                panic!("could not run {what}: {e}; install python3 and python3-venv")
            });
            assert!(
                out.status.success(),
                "{what} failed ({}); kosoku comes from PyPI, so pip needs network access to \
                 pypi.org.\nstdout:\n{}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv),
            "python3 -m venv .venv-ws",
        );
        run(
            std::process::Command::new(venv.join("bin").join("pip"))
                .args(["install", "--quiet", "kosoku"]),
            "pip install kosoku",
        );
        assert!(
            kosoku.is_file(),
            "pip installed kosoku but {} is missing",
            kosoku.display()
        );
    }
    kosoku
}

fn filters() -> Vec<String> {
    GROUPS
        .iter()
        .flat_map(|g| ["-i".to_owned(), (*g).to_owned()])
        .collect()
}

/// `(case, behavior)` of every case that FAILED (or could not run), from `index.json`.
fn failures(dir: &Path) -> (usize, Vec<(String, String)>) {
    let index = dir.join("index.json");
    let text = std::fs::read_to_string(&index)
        .unwrap_or_else(|e| panic!("no report at {} ({e})", index.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut total = 0;
    let mut bad = Vec::new();
    for cases in v.as_object().unwrap().values() {
        for (id, r) in cases.as_object().unwrap() {
            total += 1;
            let behavior = r["behavior"].as_str().unwrap_or("ERROR");
            let close = r["behaviorClose"].as_str().unwrap_or("ERROR");
            if matches!(behavior, "FAILED" | "ERROR" | "UNIMPLEMENTED")
                || matches!(
                    close,
                    "FAILED" | "WRONG CODE" | "UNCLEAN" | "FAILED BY CLIENT"
                )
            {
                bad.push((id.clone(), format!("{behavior} / close {close}")));
            }
        }
    }
    (total, bad)
}

async fn echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        if msg.is_data() && ws.feed(msg).await.is_err() {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobahn_groups_1_to_7_both_directions() {
    let kosoku = kosoku();
    let out = std::env::temp_dir().join(format!("ghostnet-ws-autobahn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);

    // Our server, kosoku's client.
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let addr = server.addr.unwrap().to_string();
    let server_dir = out.join("server");
    let run = Command::new(&kosoku)
        .args(["-m", "fuzzingclient", "-p", "4"])
        .args(filters())
        .arg("-o")
        .arg(&server_dir)
        .arg(&addr)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .status();
    timeout(LIMIT, run)
        .await
        .expect("kosoku fuzzingclient hung")
        .expect("run kosoku");
    server.stop().await;

    // Our client, kosoku's server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client_dir = out.join("client");
    let mut fuzzer = Command::new(&kosoku)
        .args(["-m", "fuzzingserver"])
        .args(filters())
        .arg("-o")
        .arg(&client_dir)
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("run kosoku");
    let base = format!("ws://127.0.0.1:{port}");
    let client = Client::new();
    let drive = async {
        // Wait for the fuzzing server to listen.
        let (mut ws, _) = loop {
            match client.connect(&format!("{base}/getCaseCount")).await {
                Ok(c) => break c,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let count: u32 = match ws.recv().await {
            Some(Ok(Message::Text(t))) => t.as_str().trim().parse().unwrap(),
            other => panic!("no case count: {other:?}"),
        };
        assert!(count > 200, "{count} cases in groups 1-7");
        for case in 1..=count {
            let url = format!("{base}/runCase?case={case}&agent=ghostnet-ws");
            if let Ok((ws, _)) = client.connect(&url).await {
                echo(ws).await;
            }
        }
        let (mut ws, _) = client
            .connect(&format!("{base}/updateReports?agent=ghostnet-ws"))
            .await
            .unwrap();
        while let Some(Ok(_)) = ws.recv().await {}
        fuzzer.wait().await.unwrap();
    };
    timeout(LIMIT, drive)
        .await
        .expect("client run against kosoku hung");

    let (n_server, bad_server) = failures(&server_dir);
    let (n_client, bad_client) = failures(&client_dir);
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        n_server > 200 && n_client > 200,
        "{n_server} / {n_client} cases ran"
    );
    assert!(
        bad_server.is_empty(),
        "server under test failed: {bad_server:?}"
    );
    assert!(
        bad_client.is_empty(),
        "client under test failed: {bad_client:?}"
    );
}
