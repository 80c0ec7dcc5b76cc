//! The pkgmgr bench runs end to end (AUR metadata: batched vs fresh connections vs
//! reqwest, against the local AUR endpoint) and prints results in the shape of
//! shared/bench.md. Figures from a debug build mean nothing; only the shape is checked.

use std::process::Command;

#[test]
fn quick_run_prints_the_metadata_rows() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench_pkgmgr"))
        .args(["--quick", "--part", "metadata"])
        .output()
        .expect("run bench_pkgmgr");
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
    assert!(
        names.contains(&"aur_info_200_batched_vs_fresh_conn"),
        "{names:?}"
    );
    assert!(
        names.contains(&"aur_info_200_batched_vs_reqwest"),
        "{names:?}"
    );
    for r in results {
        for field in ["ghostnet", "peer_value", "ratio"] {
            let v = r[field]
                .as_f64()
                .unwrap_or_else(|| panic!("{field} in {r}"));
            assert!(v.is_finite() && v > 0.0, "{field} = {v} in {r}");
        }
        assert!(r["peer"].as_str().is_some_and(|p| !p.is_empty()));
    }
}
