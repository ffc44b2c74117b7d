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
    after_help = "Examples:\n  grade lab-2.4                                  grade your copy in starter/lab-2.4\n  grade lab-2.4 --submission ~/work/lab-2.4      grade another directory\n  grade lab-2.4 --watch                          grade again on every save\n  grade list                                     the labs\n  grade check lab-2.4                            an instructor's check of a lab's solution, starter and fixtures\n  grade env                                      build the Python environment ahead of time\n  grade batch --lab lab-2.4 class/ --out graded/ grade a class: one folder per student\n  grade merge shard-*/ --out graded/             join the outputs of `batch --shard K/N`\n  grade rerun graded/reports/alice.json          regrade from a report's recorded seed and spec"
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
    /// Grade a class: every sub-folder of SUBMISSIONS, in parallel, resumable.
    Batch(BatchArgs),
    /// Join the outputs of `grade batch --shard K/N` runs into one gradebook and summary.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// The joined output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Regrade the submission a JSON report names, with the seed, spec and overlay it records.
    Rerun {
        /// A report written by `grade --format json` or `grade batch`.
        report: PathBuf,
        /// Report format (default: human on a terminal, json otherwise).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write the new report to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Render a saved JSON report in another format (nothing is graded again).
    Render {
        /// A report written by `grade --format json` or `grade batch`.
        report: PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write it to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Show the student's stdout and stderr of failing items (human format).
        #[arg(long, short)]
        verbose: bool,
    },
    /// Write the student kit: the grader's sources, specs without quiz keys, starters and docs; never
    /// solutions, fixtures, keys or private overlays.
    Kit {
        /// A new (or empty) folder for the kit.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Record the performance baselines the student kit scores against: each lab's reference solution,
    /// timed alone on this machine, with the calibration workload beside it (written to baselines/).
    Baseline {
        /// Labs to measure (all with a throughput or memory item when none).
        labs: Vec<String>,
        /// Where the baselines go (default: baselines/ of the course checkout).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// How long to wait for a quiet machine before measuring again an item a busy one spoiled (seconds).
        #[arg(long, value_name = "SECONDS", default_value_t = 120)]
        quiet_wait: u64,
        #[command(flatten)]
        common: Common,
    },
    /// A batch's worker: grades one submission and prints its JSON report on stdout (`grade batch` runs it).
    #[command(name = "__grade-one", hide = true)]
    GradeOne(GradeOneArgs),
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
pub struct BatchArgs {
    /// The lab every submission is graded against.
    #[arg(long)]
    pub lab: String,
    /// A directory with one sub-folder per student (the folder's name is the student's id).
    pub submissions: PathBuf,
    /// Where reports, the gradebook and the summary go; a rerun into the same directory resumes.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Grade only slice K of N (1-based) of the sorted students; `grade merge` joins the slices.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    #[command(flatten)]
    pub instructor: Instructor,
    /// Seed of every submission's first run (default: one drawn per submission).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// At the end, how long to wait for a quiet machine before measuring inconclusive items again
    /// (seconds; 0: do not measure them again).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub quiet_wait: u64,
    #[command(flatten)]
    pub common: Common,
}

/// What a batch's worker process is given: everything the grading of one submission depends on
/// (overrides are the coordinator's: it applies them to fresh and reused reports alike).
#[derive(Debug, Args)]
pub struct GradeOneArgs {
    #[arg(long)]
    pub lab: String,
    #[arg(long, value_name = "DIR")]
    pub submission: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Grade only these items (a batch's second look at inconclusive measurements).
    #[arg(long, value_name = "ITEM", value_delimiter = ',')]
    pub only: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

/// An instructor's additions: hidden items and answer keys, and manual scores.
#[derive(Debug, Args, Clone, Default)]
pub struct Instructor {
    /// A private overlay: DIR/<lab>.yaml adds hidden items (checks in DIR) and quiz answer keys.
    #[arg(long, value_name = "DIR")]
    pub private: Option<PathBuf>,
    /// Manual scores: CSV (student,item,points,comment) or YAML list of the same keys.
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<PathBuf>,
}

pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s.split_once('/').ok_or("write it as K/N, e.g. 2/4")?;
    let k: usize = k.trim().parse().map_err(|_| format!("`{k}` is not a number"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("`{n}` is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: K runs from 1 to N"));
    }
    Ok((k, n))
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
    /// Grade only these items (ids, comma-separated or repeated); the others are reported `skipped`.
    /// With `--seed`, replays one item's recorded failure.
    #[arg(long, value_name = "ITEM", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Exit with status 1 when the score is below this.
    #[arg(long, value_name = "SCORE")]
    pub min_score: Option<f64>,
    #[command(flatten)]
    pub instructor: Instructor,
    /// The student's id, for `--overrides` (default: the submission folder's name).
    #[arg(long, value_name = "NAME")]
    pub student: Option<String>,
    /// Show hidden and secret items in full (instructors; students see hidden items as pass/fail only).
    #[arg(long)]
    pub reveal: bool,
    /// Grade again each time a file of the submission is saved, clearing the screen in between (Ctrl-C stops).
    #[arg(long)]
    pub watch: bool,
    /// Score performance as the student kit does, against the reference's recorded baseline (baselines/)
    /// scaled to this machine, even where the reference solution is present.
    #[arg(long)]
    pub estimate: bool,
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
