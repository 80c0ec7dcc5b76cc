//! Combinators over sets of futures: [`race`], [`any`], [`all`].
//!
//! They take an array, a `Vec` or a tuple of futures with one output type. Arrays and
//! tuples are pinned inline (no allocation), a `Vec` is pinned once as a boxed slice.
//! Every future is polled when the combinator is woken, so these suit small sets (tens of
//! futures); for thousands of concurrent jobs use a [`TaskGroup`](crate::TaskGroup).
//! For futures with different output types use [`select!`](crate::select) or
//! [`join!`](crate::join).

mod all;
mod any;
mod future_set;
mod race;

pub use all::{All, all};
pub use any::{Any, any};
pub use future_set::{BoxedFutureSet, FutureSet, IntoFutureSet};
pub use race::{Race, race};
