//! Cold-exit probe: a CLI built on `run(Config::for_cli())` that prints one line.

use ghostnet::runtime::{Config, run};

fn main() {
    run(Config::for_cli(), async { println!("hello from ghostnet") }).expect("runtime");
}
