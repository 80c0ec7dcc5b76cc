//! Downloads that never corrupt: [`Downloader`] (resume, verification, retries, mirror
//! failover), [`DownloadManager`] (many at once within concurrency and bandwidth limits),
//! and the pieces they are made of: the resume protocol, the `.part` file and its
//! validators, SHA-256 verification and the atomic move into place.

mod content_range;
mod downloader;
mod manager;
mod options;
mod part_file;
mod resume;
mod transfer;
mod validators;

pub use content_range::ContentRange;
pub use downloader::{DEFAULT_DOWNLOAD_ATTEMPTS, Downloader};
pub use manager::{
    BatchProgress, DEFAULT_MAX_CONCURRENT, DownloadManager, DownloadManagerBuilder,
    DownloadRequest, ItemState,
};
pub use options::{
    DEFAULT_CHUNK_SIZE, DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOW_SPEED_LIMIT, DEFAULT_LOW_SPEED_TIME,
    DownloadOptions, DownloadReport, Progress, ProgressFn,
};
pub use part_file::{PART_LOCK_WAIT, PartFile, PartMeta, parse_sha256, to_hex};
pub use resume::{ResponseAction, ResumeRequest, classify_response, plan_resume};
pub use validators::Validators;
