use super::*;

/// A throwaway directory tree standing in for a machine's filesystem.
struct FakeRoot(PathBuf);

impl FakeRoot {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("ghostnet-detect-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, path: &str, body: &str, exec: bool) -> &Self {
        let full = self.0.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if exec { 0o755 } else { 0o644 };
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let _ = exec;
        self
    }

    fn exe(&self, path: &str) -> &Self {
        self.file(path, "#!/bin/sh\n", true)
    }

    fn dir(&self, path: &str) -> &Self {
        std::fs::create_dir_all(self.0.join(path.trim_start_matches('/'))).unwrap();
        self
    }

    fn env(&self, os: &str, arch: &str) -> Environment {
        Environment::fake(&self.0, os, arch)
    }
}

impl Drop for FakeRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kinds(found: &[PackageManager]) -> Vec<ManagerKind> {
    found.iter().map(|p| p.kind).collect()
}

#[test]
fn debian_with_apt_on_path() {
    let root = FakeRoot::new("debian");
    root.file("/etc/os-release", "ID=debian\nVERSION_ID=12\n", false)
        .exe("/usr/bin/apt-get")
        .exe("/usr/bin/apt")
        .dir("/usr/lib/x86_64-linux-gnu");
    let found = detect_in(
        &root
            .env("linux", "x86_64")
            .path("/usr/local/bin:/usr/bin:/bin"),
    );
    assert_eq!(kinds(&found), [ManagerKind::Apt]);
    let apt = &found[0];
    assert_eq!(
        apt.path,
        PathBuf::from("/usr/bin/apt-get"),
        "preferred binary"
    );
    assert!(apt.native);
    assert_eq!(
        apt.evidence,
        [
            Evidence::OnPath("/usr/bin/apt-get".into()),
            Evidence::OsRelease {
                key: "ID",
                value: "debian".into()
            }
        ]
    );
    assert_eq!(
        apt.dirs.lib.as_deref(),
        Some(Path::new("/usr/lib/x86_64-linux-gnu"))
    );
    assert_eq!(apt.dirs.include.as_deref(), Some(Path::new("/usr/include")));
    assert_eq!(
        apt.evidence_summary(),
        "on PATH at /usr/bin/apt-get; os-release ID=debian"
    );
}

#[test]
fn derivative_uses_id_like_and_finds_linuxbrew_off_path() {
    let root = FakeRoot::new("manjaro");
    root.file("/etc/os-release", "ID=manjaro\nID_LIKE=arch\n", false)
        .exe("/usr/bin/pacman")
        .exe("/home/linuxbrew/.linuxbrew/bin/brew");
    let found = detect_in(&root.env("linux", "x86_64").path("/usr/bin"));
    assert_eq!(
        kinds(&found),
        [ManagerKind::Pacman, ManagerKind::Brew],
        "native first"
    );
    assert!(found[0].evidence.contains(&Evidence::OsRelease {
        key: "ID_LIKE",
        value: "arch".into()
    }));
    let brew = &found[1];
    assert!(!brew.native);
    assert_eq!(brew.brew_prefix, Some(BrewPrefix::Linuxbrew));
    assert_eq!(
        brew.evidence,
        [Evidence::KnownLocation(
            "/home/linuxbrew/.linuxbrew/bin/brew".into()
        )]
    );
    assert_eq!(
        brew.dirs.lib.as_deref(),
        Some(Path::new("/home/linuxbrew/.linuxbrew/lib"))
    );
}

#[test]
fn fedora_reports_dnf_and_yum_and_nix_in_home() {
    let root = FakeRoot::new("fedora");
    root.file("/etc/os-release", "ID=fedora\nVERSION_ID=40\n", false)
        .exe("/usr/bin/dnf")
        .exe("/usr/bin/yum")
        .exe("/home/u/.nix-profile/bin/nix-env");
    let env = root.env("linux", "x86_64").path("/usr/bin").home("/home/u");
    let found = detect_in(&env);
    assert_eq!(
        kinds(&found),
        [ManagerKind::Dnf, ManagerKind::Yum, ManagerKind::Nix]
    );
    assert!(found[0].native);
    assert!(!found[1].native, "fedora's native manager is dnf");
    assert_eq!(
        found[2].dirs.bin.as_deref(),
        Some(Path::new("/home/u/.nix-profile/bin"))
    );
}

#[test]
fn alpine_zypper_guix_ids() {
    for (id, exe, kind) in [
        ("alpine", "/sbin/apk", ManagerKind::Apk),
        (
            "opensuse-tumbleweed\nID_LIKE=\"opensuse suse\"",
            "/usr/bin/zypper",
            ManagerKind::Zypper,
        ),
        ("guix", "/usr/bin/guix", ManagerKind::Guix),
        (
            "nixos",
            "/run/current-system/sw/bin/nix-env",
            ManagerKind::Nix,
        ),
    ] {
        let root = FakeRoot::new(&format!("id-{kind}"));
        root.file("/etc/os-release", &format!("ID={id}\n"), false)
            .exe(exe);
        let found = detect_in(&root.env("linux", "aarch64").path("/sbin:/usr/bin"));
        assert_eq!(kinds(&found), [kind], "{id}");
        assert!(found[0].native, "{id}");
    }
}

#[test]
fn brew_on_apple_silicon_and_intel() {
    let root = FakeRoot::new("mac-arm");
    root.exe("/opt/homebrew/bin/brew").exe("/usr/bin/apt-get");
    let found = detect_in(
        &root
            .env("macos", "aarch64")
            .path("/opt/homebrew/bin:/usr/bin"),
    );
    assert_eq!(
        kinds(&found),
        [ManagerKind::Brew],
        "apt is not a macOS manager"
    );
    assert_eq!(found[0].brew_prefix, Some(BrewPrefix::AppleSilicon));
    assert_eq!(
        found[0].dirs.include.as_deref(),
        Some(Path::new("/opt/homebrew/include"))
    );

    let root = FakeRoot::new("mac-intel");
    root.exe("/usr/local/bin/brew");
    let found = detect_in(&root.env("macos", "x86_64"));
    assert_eq!(found[0].brew_prefix, Some(BrewPrefix::IntelMac));
    assert_eq!(
        found[0].evidence,
        [Evidence::KnownLocation("/usr/local/bin/brew".into())]
    );
}

#[test]
fn windows_managers() {
    let root = FakeRoot::new("windows");
    root.file("/ProgramData/chocolatey/bin/choco.exe", "", false)
        .file("/Users/u/scoop/shims/scoop.cmd", "", false)
        .file(
            "/Users/u/AppData/Local/Microsoft/WindowsApps/winget.exe",
            "",
            false,
        )
        .exe("/usr/bin/pacman");
    let env = root
        .env("windows", "x86_64")
        .path(r"C:\Windows\System32;C:\Users\u\scoop\shims")
        .home(r"C:\Users\u")
        .local_app_data(r"C:\Users\u\AppData\Local");
    let found = detect_in(&env);
    assert_eq!(
        kinds(&found),
        [
            ManagerKind::Chocolatey,
            ManagerKind::Scoop,
            ManagerKind::Winget
        ]
    );
    assert!(
        matches!(found[1].evidence[0], Evidence::OnPath(_)),
        "scoop via PATH"
    );
    assert!(matches!(found[0].evidence[0], Evidence::KnownLocation(_)));
}

#[cfg(unix)]
#[test]
fn non_executable_files_do_not_count() {
    let root = FakeRoot::new("noexec");
    root.file("/usr/bin/pacman", "", false);
    assert!(detect_in(&root.env("linux", "x86_64").path("/usr/bin")).is_empty());
}

#[test]
fn empty_machine_and_cache() {
    let root = FakeRoot::new("empty");
    assert!(detect_in(&root.env("linux", "x86_64").path("/usr/bin")).is_empty());
    let a = detect();
    let b = detect();
    assert!(std::ptr::eq(a, b), "cached");
}
