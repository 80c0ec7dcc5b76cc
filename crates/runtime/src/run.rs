//! `run` and `run_local`: the entry points of a ghostnet program.

use std::future::Future;

use crate::config::Config;
use crate::error::Result;

/// Builds a runtime from `config`, runs `main` on it as a task, and returns `main`'s
/// output as soon as `main` finishes.
///
/// - **Prompt exit.** Tasks still running and blocking threads still busy (a
///   `spawn_blocking` stuck in a `read(2)` on stdin, say) do not hold the caller up: the
///   runtime is shut down in the background instead of being dropped, which would wait
///   for blocking threads. This keeps a short CLI from hanging after it prints `--help`.
///   Drain what must finish inside `main`, with a [`Shutdown`](crate::Shutdown) or a
///   [`TaskGroup`](crate::TaskGroup).
/// - **`main` runs on a worker.** `#[tokio::main]` polls `main` on the thread that calls
///   `block_on`, which is not a worker: on a multi-thread runtime every wake-up of `main`
///   crosses threads, and on a current-thread runtime every one parks the I/O driver.
///   Spawning `main` as a task avoids both (spawn + join from `main` is several times
///   faster; `cargo xtask bench runtime` measures it). Use [`run_local`] for a `main`
///   that is not `Send`.
/// - **Panics** in `main` propagate to the caller, as with a plain `fn main`.
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
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = config.build()?;
    let out = rt.block_on(async move { tokio::spawn(main).await });
    rt.shutdown_background();
    match out {
        Ok(v) => Ok(v),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutdown cancels `main`, and nothing here shuts it down early.
        Err(_) => Err(crate::Error::Cancelled),
    }
}

/// Like [`run`], for a `main` that is not `Send` (holds an `Rc`, borrows locals): `main`
/// is polled on the calling thread, as `#[tokio::main]` does. Exits just as promptly.
///
/// ```
/// use std::rc::Rc;
/// use ghostnet_runtime::{run_local, Config};
///
/// let shared = Rc::new(5);
/// let out = run_local(Config::for_cli(), async { *shared + 1 }).unwrap();
/// assert_eq!(out, 6);
/// ```
///
/// # Errors
///
/// As for [`run`].
pub fn run_local<F: Future>(config: Config, main: F) -> Result<F::Output> {
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
            let out = run(cfg.clone(), async {
                tokio::task::spawn_blocking(|| std::thread::sleep(std::time::Duration::MAX));
                tokio::spawn(std::future::pending::<()>());
                "done"
            })
            .unwrap();
            assert_eq!(out, "done");
            let out = run_local(cfg, async {
                tokio::task::spawn_blocking(|| std::thread::sleep(std::time::Duration::MAX));
                "local"
            })
            .unwrap();
            assert_eq!(out, "local");
        }
    }

    #[test]
    fn main_runs_on_a_worker_thread() {
        let caller = std::thread::current().id();
        let main_thread = run(Config::for_server().worker_threads(2), async {
            std::thread::current().id()
        })
        .unwrap();
        assert_ne!(main_thread, caller);
    }

    #[test]
    fn panics_in_main_propagate() {
        let caught = std::panic::catch_unwind(|| {
            run(Config::for_cli(), async { panic!("main failed") }).unwrap();
        })
        .unwrap_err();
        assert_eq!(crate::error::panic_message(caught.as_ref()), "main failed");
    }

    #[test]
    fn invalid_config_is_an_error_not_a_panic() {
        let err = run(Config::for_server().worker_threads(0), async {}).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }));
        let err = run_local(Config::for_cli().worker_threads(3), async {}).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }));
    }
}
