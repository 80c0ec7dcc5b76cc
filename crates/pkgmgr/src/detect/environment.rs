//! The parts of the machine detection looks at, so tests can fake them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where detection looks: a filesystem root, `PATH`, the OS and a few variables.
///
/// [`Environment::current`] describes this machine; tests build one over a temporary
/// directory with [`Environment::fake`].
///
/// ```
/// use ghostnet_pkgmgr::detect::Environment;
///
/// let env = Environment::fake("/tmp/fake-root", "linux", "x86_64").path("/usr/bin:/bin");
/// assert_eq!(env.os, "linux");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Environment {
    /// Absolute paths are looked up under this directory (`/` on a real machine).
    pub root: PathBuf,
    /// `PATH`, split with the OS's separator.
    pub path: OsString,
    /// `linux`, `macos`, `windows`, ... (as `std::env::consts::OS`).
    pub os: String,
    /// `x86_64`, `aarch64`, ... (as `std::env::consts::ARCH`).
    pub arch: String,
    /// The user's home directory.
    pub home: Option<PathBuf>,
    /// Windows: `%LOCALAPPDATA%`.
    pub local_app_data: Option<PathBuf>,
    /// Windows: `%ChocolateyInstall%` (default `C:\ProgramData\chocolatey`).
    pub chocolatey_install: Option<PathBuf>,
    /// Windows: `%SCOOP%` (default `~\scoop`).
    pub scoop: Option<PathBuf>,
}

impl Environment {
    /// This machine.
    pub fn current() -> Self {
        let var = |name| std::env::var_os(name).map(PathBuf::from);
        Self {
            root: PathBuf::from("/"),
            path: std::env::var_os("PATH").unwrap_or_default(),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            home: var("HOME").or_else(|| var("USERPROFILE")),
            local_app_data: var("LOCALAPPDATA"),
            chocolatey_install: var("ChocolateyInstall"),
            scoop: var("SCOOP"),
        }
    }

    /// An environment rooted at `root` with an empty `PATH`, for tests.
    pub fn fake(root: impl Into<PathBuf>, os: &str, arch: &str) -> Self {
        Self {
            root: root.into(),
            path: OsString::new(),
            os: os.to_owned(),
            arch: arch.to_owned(),
            home: None,
            local_app_data: None,
            chocolatey_install: None,
            scoop: None,
        }
    }

    /// The same environment with `PATH` set.
    pub fn path(mut self, path: impl Into<OsString>) -> Self {
        self.path = path.into();
        self
    }

    /// The same environment with a home directory.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// The same environment with `%LOCALAPPDATA%` set.
    pub fn local_app_data(mut self, dir: impl Into<PathBuf>) -> Self {
        self.local_app_data = Some(dir.into());
        self
    }

    pub(crate) fn is_windows(&self) -> bool {
        self.os == "windows"
    }

    /// `PATH` entries in order, empty entries skipped.
    pub(crate) fn path_dirs(&self) -> Vec<PathBuf> {
        let sep = if self.is_windows() { ';' } else { ':' };
        self.path
            .to_string_lossy()
            .split(sep)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .collect()
    }

    /// Where `path` (as the system sees it) lives on this filesystem.
    pub(crate) fn resolve(&self, path: &Path) -> PathBuf {
        if self.root == Path::new("/") {
            return path.to_path_buf();
        }
        // Under a fake root, `C:\x` and `/x` both map to `<root>/x`.
        let text = path.to_string_lossy().replace('\\', "/");
        let rel = text
            .split_once(":/")
            .map_or(text.as_str(), |(_, rest)| rest)
            .trim_start_matches('/');
        self.root.join(rel)
    }
}
