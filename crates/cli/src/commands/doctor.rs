//! `ghostnet doctor`: the machine as networking code sees it.

use ghostnet_pkgmgr::detect::detect;
use ghostnet_runtime::{Capabilities, RuntimeStats};

use super::CommandResult;

pub(crate) async fn run() -> CommandResult {
    println!("{}", Capabilities::detect());
    println!("runtime:    {}", RuntimeStats::current());
    let managers = detect();
    if managers.is_empty() {
        println!("package managers: none found");
    } else {
        println!("package managers:");
        for pm in managers {
            let native = if pm.native { " (native)" } else { "" };
            println!("  {:<7} {}{native}", pm.kind.name(), pm.path.display());
            println!("          evidence: {}", pm.evidence_summary());
            if let Some(lib) = &pm.dirs.lib {
                println!("          lib: {}", lib.display());
            }
        }
    }
    Ok(())
}
