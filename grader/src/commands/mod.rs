//! The command line's commands: `dispatch` picks one; each command's body lives in its own file
//! (`grade`, `check`, `list`), the small ones here. Settings they share (the grader, colour, output) too.
mod check;
mod grade;
mod list;
pub(crate) mod output;

use crate::cli::{self, Cli, Command, Common};
use crate::course::{self, Course};
use crate::error::{Error, Result};
use crate::grading::Grader;
use crate::report::{self, Format};
use crate::{batch, grading, kit, overrides, pyenv, python, rerun, spec, write_atomically};
use std::io::Write;

pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::List(common)) => list::list(&common),
        Some(Command::Check { labs, common }) => check::check(&labs, &common),
        Some(Command::Batch(args)) => {
            let g = grader(&args.common)?;
            let spec = load_spec(&g, &args.lab, &args.instructor)?;
            let overrides = load_overrides(&args.instructor, &spec)?;
            let options = batch::Options {
                submissions: args.submissions,
                out: args.out,
                shard: args.shard,
                private: args.instructor.private,
                seed: args.seed,
                quiet_wait: std::time::Duration::from_secs(args.quiet_wait),
            };
            batch::run(&g, &spec, &options, &overrides)
        }
        Some(Command::GradeOne(args)) => {
            let g = grader(&args.common)?;
            let private = cli::Instructor { private: args.private.clone(), overrides: None };
            let spec = load_spec(&g, &args.lab, &private)?;
            batch::worker::serve(&g, &spec, &args)
        }
        Some(Command::Merge { shards, out }) => batch::merge::merge(&shards, &out),
        Some(Command::Rerun { report, format, out, mut common }) => {
            let old = rerun::read(&report)?;
            if common.specs.is_none() {
                common.specs = rerun::specs_dir(&old);
            }
            let g = grader(&common)?;
            let new = rerun::rerun(&g, &old)?;
            emit(&new, format, out.as_deref(), false)?;
            Ok(0)
        }
        Some(Command::Kit { out, common }) => {
            let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
            let course = Course::locate(common.specs.as_deref(), &cwd)?;
            let kit = kit::write(&course, &out)?;
            eprintln!("grade: the student kit is in {} ({} files; no solution, fixture or quiz key)", kit.dir.display(), kit.files);
            Ok(0)
        }
        Some(Command::Baseline { labs, out, quiet_wait, common }) => {
            let mut g = grader(&common)?;
            g.course.perf = course::Perf::Record;
            grading::baseline::record(&g, &labs, out.as_deref(), std::time::Duration::from_secs(quiet_wait))
        }
        Some(Command::Render { report, format, out, verbose }) => {
            emit(&rerun::read(&report)?, format, out.as_deref(), verbose)?;
            Ok(0)
        }
        Some(Command::Env { rebuild, python }) => {
            let base = python::Python::resolve(python.as_deref())?;
            let env = pyenv::ensure(&base, rebuild)?;
            println!("{}", env.python.display());
            Ok(0)
        }
        None => grade::grade_one(cli.grade),
    }
}

pub(crate) fn grader(common: &Common) -> Result<Grader> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let course = Course::locate(common.specs.as_deref(), &cwd)?;
    let python = python::Python::resolve(common.python.as_deref())?;
    let cores = crate::machine::get().cores;
    Ok(Grader { course, python, managed: Default::default(), jobs: common.jobs.unwrap_or(cores).max(1) })
}

/// The lab's spec, with the instructor's private overlay merged in when one is given.
pub(crate) fn load_spec(g: &Grader, lab: &str, instructor: &cli::Instructor) -> Result<spec::Spec> {
    let mut spec = g.course.load(lab)?;
    if let Some(dir) = &instructor.private {
        spec::apply_overlay(&mut spec, dir)?;
    }
    Ok(spec)
}

pub(crate) fn load_overrides(instructor: &cli::Instructor, spec: &spec::Spec) -> Result<overrides::Overrides> {
    match &instructor.overrides {
        Some(file) => overrides::Overrides::load(file, spec),
        None => Ok(overrides::Overrides::default()),
    }
}

/// Renders a report to `out` (atomically) or standard output.
pub(crate) fn emit(report: &report::model::Report, format: Option<Format>, out: Option<&std::path::Path>, verbose: bool) -> Result<()> {
    let settings = output::get();
    let format = settings.format(format, out);
    let style = settings.style(out, verbose);
    let text = report::render(report, format, &style);
    match out {
        Some(path) => write_atomically(path, &text)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
        }
    }
    Ok(())
}
