//! The runtime suite runs end to end and prints results in the shape of shared/bench.md.

mod support;

#[test]
fn quick_run_prints_every_result_with_all_fields() {
    // Peers differ per row (tokio, #[tokio::main], a bare fn main); any name will do.
    let results = support::quick_results(env!("CARGO_BIN_EXE_bench_runtime"), "");
    support::assert_has(
        &results,
        &[
            "spawn_join_current_thread",
            "spawn_join_multi_thread",
            "main_spawn_join_run_vs_tokio_main",
            "channel_spsc",
            "channel_mpsc4",
            "semaphore_acquire_release",
            "race2_vs_select",
            "cli_cold_exit",
        ],
    );
}
