//! `grade`: the grader and test harness of a course on Python parallelism, concurrency and async.
//!
//! Data flows one way: spec -> plan -> runs -> verdicts -> score -> reports.
pub mod batch;
pub mod cli;
mod commands;
pub mod course;
pub mod error;
pub mod grading;
pub mod harness;
pub mod http;
pub mod judge;
pub mod kit;
pub mod machine;
pub mod overrides;
pub mod plan;
pub mod pyenv;
pub mod python;
pub mod report;
pub mod rerun;
pub mod runner;
pub mod score;
pub mod spec;
pub mod submission;
pub mod verify;
#[cfg(test)]
mod verify_tests;
pub mod watch;

use clap::Parser;
use error::{Error, Result};
use std::io::Write;

/// Runs the command line; returns the exit status.
pub fn run() -> i32 {
    runner::interrupt::install();
    // Orphans of the student's processes come to the grader, which kills and reaps them.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("grade: error: {}", report::text::safe(&e.to_string()));
            e.code()
        }
    }
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomically(path: &std::path::Path, text: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(text.as_bytes()).map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
