//! # ghostnet-resilience
//!
//! Retry with backoff and a retry budget, rate limiting, a circuit breaker and health
//! checks, for any async operation.
