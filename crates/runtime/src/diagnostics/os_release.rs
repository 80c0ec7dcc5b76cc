//! `/etc/os-release` (freedesktop.org format), parsed leniently.

use std::fmt;
use std::path::Path;

/// The fields of `os-release` that identify a distribution.
///
/// ```
/// use ghostnet_runtime::diagnostics::OsRelease;
///
/// let os = OsRelease::parse("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\n");
/// assert_eq!(os.id, "ubuntu");
/// assert_eq!(os.id_like, ["debian"]);
/// assert!(os.is_like("debian"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OsRelease {
    /// `ID`, lowercase (`debian`, `arch`, `fedora`); `linux` when absent, as the spec says.
    pub id: String,
    /// `ID_LIKE`: the distributions this one derives from, closest first.
    pub id_like: Vec<String>,
    /// `NAME`, e.g. `Debian GNU/Linux`.
    pub name: Option<String>,
    /// `VERSION_ID`, e.g. `12`; rolling releases have none.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Reads `/etc/os-release`, falling back to `/usr/lib/os-release` as the spec says.
    /// `None` when neither exists (macOS, Windows, minimal containers).
    pub fn detect() -> Option<Self> {
        Self::read_from_root(Path::new("/"))
    }

    /// Like [`detect`](Self::detect) under another root directory (a chroot, a test fixture).
    pub fn read_from_root(root: &Path) -> Option<Self> {
        ["etc/os-release", "usr/lib/os-release"]
            .iter()
            .find_map(|p| std::fs::read_to_string(root.join(p)).ok())
            .map(|text| Self::parse(&text))
    }

    /// Parses os-release text. Unknown keys, comments and malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut os = Self {
            id: "linux".to_owned(),
            ..Self::default()
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, raw)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(raw.trim());
            match key.trim() {
                "ID" if !value.is_empty() => os.id = value.to_ascii_lowercase(),
                "ID_LIKE" => {
                    os.id_like = value
                        .split_ascii_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect();
                }
                "NAME" => os.name = Some(value),
                "VERSION_ID" => os.version_id = Some(value),
                "PRETTY_NAME" => os.pretty_name = Some(value),
                _ => {}
            }
        }
        os
    }

    /// Whether this is `id` or derives from it (`ID` or `ID_LIKE`).
    pub fn is_like(&self, id: &str) -> bool {
        self.id == id || self.id_like.iter().any(|l| l == id)
    }
}

impl fmt::Display for OsRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.pretty_name, &self.version_id) {
            (Some(p), _) => f.write_str(p),
            (None, Some(v)) => write!(f, "{} {v}", self.id),
            (None, None) => f.write_str(&self.id),
        }
    }
}

/// Strips shell-style quotes and backslash escapes, as os-release values use them.
fn unquote(v: &str) -> String {
    let inner = match v.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if v.len() >= 2 => &v[1..v.len() - 1],
        _ => v,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
HOME_URL="https://www.debian.org/"
"#;

    #[test]
    fn parses_real_files() {
        let os = OsRelease::parse(DEBIAN);
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.to_string(), "Debian GNU/Linux 12 (bookworm)");
        assert!(os.id_like.is_empty());

        let arch = OsRelease::parse("NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n");
        assert_eq!(arch.id, "arch");
        assert_eq!(arch.version_id, None);

        let manjaro = OsRelease::parse("ID=manjaro\nID_LIKE=arch\n");
        assert!(manjaro.is_like("arch"));
        let rocky = OsRelease::parse("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n");
        assert_eq!(rocky.id_like, ["rhel", "centos", "fedora"]);
        assert!(rocky.is_like("fedora"));
    }

    #[test]
    fn malformed_input_is_skipped_not_fatal() {
        let os = OsRelease::parse(
            "garbage\n=\n#ID=nope\nID=\nNAME='Single Quoted'\nX=\"unterminated\n\"\n",
        );
        assert_eq!(os.id, "linux");
        assert_eq!(os.name.as_deref(), Some("Single Quoted"));
        assert_eq!(OsRelease::parse("").id, "linux");
        assert_eq!(unquote(r#""a \"b\" c\\""#), r#"a "b" c\"#);
    }

    #[test]
    fn reads_fixture_roots() {
        let dir = std::env::temp_dir().join(format!("ghostnet-osr-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("usr/lib")).unwrap();
        assert_eq!(OsRelease::read_from_root(&dir), None);
        std::fs::write(
            dir.join("usr/lib/os-release"),
            "ID=alpine\nVERSION_ID=3.20.0\n",
        )
        .unwrap();
        assert_eq!(OsRelease::read_from_root(&dir).unwrap().id, "alpine");
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/os-release"), DEBIAN).unwrap();
        assert_eq!(OsRelease::read_from_root(&dir).unwrap().id, "debian");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
