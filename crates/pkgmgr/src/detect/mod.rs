//! Package-manager detection: which managers this machine has, where, and why we think so.
//!
//! ```
//! for pm in ghostnet_pkgmgr::detect::detect() {
//!     println!("{} at {} ({})", pm.kind, pm.path.display(), pm.evidence_summary());
//! }
//! ```

mod environment;
mod kind;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ghostnet_runtime::diagnostics::OsRelease;

pub use environment::Environment;
pub use kind::ManagerKind;

/// Why a manager was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evidence {
    /// Its executable is in a `PATH` directory.
    OnPath(PathBuf),
    /// Its executable is at a well-known install location outside `PATH`.
    KnownLocation(PathBuf),
    /// `/etc/os-release` names a distribution it is native to (`ID` or `ID_LIKE`).
    OsRelease {
        /// `ID` or `ID_LIKE`.
        key: &'static str,
        /// The matching value, e.g. `debian`.
        value: String,
    },
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OnPath(p) => write!(f, "on PATH at {}", p.display()),
            Self::KnownLocation(p) => write!(f, "installed at {}", p.display()),
            Self::OsRelease { key, value } => write!(f, "os-release {key}={value}"),
        }
    }
}

/// Which Homebrew install this is: the prefix differs, and so do bottles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrewPrefix {
    /// `/opt/homebrew` on Apple Silicon Macs.
    AppleSilicon,
    /// `/usr/local` on Intel Macs (or Rosetta).
    IntelMac,
    /// `/home/linuxbrew/.linuxbrew` or `~/.linuxbrew` on Linux.
    Linuxbrew,
}

/// Where a manager puts what it installs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct InstallDirs {
    /// Executables.
    pub bin: Option<PathBuf>,
    /// Libraries.
    pub lib: Option<PathBuf>,
    /// C headers.
    pub include: Option<PathBuf>,
}

/// A package manager found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackageManager {
    /// Which manager.
    pub kind: ManagerKind,
    /// Its executable, as the system sees it.
    pub path: PathBuf,
    /// Why it was reported (at least one of `OnPath` / `KnownLocation`).
    pub evidence: Vec<Evidence>,
    /// Whether os-release says this is the distribution's own manager.
    pub native: bool,
    /// Where it installs things.
    pub dirs: InstallDirs,
    /// For Homebrew: which install.
    pub brew_prefix: Option<BrewPrefix>,
}

impl PackageManager {
    /// The evidence as one line, e.g. `on PATH at /usr/bin/apt-get; os-release ID=debian`.
    pub fn evidence_summary(&self) -> String {
        self.evidence
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The managers on this machine, detected once per process and cached.
pub fn detect() -> &'static [PackageManager] {
    static CACHE: OnceLock<Vec<PackageManager>> = OnceLock::new();
    CACHE.get_or_init(|| detect_in(&Environment::current()))
}

/// The managers in `env`, detected now (no cache). Native managers come first.
pub fn detect_in(env: &Environment) -> Vec<PackageManager> {
    let os_release = if env.os == "linux" {
        OsRelease::read_from_root(&env.root)
    } else {
        None
    };
    let mut found: Vec<PackageManager> = ManagerKind::ALL
        .iter()
        .filter(|k| k.platform().includes(&env.os))
        .filter_map(|&kind| probe(env, kind, os_release.as_ref()))
        .collect();
    found.sort_by_key(|pm| !pm.native);
    found
}

fn probe(env: &Environment, kind: ManagerKind, os: Option<&OsRelease>) -> Option<PackageManager> {
    let (path, located) = find_on_path(env, kind)
        .map(|p| (p.clone(), Evidence::OnPath(p)))
        .or_else(|| {
            known_locations(env, kind)
                .into_iter()
                .find(|p| is_executable(env, p))
                .map(|p| (p.clone(), Evidence::KnownLocation(p)))
        })?;
    let mut evidence = vec![located];
    if let Some(os) = os {
        if let Some(id) = kind.distro_ids().iter().find(|id| os.id == **id) {
            evidence.push(Evidence::OsRelease {
                key: "ID",
                value: (*id).to_owned(),
            });
        } else if let Some(id) = kind
            .distro_ids()
            .iter()
            .find(|id| os.id_like.iter().any(|l| l == *id))
        {
            evidence.push(Evidence::OsRelease {
                key: "ID_LIKE",
                value: (*id).to_owned(),
            });
        }
    }
    let native = evidence
        .iter()
        .any(|e| matches!(e, Evidence::OsRelease { .. }));
    let brew_prefix = (kind == ManagerKind::Brew).then(|| brew_prefix(env, &path));
    let dirs = install_dirs(env, kind, &path);
    Some(PackageManager {
        kind,
        path,
        evidence,
        native,
        dirs,
        brew_prefix,
    })
}

/// The first `PATH` directory holding one of the manager's executables.
fn find_on_path(env: &Environment, kind: ManagerKind) -> Option<PathBuf> {
    let exts: &[&str] = if env.is_windows() {
        &[".exe", ".cmd", ".bat", ".ps1"]
    } else {
        &[""]
    };
    for dir in env.path_dirs() {
        for bin in kind.binaries() {
            for ext in exts {
                let candidate = dir.join(format!("{bin}{ext}"));
                if is_executable(env, &candidate) {
                    return Some(candidate);
                }
            }
        }
    }
    None
}

/// Install locations outside `PATH` worth checking (a fresh shell may not have them yet).
fn known_locations(env: &Environment, kind: ManagerKind) -> Vec<PathBuf> {
    let home = |rel: &str| env.home.as_ref().map(|h| h.join(rel));
    let paths: Vec<Option<PathBuf>> = match kind {
        ManagerKind::Brew => vec![
            Some("/opt/homebrew/bin/brew".into()),
            Some("/usr/local/bin/brew".into()),
            Some("/home/linuxbrew/.linuxbrew/bin/brew".into()),
            home(".linuxbrew/bin/brew"),
        ],
        ManagerKind::Nix => vec![
            home(".nix-profile/bin/nix-env"),
            Some("/nix/var/nix/profiles/default/bin/nix-env".into()),
            Some("/run/current-system/sw/bin/nix-env".into()),
        ],
        ManagerKind::Guix => vec![
            home(".config/guix/current/bin/guix"),
            Some("/var/guix/profiles/per-user/root/current-guix/bin/guix".into()),
        ],
        ManagerKind::Chocolatey => vec![Some(
            env.chocolatey_install
                .clone()
                .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData\chocolatey"))
                .join("bin")
                .join("choco.exe"),
        )],
        ManagerKind::Scoop => vec![
            env.scoop
                .clone()
                .or_else(|| home("scoop"))
                .map(|s| s.join("shims").join("scoop.cmd")),
        ],
        ManagerKind::Winget => vec![
            env.local_app_data
                .as_ref()
                .map(|d| d.join("Microsoft").join("WindowsApps").join("winget.exe")),
        ],
        _ => vec![],
    };
    paths.into_iter().flatten().collect()
}

fn brew_prefix(env: &Environment, brew: &Path) -> BrewPrefix {
    let p = brew.to_string_lossy();
    if p.starts_with("/opt/homebrew") {
        BrewPrefix::AppleSilicon
    } else if env.os == "macos" {
        BrewPrefix::IntelMac
    } else {
        BrewPrefix::Linuxbrew
    }
}

fn install_dirs(env: &Environment, kind: ManagerKind, exe: &Path) -> InstallDirs {
    let prefix_of = |exe: &Path| exe.parent().and_then(Path::parent).map(Path::to_path_buf);
    let under = |prefix: PathBuf| InstallDirs {
        bin: Some(prefix.join("bin")),
        lib: Some(prefix.join("lib")),
        include: Some(prefix.join("include")),
    };
    match kind {
        // Self-contained prefixes: bin/lib/include beside the manager's own bin directory.
        ManagerKind::Brew | ManagerKind::Nix | ManagerKind::Guix => {
            prefix_of(exe).map_or_else(InstallDirs::default, under)
        }
        ManagerKind::Chocolatey => {
            prefix_of(exe).map_or_else(InstallDirs::default, |p| InstallDirs {
                bin: Some(p.join("bin")),
                lib: Some(p.join("lib")),
                include: None,
            })
        }
        // Shims only: what they install lives in per-app folders.
        ManagerKind::Scoop | ManagerKind::Winget => InstallDirs {
            bin: exe.parent().map(Path::to_path_buf),
            lib: None,
            include: None,
        },
        _ => {
            let mut dirs = under(PathBuf::from("/usr"));
            // Debian-style multiarch keeps libraries in /usr/lib/<triplet>.
            let triplet = format!("/usr/lib/{}-linux-gnu", env.arch);
            if env.resolve(Path::new(&triplet)).is_dir() {
                dirs.lib = Some(PathBuf::from(triplet));
            }
            dirs
        }
    }
}

fn is_executable(env: &Environment, path: &Path) -> bool {
    let real = env.resolve(path);
    let Ok(meta) = std::fs::metadata(&real) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    if !env.is_windows() {
        use std::os::unix::fs::PermissionsExt;
        return meta.permissions().mode() & 0o111 != 0;
    }
    true
}

#[cfg(test)]
mod tests;
