//! Progress bars for a batch of downloads: one per file and a total, drawn on stderr.

use ghostnet_pkgmgr::download::{BatchProgress, ItemState};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Progress bars: one per file and a total, drawn on stderr (hidden when it is not a
/// terminal or with `--quiet`).
pub(crate) struct Bars {
    multi: MultiProgress,
    files: Vec<ProgressBar>,
    total: ProgressBar,
}

impl Bars {
    pub(crate) fn new(names: &[String], quiet: bool) -> Self {
        let multi = if quiet {
            MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
        } else {
            MultiProgress::new()
        };
        let style = ProgressStyle::with_template(
            "{msg:30!} {bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let files = names
            .iter()
            .map(|n| {
                let bar = multi.add(ProgressBar::new(0).with_style(style.clone()));
                bar.set_message(n.clone());
                bar
            })
            .collect();
        let total = multi.add(ProgressBar::new(0).with_style(style));
        total.set_message(format!("total ({} files)", names.len()));
        Self {
            multi,
            files,
            total,
        }
    }

    pub(crate) fn update(&self, p: &BatchProgress) {
        if let Some(bar) = self.files.get(p.item) {
            if let Some(t) = p.progress.total {
                bar.set_length(t);
            }
            bar.set_position(p.progress.downloaded);
            match p.state {
                ItemState::Done => bar.finish(),
                ItemState::Failed => bar.abandon(),
                _ => {}
            }
        }
        if let Some(t) = p.total {
            self.total.set_length(t);
        }
        self.total.set_position(p.downloaded);
    }

    /// Ends the total bar and clears them all (the summary follows).
    pub(crate) fn finish(&self) {
        self.total.finish();
        let _ = self.multi.clear();
    }
}

pub(crate) fn human(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}
