//! Content types by file extension: a small built-in table of what web servers serve
//! most, instead of a dependency with thousands of entries.

/// The `Content-Type` for a file name; `application/octet-stream` when unknown. Text
/// types carry `charset=utf-8`.
///
/// ```
/// use ghostnet_http::files::content_type;
///
/// assert_eq!(content_type("index.HTML"), "text/html; charset=utf-8");
/// assert_eq!(content_type("logo.png"), "image/png");
/// assert_eq!(content_type("data.bin"), "application/octet-stream");
/// ```
pub fn content_type(file_name: &str) -> &'static str {
    let ext = match file_name.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => return DEFAULT,
    };
    TABLE
        .binary_search_by(|(e, _)| (*e).cmp(ext.as_str()))
        .map_or(DEFAULT, |i| TABLE[i].1)
}

const DEFAULT: &str = "application/octet-stream";

/// Sorted by extension (checked by a test), for a binary search.
const TABLE: &[(&str, &str)] = &[
    ("7z", "application/x-7z-compressed"),
    ("aac", "audio/aac"),
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("bz2", "application/x-bzip2"),
    ("css", "text/css; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("deb", "application/vnd.debian.binary-package"),
    ("flac", "audio/flac"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html; charset=utf-8"),
    ("html", "text/html; charset=utf-8"),
    ("ico", "image/x-icon"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("jsonld", "application/ld+json"),
    ("map", "application/json"),
    ("md", "text/markdown; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("oga", "audio/ogg"),
    ("ogg", "audio/ogg"),
    ("ogv", "video/ogg"),
    ("otf", "font/otf"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("rar", "application/x-rar-compressed"),
    ("rss", "application/rss+xml"),
    ("sig", "application/pgp-signature"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("toml", "application/toml"),
    ("ttf", "font/ttf"),
    ("txt", "text/plain; charset=utf-8"),
    ("wasm", "application/wasm"),
    ("wav", "audio/wav"),
    ("webm", "video/webm"),
    ("webmanifest", "application/manifest+json"),
    ("webp", "image/webp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("xml", "application/xml"),
    ("xz", "application/x-xz"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("zip", "application/zip"),
    ("zst", "application/zstd"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_found() {
        assert!(
            TABLE.windows(2).all(|w| w[0].0 < w[1].0),
            "TABLE must stay sorted"
        );
        for (ext, ty) in TABLE {
            assert_eq!(content_type(&format!("f.{ext}")), *ty);
        }
        assert_eq!(content_type("README"), DEFAULT);
        assert_eq!(content_type("archive.tar.gz"), "application/gzip");
        assert_eq!(content_type(".hidden"), DEFAULT);
    }
}
