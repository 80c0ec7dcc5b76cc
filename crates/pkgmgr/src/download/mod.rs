//! Downloads that never corrupt: the resume protocol, the `.part` file and its
//! validators, and SHA-256 verification before an atomic move into place.

mod content_range;
mod part_file;
mod resume;
mod validators;

pub use content_range::ContentRange;
pub use part_file::{PartFile, PartMeta, parse_sha256, to_hex};
pub use resume::{ResponseAction, ResumeRequest, classify_response, plan_resume};
pub use validators::Validators;
