//! Where a subcommand writes, and how it shows progress.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `path` (created or truncated), or standard output; buffered.
pub fn open_output(path: Option<&Path>) -> std::io::Result<Box<dyn Write + Send>> {
    Ok(match path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
            })?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

/// Progress of a long run: a bar on a terminal, a line a second otherwise.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Known once the records are checked.
    total: AtomicUsize,
    started: Instant,
    last_line: Mutex<Instant>,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} records ({per_sec}, {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Self {
            bar,
            total: total.into(),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
        }
    }

    pub fn set_total(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
        }
    }

    pub fn set(&self, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        let total = self.total.load(Ordering::Relaxed);
        if last.elapsed() >= Duration::from_secs(1) || done == total {
            *last = Instant::now();
            eprintln!(
                "progress: {done}/{total} records ({:.0} records/s)",
                done as f64 / self.elapsed().max(1e-9)
            );
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
