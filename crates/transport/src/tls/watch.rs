//! [`CertWatcher`]: reload the server certificate when its files change.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::AbortHandle;

use super::reload::ReloadableCert;

/// A background task that checks the certificate and key files' modification time and
/// size every interval, and [reloads](ReloadableCert::reload) when either changed.
///
/// Polling, not inotify: it works the same on every OS and file system (including network
/// and container mounts), and certificates change rarely enough that a check every
/// [`DEFAULT_WATCH_INTERVAL`](super::DEFAULT_WATCH_INTERVAL) is plenty.
///
/// A change that cannot be loaded (say the certificate was written but not yet the key)
/// is logged with `tracing::warn!` and the current certificate stays; the next change is
/// tried again. Dropping the watcher stops it.
///
/// Start one with [`TlsServerConfig::watch`](super::TlsServerConfig::watch).
#[derive(Debug)]
#[must_use = "dropping the watcher stops it"]
pub struct CertWatcher {
    task: AbortHandle,
}

impl CertWatcher {
    pub(crate) fn start(cert: Arc<ReloadableCert>, interval: Duration) -> Self {
        // The baseline is taken now, so a change right after `watch()` returns is seen.
        let seen = cert.files().map(|(c, k)| stamp(&c, &k));
        let task = tokio::spawn(watch(cert, interval, seen)).abort_handle();
        Self { task }
    }

    /// Stops watching (the same as dropping it).
    pub fn stop(self) {}
}

impl Drop for CertWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What we compare between checks: modification time and length of both files.
type Stamp = [Option<(SystemTime, u64)>; 2];

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let one = |p: &Path| {
        let m = std::fs::metadata(p).ok()?;
        Some((m.modified().ok()?, m.len()))
    };
    [one(cert), one(key)]
}

async fn watch(cert: Arc<ReloadableCert>, interval: Duration, mut seen: Option<Stamp>) {
    let mut tick = ghostnet_runtime::interval(interval);
    loop {
        tick.tick().await;
        // Files are looked up each time: after `replace_pem` the certificate comes from
        // memory and there is nothing to watch.
        let Some((cert_path, key_path)) = cert.files() else {
            seen = None;
            continue;
        };
        let cert2 = cert.clone();
        // File system calls block; keep them off the async workers.
        let checked = ghostnet_runtime::spawn_blocking(move || {
            let now = stamp(&cert_path, &key_path);
            let changed = seen.is_some_and(|before| before != now);
            (now, changed.then(|| cert2.reload()))
        })
        .await;
        let Ok((now, outcome)) = checked else {
            continue;
        };
        seen = Some(now);
        match outcome {
            None => {}
            Some(Ok(())) => tracing::info!("certificate files changed: reloaded"),
            Some(Err(e)) => tracing::warn!(
                error = %e,
                "certificate files changed but cannot be used; keeping the current certificate"
            ),
        }
    }
}
