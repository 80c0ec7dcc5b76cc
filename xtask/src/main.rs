//! ghostnet's project automation: `cargo xtask --help`.
//!
//! Every task installs what it needs (system packages via `apt-get` when running as
//! root, otherwise it prints the exact command), so each works on a fresh machine.

mod bench;
mod interop;
mod system;

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "ghostnet project tasks",
    version
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run a benchmark suite against its peers; writes `target/bench/SUITE.json`.
    Bench {
        /// Suite name, or `all`.
        #[arg(value_parser = bench::suite_names())]
        suite: String,
        /// Fewer, shorter runs: a smoke test of the suite, not a measurement.
        #[arg(long)]
        quick: bool,
    },
    /// Run ghostnet against independent implementations (`shared/peers.md`) and summarise
    /// the verdicts; `ws`: the Autobahn case set (kosoku), our server and our client.
    Interop {
        /// What to test: `ws`.
        #[arg(value_parser = ["ws"])]
        target: String,
        /// Case ids or globs to run (e.g. `1.*`); default: all but the deflate groups.
        #[arg(long = "include", short = 'i')]
        include: Vec<String>,
        /// Case ids or globs to leave out (default: `12.*` and `13.*`, permessage-deflate).
        #[arg(long = "exclude", short = 'x')]
        exclude: Vec<String>,
    },
    /// Install system packages, then run every test (nextest if installed) and doctests.
    Test {
        /// Extra arguments passed to `cargo nextest run` / `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Install the system packages the workspace needs (cmake, libclang-dev, ...).
    Deps,
    /// Check licenses and advisories with cargo-deny (if installed).
    Deny,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Bench { suite, quick } => bench::run(&suite, quick),
        Task::Interop {
            target,
            include,
            exclude,
        } => interop::run(&target, &include, &exclude),
        Task::Test { args } => system::ensure_packages().and_then(|()| test(&args)),
        Task::Deps => system::ensure_packages(),
        Task::Deny => deny(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the workspace tests: nextest when available (faster, per-test processes), plain
/// `cargo test` otherwise; doctests always through `cargo test --doc`.
fn test(extra: &[String]) -> Result<(), String> {
    if system::cargo_subcommand_exists("nextest") {
        let mut args = vec!["nextest", "run", "--workspace", "--no-fail-fast"];
        args.extend(extra.iter().map(String::as_str));
        system::cargo(&args)?;
    } else {
        eprintln!("xtask: cargo-nextest not found, using cargo test");
        let mut args = vec!["test", "--workspace", "--no-fail-fast"];
        args.extend(extra.iter().map(String::as_str));
        return system::cargo(&args);
    }
    system::cargo(&["test", "--workspace", "--doc"])
}

fn deny() -> Result<(), String> {
    if !system::cargo_subcommand_exists("deny") {
        println!(
            "cargo-deny is not installed; install it with `cargo install --locked cargo-deny`, then rerun `cargo xtask deny`."
        );
        return Ok(());
    }
    system::cargo(&["deny", "--workspace", "check"])
}

/// `rustc -V` of the toolchain in use.
fn rustc_version() -> String {
    Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned())
}
