//! `ghostnet`: the command-line face of the toolkit.
//!
//! Arguments are parsed before any runtime exists, so `--help` and `--version` exit at
//! once; commands run on `run(Config::for_cli())`, which returns as soon as the command
//! does. Errors print as one line on stderr with a non-zero exit code.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Networking toolkit: fetch, serve, query, diagnose.
#[derive(Parser)]
#[command(name = "ghostnet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what this machine offers: OS, kernel, CPUs, io_uring, package managers.
    Doctor,
    /// Everything at once, offline: local AUR endpoint and mirrors, one metadata batch,
    /// concurrent downloads with failover, resume and sha256 checks, a summary table.
    Demo(commands::demo::DemoArgs),
    /// Query the Arch User Repository: `aur info NAME...`, `aur search TERM [--by FIELD]`.
    Aur(commands::aur::AurArgs),
    /// Download files: mirrors, resume on re-run, sha256 checks, progress bars.
    Get(commands::get::GetArgs),
    /// Serve a directory over HTTP/1.1 and HTTP/2 (ranges, ETags): a local mirror.
    Serve(commands::serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async move {
        match cli.command {
            Command::Doctor => commands::doctor::run().await,
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Aur(args) => commands::aur::run(args).await,
            Command::Get(args) => commands::get::run(args).await,
            Command::Serve(args) => commands::serve::run(args).await,
        }
    });
    let message = match result {
        Ok(Ok(())) => return ExitCode::SUCCESS,
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    eprintln!("ghostnet: {message}");
    ExitCode::FAILURE
}
