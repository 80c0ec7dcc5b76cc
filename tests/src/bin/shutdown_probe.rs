//! Probe for `tests/runtime_shutdown_signal.rs`: prints `ready`, waits for SIGTERM/SIGINT,
//! drains a cooperative task, aborts a stubborn one after the deadline, prints the report.

use std::time::Duration;

use ghostnet::runtime::{Config, Shutdown, run};

fn main() {
    let report = run(Config::for_server().worker_threads(2), async {
        let shutdown = Shutdown::with_deadline(Duration::from_millis(300));
        shutdown.trigger_on_signals().expect("signal handlers");
        let s = shutdown.clone();
        shutdown.spawn(async move {
            s.triggered().await;
            println!("drained");
        });
        shutdown.spawn(std::future::pending::<()>());
        println!("ready");
        shutdown.triggered().await;
        shutdown.shutdown().await
    })
    .expect("runtime");
    println!("aborted={} stuck={}", report.aborted, report.stuck);
}
