//! The HTTP/1.1 client bench runs end to end (ours, reqwest and hyper-util against one
//! local server) and prints results in the shape of shared/bench.md.

mod support;

#[test]
fn quick_run_prints_both_comparisons() {
    let results = support::quick_results(env!("CARGO_BIN_EXE_bench_http1_client"), "");
    assert_eq!(
        support::names(&results),
        [
            "http1_client_sequential_get_1000",
            "http1_client_sequential_get_1000_vs_hyper_util"
        ]
    );
    for r in &results {
        assert_eq!(r["unit"], "req/s");
        assert_eq!(r["higher_is_better"], true);
    }
}
