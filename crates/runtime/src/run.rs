//! `run`: the entry point of a ghostnet program.

use std::future::Future;

use crate::config::Config;
use crate::error::Result;

/// Builds a runtime from `config`, runs `main` on it, and returns `main`'s output as soon
/// as `main` finishes.
///
/// Tasks still running and blocking threads still busy (a `spawn_blocking` stuck in a
/// `read(2)` on stdin, say) do not hold the caller up: the runtime is shut down in the
/// background instead of being dropped, which would wait for blocking threads. This is
/// what keeps a short CLI from hanging after it prints `--help`. Drain what must finish
/// inside `main`, with a [`Shutdown`](crate::Shutdown) or a [`TaskGroup`](crate::TaskGroup).
///
/// ```
/// use ghostnet_runtime::{run, spawn, Config};
///
/// let code = run(Config::for_cli(), async {
///     spawn(std::future::pending::<()>()); // never finishes, does not block exit
///     7
/// })
/// .unwrap();
/// assert_eq!(code, 7);
/// ```
///
/// # Errors
///
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when `config` does not validate,
/// [`Error::Build`](crate::Error::Build) when the OS refuses threads or an event loop.
pub fn run<F>(config: Config, main: F) -> Result<F::Output>
where
    F: Future,
{
    let rt = config.build()?;
    let out = rt.block_on(main);
    rt.shutdown_background();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn returns_main_output_with_blocking_thread_alive() {
        for cfg in [Config::for_cli(), Config::for_server().worker_threads(2)] {
            let out = run(cfg, async {
                tokio::task::spawn_blocking(|| std::thread::sleep(std::time::Duration::MAX));
                tokio::spawn(std::future::pending::<()>());
                "done"
            })
            .unwrap();
            assert_eq!(out, "done");
        }
    }

    #[test]
    fn invalid_config_is_an_error_not_a_panic() {
        let err = run(Config::for_server().worker_threads(0), async {}).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }));
    }
}
