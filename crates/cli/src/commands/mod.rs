//! One module per subcommand.

pub(crate) mod aur;
pub(crate) mod demo;
pub(crate) mod doctor;
pub(crate) mod get;
pub(crate) mod progress;
pub(crate) mod serve;

/// What a command fails with: a message for one line on stderr.
pub(crate) type CommandResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;
