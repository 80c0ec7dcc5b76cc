//! The ETag cache: the last body (and its ETag) of each request, so a repeated request
//! carries `If-None-Match` and a `304 Not Modified` is served from here.
//!
//! aurweb computes the ETag from the response body and honours `If-None-Match` on every
//! RPC route, POST included, so the key is the whole request (method, URL, body).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;

use super::query::Call;

/// Bodies kept by default. An `info` batch of 100 packages is about 100 KiB.
pub(crate) const DEFAULT_CACHE_ENTRIES: usize = 256;

/// A cached response.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub(crate) etag: http::HeaderValue,
    pub(crate) body: Bytes,
}

/// Bounded: the oldest entry goes first when full.
#[derive(Debug)]
pub(crate) struct EtagCache {
    inner: Mutex<Entries>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<Call, Cached>,
    order: VecDeque<Call>,
}

impl EtagCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Entries::default()),
            capacity,
        }
    }

    pub(crate) fn get(&self, call: &Call) -> Option<Cached> {
        self.lock().map.get(call).cloned()
    }

    pub(crate) fn put(&self, call: &Call, cached: Cached) {
        if self.capacity == 0 {
            return;
        }
        let mut e = self.lock();
        if e.map.insert(call.clone(), cached).is_none() {
            e.order.push_back(call.clone());
            while e.order.len() > self.capacity {
                if let Some(old) = e.order.pop_front() {
                    e.map.remove(&old);
                }
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// A poisoned lock only means another request panicked mid-insert; the map is
    /// still consistent enough for a cache.
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn call(n: u8) -> Call {
        Call {
            method: Method::GET,
            url: format!("http://h/{n}"),
            body: Bytes::new(),
        }
    }

    fn cached() -> Cached {
        Cached {
            etag: http::HeaderValue::from_static("\"x\""),
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn oldest_goes_first() {
        let c = EtagCache::new(2);
        c.put(&call(1), cached());
        c.put(&call(2), cached());
        c.put(&call(2), cached());
        c.put(&call(3), cached());
        assert!(c.get(&call(1)).is_none());
        assert!(c.get(&call(2)).is_some() && c.get(&call(3)).is_some());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let c = EtagCache::new(0);
        c.put(&call(1), cached());
        assert_eq!(c.len(), 0);
    }
}
