//! # ghostnet-resilience
//!
//! Retry with backoff and a retry budget, rate limiting, a circuit breaker and health
//! checks, for any async operation. Everything runs on tokio time, so tests with a paused
//! clock (`#[tokio::test(start_paused = true)]`) are instant and exact.
//!
//! | need | use |
//! |---|---|
//! | an operation fails now and then (reset, timeout, 503) | [`RetryPolicy`] |
//! | do not exceed N requests/s to a server (or per host) | [`rate::RateLimiter`], [`rate::KeyedRateLimiter`] |
//! | stop hammering an endpoint that keeps failing | [`CircuitBreaker`] |
//! | know which mirrors are up before choosing one | [`HealthCheck`] |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::io;
//! use ghostnet_resilience::{CircuitBreaker, RetryPolicy};
//! use ghostnet_resilience::rate::{RateLimit, RateLimiter};
//!
//! let retry = RetryPolicy::default();
//! let limiter = RateLimiter::new(RateLimit::per_second(10).burst(20)).unwrap();
//! let breaker = CircuitBreaker::new();
//!
//! let body = retry
//!     .run(|attempt| {
//!         let (limiter, breaker) = (&limiter, &breaker);
//!         async move {
//!             limiter.until_ready().await;
//!             breaker
//!                 .call(async move {
//!                     if attempt == 1 {
//!                         Err(io::Error::from(io::ErrorKind::ConnectionReset))
//!                     } else {
//!                         Ok("payload")
//!                     }
//!                 })
//!                 .await
//!         }
//!     })
//!     .await
//!     .unwrap();
//! assert_eq!(body, "payload");
//! # }
//! ```
//!
//! ## Errors
//!
//! One [`Error`] enum for the crate's own failures (bad configuration, rate limited,
//! circuit open). Your operation's error comes back unchanged inside [`RetryError`]
//! (with the attempt count and why the policy stopped) or [`CallError`].

pub mod breaker;
mod error;
pub mod health;
pub mod rate;
pub mod retry;

pub use breaker::{BreakerPermit, BreakerState, CallError, CircuitBreaker, CircuitBreakerBuilder};
pub use error::{Error, Result};
pub use health::{EndpointStatus, HealthCheck, HealthCheckBuilder};
pub use rate::{KeyedRateLimiter, RateLimit, RateLimiter};
pub use retry::{
    Backoff, Classify, FailureKind, GiveUp, Jitter, RetryBudget, RetryError, RetryEvent, RetryOn,
    RetryPolicy, RetryPolicyBuilder, parse_retry_after,
};
