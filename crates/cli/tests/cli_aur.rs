//! `ghostnet aur info|search` against the local AUR-format server.

use std::process::{Command, Output};

use ghostnet_pkgmgr::aur::testing::{AurServer, Failure};

/// The server runs on its own runtime while the binary runs in the foreground.
struct Local {
    server: AurServer,
    _runtime: tokio::runtime::Runtime,
}

fn local() -> Local {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async { AurServer::builder().generated(5).start().unwrap() });
    Local {
        server,
        _runtime: runtime,
    }
}

fn ghostnet(local: &Local, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .arg("aur")
        .args(args)
        .args(["--endpoint", &local.server.endpoint()])
        .output()
        .expect("run ghostnet")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn info_prints_packages_in_order() {
    let local = local();
    let out = ghostnet(&local, &["info", "paru", "yay"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let paru = stdout.find("Name            : paru").expect(&stdout);
    let yay = stdout.find("Name            : yay").expect(&stdout);
    assert!(paru < yay, "{stdout}");
    for want in [
        "Version         : 12.4.2-1",
        "Depends on      : pacman>6.1  git",
        "Out of date     : yes (since 2024-10-27)",
        "First submitted : 2016-10-05",
        "Snapshot        : http://",
    ] {
        assert!(stdout.contains(want), "{want} missing:\n{stdout}");
    }
}

#[test]
fn missing_packages_are_one_line_and_non_zero() {
    let local = local();
    let out = ghostnet(&local, &["info", "yay", "no-such-pkg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("Name            : yay"));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.trim(), "ghostnet: not found in the AUR: no-such-pkg");
}

#[test]
fn search_by_field() {
    let local = local();
    let out = ghostnet(&local, &["search", "helper"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("aur/yay 12.4.2-1 (+2265 28.43)"),
        "{stdout}"
    );
    assert!(stdout.contains("aur/orphan-helper"), "{stdout}");
    assert!(stdout.contains("[orphaned]"), "{stdout}");
    assert!(stdout.trim_end().ends_with("3 packages found"), "{stdout}");

    let out = ghostnet(&local, &["search", "bob", "--by", "maintainer"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("aur/ghostnet-demo-0001"), "{stdout}");
    assert!(stdout.contains("1 package found"), "{stdout}");

    let out = ghostnet(&local, &["search", "zzzz", "--by", "name"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("no packages found"));
}

#[test]
fn errors_are_one_clear_line() {
    let local = local();
    let out = ghostnet(&local, &["search", "x", "--by", "name"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("Query arg too small."), "{stderr}");

    local.server.fail_next(Failure::RateLimited {
        retry_after: Some(30),
    });
    let out = ghostnet(&local, &["info", "yay"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("retry in 30s"), "{stderr}");

    let out = ghostnet(&local, &["search", "yay", "--by", "colour"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("use one of name, name-desc"));

    let out = Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .args(["aur", "info", "yay", "--endpoint", "not a url"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("invalid AUR client setting `endpoint`"),
        "{stderr}"
    );
}
