//! Cold-exit baseline: a bare `fn main` that prints one line.

fn main() {
    println!("hello from a bare main");
}
