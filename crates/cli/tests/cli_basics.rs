//! The `ghostnet` binary: help and version exit at once, errors are one line with a
//! non-zero status, `doctor` reports the machine.

use std::process::Command;

fn ghostnet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .args(args)
        .output()
        .expect("run ghostnet")
}

#[test]
fn help_and_version() {
    let out = ghostnet(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("ghostnet {}", env!("CARGO_PKG_VERSION"))
    );
    let out = ghostnet(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("doctor"), "{help}");
}

#[test]
fn unknown_command_is_a_short_error() {
    let out = ghostnet(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .next()
            .unwrap()
            .contains("unrecognized subcommand"),
        "{err}"
    );
}

#[test]
fn doctor_reports_the_machine() {
    let out = ghostnet(&["doctor"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for label in [
        "os:",
        "kernel:",
        "cpus:",
        "io_uring:",
        "runtime:",
        "package managers",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    if std::path::Path::new("/usr/bin/apt-get").exists() {
        assert!(text.contains("apt"), "{text}");
    }
}
