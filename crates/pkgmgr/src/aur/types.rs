//! The AUR RPC v5 response format, field for field.

use serde::{Deserialize, Serialize};

/// The envelope of every AUR RPC v5 response.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Envelope<T> {
    /// `multiinfo`, `search` or `error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// RPC version; 5 here.
    pub version: Option<u32>,
    /// How many results follow.
    #[serde(rename = "resultcount", default)]
    pub result_count: usize,
    /// The results.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// The server's message when `type` is `error`.
    pub error: Option<String>,
}

/// One package as `info` returns it (every v5 field).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct PackageInfo {
    /// Package id.
    #[serde(rename = "ID")]
    pub id: u64,
    /// Package name.
    pub name: String,
    /// Id of the package base.
    #[serde(rename = "PackageBaseID")]
    pub package_base_id: u64,
    /// Name of the package base (the git repository).
    pub package_base: String,
    /// `pkgver-pkgrel`, with `epoch:` when set.
    pub version: String,
    /// One-line description.
    pub description: Option<String>,
    /// Upstream URL.
    #[serde(rename = "URL")]
    pub url: Option<String>,
    /// Votes.
    pub num_votes: u64,
    /// Popularity score.
    pub popularity: f64,
    /// Unix time it was flagged out of date, if it is.
    pub out_of_date: Option<i64>,
    /// Maintainer; `None` for orphans.
    pub maintainer: Option<String>,
    /// Who first submitted it.
    #[serde(default)]
    pub submitter: Option<String>,
    /// Unix time of the first submission.
    pub first_submitted: i64,
    /// Unix time of the last update.
    pub last_modified: i64,
    /// Path of the snapshot tarball on the AUR host.
    #[serde(rename = "URLPath")]
    pub url_path: String,
    /// Runtime dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<String>,
    /// Build dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub make_depends: Vec<String>,
    /// Optional dependencies (`name: reason`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_depends: Vec<String>,
    /// Test dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub check_depends: Vec<String>,
    /// Conflicting packages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Virtual packages provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    /// Packages replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
    /// Groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Licenses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license: Vec<String>,
    /// Search keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Co-maintainers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub co_maintainers: Vec<String>,
}

/// One package as `search` returns it (no dependency lists).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SearchResult {
    /// Package id.
    #[serde(rename = "ID")]
    pub id: u64,
    /// Package name.
    pub name: String,
    /// Id of the package base.
    #[serde(rename = "PackageBaseID")]
    pub package_base_id: u64,
    /// Name of the package base.
    pub package_base: String,
    /// `pkgver-pkgrel`.
    pub version: String,
    /// One-line description.
    pub description: Option<String>,
    /// Upstream URL.
    #[serde(rename = "URL")]
    pub url: Option<String>,
    /// Votes.
    pub num_votes: u64,
    /// Popularity score.
    pub popularity: f64,
    /// Unix time it was flagged out of date, if it is.
    pub out_of_date: Option<i64>,
    /// Maintainer; `None` for orphans.
    pub maintainer: Option<String>,
    /// Unix time of the first submission.
    pub first_submitted: i64,
    /// Unix time of the last update.
    pub last_modified: i64,
    /// Path of the snapshot tarball.
    #[serde(rename = "URLPath")]
    pub url_path: String,
}

/// What `search` matches the argument against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SearchBy {
    /// Package name only.
    Name,
    /// Name and description (the server's default).
    #[default]
    NameDesc,
    /// Maintainer (an empty argument lists orphans).
    Maintainer,
    /// Packages that depend on the argument.
    Depends,
    /// Packages that make-depend on it.
    MakeDepends,
    /// Packages that optionally depend on it.
    OptDepends,
    /// Packages that check-depend on it.
    CheckDepends,
    /// Submitter.
    Submitter,
    /// Provides.
    Provides,
    /// Conflicts.
    Conflicts,
    /// Replaces.
    Replaces,
    /// Keywords.
    Keywords,
    /// Groups.
    Groups,
    /// Co-maintainers.
    CoMaintainers,
}

impl SearchBy {
    /// The value of the `by` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::NameDesc => "name-desc",
            Self::Maintainer => "maintainer",
            Self::Depends => "depends",
            Self::MakeDepends => "makedepends",
            Self::OptDepends => "optdepends",
            Self::CheckDepends => "checkdepends",
            Self::Submitter => "submitter",
            Self::Provides => "provides",
            Self::Conflicts => "conflicts",
            Self::Replaces => "replaces",
            Self::Keywords => "keywords",
            Self::Groups => "groups",
            Self::CoMaintainers => "comaintainers",
        }
    }

    /// Parses a `by` value as the CLI takes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Every field, in the order the AUR documents them.
    pub const ALL: [Self; 14] = [
        Self::Name,
        Self::NameDesc,
        Self::Maintainer,
        Self::Depends,
        Self::MakeDepends,
        Self::OptDepends,
        Self::CheckDepends,
        Self::Submitter,
        Self::Provides,
        Self::Conflicts,
        Self::Replaces,
        Self::Keywords,
        Self::Groups,
        Self::CoMaintainers,
    ];
}
