//! The runtime suite: ghostnet-runtime wrappers against raw tokio on the same runtime, and
//! the cold-exit time of a `run(Config::for_cli())` program against a bare `fn main`.
//! Prints a JSON array of results; `cargo xtask bench runtime` wraps it into
//! `target/bench/runtime.json`.

use std::future::Future;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ghostnet::runtime::Config;
use ghostnet_benches::report::{BenchResult, Measured, SuiteArgs, alternate, emit};
use ghostnet_benches::runtime_ops as ops;

const TOKIO: &str = "tokio 1.x (same runtime)";
const CMD: &str = "cargo xtask bench runtime";

type BoxedOp = std::pin::Pin<Box<dyn Future<Output = Duration> + Send>>;

fn main() {
    let args = SuiteArgs::from_env();
    let runs = args.pick(7, 2);
    let rt = Config::for_server()
        .worker_threads(2)
        .build()
        .expect("runtime");
    // Measure on a worker thread, where server code runs (block_on's thread is not one).
    let on_worker =
        |fut: BoxedOp| rt.block_on(async { tokio::spawn(fut).await.expect("bench task") });
    let per_op_ns = |d: Duration, n: u64| d.as_nanos() as f64 / n as f64;
    let per_sec = |d: Duration, n: u64| n as f64 / d.as_secs_f64();
    let mut results = Vec::new();

    // spawn + join on both schedulers, from a task (where `run` puts `main`).
    let cli_rt = Config::for_cli().build().expect("runtime");
    let n = args.pick(200_000, 20_000);
    let in_task = |rt: &tokio::runtime::Runtime, fut: BoxedOp| {
        rt.block_on(async { tokio::spawn(fut).await.expect("bench task") })
    };
    let m = alternate(
        runs,
        || per_op_ns(in_task(&cli_rt, Box::pin(ops::spawn_join_ghostnet(n))), n),
        || per_op_ns(in_task(&cli_rt, Box::pin(ops::spawn_join_tokio(n))), n),
    );
    drop(cli_rt);
    push_with_target(&mut results, "spawn_join_current_thread", m, 1000.0);
    let m = alternate(
        runs,
        || per_op_ns(on_worker(Box::pin(ops::spawn_join_ghostnet(n))), n),
        || per_op_ns(on_worker(Box::pin(ops::spawn_join_tokio(n))), n),
    );
    push_with_target(&mut results, "spawn_join_multi_thread", m, 1000.0);

    // What a user's `main` sees: `run(Config::for_server(), main)` against
    // `#[tokio::main]`, which polls `main` on the block_on thread.
    let n = args.pick(50_000, 5_000);
    let m = alternate(
        runs,
        || {
            let d = ghostnet::runtime::run(Config::for_server(), ops::spawn_join_ghostnet(n));
            per_op_ns(d.expect("run"), n)
        },
        || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime");
            per_op_ns(rt.block_on(ops::spawn_join_tokio(n)), n)
        },
    );
    results.push(BenchResult::new(
        "main_spawn_join_run_vs_tokio_main",
        "ns/op",
        false,
        "#[tokio::main] (multi-thread, main in block_on)",
        m,
        CMD,
    ));

    let n = args.pick(2_000_000, 100_000);
    for producers in [1u64, 4] {
        let m = alternate(
            runs,
            || per_sec(on_worker(Box::pin(ops::channel_ghostnet(n, producers))), n),
            || per_sec(on_worker(Box::pin(ops::channel_tokio(n, producers))), n),
        );
        let name = if producers == 1 {
            "channel_spsc"
        } else {
            "channel_mpsc4"
        };
        results.push(BenchResult::new(name, "msg/s", true, TOKIO, m, CMD));
        results.push(BenchResult::new(
            &format!("{name}_target"),
            "msg/s",
            true,
            "target: over 1M msg/s",
            Measured { peer: 1e6, ..m },
            CMD,
        ));
    }

    let n = args.pick(2_000_000, 100_000);
    let m = alternate(
        runs,
        || per_op_ns(on_worker(Box::pin(ops::semaphore_ghostnet(n))), n),
        || per_op_ns(on_worker(Box::pin(ops::semaphore_tokio(n))), n),
    );
    results.push(BenchResult::new(
        "semaphore_acquire_release",
        "ns/op",
        false,
        TOKIO,
        m,
        CMD,
    ));

    let n = args.pick(5_000_000, 200_000);
    let m = alternate(
        runs,
        || per_op_ns(on_worker(Box::pin(ops::race2_ghostnet(n))), n),
        || per_op_ns(on_worker(Box::pin(ops::race2_tokio(n))), n),
    );
    results.push(BenchResult::new(
        "race2_vs_select",
        "ns/op",
        false,
        "tokio::select! (same runtime)",
        m,
        CMD,
    ));
    drop(rt);

    let launches = args.pick(40, 5);
    let dir = std::env::current_exe().expect("own path");
    let dir = dir.parent().expect("bin dir");
    let time_launches = |bin: &str| {
        let path = dir.join(bin);
        let start = Instant::now();
        for _ in 0..launches {
            let status = Command::new(&path)
                .stdout(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
            assert!(status.success());
        }
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(launches)
    };
    let m = alternate(
        runs,
        || time_launches("cli_exit_ghostnet"),
        || time_launches("cli_exit_bare"),
    );
    results.push(BenchResult::new(
        "cli_cold_exit",
        "ms",
        false,
        "bare fn main",
        m,
        "cargo xtask bench runtime (process spawn to exit, run(Config::for_cli()) printing a line)",
    ));

    emit(&results);
}

/// Pushes a spawn+join comparison with tokio and the same figure against the 1 us target.
fn push_with_target(results: &mut Vec<BenchResult>, name: &str, m: Measured, target_ns: f64) {
    results.push(BenchResult::new(name, "ns/op", false, TOKIO, m, CMD));
    results.push(BenchResult::new(
        &format!("{name}_target"),
        "ns/op",
        false,
        "target: under 1 us",
        Measured {
            peer: target_ns,
            ..m
        },
        CMD,
    ));
}
