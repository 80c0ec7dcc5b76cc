//! What every bench smoke test checks: the binary runs its `--quick` suite and prints a
//! JSON array of results in the shape of shared/bench.md. Figures from a debug build mean
//! nothing, so only names and the shape of each result are checked.

#![allow(dead_code)] // each smoke test uses a different subset

use std::process::Command;

use serde_json::Value;

/// Runs `exe --quick`, asserts it succeeded, and returns its results after checking that
/// each has every field of shared/bench.md with finite, positive figures and a peer whose
/// name contains `peer_contains`.
pub(crate) fn quick_results(exe: &str, peer_contains: &str) -> Vec<Value> {
    let out = Command::new(exe)
        .arg("--quick")
        .output()
        .unwrap_or_else(|e| panic!("run {exe}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let results = results.as_array().expect("a JSON array").clone();
    for r in &results {
        assert_result_shape(r, peer_contains);
    }
    results
}

/// The names of `results`, in order.
pub(crate) fn names(results: &[Value]) -> Vec<&str> {
    results
        .iter()
        .map(|r| r["name"].as_str().expect("a name"))
        .collect()
}

/// Asserts that every name in `want` is among `results`.
pub(crate) fn assert_has(results: &[Value], want: &[&str]) {
    let names = names(results);
    for w in want {
        assert!(names.contains(w), "{w} missing from {names:?}");
    }
}

fn assert_result_shape(r: &Value, peer_contains: &str) {
    for field in ["ghostnet", "peer_value", "ratio"] {
        let v = r[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field} in {r}"));
        assert!(v.is_finite() && v > 0.0, "{field} = {v} in {r}");
    }
    assert!(
        r["peer"]
            .as_str()
            .is_some_and(|p| !p.is_empty() && p.contains(peer_contains)),
        "peer of {r} should name {peer_contains:?}"
    );
    assert!(r["unit"].as_str().is_some());
    assert!(r["higher_is_better"].is_boolean());
    assert!(r["runs"].as_u64().is_some_and(|n| n >= 1));
    assert!(r["command"].as_str().is_some());
}
