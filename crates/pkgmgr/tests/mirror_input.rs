//! Bad input gets a clear error, never a panic: no mirrors, invalid or duplicate URLs,
//! bad paths, out-of-range (NaN) settings. And good input is normalised.

use std::time::Duration;

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::mirror::{MirrorManager, MirrorRole};

fn build_err(bases: &[&str]) -> Error {
    MirrorManager::builder()
        .fallbacks(bases.iter().copied())
        .build()
        .unwrap_err()
}

#[test]
fn no_mirrors() {
    let err = MirrorManager::builder().build().unwrap_err();
    assert!(matches!(err, Error::NoMirrors));
    assert!(err.to_string().contains("add at least one"));
}

#[test]
fn invalid_mirror_urls() {
    for (url, why) in [
        ("", "empty"),
        ("   ", "empty"),
        ("mirror.example.org/arch", "not a URL"),
        ("/arch/", "scheme"),
        ("ftp://mirror.example.org/arch/", "`ftp` is not supported"),
        ("file:///srv/mirror/", "`file` is not supported"),
        ("http://user:secret@mirror.example.org/", "credentials"),
        ("http://mirror.example.org/arch/?country=DE", "query"),
        ("http://mirror.example.org/arch/#x", "fragment"),
        ("http://:8080/", "no host"),
        ("http://mirror.example.org:70000/", "port"),
        ("http://mirror.example.org/a/../b/", "`..`"),
        ("http://mirror example.org/", "not a URL"),
    ] {
        let err = build_err(&["http://ok.example.org/", url]);
        match &err {
            Error::InvalidMirror { url: u, reason } => {
                assert_eq!(u, url);
                assert!(reason.contains(why), "{url:?}: {reason}");
            }
            other => panic!("{url:?}: {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.starts_with("invalid mirror URL"), "{msg}");
        assert!(!msg.contains("secret") || url.contains("secret"));
    }
}

#[test]
fn duplicate_mirrors_after_normalisation() {
    let err = build_err(&[
        "http://mirror.example.org/arch",
        "HTTP://Mirror.Example.org:80/arch/",
    ]);
    match &err {
        Error::DuplicateMirror { url } => assert_eq!(url, "http://mirror.example.org/arch/"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("listed twice"));
    // Different paths on one host are different mirrors.
    MirrorManager::builder()
        .fallbacks(["http://m/arch/", "http://m/archlinux/"])
        .build()
        .unwrap();
}

#[test]
fn bases_are_directories_and_paths_resolve_under_them() {
    let m = MirrorManager::builder()
        .primary("https://Mirror.Example.org:443/archlinux")
        .fallback("http://[::1]:8080")
        .exploration(0.0)
        .build()
        .unwrap();
    let stats = m.stats();
    assert_eq!(stats[0].base, "https://mirror.example.org/archlinux/");
    assert_eq!(stats[1].base, "http://[::1]:8080/");
    assert_eq!(
        (stats[0].role, stats[1].role),
        (MirrorRole::Primary, MirrorRole::Fallback)
    );
    let urls: Vec<String> = m
        .candidates("/extra/os/x86_64/ffmpeg-2:7.1-1-x86_64.pkg.tar.zst")
        .unwrap()
        .iter()
        .map(|c| c.url().to_string())
        .collect();
    assert_eq!(
        urls,
        [
            "https://mirror.example.org/archlinux/extra/os/x86_64/ffmpeg-2:7.1-1-x86_64.pkg.tar.zst",
            "http://[::1]:8080/extra/os/x86_64/ffmpeg-2:7.1-1-x86_64.pkg.tar.zst",
        ]
    );
    let c = m.best_mirror("pool/a b.deb").unwrap();
    assert_eq!(
        c.url(),
        "https://mirror.example.org/archlinux/pool/a%20b.deb"
    );
    assert_eq!(c.path(), "pool/a%20b.deb");
    assert_eq!(c.to_string(), c.url().to_string());
}

#[test]
fn invalid_paths() {
    let m = MirrorManager::builder()
        .primary("http://a/")
        .build()
        .unwrap();
    for (path, why) in [
        ("", "empty"),
        ("/", "empty"),
        ("core/", "ends with `/`"),
        ("core//x.tar", "empty segment"),
        ("../x.tar", "`..`"),
        ("core/%2e%2E/x.tar", "`..`"),
        ("./x.tar", "`.`"),
        ("x.tar?sig=1", "query"),
        ("x.tar#frag", "fragment"),
        ("core\\x.tar", "`\\`"),
        ("x\0.tar", "control"),
    ] {
        for result in [m.best_mirror(path).map(drop), m.candidates(path).map(drop)] {
            match result {
                Err(Error::InvalidMirrorPath { path: p, reason }) => {
                    assert_eq!(p, path);
                    assert!(reason.contains(why), "{path:?}: {reason}");
                }
                other => panic!("{path:?}: {other:?}"),
            }
        }
    }
    let err = m.best_mirror("../x").unwrap_err().to_string();
    assert!(err.starts_with("invalid mirror path \"../x\""), "{err}");
    assert!(err.contains("under the mirror base"), "{err}");
}

#[test]
fn out_of_range_settings() {
    let field =
        |b: ghostnet_pkgmgr::mirror::MirrorManagerBuilder| match b.primary("http://a/").build() {
            Err(Error::InvalidMirrorConfig { field, reason }) => {
                assert!(!reason.is_empty());
                field
            }
            other => panic!("{other:?}"),
        };
    let b = MirrorManager::builder;
    assert_eq!(field(b().primary_bonus(f64::NAN)), "primary_bonus");
    assert_eq!(field(b().exploration(f64::NAN)), "exploration");
    assert_eq!(field(b().exploration(2.0)), "exploration");
    assert_eq!(field(b().ewma_weight(f64::NAN)), "ewma_weight");
    assert_eq!(field(b().ewma_weight(0.0)), "ewma_weight");
    assert_eq!(field(b().failure_threshold(0)), "failure_threshold");
    assert_eq!(field(b().cooldown(Duration::ZERO)), "cooldown");
    assert_eq!(
        field(b().max_cooldown(Duration::from_secs(1))),
        "max_cooldown"
    );
    assert_eq!(field(b().not_found_ttl(Duration::ZERO)), "not_found_ttl");
    let msg = MirrorManager::builder()
        .primary("http://a/")
        .primary_bonus(f64::NAN)
        .build()
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "invalid mirror setting `primary_bonus`: is NaN; use a finite share of 0 or more, e.g. 0.25"
    );
}

#[test]
fn every_mirror_error_message_is_lowercase() {
    let errors = [
        MirrorManager::builder().build().unwrap_err(),
        build_err(&["x"]),
        build_err(&["http://a/", "http://a"]),
        MirrorManager::builder()
            .primary("http://a/")
            .build()
            .unwrap()
            .best_mirror("")
            .unwrap_err(),
        MirrorManager::builder()
            .primary("http://a/")
            .exploration(-1.0)
            .build()
            .unwrap_err(),
    ];
    for e in errors {
        let s = e.to_string();
        assert!(s.starts_with(|c: char| c.is_lowercase()), "{s}");
    }
}

#[test]
fn stats_display_is_one_line_per_mirror() {
    let m = MirrorManager::builder()
        .primary("http://a/")
        .fallback("http://b/")
        .build()
        .unwrap();
    let c = m.best_mirror("x.tar").unwrap();
    m.report_success(&c, 4 << 20, Duration::from_secs(1))
        .unwrap();
    m.report_latency(&c, Duration::from_millis(35)).unwrap();
    let text = m.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("http://a/ primary active score "),
        "{text}"
    );
    assert!(
        lines[0].contains("4.0 MiB/s, 35 ms, 1 ok, 0 failed (0 in a row)"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "http://b/ fallback active unmeasured, 0 ok, 0 failed (0 in a row)"
    );
    assert!(format!("{m:?}").contains("MirrorManager"));
}
