//! Criterion view of the runtime suite, for profiling one operation at a time:
//! `cargo bench -p ghostnet-benches --bench runtime -- spawn_join`.
//! The ratios that count come from `cargo xtask bench runtime`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ghostnet::runtime::Config;
use ghostnet_benches::runtime_ops as ops;

fn bench(c: &mut Criterion) {
    let rt = Config::for_server().worker_threads(2).build().unwrap();
    let run = |f: fn(u64) -> std::pin::Pin<Box<dyn Future<Output = Duration> + Send>>,
               iters: u64| {
        rt.block_on(async move { tokio::spawn(f(iters)).await.unwrap() })
    };
    let mut g = c.benchmark_group("runtime");
    g.bench_function("spawn_join/ghostnet", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::spawn_join_ghostnet(n)), n))
    });
    g.bench_function("spawn_join/tokio", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::spawn_join_tokio(n)), n))
    });
    g.bench_function("channel_spsc/ghostnet", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::channel_ghostnet(n, 1)), n))
    });
    g.bench_function("channel_spsc/tokio", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::channel_tokio(n, 1)), n))
    });
    g.bench_function("semaphore/ghostnet", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::semaphore_ghostnet(n)), n))
    });
    g.bench_function("semaphore/tokio", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::semaphore_tokio(n)), n))
    });
    g.bench_function("race2/ghostnet", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::race2_ghostnet(n)), n))
    });
    g.bench_function("race2/tokio_select", |b| {
        b.iter_custom(|n| run(|n| Box::pin(ops::race2_tokio(n)), n))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
