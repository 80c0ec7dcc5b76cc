//! `ghostnet demo`: the offline tour finishes with every file verified, shows failover
//! and resume, and keeps the files when asked to.

use std::process::Command;

use sha2::{Digest, Sha256};

/// A small demo: 30 packages, `files` files up to 2 MiB, no progress bars.
fn demo(files: &str, extra: &[&str]) -> (std::process::Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .args([
            "demo",
            "-q",
            "--packages",
            "30",
            "--max-size",
            "2M",
            "--files",
            files,
        ])
        .args(extra)
        .output()
        .expect("run ghostnet demo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

#[test]
fn demo_downloads_everything_with_failover_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout) = demo("8", &["-o", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("metadata  30 packages"), "{stdout}");
    assert!(stdout.contains("in 1 request(s)"), "{stdout}");
    assert!(stdout.contains("total: 8 of 8 files"), "{stdout}");
    assert!(
        stdout.contains("sha256 verified for 8 of 8 files"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("interrupted ").count(), 2, "{stdout}");
    assert!(stdout.contains("2 resumed from a .part file"), "{stdout}");
    // Files above --drop-after (256 KiB) cannot finish on the flaky mirror.
    assert!(
        !stdout.contains(" 0 finished on another mirror"),
        "{stdout}"
    );

    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "no .part file left behind: {files:?}");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with("-x86_64.pkg.tar.zst"), "{name}");
        // Each row of the table names the file; the file's digest is the one served,
        // which the downloader checked before the rename.
        assert!(stdout.contains(name), "{name} missing from the table");
        let data = std::fs::read(f).unwrap();
        assert_eq!(Sha256::digest(&data).len(), 32);
        assert!(data.len() >= 16 * 1024);
    }
}

#[test]
fn demo_cleans_up_its_temporary_directory() {
    let (out, stdout) = demo("3", &[]);
    assert!(out.status.success(), "{stdout}");
    let dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("working in "))
        .and_then(|l| l.strip_suffix(" (removed at the end)"))
        .unwrap_or_else(|| panic!("no working directory line: {stdout}"));
    assert!(dir.contains("ghostnet-demo-"), "{dir}");
    assert!(!std::path::Path::new(dir).exists(), "{dir} left behind");
    assert!(stdout.contains("total: 3 of 3 files"), "{stdout}");
}

#[test]
fn demo_rejects_zero_files() {
    let (out, _) = demo("0", &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must be at least 1"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
