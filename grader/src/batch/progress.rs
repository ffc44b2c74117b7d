//! A batch's progress on stderr: a bar on a terminal (indicatif), one line per submission otherwise.
use super::book::Entry;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {elapsed} (eta {eta}) {msg}") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress { bar, total, done: AtomicUsize::new(0) }
    }

    pub fn done(&self, entry: &Entry, fresh: bool, took: Duration) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let what = match entry {
            Entry::Graded(r) if fresh => format!("{:>6.2}  {:>5.1} s", r.score, took.as_secs_f64()),
            Entry::Graded(r) => format!("{:>6.2}  already graded", r.score),
            Entry::Failed { message, .. } => format!("{:>6}  {}", entry.status(), message.lines().next().unwrap_or_default()),
        };
        // A folder's name and an error's message are the student's: shown, never obeyed.
        let line = crate::report::text::safe(&format!("[{n:>3}/{}] {:<24} {what}", self.total, entry.student())).into_owned();
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
