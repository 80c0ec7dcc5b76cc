//! Runtime presets and their validation.

use std::time::Duration;

use crate::error::{Error, Result};

/// Which tokio scheduler a [`Config`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavor {
    /// Everything runs on the thread that calls [`run`](crate::run): lowest start-up cost,
    /// no cross-thread wake-ups. Best for CLIs and embedded use.
    CurrentThread,
    /// A work-stealing pool of `worker_threads` threads. Best for servers.
    MultiThread,
}

/// Hard ceiling on worker threads: beyond this a machine spends its time context switching.
const MAX_WORKERS: usize = 1024;
/// Hard ceiling on blocking threads (tokio's default is 512).
const MAX_BLOCKING: usize = 16_384;
/// Stacks below this overflow in ordinary tokio and TLS code.
const MIN_STACK: usize = 64 * 1024;
/// Stacks above this are almost certainly a unit mistake (bytes vs KiB).
const MAX_STACK: usize = 1 << 30;

/// How to build a runtime. Start from a preset and adjust with the chainable setters.
///
/// ```
/// use ghostnet_runtime::{Config, Flavor};
///
/// let cfg = Config::for_server().worker_threads(4).thread_name("api");
/// assert_eq!(cfg.flavor, Flavor::MultiThread);
/// cfg.validate().unwrap();
///
/// assert_eq!(Config::for_cli().flavor, Flavor::CurrentThread);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The scheduler.
    pub flavor: Flavor,
    /// Worker threads of a [`Flavor::MultiThread`] runtime; must be 1 for current-thread.
    pub worker_threads: usize,
    /// Upper bound on threads for `spawn_blocking` and blocking file I/O.
    pub max_blocking_threads: usize,
    /// How long an idle blocking thread lingers before it exits.
    pub thread_keep_alive: Duration,
    /// Stack size of runtime threads; `None` keeps the platform default (2 MiB in Rust).
    pub thread_stack_size: Option<usize>,
    /// Name given to runtime threads (shown by `top -H`, debuggers, panics).
    pub thread_name: String,
    /// Scheduler ticks between polls of the I/O and timer driver.
    pub event_interval: u32,
    /// Ticks between checks of the global queue; `None` lets tokio tune it.
    pub global_queue_interval: Option<u32>,
    /// Enable the I/O driver (sockets, pipes). Needed by every networking crate.
    pub enable_io: bool,
    /// Enable the timer driver (`sleep`, `timeout`, `interval`).
    pub enable_time: bool,
}

impl Config {
    fn base(flavor: Flavor, workers: usize) -> Self {
        Self {
            flavor,
            worker_threads: workers,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            thread_stack_size: None,
            thread_name: "ghostnet-worker".to_owned(),
            event_interval: 61,
            global_queue_interval: None,
            enable_io: true,
            enable_time: true,
        }
    }

    /// Multi-threaded, one worker per core this process may use (cgroup quotas and CPU
    /// affinity are honoured).
    pub fn optimal() -> Self {
        Self::base(Flavor::MultiThread, available_cores())
    }

    /// Current-thread, small blocking pool, quick to start and to exit: for command-line
    /// tools that run one job and return.
    pub fn for_cli() -> Self {
        Self {
            max_blocking_threads: 16,
            thread_keep_alive: Duration::from_secs(1),
            thread_name: "ghostnet-cli".to_owned(),
            ..Self::base(Flavor::CurrentThread, 1)
        }
    }

    /// Multi-threaded, one worker per core, large blocking pool for file I/O: for
    /// long-running servers.
    pub fn for_server() -> Self {
        Self {
            thread_keep_alive: Duration::from_secs(60),
            thread_name: "ghostnet-server".to_owned(),
            ..Self::base(Flavor::MultiThread, available_cores())
        }
    }

    /// Current-thread, 4 blocking threads with 256 KiB stacks: for small devices and
    /// tight memory budgets.
    pub fn for_embedded() -> Self {
        Self {
            max_blocking_threads: 4,
            thread_stack_size: Some(256 * 1024),
            thread_name: "ghostnet-embedded".to_owned(),
            ..Self::base(Flavor::CurrentThread, 1)
        }
    }

    /// Sets [`Config::worker_threads`].
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n;
        self
    }

    /// Sets [`Config::flavor`]; switching to current-thread also sets one worker.
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.flavor = flavor;
        if flavor == Flavor::CurrentThread {
            self.worker_threads = 1;
        }
        self
    }

    /// Sets [`Config::max_blocking_threads`].
    pub fn max_blocking_threads(mut self, n: usize) -> Self {
        self.max_blocking_threads = n;
        self
    }

    /// Sets [`Config::thread_stack_size`] in bytes.
    pub fn thread_stack_size(mut self, bytes: usize) -> Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Sets [`Config::thread_name`].
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Checks every field and says which one is wrong and what to use instead.
    ///
    /// ```
    /// use ghostnet_runtime::Config;
    /// let err = Config::for_server().worker_threads(100_000).validate().unwrap_err();
    /// assert!(err.to_string().contains("at most 1024"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, reason: String| Err(Error::InvalidConfig { field, reason });
        match (self.flavor, self.worker_threads) {
            (_, 0) => {
                return invalid(
                    "worker_threads",
                    "is 0: a runtime needs at least 1 worker (Config::optimal() uses one per core)"
                        .into(),
                );
            }
            (Flavor::CurrentThread, n) if n != 1 => {
                return invalid(
                    "worker_threads",
                    format!(
                        "is {n} but a current-thread runtime has exactly 1; use Flavor::MultiThread for more"
                    ),
                );
            }
            (_, n) if n > MAX_WORKERS => {
                return invalid(
                    "worker_threads",
                    format!(
                        "is {n}; use at most {MAX_WORKERS} (this machine has {} cores, one worker per core is usually best)",
                        available_cores()
                    ),
                );
            }
            _ => {}
        }
        if self.max_blocking_threads == 0 {
            return invalid(
                "max_blocking_threads",
                "is 0: spawn_blocking and file I/O would wait forever; use at least 1".into(),
            );
        }
        if self.max_blocking_threads > MAX_BLOCKING {
            return invalid(
                "max_blocking_threads",
                format!(
                    "is {}; use at most {MAX_BLOCKING} (tokio's default is 512)",
                    self.max_blocking_threads
                ),
            );
        }
        if let Some(stack) = self.thread_stack_size
            && !(MIN_STACK..=MAX_STACK).contains(&stack)
        {
            return invalid(
                "thread_stack_size",
                format!(
                    "is {stack} bytes; use between {MIN_STACK} and {MAX_STACK} bytes (the size is in bytes, not KiB)"
                ),
            );
        }
        if self.event_interval == 0 {
            return invalid(
                "event_interval",
                "is 0: I/O would never be polled; use 61 (the default) or any positive value"
                    .into(),
            );
        }
        if self.global_queue_interval == Some(0) {
            return invalid(
                "global_queue_interval",
                "is 0; use None to let tokio tune it, or a positive value".into(),
            );
        }
        if self.thread_name.is_empty() || self.thread_name.contains('\0') {
            return invalid(
                "thread_name",
                "must be non-empty and contain no NUL byte".into(),
            );
        }
        Ok(())
    }

    /// Validates the config and builds the tokio runtime it describes.
    ///
    /// Prefer [`run`](crate::run), which also makes sure the process exits promptly.
    pub fn build(&self) -> Result<tokio::runtime::Runtime> {
        self.validate()?;
        let mut b = match self.flavor {
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Flavor::MultiThread => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(self.worker_threads);
                b
            }
        };
        b.max_blocking_threads(self.max_blocking_threads)
            .thread_keep_alive(self.thread_keep_alive)
            .thread_name(self.thread_name.clone())
            .event_interval(self.event_interval);
        if let Some(stack) = self.thread_stack_size {
            b.thread_stack_size(stack);
        }
        if let Some(n) = self.global_queue_interval {
            b.global_queue_interval(n);
        }
        if self.enable_io {
            b.enable_io();
        }
        if self.enable_time {
            b.enable_time();
        }
        b.build().map_err(Error::Build)
    }
}

impl Default for Config {
    /// Same as [`Config::optimal`].
    fn default() -> Self {
        Self::optimal()
    }
}

/// Cores this process may run on (1 if unknown).
pub(crate) fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(cfg: &Config) -> &'static str {
        match cfg.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn presets_are_valid_and_shaped() {
        for cfg in [
            Config::optimal(),
            Config::for_cli(),
            Config::for_server(),
            Config::for_embedded(),
        ] {
            cfg.validate().unwrap();
        }
        assert_eq!(Config::optimal().worker_threads, available_cores());
        assert_eq!(Config::for_cli().flavor, Flavor::CurrentThread);
        assert_eq!(Config::for_embedded().flavor, Flavor::CurrentThread);
        assert_eq!(Config::for_embedded().thread_stack_size, Some(256 * 1024));
        assert_eq!(Config::for_server().flavor, Flavor::MultiThread);
        assert_eq!(Config::default(), Config::optimal());
    }

    #[test]
    fn validate_names_the_bad_field() {
        assert_eq!(
            field_of(&Config::for_server().worker_threads(0)),
            "worker_threads"
        );
        assert_eq!(
            field_of(&Config::for_server().worker_threads(5000)),
            "worker_threads"
        );
        assert_eq!(
            field_of(&Config::for_cli().worker_threads(4)),
            "worker_threads"
        );
        assert_eq!(
            field_of(&Config::for_server().max_blocking_threads(0)),
            "max_blocking_threads"
        );
        assert_eq!(
            field_of(&Config::for_server().max_blocking_threads(1 << 20)),
            "max_blocking_threads"
        );
        assert_eq!(
            field_of(&Config::for_server().thread_stack_size(512)),
            "thread_stack_size"
        );
        assert_eq!(
            field_of(&Config::for_server().thread_name("")),
            "thread_name"
        );
        let mut cfg = Config::for_server();
        cfg.event_interval = 0;
        assert_eq!(field_of(&cfg), "event_interval");
        let mut cfg = Config::for_server();
        cfg.global_queue_interval = Some(0);
        assert_eq!(field_of(&cfg), "global_queue_interval");
    }

    #[test]
    fn errors_say_what_to_do() {
        let msg = Config::for_server()
            .worker_threads(0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(msg.contains("at least 1"), "{msg}");
        let msg = Config::for_server()
            .thread_stack_size(16)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not KiB"), "{msg}");
    }

    #[test]
    fn flavor_switch_fixes_worker_count() {
        let cfg = Config::for_server()
            .worker_threads(8)
            .flavor(Flavor::CurrentThread);
        assert_eq!(cfg.worker_threads, 1);
        cfg.validate().unwrap();
    }

    #[test]
    fn build_refuses_invalid_config() {
        assert!(matches!(
            Config::for_server().worker_threads(0).build(),
            Err(Error::InvalidConfig { .. })
        ));
        let rt = Config::for_server().worker_threads(2).build().unwrap();
        assert_eq!(rt.metrics().num_workers(), 2);
        assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    }
}
