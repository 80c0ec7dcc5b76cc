//! [`IpRateLimit`]: a rate limit per client IP address.

use std::net::IpAddr;

use ghostnet_resilience::rate::{KeyedRateLimiter, RateLimit};
use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};

use super::{Middleware, Next};
use crate::error::{Error, Result};
use crate::handler::BoxFuture;
use crate::response::status_response;
use crate::router::RequestExt;
use crate::{Request, Response};

/// Limits each client IP address to a [`RateLimit`] (a steady rate plus a burst) with
/// ghostnet-resilience's [`KeyedRateLimiter`]; past it, `429 Too Many Requests` with
/// `Retry-After` (whole seconds, at least 1). Idle addresses are forgotten, so memory
/// stays bounded.
///
/// The key is the connection's peer address ([`RequestExt::remote_addr`]); requests
/// without one (a transport without addresses) are not limited. Behind a reverse proxy
/// every client shares the proxy's address: limit at the proxy instead.
///
/// ```
/// use ghostnet_http::middleware::IpRateLimit;
/// use ghostnet_resilience::rate::RateLimit;
///
/// let limit = IpRateLimit::new(RateLimit::per_second(10).burst(20)).unwrap();
/// # let _ = limit;
/// ```
#[derive(Debug, Clone)]
pub struct IpRateLimit {
    limiter: KeyedRateLimiter<IpAddr>,
}

impl IpRateLimit {
    /// A limit of `limit` per client IP.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when `limit` is invalid (a zero rate or burst).
    pub fn new(limit: RateLimit) -> Result<Self> {
        let limiter = KeyedRateLimiter::new(limit).map_err(|e| Error::InvalidConfig {
            field: "rate limit",
            reason: e.to_string(),
        })?;
        Ok(Self { limiter })
    }
}

impl Middleware for IpRateLimit {
    fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response> {
        let Some(ip) = req.remote_addr().map(|a| a.ip()) else {
            return Box::pin(next.run(req));
        };
        match self.limiter.check_key(&ip) {
            Err(ghostnet_resilience::Error::RateLimited { retry_in }) => {
                let secs = retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0);
                let mut res = status_response(StatusCode::TOO_MANY_REQUESTS);
                res.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
                tracing::debug!(%ip, ?retry_in, "rate limited");
                Box::pin(std::future::ready(res))
            }
            _ => Box::pin(next.run(req)),
        }
    }
}
