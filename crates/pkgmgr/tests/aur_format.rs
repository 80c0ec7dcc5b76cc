//! The AUR RPC v5 types read recorded responses field for field.

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::aur::{PackageInfo, SearchBy, SearchResult, parse_response};

const INFO: &[u8] = include_bytes!("fixtures/aur/info_yay_paru.json");
const SEARCH: &[u8] = include_bytes!("fixtures/aur/search_helper.json");
const ERROR: &[u8] = include_bytes!("fixtures/aur/error_too_many.json");

#[test]
fn info_has_every_field() {
    let pkgs: Vec<PackageInfo> = parse_response(INFO).unwrap();
    assert_eq!(pkgs.len(), 2);
    let yay = &pkgs[0];
    assert_eq!(yay.name, "yay");
    assert_eq!(yay.id, 1_560_215);
    assert_eq!(yay.package_base_id, 115_973);
    assert_eq!(yay.version, "12.4.2-1");
    assert_eq!(yay.depends, ["pacman>6.1", "git"]);
    assert_eq!(yay.make_depends, ["go>=1.21"]);
    assert_eq!(yay.check_depends, ["go-tools"]);
    assert_eq!(yay.opt_depends.len(), 2);
    assert_eq!(yay.co_maintainers, ["Morganamilo"]);
    assert_eq!(yay.license, ["GPL-3.0-or-later"]);
    assert_eq!(yay.out_of_date, None);
    assert_eq!(yay.submitter.as_deref(), Some("jguer"));
    assert_eq!(yay.url_path, "/cgit/aur.git/snapshot/yay.tar.gz");
    assert!((yay.popularity - 28.430573).abs() < 1e-9);
    let paru = &pkgs[1];
    assert_eq!(paru.out_of_date, Some(1_730_000_000));
    assert!(
        paru.check_depends.is_empty(),
        "absent lists default to empty"
    );
    assert!(paru.provides.is_empty());
}

#[test]
fn search_results_and_nulls() {
    let found: Vec<SearchResult> = parse_response(SEARCH).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].maintainer, None);
    assert_eq!(found[1].description, None);
    assert_eq!(found[1].url, None);
}

#[test]
fn error_type_is_a_clear_error() {
    let err = parse_response::<SearchResult>(ERROR).unwrap_err();
    assert!(matches!(&err, Error::Aur { message } if message == "Too many package results."));
    assert!(err.to_string().contains("narrow"), "{err}");
}

#[test]
fn malformed_bodies_are_format_errors() {
    for body in [
        &b""[..],
        b"<html>502 Bad Gateway</html>",
        b"{}",
        br#"{"type":"multiinfo","results":[{"Name":1}]}"#,
    ] {
        assert!(
            matches!(
                parse_response::<PackageInfo>(body),
                Err(Error::AurFormat { .. })
            ),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn search_by_round_trips() {
    for by in SearchBy::ALL {
        assert_eq!(SearchBy::parse(by.as_str()), Some(by));
    }
    assert_eq!(SearchBy::default(), SearchBy::NameDesc);
    assert_eq!(SearchBy::parse("nonsense"), None);
}
