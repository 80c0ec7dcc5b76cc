//! What a selection hands out, and what a throughput report answers.

use std::fmt;
use std::sync::Arc;

use http::Uri;

/// Whether a mirror is preferred or only a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirrorRole {
    /// Preferred while its score is close to the best (see
    /// [`primary_bonus`](super::MirrorManagerBuilder::primary_bonus)).
    Primary,
    /// Used when it is clearly faster, or when the primaries are unavailable.
    Fallback,
}

impl fmt::Display for MirrorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Primary => "primary",
            Self::Fallback => "fallback",
        })
    }
}

/// One mirror chosen for one path: the URL to request, and the token to report the
/// outcome with ([`report_success`](super::MirrorManager::report_success),
/// [`report_failure`](super::MirrorManager::report_failure), ...).
///
/// Cheap to clone. `Display` shows the URL.
///
/// ```
/// use ghostnet_pkgmgr::mirror::{MirrorManager, MirrorRole};
///
/// let mirrors = MirrorManager::builder().primary("http://a.example/pkgs").build().unwrap();
/// let c = mirrors.best_mirror("core/zstd.pkg.tar.zst").unwrap();
/// assert_eq!(c.url(), "http://a.example/pkgs/core/zstd.pkg.tar.zst");
/// assert_eq!(c.base(), "http://a.example/pkgs/");
/// assert_eq!(c.path(), "core/zstd.pkg.tar.zst");
/// assert_eq!((c.index(), c.role(), c.is_available()), (0, MirrorRole::Primary, true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub(crate) index: usize,
    pub(crate) base: Uri,
    pub(crate) role: MirrorRole,
    pub(crate) url: Uri,
    pub(crate) path: Arc<str>,
    pub(crate) available: bool,
}

impl Candidate {
    /// The URL to request: the path under the mirror's base.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The mirror's normalised base URL (ends with `/`).
    pub fn base(&self) -> &Uri {
        &self.base
    }

    /// The path asked for, normalised: relative and percent-encoded.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The mirror's role.
    pub fn role(&self) -> MirrorRole {
        self.role
    }

    /// The mirror's position in the order the mirrors were added, which is also its
    /// position in [`stats`](super::MirrorManager::stats).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether the mirror was usable when chosen. Always true from
    /// [`best_mirror`](super::MirrorManager::best_mirror) and
    /// [`next_after`](super::MirrorManager::next_after);
    /// [`candidates`](super::MirrorManager::candidates) also lists mirrors in cooldown or
    /// down, last, with this false.
    pub fn is_available(&self) -> bool {
        self.available
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.url.fmt(f)
    }
}

/// What [`report_throughput`](super::MirrorManager::report_throughput) makes of a
/// mid-transfer sample.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpeedVerdict {
    /// Fast enough, or no lowest speed limit is set, or the sample had no duration.
    Fine,
    /// Slower than the lowest speed limit: abandon the transfer, report
    /// [`MirrorFailure::LowSpeed`](super::MirrorFailure::LowSpeed) and continue the
    /// `.part` on [`next_after`](super::MirrorManager::next_after).
    TooSlow {
        /// The sample's rate, bytes/s.
        rate: f64,
        /// The limit it was held to, bytes/s (may be below the configured one, see
        /// [`lowest_speed_limit`](super::MirrorManagerBuilder::lowest_speed_limit)).
        limit: f64,
    },
}

impl SpeedVerdict {
    /// Whether the transfer should be abandoned.
    pub fn is_too_slow(&self) -> bool {
        matches!(self, Self::TooSlow { .. })
    }
}
