//! The WebSocket suite runs end to end (both echo servers, the load generator, the idle
//! memory child processes) and prints results in the shape of shared/bench.md. Figures
//! from a debug build mean nothing; only the shape is checked.

use std::process::Command;

#[test]
fn quick_run_prints_every_result_with_all_fields() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench_ws"))
        .arg("--quick")
        .output()
        .expect("run bench_ws");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let results = results.as_array().expect("a JSON array");
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for want in [
        "ws_echo_rtt_64B_c1",
        "ws_echo_rtt_64KiB_c100",
        "ws_echo_msgs_64B_c100_w16",
        "ws_echo_msgs_64KiB_c1_w4",
        "ws_idle_memory_per_connection_200",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for r in results {
        for field in ["ghostnet", "peer_value", "ratio"] {
            let v = r[field]
                .as_f64()
                .unwrap_or_else(|| panic!("{field} in {r}"));
            assert!(v.is_finite() && v > 0.0, "{field} = {v} in {r}");
        }
        assert!(
            r["peer"]
                .as_str()
                .is_some_and(|p| p.contains("tokio-tungstenite"))
        );
        assert!(r["unit"].as_str().is_some());
        assert!(r["higher_is_better"].is_boolean());
        assert!(r["runs"].as_u64().unwrap() >= 1);
        assert!(r["command"].as_str().is_some());
    }
}
