//! Benchmarks of ghostnet against its peers.
//!
//! - [`http2`]: the servers, clients and h2load runner of the `http2` suite.
//! - [`pkgmgr`]: the parts of the `pkgmgr` suite (AUR metadata lookups), each returning
//!   its rows to the `bench_pkgmgr` binary.
//! - [`report`]: the result format of `../shared/bench.md` and the alternating runner.
//! - [`runtime_ops`]: the operations of the runtime suite, ours and raw tokio side by side,
//!   shared by the criterion bench (`cargo bench -p ghostnet-benches`) and the
//!   `bench_runtime` binary that `cargo xtask bench runtime` runs.
//! - [`ws_ops`]: the echo servers (ghostnet-ws and tokio-tungstenite), load generator and
//!   idle connections of the `bench_ws` binary (`cargo xtask bench ws`).

pub mod http2;
pub mod pkgmgr;
pub mod report;
pub mod runtime_ops;
pub mod server_thread;
pub mod ws_ops;
