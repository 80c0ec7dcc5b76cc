//! The HTTP/1.1 client bench runs end to end (ours, reqwest and hyper-util against one
//! local server) and prints results in the shape of shared/bench.md. Figures from a debug
//! build mean nothing; only the shape is checked.

use std::process::Command;

#[test]
fn quick_run_prints_both_comparisons() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench_http1_client"))
        .arg("--quick")
        .output()
        .expect("run bench_http1_client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let results = results.as_array().expect("an array");
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "http1_client_sequential_get_1000",
            "http1_client_sequential_get_1000_vs_hyper_util"
        ]
    );
    for r in results {
        for field in ["ghostnet", "peer_value", "ratio"] {
            let v = r[field]
                .as_f64()
                .unwrap_or_else(|| panic!("{field} in {r}"));
            assert!(v.is_finite() && v > 0.0, "{field} = {v} in {r}");
        }
        assert_eq!(r["unit"], "req/s");
        assert_eq!(r["higher_is_better"], true);
        assert!(r["peer"].as_str().is_some_and(|p| !p.is_empty()));
    }
}
