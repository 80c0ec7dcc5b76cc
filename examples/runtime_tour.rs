//! A tour of ghostnet-runtime: presets, tasks, groups, channels, sync, combinators,
//! shutdown and diagnostics. Run: `cargo run --release --example runtime_tour`.

use std::time::Duration;

use ghostnet::runtime::{
    Capabilities, Config, Error, RuntimeStats, Semaphore, Shutdown, TaskGroup, all, any, channel,
    race, run, sleep, spawn, timeout,
};

fn main() -> Result<(), Error> {
    println!("{}\n", Capabilities::detect());
    run(Config::for_server().worker_threads(2), tour())?
}

async fn tour() -> Result<(), Error> {
    println!("spawned task returned {}", spawn(async { 6 * 7 }).await?); // task + handle

    // A group: results in spawn order; dropping the group would cancel the rest.
    let mut group = TaskGroup::new();
    for ms in [30u64, 10, 20] {
        group.spawn(async move {
            sleep(Duration::from_millis(ms)).await;
            ms
        });
    }
    let done: Vec<u64> = group
        .join_all()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    println!("task group joined in spawn order: {done:?}");

    // A bounded channel: backpressure, then close-and-drain.
    let (tx, mut rx) = channel::bounded(4);
    let producer = spawn(async move {
        for i in 0..10 {
            tx.send(i).await?; // waits while the channel is full
        }
        Ok::<_, Error>(())
    });
    let mut sum = 0;
    while let Some(v) = rx.recv().await {
        sum += v;
    }
    producer.await??;
    println!(
        "channel delivered 0..10, sum {sum}; recv after drain = {:?}",
        rx.recv().await
    );

    // A semaphore caps concurrency at 2.
    let sem = Semaphore::new(2);
    let jobs = (0..6).map(|i| {
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire().await?;
            sleep(Duration::from_millis(5)).await;
            Ok::<_, Error>(i)
        }
    });
    let ran = all(jobs.collect::<Vec<_>>()).await;
    println!(
        "6 jobs through a 2-permit semaphore: {} ok",
        ran.iter().filter(|r| r.is_ok()).count()
    );

    // race: first wins; any: first Ok wins; timeout: bounded waiting.
    let winner = race((
        async {
            sleep(Duration::from_millis(50)).await;
            "slow mirror"
        },
        async {
            sleep(Duration::from_millis(5)).await;
            "fast mirror"
        },
    ))
    .await;
    let first_ok = any((async { Err::<&str, _>("mirror a: 503") }, async {
        Ok("mirror b: 200")
    }))
    .await;
    let late = timeout(Duration::from_millis(10), sleep(Duration::from_secs(5))).await;
    println!(
        "race -> {winner}; any -> {first_ok:?}; timeout -> {}",
        late.unwrap_err()
    );

    // Shutdown: drain cooperative tasks, abort the rest after the deadline.
    let shutdown = Shutdown::with_deadline(Duration::from_millis(100));
    shutdown.trigger_on_signals()?;
    let s = shutdown.clone();
    shutdown.spawn(async move { s.triggered().await });
    shutdown.spawn(std::future::pending::<()>());
    println!("{}", RuntimeStats::current());
    println!("{}", shutdown.shutdown().await);
    Ok(())
}
