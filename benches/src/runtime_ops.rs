//! The runtime suite's operations, each written twice: through ghostnet-runtime and
//! through raw tokio, identical otherwise. Each runs `n` iterations and returns the time.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghostnet::runtime as gr;

/// Spawn an empty task and await it, `n` times.
pub async fn spawn_join_ghostnet(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(gr::spawn(async { black_box(1u8) }).await.unwrap());
    }
    start.elapsed()
}

/// [`spawn_join_ghostnet`] with `tokio::spawn`.
pub async fn spawn_join_tokio(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(tokio::spawn(async { black_box(1u8) }).await.unwrap());
    }
    start.elapsed()
}

/// Capacity of the channels in the throughput runs.
pub const CHANNEL_CAPACITY: usize = 1024;

/// `producers` tasks send `n` messages in total through a bounded channel to one receiver.
pub async fn channel_ghostnet(n: u64, producers: u64) -> Duration {
    let (tx, mut rx) = gr::channel::bounded::<u64>(CHANNEL_CAPACITY);
    let start = Instant::now();
    for p in 0..producers {
        let tx = tx.clone();
        gr::spawn(async move {
            for i in 0..n / producers {
                tx.send(p + i).await.unwrap();
            }
        });
    }
    drop(tx);
    let mut sum = 0u64;
    while let Some(v) = rx.recv().await {
        sum = sum.wrapping_add(v);
    }
    black_box(sum);
    start.elapsed()
}

/// [`channel_ghostnet`] with `tokio::sync::mpsc`.
pub async fn channel_tokio(n: u64, producers: u64) -> Duration {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CHANNEL_CAPACITY);
    let start = Instant::now();
    for p in 0..producers {
        let tx = tx.clone();
        tokio::spawn(async move {
            for i in 0..n / producers {
                tx.send(p + i).await.unwrap();
            }
        });
    }
    drop(tx);
    let mut sum = 0u64;
    while let Some(v) = rx.recv().await {
        sum = sum.wrapping_add(v);
    }
    black_box(sum);
    start.elapsed()
}

/// Acquire and release one permit, `n` times.
pub async fn semaphore_ghostnet(n: u64) -> Duration {
    let sem = gr::Semaphore::new(8);
    let start = Instant::now();
    for _ in 0..n {
        drop(black_box(sem.acquire().await.unwrap()));
    }
    start.elapsed()
}

/// [`semaphore_ghostnet`] with `tokio::sync::Semaphore` behind an `Arc`, as it is shared.
pub async fn semaphore_tokio(n: u64) -> Duration {
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let start = Instant::now();
    for _ in 0..n {
        drop(black_box(sem.acquire().await.unwrap()));
    }
    start.elapsed()
}

/// Race a ready future against a pending one, `n` times.
pub async fn race2_ghostnet(n: u64) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let v = gr::race((async { black_box(i) }, std::future::pending::<u64>())).await;
        black_box(v);
    }
    start.elapsed()
}

/// [`race2_ghostnet`] with `tokio::select!`.
pub async fn race2_tokio(n: u64) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let v = tokio::select! {
            v = async { black_box(i) } => v,
            v = std::future::pending::<u64>() => v,
        };
        black_box(v);
    }
    start.elapsed()
}
