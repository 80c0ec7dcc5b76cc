//! Sets of futures that `race`, `any` and `all` can poll by index without allocating per
//! future: arrays and tuples are pinned inline, a `Vec` is pinned once as a boxed slice.

// Pin projection into array elements and tuple fields needs `map_unchecked_mut`.
#![allow(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A fixed set of futures with the same output, polled by index.
pub trait FutureSet {
    /// What each future yields.
    type Output;

    /// How many futures the set holds.
    fn len(&self) -> usize;

    /// Whether the set is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Polls future `index` (`index < len()`); an out-of-range index stays pending.
    /// A future that returned `Ready` must not be polled again.
    fn poll_at(self: Pin<&mut Self>, index: usize, cx: &mut Context<'_>) -> Poll<Self::Output>;
}

/// Something that can become a [`FutureSet`]: `[F; N]`, `Vec<F>`, or a tuple of 2 to 6
/// futures with one output type.
pub trait IntoFutureSet {
    /// What each future yields.
    type Output;
    /// The set this turns into.
    type Set: FutureSet<Output = Self::Output>;
    /// Converts `self` into a set.
    fn into_future_set(self) -> Self::Set;
}

impl<F: Future, const N: usize> FutureSet for [F; N] {
    type Output = F::Output;

    fn len(&self) -> usize {
        N
    }

    #[inline]
    fn poll_at(self: Pin<&mut Self>, index: usize, cx: &mut Context<'_>) -> Poll<F::Output> {
        if index >= N {
            return Poll::Pending;
        }
        // SAFETY: the elements of a pinned array are structurally pinned: this module
        // never moves an element out of the array or swaps elements.
        unsafe { self.map_unchecked_mut(|a| &mut a[index]) }.poll(cx)
    }
}

impl<F: Future, const N: usize> IntoFutureSet for [F; N] {
    type Output = F::Output;
    type Set = Self;
    fn into_future_set(self) -> Self {
        self
    }
}

/// The set a `Vec` of futures becomes: one heap allocation for all of them.
#[derive(Debug)]
pub struct BoxedFutureSet<F> {
    futures: Pin<Box<[F]>>,
}

impl<F: Future> FutureSet for BoxedFutureSet<F> {
    type Output = F::Output;

    fn len(&self) -> usize {
        self.futures.len()
    }

    #[inline]
    fn poll_at(self: Pin<&mut Self>, index: usize, cx: &mut Context<'_>) -> Poll<F::Output> {
        let slice = self.get_mut().futures.as_mut();
        if index >= slice.len() {
            return Poll::Pending;
        }
        // SAFETY: the boxed slice is pinned and never reallocated, and its elements are
        // never moved or swapped, so they are structurally pinned.
        unsafe { slice.map_unchecked_mut(|s| &mut s[index]) }.poll(cx)
    }
}

impl<F: Future> IntoFutureSet for Vec<F> {
    type Output = F::Output;
    type Set = BoxedFutureSet<F>;
    fn into_future_set(self) -> BoxedFutureSet<F> {
        BoxedFutureSet {
            futures: Box::into_pin(self.into_boxed_slice()),
        }
    }
}

macro_rules! tuple_future_set {
    ($len:expr; $H:ident $hi:tt $(, $T:ident $ti:tt)*) => {
        impl<$H: Future, $($T: Future<Output = $H::Output>),*> FutureSet for ($H, $($T,)*) {
            type Output = $H::Output;

            fn len(&self) -> usize {
                $len
            }

            #[inline]
            fn poll_at(self: Pin<&mut Self>, index: usize, cx: &mut Context<'_>) -> Poll<Self::Output> {
                match index {
                    // SAFETY: tuple fields of a pinned tuple are structurally pinned: they
                    // are never moved out or swapped by this module.
                    $hi => unsafe { self.map_unchecked_mut(|t| &mut t.$hi) }.poll(cx),
                    $($ti => unsafe { self.map_unchecked_mut(|t| &mut t.$ti) }.poll(cx),)*
                    _ => Poll::Pending,
                }
            }
        }

        impl<$H: Future, $($T: Future<Output = $H::Output>),*> IntoFutureSet for ($H, $($T,)*) {
            type Output = $H::Output;
            type Set = Self;
            fn into_future_set(self) -> Self {
                self
            }
        }
    };
}

tuple_future_set!(2; A 0, B 1);
tuple_future_set!(3; A 0, B 1, C 2);
tuple_future_set!(4; A 0, B 1, C 2, D 3);
tuple_future_set!(5; A 0, B 1, C 2, D 3, E 4);
tuple_future_set!(6; A 0, B 1, C 2, D 3, E 4, G 5);
