//! What this machine offers a network program.

use std::fmt;

use super::os_release::OsRelease;

/// Whether a facility is usable, and why not when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// Usable.
    Available,
    /// Not usable; the text says why (kernel too old, disabled by sysctl, seccomp, OS).
    Unavailable(String),
}

impl Support {
    /// Whether this is [`Support::Available`].
    pub fn is_available(&self) -> bool {
        matches!(self, Self::Available)
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Available => f.write_str("available"),
            Self::Unavailable(why) => write!(f, "unavailable ({why})"),
        }
    }
}

/// The machine, as far as networking code cares.
///
/// ```
/// let caps = ghostnet_runtime::Capabilities::detect();
/// assert!(caps.cpus >= 1);
/// println!("{caps}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `linux`, `macos`, `windows`, ... (Rust's `std::env::consts::OS`).
    pub os: &'static str,
    /// `x86_64`, `aarch64`, ...
    pub arch: &'static str,
    /// Kernel release, e.g. `6.1.0-18-amd64`, when it can be read.
    pub kernel: Option<String>,
    /// The Linux distribution from `/etc/os-release`.
    pub distro: Option<OsRelease>,
    /// Cores this process may use (cgroup quotas and affinity honoured).
    pub cpus: usize,
    /// Whether `io_uring_setup(2)` works for this process (probed, not guessed from the
    /// kernel version: containers often block it with seccomp).
    pub io_uring: Support,
    /// The readiness API tokio's I/O driver uses here: `epoll`, `kqueue` or `IOCP`.
    pub io_backend: &'static str,
}

impl Capabilities {
    /// Probes the machine. Cheap (a few file reads and one syscall); cache it if called often.
    pub fn detect() -> Self {
        Self {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            kernel: kernel_release(),
            distro: OsRelease::detect(),
            cpus: crate::config::available_cores(),
            io_uring: io_uring_support(),
            io_backend: io_backend(),
        }
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "os:         {} ({})", self.os, self.arch)?;
        writeln!(
            f,
            "kernel:     {}",
            self.kernel.as_deref().unwrap_or("unknown")
        )?;
        match &self.distro {
            Some(d) => writeln!(f, "distro:     {d} [id {}]", d.id)?,
            None => writeln!(f, "distro:     none (no os-release)")?,
        }
        writeln!(f, "cpus:       {}", self.cpus)?;
        writeln!(f, "io_uring:   {}", self.io_uring)?;
        write!(f, "io backend: {} (tokio/mio)", self.io_backend)
    }
}

fn io_backend() -> &'static str {
    if cfg!(any(
        target_os = "linux",
        target_os = "android",
        target_os = "illumos"
    )) {
        "epoll"
    } else if cfg!(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    )) {
        "kqueue"
    } else if cfg!(windows) {
        "IOCP"
    } else {
        "poll"
    }
}

#[cfg(target_os = "linux")]
fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(all(unix, not(target_os = "linux")))]
fn kernel_release() -> Option<String> {
    let out = std::process::Command::new("uname")
        .arg("-r")
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[cfg(not(unix))]
fn kernel_release() -> Option<String> {
    None
}

#[cfg(target_os = "linux")]
fn io_uring_support() -> Support {
    // The sysctl (Linux 6.6+) explains a refusal better than the errno does.
    let sysctl = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()
        .and_then(|s| s.trim().parse::<u8>().ok());
    match probe_io_uring_setup() {
        Ok(()) => Support::Available,
        Err(errno) => Support::Unavailable(match (errno, sysctl) {
            (libc::ENOSYS, _) => "kernel has no io_uring (needs Linux 5.1+)".to_owned(),
            (_, Some(2)) => "disabled by sysctl kernel.io_uring_disabled=2".to_owned(),
            (_, Some(1)) => {
                "restricted by sysctl kernel.io_uring_disabled=1 (io_uring_group only)".to_owned()
            }
            (libc::EPERM, _) => "blocked for this process (seccomp or container policy)".to_owned(),
            (e, _) => format!(
                "io_uring_setup failed: {}",
                std::io::Error::from_raw_os_error(e)
            ),
        }),
    }
}

#[cfg(not(target_os = "linux"))]
fn io_uring_support() -> Support {
    Support::Unavailable("io_uring is Linux-only".to_owned())
}

/// Calls `io_uring_setup(1, &params)` and closes the ring; `Err(errno)` on refusal.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn probe_io_uring_setup() -> Result<(), i32> {
    // struct io_uring_params is 120 bytes; all-zero asks for defaults.
    let mut params = [0u64; 15];
    // SAFETY: io_uring_setup reads and writes at most sizeof(struct io_uring_params) = 120
    // bytes at the pointer, which points to a live, writable, 8-aligned 120-byte buffer.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_io_uring_setup,
            1 as libc::c_uint,
            params.as_mut_ptr(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOSYS));
    }
    // SAFETY: fd is a descriptor this function just received and owns; closed exactly once.
    unsafe {
        libc::close(fd as libc::c_int);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_fills_every_field() {
        let c = Capabilities::detect();
        assert_eq!(c.os, std::env::consts::OS);
        assert!(c.cpus >= 1);
        if cfg!(target_os = "linux") {
            assert_eq!(c.io_backend, "epoll");
            assert!(
                c.kernel
                    .as_deref()
                    .is_some_and(|k| k.chars().next().unwrap().is_ascii_digit())
            );
        }
        let shown = c.to_string();
        for label in [
            "os:",
            "kernel:",
            "distro:",
            "cpus:",
            "io_uring:",
            "io backend:",
        ] {
            assert!(shown.contains(label), "{label} missing in\n{shown}");
        }
    }

    #[test]
    fn support_display() {
        assert_eq!(Support::Available.to_string(), "available");
        let u = Support::Unavailable("seccomp".into());
        assert!(!u.is_available());
        assert_eq!(u.to_string(), "unavailable (seccomp)");
    }
}
