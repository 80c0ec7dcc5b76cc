//! What the local server knows: the recorded packages (yay, paru, an orphan) and
//! generated ones with every field filled.

use super::super::{PackageInfo, SearchResult, parse_response};

const INFO_FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/aur/info_yay_paru.json");
const SEARCH_FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/aur/search_helper.json");

/// The name of generated package `i` (`ghostnet-demo-0007`).
///
/// ```
/// assert_eq!(ghostnet_pkgmgr::aur::testing::generated_name(7), "ghostnet-demo-0007");
/// ```
pub fn generated_name(i: usize) -> String {
    format!("ghostnet-demo-{i:04}")
}

/// Maintainers of generated packages, in turn; `None` is an orphan.
const MAINTAINERS: [Option<&str>; 4] = [Some("alice"), Some("bob"), Some("carol"), None];

/// Generated package `i`: deterministic, every v5 field set, and a dependency on the
/// previous one so `depends` searches find something.
pub fn generated_package(i: usize) -> PackageInfo {
    let name = generated_name(i);
    let id = 10_000_000 + i as u64;
    let maintainer = MAINTAINERS[i % MAINTAINERS.len()].map(str::to_owned);
    let mut depends = vec!["glibc".to_owned()];
    if i > 0 {
        depends.push(format!("{}>=1.0", generated_name(i - 1)));
    }
    PackageInfo {
        id,
        name: name.clone(),
        package_base_id: 5_000_000 + i as u64,
        package_base: name.clone(),
        version: format!("1.{i}.0-1"),
        description: Some(format!("Generated package number {i} for ghostnet tests")),
        url: Some(format!("https://example.org/{name}")),
        num_votes: (i as u64 * 7) % 500,
        popularity: (i % 100) as f64 / 10.0,
        out_of_date: (i % 10 == 9).then_some(1_700_000_000 + i as i64),
        maintainer: maintainer.clone(),
        submitter: Some(maintainer.unwrap_or_else(|| "alice".to_owned())),
        first_submitted: 1_600_000_000 + i as i64 * 3600,
        last_modified: 1_700_000_000 + i as i64 * 3600,
        url_path: format!("/cgit/aur.git/snapshot/{name}.tar.gz"),
        depends,
        make_depends: vec!["cargo".to_owned()],
        opt_depends: vec!["curl: fetch sources faster".to_owned()],
        check_depends: vec!["python".to_owned()],
        conflicts: vec![format!("{name}-git")],
        provides: vec![format!("ghostnet-virtual-{i:04}=1.{i}.0")],
        replaces: vec![format!("{name}-old")],
        groups: vec!["ghostnet-generated".to_owned()],
        license: vec!["MIT".to_owned()],
        keywords: vec!["ghostnet".to_owned(), "generated".to_owned()],
        co_maintainers: if i.is_multiple_of(3) {
            vec!["dave".to_owned()]
        } else {
            Vec::new()
        },
    }
}

/// The recorded packages: yay and paru from the `info` fixture, plus the orphan of the
/// `search` fixture with its dependency lists empty.
pub fn recorded_packages() -> Vec<PackageInfo> {
    let mut all: Vec<PackageInfo> =
        parse_response(INFO_FIXTURE).expect("the info fixture is RPC v5");
    let searched: Vec<SearchResult> =
        parse_response(SEARCH_FIXTURE).expect("the search fixture is RPC v5");
    for s in searched {
        if all.iter().any(|p| p.name == s.name) {
            continue;
        }
        all.push(PackageInfo {
            id: s.id,
            name: s.name,
            package_base_id: s.package_base_id,
            package_base: s.package_base,
            version: s.version,
            description: s.description,
            url: s.url,
            num_votes: s.num_votes,
            popularity: s.popularity,
            out_of_date: s.out_of_date,
            maintainer: s.maintainer,
            submitter: None,
            first_submitted: s.first_submitted,
            last_modified: s.last_modified,
            url_path: s.url_path,
            depends: Vec::new(),
            make_depends: Vec::new(),
            opt_depends: Vec::new(),
            check_depends: Vec::new(),
            conflicts: Vec::new(),
            provides: Vec::new(),
            replaces: Vec::new(),
            groups: Vec::new(),
            license: Vec::new(),
            keywords: Vec::new(),
            co_maintainers: Vec::new(),
        });
    }
    all
}

/// What `search` returns for a package.
pub(crate) fn search_result(p: &PackageInfo) -> SearchResult {
    SearchResult {
        id: p.id,
        name: p.name.clone(),
        package_base_id: p.package_base_id,
        package_base: p.package_base.clone(),
        version: p.version.clone(),
        description: p.description.clone(),
        url: p.url.clone(),
        num_votes: p.num_votes,
        popularity: p.popularity,
        out_of_date: p.out_of_date,
        maintainer: p.maintainer.clone(),
        first_submitted: p.first_submitted,
        last_modified: p.last_modified,
        url_path: p.url_path.clone(),
    }
}
