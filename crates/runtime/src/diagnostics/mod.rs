//! What the machine and the runtime look like: for `ghostnet doctor`, bug reports and logs.

mod capabilities;
mod os_release;
mod stats;

pub use capabilities::{Capabilities, Support};
pub use os_release::OsRelease;
pub use stats::RuntimeStats;
