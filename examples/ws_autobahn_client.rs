//! Drives the ghostnet WebSocket client through an Autobahn fuzzing server (Autobahn's
//! `wstest -m fuzzingserver`, or kosoku's): asks for the case count, runs every case as
//! an echo client, then asks the server to write its report.
//!
//! Run by `cargo xtask interop ws`; by hand:
//! `kosoku -m fuzzingserver -x '12.*' -x '13.*' -o /tmp/ab 127.0.0.1:9002 &` then
//! `cargo run --release --example ws_autobahn_client -- --server ws://127.0.0.1:9002`.

use clap::Parser;
use ghostnet::runtime::{Config, run};
use ghostnet::ws::{self, Client, Message};

#[derive(Parser)]
#[command(about = "Autobahn fuzzingserver driver for the ghostnet WebSocket client")]
struct Args {
    /// The fuzzing server's base URL.
    #[arg(long, default_value = "ws://127.0.0.1:9001")]
    server: String,
    /// Agent name the report files the results under.
    #[arg(long, default_value = "ghostnet-ws")]
    agent: String,
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    run(Config::for_cli(), async move {
        let client = Client::builder()
            .config(ws::Config::default().max_message_size(16 << 20))
            .build()?;
        let count: u32 = {
            let (mut socket, _) = client
                .connect(&format!("{}/getCaseCount", args.server))
                .await?;
            match socket.recv().await {
                Some(Ok(Message::Text(t))) => t.as_str().trim().parse()?,
                other => return Err(format!("no case count from the server: {other:?}").into()),
            }
        };
        println!("running {count} cases as agent {}", args.agent);
        for case in 1..=count {
            let url = format!("{}/runCase?case={case}&agent={}", args.server, args.agent);
            match client.connect(&url).await {
                Ok((socket, _)) => echo(socket).await,
                Err(e) => eprintln!("case {case}: connect failed: {e}"),
            }
        }
        let url = format!("{}/updateReports?agent={}", args.server, args.agent);
        let (mut socket, _) = client.connect(&url).await?;
        while let Some(Ok(_)) = socket.recv().await {}
        println!("done: {count} cases");
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })?
}

/// Echoes text and binary messages until the case ends.
async fn echo(mut socket: ws::WebSocket) {
    while let Some(Ok(msg)) = socket.recv().await {
        if msg.is_data() && socket.feed(msg).await.is_err() {
            break;
        }
    }
}
