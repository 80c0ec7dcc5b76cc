//! Peers and our servers run on their own thread and current-thread runtime, so the
//! client side of a bench owns the rest of the machine's scheduling.

use std::future::Future;
use std::sync::mpsc::{Sender, channel};

/// Runs `serve` on a new thread with its own current-thread runtime and returns the first
/// value it sends (its address or endpoint) once it is listening.
///
/// ```no_run
/// let addr: u16 = ghostnet_benches::server_thread::start(|tx| async move {
///     tx.send(8080).expect("report");
///     std::future::pending::<()>().await;
/// });
/// ```
pub fn start<T, F, Fut>(serve: F) -> T
where
    T: Send + 'static,
    F: FnOnce(Sender<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime")
            .block_on(serve(tx));
    });
    rx.recv().expect("the server reports where it listens")
}
