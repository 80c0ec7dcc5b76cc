//! The package managers we know, and what identifies each.

use std::fmt;

/// A package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ManagerKind {
    /// Debian, Ubuntu and derivatives (`apt-get`).
    Apt,
    /// Arch Linux and derivatives.
    Pacman,
    /// Fedora, RHEL 8+, CentOS Stream.
    Dnf,
    /// Older RHEL/CentOS (and a compatibility name on newer ones).
    Yum,
    /// openSUSE, SLES.
    Zypper,
    /// Alpine.
    Apk,
    /// Homebrew on macOS (Apple Silicon or Intel) or Linux.
    Brew,
    /// Nix (NixOS or a Nix install on another system).
    Nix,
    /// GNU Guix.
    Guix,
    /// Chocolatey (Windows).
    Chocolatey,
    /// Scoop (Windows).
    Scoop,
    /// winget (Windows).
    Winget,
}

/// Which operating systems a manager can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    Linux,
    LinuxOrMac,
    Windows,
}

impl Platform {
    pub(crate) fn includes(self, os: &str) -> bool {
        match self {
            Self::Linux => os == "linux",
            Self::LinuxOrMac => os == "linux" || os == "macos",
            Self::Windows => os == "windows",
        }
    }
}

impl ManagerKind {
    /// Every kind, in the order `detect` reports them.
    pub const ALL: [Self; 12] = [
        Self::Apt,
        Self::Pacman,
        Self::Dnf,
        Self::Yum,
        Self::Zypper,
        Self::Apk,
        Self::Brew,
        Self::Nix,
        Self::Guix,
        Self::Chocolatey,
        Self::Scoop,
        Self::Winget,
    ];

    /// The command name, as users type it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Apt => "apt",
            Self::Pacman => "pacman",
            Self::Dnf => "dnf",
            Self::Yum => "yum",
            Self::Zypper => "zypper",
            Self::Apk => "apk",
            Self::Brew => "brew",
            Self::Nix => "nix",
            Self::Guix => "guix",
            Self::Chocolatey => "choco",
            Self::Scoop => "scoop",
            Self::Winget => "winget",
        }
    }

    /// Executables that identify the manager, preferred first (without Windows extensions).
    pub(crate) fn binaries(self) -> &'static [&'static str] {
        match self {
            Self::Apt => &["apt-get", "apt"],
            Self::Pacman => &["pacman"],
            Self::Dnf => &["dnf", "dnf5"],
            Self::Yum => &["yum"],
            Self::Zypper => &["zypper"],
            Self::Apk => &["apk"],
            Self::Brew => &["brew"],
            Self::Nix => &["nix-env", "nix"],
            Self::Guix => &["guix"],
            Self::Chocolatey => &["choco"],
            Self::Scoop => &["scoop"],
            Self::Winget => &["winget"],
        }
    }

    /// os-release `ID`/`ID_LIKE` values whose native manager this is.
    pub(crate) fn distro_ids(self) -> &'static [&'static str] {
        match self {
            Self::Apt => &["debian", "ubuntu"],
            Self::Pacman => &["arch"],
            Self::Dnf => &["fedora", "rhel", "centos"],
            Self::Yum => &["rhel", "centos"],
            Self::Zypper => &["suse", "opensuse", "sles"],
            Self::Apk => &["alpine"],
            Self::Nix => &["nixos"],
            Self::Guix => &["guix"],
            Self::Brew | Self::Chocolatey | Self::Scoop | Self::Winget => &[],
        }
    }

    pub(crate) fn platform(self) -> Platform {
        match self {
            Self::Brew | Self::Nix => Platform::LinuxOrMac,
            Self::Chocolatey | Self::Scoop | Self::Winget => Platform::Windows,
            _ => Platform::Linux,
        }
    }
}

impl fmt::Display for ManagerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
