//! Probe for `tests/runtime_run_exit.rs`: `run` must return when `main` does, even with a
//! never-ending task and a blocking thread stuck reading stdin.
//!
//! Usage: `run_exit_probe <cli|server|optimal|embedded> <exit code>`

use std::io::Read;
use std::process::ExitCode;

use ghostnet::runtime::{Config, run, spawn, spawn_blocking};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let config = match args.next().as_deref() {
        Some("cli") => Config::for_cli(),
        Some("server") => Config::for_server(),
        Some("optimal") => Config::optimal(),
        Some("embedded") => Config::for_embedded(),
        other => {
            eprintln!("unknown preset {other:?}; use cli, server, optimal or embedded");
            return ExitCode::from(100);
        }
    };
    let code: u8 = match args.next().map(|s| s.parse()) {
        Some(Ok(c)) => c,
        _ => {
            eprintln!("second argument must be an exit code 0-255");
            return ExitCode::from(101);
        }
    };
    let result = run(config, async move {
        drop(spawn(std::future::pending::<()>()));
        drop(spawn(async {
            loop {
                ghostnet::runtime::sleep(std::time::Duration::from_millis(1)).await;
            }
        }));
        // The classic hang: a blocking read of stdin that never completes.
        drop(spawn_blocking(|| {
            let mut buf = [0u8; 1];
            let _ = std::io::stdin().read(&mut buf);
        }));
        ghostnet::runtime::yield_now().await;
        println!("main returning {code}");
        code
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(102)
        }
    }
}
