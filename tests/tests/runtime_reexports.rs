//! What ghostnet-runtime re-exports from tokio is reachable through the umbrella crate and
//! behaves as documented: oneshot, broadcast, watch, and the select!/join!/try_join! macros.

use std::time::Duration;

use ghostnet::runtime::channel::{broadcast, oneshot, watch};
use ghostnet::runtime::{Config, run, sleep};

#[test]
fn oneshot_broadcast_watch() {
    run(Config::for_cli(), async {
        let (tx, rx) = oneshot::channel();
        tx.send(5).unwrap();
        assert_eq!(rx.await.unwrap(), 5);
        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        assert!(
            rx.await.is_err(),
            "sender dropped: the receiver gets an error"
        );

        let (tx, mut a) = broadcast::channel(4);
        let mut b = tx.subscribe();
        tx.send("hi").unwrap();
        assert_eq!(a.recv().await.unwrap(), "hi");
        assert_eq!(b.recv().await.unwrap(), "hi");

        let (tx, mut rx) = watch::channel(0);
        tx.send(3).unwrap();
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 3);
    })
    .unwrap();
}

#[test]
fn select_join_try_join_macros() {
    run(Config::for_cli(), async {
        let winner = ghostnet::runtime::select! {
            _ = sleep(Duration::from_secs(60)) => "slow",
            _ = sleep(Duration::from_millis(1)) => "fast",
        };
        assert_eq!(winner, "fast");
        let (a, b) = ghostnet::runtime::join!(async { 1 }, async { "two" });
        assert_eq!((a, b), (1, "two"));
        let r: Result<(u8, u8), &str> =
            ghostnet::runtime::try_join!(async { Ok(1) }, async { Err("no") });
        assert_eq!(r, Err("no"));
    })
    .unwrap();
}
