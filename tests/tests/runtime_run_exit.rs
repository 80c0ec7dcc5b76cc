//! `run` returns when `main` does: a probe whose main leaves a never-ending task and a
//! blocking thread stuck on stdin must exit, with main's status, for every preset.

mod support;

use std::process::{Command, Stdio};

#[test]
fn process_exits_with_mains_status_despite_live_tasks() {
    for (preset, code) in [("cli", 7), ("server", 0), ("optimal", 3), ("embedded", 42)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_run_exit_probe"))
            .args([preset, &code.to_string()])
            .stdin(Stdio::piped()) // kept open: the blocking stdin read never returns
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn probe");
        let _stdin = child.stdin.take();
        let status = support::wait_or_kill(&mut child);
        assert_eq!(status.code(), Some(code), "preset {preset}");
        let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
        assert_eq!(out.trim(), format!("main returning {code}"));
    }
}

#[test]
fn bad_arguments_get_an_error_status_not_a_panic() {
    let out = Command::new(env!("CARGO_BIN_EXE_run_exit_probe"))
        .args(["nonsense", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(100));
}
