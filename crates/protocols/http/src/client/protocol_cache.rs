//! The per-origin memory of which protocol worked, so the next request to an origin
//! goes straight to it (no ALPN surprise, no failed h2c attempt), for a while.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use ghostnet_http1::client::origin::Origin;
use ghostnet_runtime::Instant;

use super::config::Protocol;

/// Origin → (protocol, when it was learnt). Tokio time, so tests can pause the clock.
#[derive(Debug)]
pub(crate) struct ProtocolCache {
    ttl: Duration,
    entries: Mutex<HashMap<Origin, (Protocol, Instant)>>,
}

impl ProtocolCache {
    /// Most origins remembered; past it, expired entries are swept, then all of them.
    const CAPACITY: usize = 1024;

    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The protocol that worked for `origin`, if learnt within the TTL.
    pub(crate) fn get(&self, origin: &Origin) -> Option<Protocol> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(origin) {
            Some(&(p, at)) if at.elapsed() < self.ttl => Some(p),
            Some(_) => {
                entries.remove(origin);
                None
            }
            None => None,
        }
    }

    /// Remembers that `protocol` worked for `origin` (refreshing the entry's age only
    /// when the protocol changed or the entry expired, so a busy origin is looked at
    /// again after the TTL).
    pub(crate) fn record(&self, origin: &Origin, protocol: Protocol) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&(p, at)) = entries.get(origin)
            && p == protocol
            && at.elapsed() < self.ttl
        {
            return;
        }
        if entries.len() >= Self::CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert(origin.clone(), (protocol, Instant::now()));
    }

    /// Forgets `origin` (its protocol failed).
    pub(crate) fn forget(&self, origin: &Origin) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(origin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> Origin {
        Origin::of(&s.parse().unwrap()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_the_ttl() {
        let cache = ProtocolCache::new(Duration::from_secs(60));
        let a = origin("https://a.test/");
        assert_eq!(cache.get(&a), None);
        cache.record(&a, Protocol::H2);
        assert_eq!(cache.get(&a), Some(Protocol::H2));
        assert_eq!(cache.get(&origin("https://a.test:8443/")), None);
        tokio::time::advance(Duration::from_secs(59)).await;
        // Recording the same protocol again does not extend its life.
        cache.record(&a, Protocol::H2);
        assert_eq!(cache.get(&a), Some(Protocol::H2));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get(&a), None);
        cache.record(&a, Protocol::Http11);
        assert_eq!(cache.get(&a), Some(Protocol::Http11));
        cache.forget(&a);
        assert_eq!(cache.get(&a), None);
    }

    #[test]
    fn zero_ttl_remembers_nothing() {
        let cache = ProtocolCache::new(Duration::ZERO);
        let a = origin("http://a.test/");
        cache.record(&a, Protocol::H2);
        assert_eq!(cache.get(&a), None);
    }
}
