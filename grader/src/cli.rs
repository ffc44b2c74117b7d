//! The command line. Parsing does no I/O; `crate::run` turns it into work.
use crate::report::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "grade",
    version,
    about = "Grades labs of the Python parallelism, concurrency and async course",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  grade lab-2.4                                  grade your copy in starter/lab-2.4\n  grade lab-2.4 --submission ~/work/lab-2.4      grade another directory\n  grade list                                     the labs\n  grade check lab-2.4                            an instructor's check of a lab's solution, starter and fixtures\n  grade env                                      build the Python environment ahead of time"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub grade: GradeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The labs, one line each.
    List(Common),
    /// Validate every spec and grade each lab's solution, starter and fixtures against their expectations.
    Check {
        /// Labs to check (all when none).
        labs: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Build the course's managed Python environment now (labs that import packages build it on first use).
    Env {
        /// Build it anew even if it is there.
        #[arg(long)]
        rebuild: bool,
        /// The Python interpreter (default: $GRADE_PYTHON, else python3).
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The lab to grade, e.g. lab-2.4.
    pub lab: Option<String>,
    /// The submission's directory (default: starter/<LAB> of the course checkout).
    #[arg(long, value_name = "DIR")]
    pub submission: Option<PathBuf>,
    /// Report format (default: human on a terminal, json otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Seed of the first run of each item: replays a recorded stress failure.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Show the student's stdout and stderr of failing items.
    #[arg(long, short)]
    pub verbose: bool,
    /// Exit with status 1 when the score is below this.
    #[arg(long, value_name = "SCORE")]
    pub min_score: Option<f64>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args, Clone)]
pub struct Common {
    /// The specs directory (default: specs/ of the course checkout, found from the current directory up).
    #[arg(long, value_name = "DIR")]
    pub specs: Option<PathBuf>,
    /// The Python interpreter (default: $GRADE_PYTHON, else python3).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Untimed runs at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}
