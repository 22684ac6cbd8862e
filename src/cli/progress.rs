//! A progress bar on standard error for the long-running commands (`bench`, `growth`).

use std::io::Write;
use std::time::Instant;

/// Redraws one line: `label [#####.....] done/total unit (rate/s)`. Silent when `quiet`.
#[derive(Debug)]
pub(crate) struct Progress {
    label: String,
    unit: &'static str,
    total: u64,
    quiet: bool,
    started: Instant,
}

impl Progress {
    pub(crate) fn new(
        label: impl Into<String>,
        unit: &'static str,
        total: u64,
        quiet: bool,
    ) -> Self {
        Progress {
            label: label.into(),
            unit,
            total: total.max(1),
            quiet,
            started: Instant::now(),
        }
    }

    /// Shows `done` of the total.
    pub(crate) fn show(&self, done: u64) {
        if self.quiet {
            return;
        }
        let width = 40;
        let filled = ((done.min(self.total) * width) / self.total) as usize;
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        eprint!(
            "\r{} [{}{}] {done}/{} {} ({rate:.0}/s)",
            self.label,
            "#".repeat(filled),
            ".".repeat(width as usize - filled),
            self.total,
            self.unit,
        );
        let _ = std::io::stderr().flush();
    }

    /// Shows the final count and ends the line.
    pub(crate) fn finish(&self, done: u64) {
        self.show(done);
        if !self.quiet {
            eprintln!();
        }
    }
}

impl softland_bench::Meter for Progress {
    fn show(&self, done: u64) {
        Progress::show(self, done);
    }

    fn finish(&self, done: u64) {
        Progress::finish(self, done);
    }
}

/// Bars for a benchmark's stages, silent when `quiet`.
pub(crate) fn meters(
    quiet: bool,
) -> impl Fn(String, &'static str, u64) -> Box<dyn softland_bench::Meter> + Sync {
    move |label, unit, total| Box::new(Progress::new(label, unit, total, quiet))
}
