//! System packages and cargo invocations.

use std::path::PathBuf;
use std::process::Command;

/// Debian packages the workspace needs to build and test: cmake and libclang-dev for
/// quiche's BoringSSL build (bindgen), present from the start so QUIC can land without
/// touching CI; nghttp2-client, nghttp2-server and curl for the HTTP/2 interop tests
/// (nghttp, h2load, nghttpd), which otherwise skip; python3-venv for the venv that
/// ghostnet-ws's Autobahn smoke test installs kosoku (PyPI) into.
pub(crate) const BUILD_PACKAGES: &[&str] = &[
    "cmake",
    "libclang-dev",
    "nghttp2-client",
    "nghttp2-server",
    "curl",
    "aria2",
    "python3-venv",
];

/// Installs [`BUILD_PACKAGES`] that are missing.
pub(crate) fn ensure_packages() -> Result<(), String> {
    ensure(BUILD_PACKAGES)
}

/// Installs the Debian packages in `names` that are missing: with `apt-get` when running
/// as root, otherwise fails with the exact command to run.
pub(crate) fn ensure(names: &[&str]) -> Result<(), String> {
    if !has_program("dpkg-query") {
        eprintln!(
            "xtask: not a Debian-like system; make sure these are installed: {}",
            names.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !dpkg_installed(n))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let command = format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        return Err(format!(
            "missing system packages: {}; run as root: {command}",
            missing.join(" ")
        ));
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let status = Command::new("sh")
        .args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {command}")])
        .status()
        .map_err(|e| format!("could not run apt-get: {e}"))?;
    if !status.success() {
        return Err(format!("`{command}` failed ({status})"));
    }
    Ok(())
}

fn dpkg_installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether `program` is on PATH.
pub(crate) fn has_program(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether `cargo <name>` is available (an installed `cargo-<name>` binary).
pub(crate) fn cargo_subcommand_exists(name: &str) -> bool {
    has_program(&format!("cargo-{name}"))
        || Command::new(cargo_bin())
            .args([name, "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs `cargo <args>` in the workspace root; fails when cargo does.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    let status = Command::new(cargo_bin())
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// The workspace root (xtask's manifest is one level below it).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` and config files.
pub(crate) fn target_dir() -> Result<PathBuf, String> {
    let out = Command::new(cargo_bin())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata has no target_directory".to_owned())
}
