//! Benchmark results in the format of `shared/bench.md`, and the A/B runner.

use serde::Serialize;

/// One line of a suite's `results` array.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Short name, e.g. `spawn_join`.
    pub name: String,
    /// Unit of `ghostnet` and `peer_value`, e.g. `ns/op`, `msg/s`.
    pub unit: String,
    /// Whether a larger figure is better.
    pub higher_is_better: bool,
    /// Our median.
    pub ghostnet: f64,
    /// Who we compare with (`tokio 1.x`), or the target's name for absolute targets.
    pub peer: String,
    /// The peer's median, or the target value.
    pub peer_value: f64,
    /// Times better than the peer (>1.0: ghostnet ahead).
    pub ratio: f64,
    /// Alternating runs per side.
    pub runs: usize,
    /// How to reproduce the figure.
    pub command: String,
}

/// Two medians from [`alternate`] and how many runs each side had.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Our median.
    pub ours: f64,
    /// The peer's median (or the target value).
    pub peer: f64,
    /// Runs per side.
    pub runs: usize,
}

impl BenchResult {
    /// A comparison of two medians; the ratio is oriented so that >1.0 means ghostnet wins.
    pub fn new(
        name: &str,
        unit: &str,
        higher_is_better: bool,
        peer: &str,
        m: Measured,
        command: &str,
    ) -> Self {
        let Measured {
            ours,
            peer: peer_value,
            runs,
        } = m;
        let ratio = if higher_is_better {
            ours / peer_value
        } else {
            peer_value / ours
        };
        Self {
            name: name.to_owned(),
            unit: unit.to_owned(),
            higher_is_better,
            ghostnet: round3(ours),
            peer: peer.to_owned(),
            peer_value: round3(peer_value),
            ratio: round3(ratio),
            runs,
            command: command.to_owned(),
        }
    }
}

fn round3(v: f64) -> f64 {
    if v.abs() >= 100.0 {
        v.round()
    } else {
        (v * 1000.0).round() / 1000.0
    }
}

/// The median of `values` (mean of the middle two for even counts); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `ours` and `peer` alternately, `runs` times each, in the order A B B A A B B A ...
/// so that drift in machine load hits both sides alike. Returns both medians.
pub fn alternate(
    runs: usize,
    mut ours: impl FnMut() -> f64,
    mut peer: impl FnMut() -> f64,
) -> Measured {
    let mut a = Vec::with_capacity(runs);
    let mut b = Vec::with_capacity(runs);
    for round in 0..runs {
        if round % 2 == 0 {
            a.push(ours());
            b.push(peer());
        } else {
            b.push(peer());
            a.push(ours());
        }
    }
    Measured {
        ours: median(&a),
        peer: median(&b),
        runs,
    }
}

/// Command-line options every suite binary understands.
#[derive(Debug, Clone, Copy)]
pub struct SuiteArgs {
    /// Fewer, shorter runs: a smoke test of the suite, not a measurement.
    pub quick: bool,
}

impl SuiteArgs {
    /// Parses `--quick` from the process arguments.
    pub fn from_env() -> Self {
        Self {
            quick: std::env::args().any(|a| a == "--quick"),
        }
    }

    /// `full` normally, `quick` with `--quick`.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// Prints results as the JSON array `cargo xtask bench` reads from stdout.
pub fn emit(results: &[BenchResult]) {
    println!(
        "{}",
        serde_json::to_string_pretty(results).expect("results serialize")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_ratio_orientation() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        let m = |ours, peer| Measured {
            ours,
            peer,
            runs: 1,
        };
        let faster = BenchResult::new("x", "ns/op", false, "tokio", m(50.0, 100.0), "");
        assert_eq!(faster.ratio, 2.0);
        let more = BenchResult::new("x", "msg/s", true, "tokio", m(150.0, 100.0), "");
        assert_eq!(more.ratio, 1.5);
    }

    #[test]
    fn alternate_interleaves() {
        let order = std::cell::RefCell::new(Vec::new());
        let m = alternate(
            4,
            || {
                order.borrow_mut().push('A');
                1.0
            },
            || {
                order.borrow_mut().push('B');
                2.0
            },
        );
        assert_eq!((m.ours, m.peer, m.runs), (1.0, 2.0, 4));
        assert_eq!(order.into_inner(), ['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']);
    }
}
