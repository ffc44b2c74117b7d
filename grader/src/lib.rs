//! `grade`: the grader and test harness of a course on Python parallelism, concurrency and async.
//!
//! Data flows one way: spec -> plan -> runs -> verdicts -> score -> reports.
pub mod batch;
pub mod cli;
pub mod course;
pub mod error;
pub mod grading;
pub mod harness;
pub mod http;
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
pub mod watch;

use clap::Parser;
use cli::{Cli, Command, Common};
use course::Course;
use error::{Error, Result};
use grading::Grader;
use report::{Format, Style};
use std::io::{IsTerminal, Write};

/// Runs the command line; returns the exit status.
pub fn run() -> i32 {
    runner::interrupt::install();
    // Orphans of the student's processes come to the grader, which kills and reaps them.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("grade: error: {}", report::text::safe(&e.to_string()));
            e.code()
        }
    }
}

fn grader(common: &Common) -> Result<Grader> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let course = Course::locate(common.specs.as_deref(), &cwd)?;
    let python = python::Python::resolve(common.python.as_deref())?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    Ok(Grader { course, python, managed: Default::default(), jobs: common.jobs.unwrap_or(cores).max(1) })
}

fn color_for(stream_is_tty: bool) -> bool {
    stream_is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::List(common)) => list(&common),
        Some(Command::Check { labs, common }) => check(&labs, &common),
        Some(Command::Batch(args)) => {
            let g = grader(&args.common)?;
            let spec = load_spec(&g, &args.lab, &args.instructor)?;
            let overrides = load_overrides(&args.instructor, &spec)?;
            batch::run(&g, &spec, &args, &overrides)
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
        None => grade_one(cli.grade),
    }
}

fn list(common: &Common) -> Result<i32> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let course = Course::locate(common.specs.as_deref(), &cwd)?;
    let labs = course.labs()?;
    let width = labs.iter().map(String::len).max().unwrap_or(8);
    let mut out = String::new();
    for lab in labs {
        match course.load(&lab) {
            Ok(spec) => out.push_str(&format!("{lab:<width$}  {:>2} items  {}\n", spec.items.len(), spec.title)),
            Err(e) => out.push_str(&format!("{lab:<width$}  spec error: {e}\n")),
        }
    }
    print!("{out}");
    Ok(0)
}

fn grade_one(args: cli::GradeArgs) -> Result<i32> {
    let Some(lab) = args.lab.as_deref() else {
        return Err(Error::Usage("name a lab to grade (e.g. `grade lab-2.4`), or see `grade --help`".into()));
    };
    let g = grader(&args.common)?;
    let spec = load_spec(&g, lab, &args.instructor)?;
    let overrides = load_overrides(&args.instructor, &spec)?;
    let submission = args.submission.clone().unwrap_or_else(|| g.course.starter(lab));
    if !submission.is_dir() {
        return Err(Error::Usage(format!("submission {}: no such directory", submission.display())));
    }
    if args.watch {
        // The spec is read again for each grading: one being edited is graded as saved.
        return watch::watch(&submission, || {
            let spec = load_spec(&g, lab, &args.instructor)?;
            let overrides = load_overrides(&args.instructor, &spec)?;
            grade_and_emit(&g, &spec, &overrides, &submission, &args).map(|_| ())
        });
    }
    let report = grade_and_emit(&g, &spec, &overrides, &submission, &args)?;
    Ok(match args.min_score {
        Some(min) if report.score < min => 1,
        _ => 0,
    })
}

/// Grades the submission once and writes the report as asked; returns it (as graded, before the
/// student's view of it).
fn grade_and_emit(
    g: &Grader,
    spec: &spec::Spec,
    overrides: &overrides::Overrides,
    submission: &std::path::Path,
    args: &cli::GradeArgs,
) -> Result<report::model::Report> {
    let mut report = g.grade(spec, submission, args.seed)?;
    // The student's id: as given, else (for an overrides file's rows) the submission folder's name.
    report.submission.student = args.student.clone().or_else(|| {
        args.instructor.overrides.as_ref()?;
        submission.canonicalize().ok()?.file_name().map(|n| n.to_string_lossy().into_owned())
    });
    let student = report.submission.student.clone().unwrap_or_default();
    overrides.apply(&mut report, &student);
    // Students (and CI on their behalf) see hidden items as pass/fail; Gradescope's renderer maps them itself.
    let shown = if args.reveal || args.format == Some(Format::Gradescope) { report.clone() } else { report::student_view(&report) };
    emit(&shown, args.format, args.out.as_deref(), args.verbose)?;
    if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        // On GitHub Actions, failures also become annotations on the student's files and lines.
        eprint!("{}", report::annotations::render(&shown, submission));
    }
    Ok(report)
}

/// The lab's spec, with the instructor's private overlay merged in when one is given.
fn load_spec(g: &Grader, lab: &str, instructor: &cli::Instructor) -> Result<spec::Spec> {
    let mut spec = g.course.load(lab)?;
    if let Some(dir) = &instructor.private {
        spec::apply_overlay(&mut spec, dir)?;
    }
    Ok(spec)
}

fn load_overrides(instructor: &cli::Instructor, spec: &spec::Spec) -> Result<overrides::Overrides> {
    match &instructor.overrides {
        Some(file) => overrides::Overrides::load(file, spec),
        None => Ok(overrides::Overrides::default()),
    }
}

/// Renders a report to `out` (atomically) or standard output.
fn emit(report: &report::model::Report, format: Option<Format>, out: Option<&std::path::Path>, verbose: bool) -> Result<()> {
    let to_tty = out.is_none() && std::io::stdout().is_terminal();
    let format = format.unwrap_or(if to_tty { Format::Human } else { Format::Json });
    let style = Style { color: out.is_none() && color_for(to_tty), verbose, width: report::width(to_tty) };
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

/// Writes `text` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomically(path: &std::path::Path, text: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(text.as_bytes()).map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

fn check(labs: &[String], common: &Common) -> Result<i32> {
    let g = grader(common)?;
    // Every spec first: a malformed one is an error of its own (exit 2), named with file and line.
    let all = if labs.is_empty() { g.course.labs()? } else { labs.to_vec() };
    for lab in &all {
        g.course.load(lab)?;
    }
    let trials = verify::trials(&g.course, &all)?;
    let color = color_for(std::io::stdout().is_terminal());
    let mut failed = 0;
    for trial in &trials {
        let started = std::time::Instant::now();
        let res = verify::run_trial(&g, trial);
        let secs = started.elapsed().as_secs_f64();
        match res {
            Ok(r) => println!("{} {:<48} score {:>6}  {secs:5.1} s", paint(color, "32", "ok  "), trial.name(), r.score),
            Err(why) => {
                failed += 1;
                println!("{} {:<48} {secs:5.1} s", paint(color, "31", "FAIL"), trial.name());
                for line in report::text::safe(&why).lines() {
                    println!("       {line}");
                }
            }
        }
    }
    println!("\n{} passed, {} failed", trials.len() - failed, failed);
    Ok(if failed > 0 { 1 } else { 0 })
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}
