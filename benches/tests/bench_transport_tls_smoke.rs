//! The TLS handshake suite runs end to end and prints results in the shape of
//! shared/bench.md.

mod support;

#[test]
fn quick_run_prints_every_result_with_all_fields() {
    let results = support::quick_results(env!("CARGO_BIN_EXE_bench_transport_tls"), "tokio-rustls");
    support::assert_has(
        &results,
        &["tls_handshake_full_c8", "tls_handshake_resumed_c8"],
    );
}
