//! The WebSocket suite runs end to end (both echo servers, the load generator, the idle
//! memory child processes) and prints results in the shape of shared/bench.md.

mod support;

#[test]
fn quick_run_prints_every_result_with_all_fields() {
    let results = support::quick_results(env!("CARGO_BIN_EXE_bench_ws"), "tokio-tungstenite");
    support::assert_has(
        &results,
        &[
            "ws_echo_rtt_64B_c1",
            "ws_echo_rtt_64KiB_c100",
            "ws_echo_msgs_64B_c100_w16",
            "ws_echo_msgs_64KiB_c1_w4",
            "ws_idle_memory_per_connection_200",
        ],
    );
}
