//! `ghostnet aur info NAME...` and `ghostnet aur search TERM [--by FIELD]`: the AUR RPC
//! v5 client from the terminal.

use clap::{Args, Subcommand};
use ghostnet_pkgmgr::aur::{AurClient, DEFAULT_ENDPOINT, PackageInfo, SearchBy, SearchResult};

use super::CommandResult;

/// Query the Arch User Repository (RPC v5).
#[derive(Args)]
pub(crate) struct AurArgs {
    #[command(subcommand)]
    command: AurCommand,
    /// AUR base URL (a local AUR-format server, a mirror).
    #[arg(long, global = true, value_name = "URL", default_value = DEFAULT_ENDPOINT)]
    endpoint: String,
}

#[derive(Subcommand)]
enum AurCommand {
    /// Show packages by exact name (many names go in few batched requests).
    Info {
        /// Package names.
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },
    /// Search packages.
    Search {
        /// What to look for (at least 2 characters for name searches).
        term: String,
        /// The field to match: name, name-desc, maintainer, depends, makedepends,
        /// optdepends, checkdepends, submitter, provides, conflicts, replaces, keywords,
        /// groups, comaintainers.
        #[arg(long, value_name = "FIELD", default_value = "name-desc", value_parser = parse_by)]
        by: SearchBy,
    },
}

fn parse_by(s: &str) -> Result<SearchBy, String> {
    SearchBy::parse(s).ok_or_else(|| {
        let fields: Vec<&str> = SearchBy::ALL.iter().map(|b| b.as_str()).collect();
        format!("unknown field; use one of {}", fields.join(", "))
    })
}

pub(crate) async fn run(args: AurArgs) -> CommandResult {
    let aur = AurClient::builder().endpoint(&args.endpoint).build()?;
    match args.command {
        AurCommand::Info { names } => info(&aur, &names).await,
        AurCommand::Search { term, by } => search(&aur, &term, by).await,
    }
}

async fn info(aur: &AurClient, names: &[String]) -> CommandResult {
    let found = aur.info(names).await?;
    for (i, p) in found.packages.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_info(aur.endpoint(), p);
    }
    if found.missing.is_empty() {
        Ok(())
    } else {
        Err(format!("not found in the AUR: {}", found.missing.join(", ")).into())
    }
}

async fn search(aur: &AurClient, term: &str, by: SearchBy) -> CommandResult {
    let mut found = aur.search(term, by).await?;
    // Most popular last, nearest the prompt, as AUR helpers print them.
    found.sort_by(|a, b| a.popularity.total_cmp(&b.popularity));
    for p in &found {
        print_search(p);
    }
    match found.len() {
        0 => println!("no packages found"),
        1 => println!("1 package found"),
        n => println!("{n} packages found"),
    }
    Ok(())
}

fn print_search(p: &SearchResult) {
    let mut flags = String::new();
    if p.maintainer.is_none() {
        flags.push_str(" [orphaned]");
    }
    if p.out_of_date.is_some() {
        flags.push_str(" [out of date]");
    }
    println!(
        "aur/{} {} (+{} {:.2}){flags}",
        p.name, p.version, p.num_votes, p.popularity
    );
    if let Some(d) = &p.description {
        println!("    {d}");
    }
}

fn print_info(endpoint: &str, p: &PackageInfo) {
    let line = |label: &str, value: &str| println!("{label:<16}: {value}");
    let list = |label: &str, values: &[String]| {
        if !values.is_empty() {
            line(label, &values.join("  "));
        }
    };
    line("Name", &p.name);
    line("Version", &p.version);
    if p.package_base != p.name {
        line("Package base", &p.package_base);
    }
    line("Description", p.description.as_deref().unwrap_or("-"));
    line("URL", p.url.as_deref().unwrap_or("-"));
    list("Licenses", &p.license);
    list("Groups", &p.groups);
    list("Provides", &p.provides);
    list("Depends on", &p.depends);
    list("Make deps", &p.make_depends);
    list("Check deps", &p.check_depends);
    list("Optional deps", &p.opt_depends);
    list("Conflicts with", &p.conflicts);
    list("Replaces", &p.replaces);
    list("Keywords", &p.keywords);
    line(
        "Maintainer",
        p.maintainer.as_deref().unwrap_or("(orphaned)"),
    );
    list("Co-maintainers", &p.co_maintainers);
    if let Some(s) = &p.submitter {
        line("Submitter", s);
    }
    line("Votes", &p.num_votes.to_string());
    line("Popularity", &format!("{:.2}", p.popularity));
    line("First submitted", &date(p.first_submitted));
    line("Last modified", &date(p.last_modified));
    let flagged = match p.out_of_date {
        Some(t) => format!("yes (since {})", date(t)),
        None => "no".to_owned(),
    };
    line("Out of date", &flagged);
    line("Snapshot", &format!("{endpoint}{}", p.url_path));
}

/// A Unix time as `YYYY-MM-DD` (UTC), by the civil-from-days algorithm.
fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_475_688_004), "2016-10-05");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-86_400), "1969-12-31");
    }
}
