//! The TLS handshake suite runs end to end and prints results in the shape of
//! shared/bench.md. (Figures from a debug build mean nothing; only the shape is checked.)

use std::process::Command;

#[test]
fn quick_run_prints_every_result_with_all_fields() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench_transport_tls"))
        .arg("--quick")
        .output()
        .expect("run bench_transport_tls");
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
    for want in ["tls_handshake_full_c8", "tls_handshake_resumed_c8"] {
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
                .is_some_and(|p| p.contains("tokio-rustls"))
        );
        assert!(r["unit"].as_str().is_some());
        assert!(r["higher_is_better"].is_boolean());
        assert!(r["runs"].as_u64().unwrap() >= 1);
        assert!(r["command"].as_str().is_some());
    }
}
