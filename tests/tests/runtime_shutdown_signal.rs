//! SIGTERM and SIGINT fire `Shutdown`: cooperative tasks drain, stubborn ones are aborted
//! at the deadline, and the process exits normally.
#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn shutdown_on(signal: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shutdown_probe"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = support::wait_or_kill(&mut child);
    assert!(status.success(), "{signal}: {status:?}");
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert_eq!(rest, ["drained", "aborted=1 stuck=0"], "{signal}");
}

#[test]
fn sigterm_drains_then_aborts() {
    shutdown_on("-TERM");
}

#[test]
fn sigint_drains_then_aborts() {
    shutdown_on("-INT");
}
