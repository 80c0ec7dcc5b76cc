//! `ghostnet get` against local servers on 127.0.0.1: origin first then mirrors,
//! failover mid-file, relative paths, checksums, many files, and a killed process that
//! resumes on re-run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use bytes::Bytes;
use ghostnet_pkgmgr::mirror::testing::{Behaviour, MirrorServer};

#[derive(Clone, Copy)]
enum Mode {
    Normal,
    /// Each body breaks off after this many bytes.
    DropAfter(u64),
    Html500,
    /// 4 KiB pieces with this pause between them.
    Slow(Duration),
}

/// A mirror (ghostnet-pkgmgr's test server) on 127.0.0.1 in its own runtime, so the
/// `ghostnet` process under test has something to talk to while the test blocks.
struct Served {
    base: String,
    _rt: tokio::runtime::Runtime,
}

fn serve(files: Vec<(&str, Bytes)>, mode: Mode) -> Served {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut builder = files
        .into_iter()
        .fold(MirrorServer::builder(), |b, (path, data)| {
            b.file(path, data)
        });
    builder = match mode {
        Mode::Normal => builder.paced(16 * 1024, Duration::ZERO),
        Mode::DropAfter(n) => builder
            .behaviour(Behaviour::DropAfter(n))
            .paced(16 * 1024, Duration::ZERO),
        Mode::Html500 => builder.behaviour(Behaviour::Html500),
        Mode::Slow(pause) => builder.paced(4096, pause),
    };
    let mirror = rt.block_on(async { builder.start().unwrap() });
    Served {
        base: mirror.base(),
        _rt: rt,
    }
}

fn data(len: usize, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn sha(d: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(d)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ghostnet-cli-get-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ghostnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .args(args)
        .output()
        .expect("run ghostnet")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn out_dir(d: &Path) -> &str {
    d.to_str().unwrap()
}

#[test]
fn an_absolute_url_comes_from_its_origin_verified() {
    let body = data(300_000, 1);
    let origin = serve(vec![("pkgs/x.tar", body.clone())], Mode::Normal);
    let dir = tmp("origin");
    let url = format!("{}pkgs/x.tar", origin.base);
    let out = ghostnet(&[
        "get",
        &url,
        "--sha256",
        &sha(&body),
        "--fsync",
        "-o",
        out_dir(&dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(dir.join("x.tar")).unwrap(), body);
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&sha(&body)), "{stdout}");
    assert!(stdout.contains("1 of 1 files"), "{stdout}");
}

#[test]
fn a_dying_origin_hands_over_to_a_mirror_mid_file() {
    let body = data(500_000, 2);
    let origin = serve(vec![("pkgs/x.tar", body.clone())], Mode::DropAfter(200_000));
    let mirror = serve(vec![("pkgs/x.tar", body.clone())], Mode::Normal);
    let dir = tmp("failover");
    let url = format!("{}pkgs/x.tar", origin.base);
    let out = ghostnet(&[
        "get",
        &url,
        "--mirror",
        &mirror.base,
        "--sha256",
        &sha(&body),
        "-o",
        out_dir(&dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(dir.join("x.tar")).unwrap(), body);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1 failovers"), "{stdout}");
    assert!(
        stdout.contains(&format!("from {}pkgs/x.tar", mirror.base)),
        "{stdout}"
    );
}

#[test]
fn relative_paths_resolve_against_the_mirrors_and_skip_an_html_500() {
    let files: Vec<(String, Bytes)> = (0..6)
        .map(|i| {
            (
                format!("core/p{i}.pkg"),
                data(50_000 + i * 777, 10 + i as u64),
            )
        })
        .collect();
    let list = || files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect();
    let broken = serve(list(), Mode::Html500);
    let good = serve(list(), Mode::Normal);
    let dir = tmp("relative");
    let mut args = vec!["get", "-j", "2", "-o", out_dir(&dir)];
    for (p, _) in &files {
        args.push(p);
    }
    args.extend(["--mirror", &broken.base, "--mirror", &good.base]);
    let out = ghostnet(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (p, d) in &files {
        let name = p.rsplit('/').next().unwrap();
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), d);
    }
    assert!(text(&out.stdout).contains("6 of 6 files"));
}

#[test]
fn a_checksum_mismatch_is_one_line_and_a_failure() {
    let body = data(10_000, 3);
    let origin = serve(vec![("x", body.clone())], Mode::Normal);
    let dir = tmp("mismatch");
    let wrong = "ab".repeat(32);
    let out = ghostnet(&[
        "get",
        &format!("{}x", origin.base),
        "--sha256",
        &wrong,
        "-o",
        out_dir(&dir),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let first = stderr.lines().next().unwrap();
    assert!(
        first.contains("sha256 mismatch") && first.contains(&wrong) && first.contains(&sha(&body)),
        "{stderr}"
    );
    assert!(!dir.join("x").exists());
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let out = ghostnet(&["get", "core/x.pkg"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("relative path"), "{stderr}");
    let out = ghostnet(&["get", "http://127.0.0.1:9/x", "--limit-rate", "fast"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ghostnet(&["get", "http://127.0.0.1:9/x", "--sha256", "abc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("64 hexadecimal digits"));
}

#[test]
fn a_killed_download_resumes_on_rerun_to_an_identical_file() {
    let body = data(2_000_000, 4);
    let slow = serve(
        vec![("big.iso", body.clone())],
        Mode::Slow(Duration::from_millis(2)),
    );
    let dir = tmp("kill");
    let url = format!("{}big.iso", slow.base);
    let part = dir.join("big.iso.part");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .args(["get", &url, "-q", "-o", out_dir(&dir)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a good part of the file is in (or when it finished, on a fast machine).
    loop {
        let len = std::fs::metadata(&part).map_or(0, |m| m.len());
        if len > 300_000 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let had_part = std::fs::metadata(&part).map_or(0, |m| m.len()) > 0;
    let fast = serve(vec![("big.iso", body.clone())], Mode::Normal);
    let out = ghostnet(&[
        "get",
        &url,
        "--mirror",
        &fast.base,
        "--sha256",
        &sha(&body),
        "-o",
        out_dir(&dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(dir.join("big.iso")).unwrap(), body);
    assert!(!part.exists());
    if had_part {
        assert!(
            text(&out.stdout).contains("resumed at"),
            "{}",
            text(&out.stdout)
        );
    }
}
