//! `cargo xtask interop <target>`: run ghostnet against independent implementations
//! (`shared/peers.md`) and summarise their verdicts.
//!
//! `ws`: the Autobahn case set through kosoku (PyPI), both directions:
//! 1. kosoku `fuzzingclient` against `examples/ws_echo` (our server),
//! 2. kosoku `fuzzingserver` driven by `examples/ws_autobahn_client` (our client),
//!
//! then a table of OK / NON-STRICT / INFORMATIONAL / FAILED per case group, and
//! `target/interop/ws/summary.json`. Fails if any case FAILED (or could not run: ERROR).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::system;

/// Verdicts in table order; anything else is counted under its own name.
const VERDICTS: &[&str] = &["OK", "NON-STRICT", "INFORMATIONAL", "FAILED"];

/// The deflate groups take minutes and test an extension tungstenite does not have.
const DEFAULT_EXCLUDES: &[&str] = &["12.*", "13.*"];

/// How long one direction may take before it is considered stuck.
const RUN_LIMIT: Duration = Duration::from_secs(900);

/// Runs the interop suite for `target` (only `ws` today).
pub(crate) fn run(target: &str, include: &[String], exclude: &[String]) -> Result<(), String> {
    match target {
        "ws" => ws(include, exclude),
        other => Err(format!("unknown interop target {other}; known: ws")),
    }
}

fn ws(include: &[String], exclude: &[String]) -> Result<(), String> {
    let root = system::workspace_root();
    let kosoku = ensure_kosoku(&root)?;
    system::cargo(&[
        "build",
        "--release",
        "--quiet",
        "-p",
        "ghostnet-examples",
        "--example",
        "ws_echo",
        "--example",
        "ws_autobahn_client",
    ])?;
    let examples = system::target_dir()?.join("release").join("examples");
    let out = system::target_dir()?.join("interop").join("ws");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("create {}: {e}", out.display()))?;

    let mut filters: Vec<String> = Vec::new();
    for i in include {
        filters.extend(["-i".to_owned(), i.clone()]);
    }
    let excludes: Vec<String> = if exclude.is_empty() && include.is_empty() {
        DEFAULT_EXCLUDES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        exclude.to_vec()
    };
    for x in &excludes {
        filters.extend(["-x".to_owned(), x.clone()]);
    }

    // 1. Our server under test.
    eprintln!("xtask: autobahn, server under test: examples/ws_echo");
    let server_dir = out.join("server");
    let (mut echo, addr) = start_echo(&examples.join("ws_echo"))?;
    let status = Command::new(&kosoku)
        .args(["-m", "fuzzingclient"])
        .args(&filters)
        .arg("-o")
        .arg(&server_dir)
        .arg(&addr)
        .stdout(Stdio::null())
        .status();
    let _ = echo.kill();
    let _ = echo.wait();
    let status = status.map_err(|e| format!("could not run kosoku: {e}"))?;
    eprintln!("xtask: kosoku fuzzingclient exited with {status}");

    // 2. Our client under test.
    eprintln!("xtask: autobahn, client under test: examples/ws_autobahn_client");
    let client_dir = out.join("client");
    let port = free_port()?;
    let mut fuzzer = Command::new(&kosoku)
        .args(["-m", "fuzzingserver"])
        .args(&filters)
        .arg("-o")
        .arg(&client_dir)
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not run kosoku: {e}"))?;
    wait_listening(port, &mut fuzzer)?;
    let driver = Command::new(examples.join("ws_autobahn_client"))
        .args(["--server", &format!("ws://127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .status();
    let fuzzer_status = wait_with_limit(&mut fuzzer, RUN_LIMIT);
    let driver = driver.map_err(|e| format!("could not run ws_autobahn_client: {e}"))?;
    if !driver.success() {
        return Err(format!("ws_autobahn_client failed ({driver})"));
    }
    eprintln!("xtask: kosoku fuzzingserver exited with {}", fuzzer_status?);

    let server = summarise(&server_dir.join("index.json"))?;
    let client = summarise(&client_dir.join("index.json"))?;
    print!("{}", table("server under test (examples/ws_echo)", &server));
    print!(
        "{}",
        table("client under test (examples/ws_autobahn_client)", &client)
    );
    let summary = json!({
        "tool": "kosoku (Autobahn case set)",
        "excluded": excludes,
        "included": include,
        "server": to_json(&server),
        "client": to_json(&client),
    });
    let path = out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("write {}: {e}", path.display()))?;
    println!(
        "reports: {} and {}; summary: {}",
        server_dir.join("index.html").display(),
        client_dir.join("index.html").display(),
        path.display()
    );
    let bad = failures(&server) + failures(&client);
    if bad > 0 {
        return Err(format!(
            "{bad} autobahn case(s) FAILED or could not run; see the reports"
        ));
    }
    Ok(())
}

/// `ROOT/.venv-ws/bin/kosoku`, creating the venv and installing kosoku when missing.
fn ensure_kosoku(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join(".venv-ws");
    let kosoku = venv.join("bin").join("kosoku");
    if kosoku.is_file() {
        return Ok(kosoku);
    }
    system::ensure(&["python3", "python3-venv"])?;
    eprintln!("xtask: creating {} with kosoku", venv.display());
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("could not run python3: {e}"))?;
    if !ok.success() {
        return Err(format!(
            "`python3 -m venv {}` failed ({ok}); install python3-venv",
            venv.display()
        ));
    }
    let pip = venv.join("bin").join("pip");
    let ok = Command::new(&pip)
        .args(["install", "--quiet", "kosoku"])
        .status()
        .map_err(|e| format!("could not run {}: {e}", pip.display()))?;
    if !ok.success() || !kosoku.is_file() {
        return Err(format!(
            "`{} install kosoku` failed ({ok}); kosoku comes from PyPI, check network access \
             to pypi.org",
            pip.display()
        ));
    }
    Ok(kosoku)
}

/// Starts the echo server on a free port; returns it and `host:port` from its first line.
fn start_echo(bin: &Path) -> Result<(Child, String), String> {
    let mut child = Command::new(bin)
        .args(["--addr", "127.0.0.1:0", "--workers", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout from ws_echo")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading ws_echo's address: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on ws://")
        .and_then(|a| a.strip_suffix('/'))
        .map(str::to_owned);
    match addr {
        Some(a) => Ok((child, a)),
        None => {
            let _ = child.kill();
            Err(format!("ws_echo did not report its address (got {line:?})"))
        }
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Waits until something accepts on `port` (the fuzzing server is up), for at most 30 s.
fn wait_listening(port: u16, child: &mut Child) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("kosoku fuzzingserver exited early ({status})"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    Err("kosoku fuzzingserver did not start listening within 30 s".into())
}

fn wait_with_limit(child: &mut Child, limit: Duration) -> Result<String, String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status.to_string());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            return Err(format!(
                "kosoku fuzzingserver still running after {limit:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Verdict counts per case group (`1`, `2`, ... `9`), from an Autobahn `index.json`.
type Summary = BTreeMap<u32, BTreeMap<String, usize>>;

fn summarise(index: &Path) -> Result<Summary, String> {
    let text = std::fs::read_to_string(index).map_err(|e| {
        format!(
            "no report at {} ({e}); see kosoku's output",
            index.display()
        )
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", index.display()))?;
    let agents = v.as_object().ok_or("index.json is not an object")?;
    let mut out = Summary::new();
    for cases in agents.values() {
        for (id, result) in cases.as_object().into_iter().flatten() {
            let group = id
                .split('.')
                .next()
                .and_then(|g| g.parse().ok())
                .unwrap_or(0);
            let verdict = result["behavior"].as_str().unwrap_or("ERROR").to_owned();
            *out.entry(group).or_default().entry(verdict).or_default() += 1;
        }
    }
    if out.is_empty() {
        return Err(format!("{} lists no cases", index.display()));
    }
    Ok(out)
}

/// Cases that FAILED or could not be run (ERROR). UNIMPLEMENTED (the deflate groups, when
/// asked for) is reported in its own column but is not a failure: no extension was
/// negotiated, so nothing was violated.
fn failures(s: &Summary) -> usize {
    s.values()
        .flat_map(|g| g.iter())
        .filter(|(v, _)| matches!(v.as_str(), "FAILED" | "ERROR"))
        .map(|(_, n)| n)
        .sum()
}

fn table(title: &str, s: &Summary) -> String {
    let mut others: Vec<&String> = s
        .values()
        .flat_map(|g| g.keys())
        .filter(|v| !VERDICTS.contains(&v.as_str()))
        .collect();
    others.sort();
    others.dedup();
    let columns: Vec<&str> = VERDICTS
        .iter()
        .copied()
        .chain(others.iter().map(|s| s.as_str()))
        .collect();
    let mut out = format!("\nAutobahn, {title}\n{:<7}{:>7}", "group", "cases");
    for c in &columns {
        out += &format!("{c:>15}");
    }
    out.push('\n');
    let mut totals = vec![0usize; columns.len()];
    let mut all = 0;
    for (group, counts) in s {
        let n: usize = counts.values().sum();
        all += n;
        out += &format!("{:<7}{n:>7}", format!("{group}.*"));
        for (i, c) in columns.iter().enumerate() {
            let k = counts.get(*c).copied().unwrap_or(0);
            totals[i] += k;
            out += &format!("{k:>15}");
        }
        out.push('\n');
    }
    out += &format!("{:<7}{all:>7}", "total");
    for t in totals {
        out += &format!("{t:>15}");
    }
    out.push('\n');
    out
}

fn to_json(s: &Summary) -> Value {
    let groups: serde_json::Map<String, Value> = s
        .iter()
        .map(|(g, counts)| (g.to_string(), json!(counts)))
        .collect();
    let mut total: BTreeMap<&str, usize> = BTreeMap::new();
    for counts in s.values() {
        for (v, n) in counts {
            *total.entry(v.as_str()).or_default() += n;
        }
    }
    json!({ "groups": groups, "total": total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_and_failures() {
        let dir = std::env::temp_dir().join(format!("xtask-interop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let index = dir.join("index.json");
        std::fs::write(
            &index,
            r#"{"agent": {"1.1.1": {"behavior": "OK"}, "1.1.2": {"behavior": "OK"},
                          "6.4.3": {"behavior": "NON-STRICT"}, "9.1.1": {"behavior": "FAILED"},
                          "12.1.1": {"behavior": "UNIMPLEMENTED"}}}"#,
        )
        .unwrap();
        let s = summarise(&index).unwrap();
        assert_eq!(s[&1]["OK"], 2);
        assert_eq!(s[&6]["NON-STRICT"], 1);
        assert_eq!(failures(&s), 1, "UNIMPLEMENTED is not a failure");
        let t = table("test", &s);
        assert!(t.contains("total") && t.contains("UNIMPLEMENTED"), "{t}");
        assert_eq!(to_json(&s)["total"]["OK"], 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
