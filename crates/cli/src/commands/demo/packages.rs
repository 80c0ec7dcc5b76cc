//! The demo's package files: one per package from the metadata, of varied sizes, with
//! contents and SHA-256 known in advance (what a repository database would list).

use bytes::Bytes;
use ghostnet_pkgmgr::aur::PackageInfo;
use sha2::{Digest, Sha256};

/// The smallest demo file.
const MIN_SIZE: u64 = 16 * 1024;

/// One package file as the mirrors serve it.
pub(crate) struct PackageFile {
    /// `name-version-x86_64.pkg.tar.zst`.
    pub(crate) file_name: String,
    /// Where the mirrors have it (`x86_64/<file_name>`).
    pub(crate) path: String,
    pub(crate) data: Bytes,
    /// Lowercase hex.
    pub(crate) sha256: String,
}

/// Files for the first `count` packages: sizes spread geometrically from 16 KiB to
/// `max_size`, so small and large transfers mix as in a real upgrade.
pub(crate) fn package_files(
    packages: &[PackageInfo],
    count: usize,
    max_size: u64,
) -> Vec<PackageFile> {
    let count = count.min(packages.len());
    let max_size = max_size.max(MIN_SIZE);
    packages
        .iter()
        .take(count)
        .enumerate()
        .map(|(i, p)| {
            let size = size_of(i, count, max_size);
            let file_name = format!("{}-{}-x86_64.pkg.tar.zst", p.name, p.version);
            let data = pseudo_random(size as usize, i as u64 + 1);
            PackageFile {
                path: format!("x86_64/{file_name}"),
                sha256: ghostnet_pkgmgr::download::to_hex(&Sha256::digest(&data)),
                file_name,
                data,
            }
        })
        .collect()
}

/// Size of file `i` of `count`: `MIN_SIZE * (max/MIN)^(i/(count-1))`, in whole KiB.
fn size_of(i: usize, count: usize, max_size: u64) -> u64 {
    if count <= 1 {
        return max_size;
    }
    let ratio = max_size as f64 / MIN_SIZE as f64;
    let size = MIN_SIZE as f64 * ratio.powf(i as f64 / (count - 1) as f64);
    (size as u64 / 1024).max(1) * 1024
}

/// Incompressible, deterministic bytes (xorshift), so every run serves the same files.
fn pseudo_random(len: usize, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_spread_from_min_to_max() {
        assert_eq!(size_of(0, 20, 16 << 20), MIN_SIZE);
        assert_eq!(size_of(19, 20, 16 << 20), 16 << 20);
        assert!(size_of(10, 20, 16 << 20) > size_of(9, 20, 16 << 20));
        assert_eq!(size_of(0, 1, 1 << 20), 1 << 20);
    }

    #[test]
    fn files_are_deterministic_and_distinct() {
        let a = pseudo_random(1000, 1);
        assert_eq!(a, pseudo_random(1000, 1));
        assert_ne!(a, pseudo_random(1000, 2));
        assert_eq!(a.len(), 1000);
    }
}
