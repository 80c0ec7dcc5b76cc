//! The demo's summary: one row per file and a total row.

use std::fmt::Write as _;
use std::time::Duration;

use super::super::progress::human;

/// One finished (or failed) download.
pub(crate) struct Row {
    pub(crate) file: String,
    pub(crate) size: u64,
    pub(crate) elapsed: Duration,
    pub(crate) retries: u32,
    pub(crate) failovers: u32,
    /// Bytes kept from an earlier, interrupted run.
    pub(crate) resumed_from: u64,
    /// The mirror the last bytes came from, or the error.
    pub(crate) outcome: Result<String, String>,
}

fn mb_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / elapsed.as_secs_f64().max(1e-6) / 1e6
}

/// The table as text; `wall` is the time of the whole batch (files ran concurrently,
/// so it is less than the sum of the rows).
pub(crate) fn render(rows: &[Row], wall: Duration) -> String {
    let width = rows
        .iter()
        .map(|r| r.file.len())
        .max()
        .unwrap_or(0)
        .clamp(4, 48);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>10}  {:>7}  {:>8}  {:>7}  {:>9}  {:>10}  from",
        "file", "size", "time", "MB/s", "retries", "failovers", "resumed"
    );
    for r in rows {
        let name: String = r.file.chars().take(width).collect();
        let from = match &r.outcome {
            Ok(mirror) => mirror.clone(),
            Err(e) => format!("FAILED: {e}"),
        };
        let resumed = if r.resumed_from > 0 {
            human(r.resumed_from)
        } else {
            "-".to_owned()
        };
        let _ = writeln!(
            out,
            "{name:<width$}  {:>10}  {:>6.2}s  {:>8.1}  {:>7}  {:>9}  {:>10}  {from}",
            human(r.size),
            r.elapsed.as_secs_f64(),
            mb_s(r.size.saturating_sub(r.resumed_from), r.elapsed),
            r.retries,
            r.failovers,
            resumed,
        );
    }
    let ok = rows.iter().filter(|r| r.outcome.is_ok()).count();
    let bytes: u64 = rows.iter().map(|r| r.size).sum();
    let received: u64 = rows
        .iter()
        .map(|r| r.size.saturating_sub(r.resumed_from))
        .sum();
    let _ = writeln!(
        out,
        "{:<width$}  {:>10}  {:>6.2}s  {:>8.1}  {:>7}  {:>9}  {:>10}",
        format!("total: {ok} of {} files", rows.len()),
        human(bytes),
        wall.as_secs_f64(),
        mb_s(received, wall),
        rows.iter().map(|r| r.retries).sum::<u32>(),
        rows.iter().map(|r| r.failovers).sum::<u32>(),
        human(rows.iter().map(|r| r.resumed_from).sum()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_totals() {
        let rows = [
            Row {
                file: "a.pkg".into(),
                size: 2_000_000,
                elapsed: Duration::from_secs(1),
                retries: 1,
                failovers: 1,
                resumed_from: 1_000_000,
                outcome: Ok("steady".into()),
            },
            Row {
                file: "b.pkg".into(),
                size: 1000,
                elapsed: Duration::from_millis(10),
                retries: 0,
                failovers: 0,
                resumed_from: 0,
                outcome: Err("boom".into()),
            },
        ];
        let text = render(&rows, Duration::from_secs(1));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("a.pkg") && lines[1].contains("steady"));
        assert!(lines[1].contains("1.0"), "{}", lines[1]);
        assert!(lines[2].contains("FAILED: boom"));
        assert!(lines[3].starts_with("total: 1 of 2 files"), "{}", lines[3]);
    }
}
