//! `grade LAB`: one submission graded, with the instructor's overlay and overrides, shown as the student
//! sees it (or revealed), once or on every save (`--watch`).
use super::{emit, grader, load_overrides, load_spec};
use crate::cli;
use crate::course;
use crate::error::{Error, Result};
use crate::grading::Grader;
use crate::overrides::Overrides;
use crate::spec::Spec;
use crate::report::finish::{finish, shown};
use crate::report::{self, Format};

pub fn grade_one(args: cli::GradeArgs) -> Result<i32> {
    let Some(lab) = args.lab.as_deref() else {
        return Err(Error::Usage("name a lab to grade (e.g. `grade lab-2.4`), or see `grade --help`".into()));
    };
    let mut g = grader(&args.common)?;
    if args.estimate {
        g.course.perf = course::Perf::Estimate;
    }
    // A bad lab or spec is said before anything else; they are read once for a grading.
    let spec = load_spec(&g, lab, &args.instructor)?;
    let overrides = load_overrides(&args.instructor, &spec)?;
    let submission = args.submission.clone().unwrap_or_else(|| g.course.starter(lab));
    if !submission.is_dir() {
        return Err(Error::Usage(format!("submission {}: no such directory", submission.display())));
    }
    if args.watch {
        // The spec is read again for each grading: one being edited is graded as saved.
        return crate::watch::watch(&submission, || {
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
    spec: &Spec,
    overrides: &Overrides,
    submission: &std::path::Path,
    args: &cli::GradeArgs,
) -> Result<report::model::Report> {
    let lab = &spec.id;
    let mut report = if args.only.is_empty() {
        g.grade(spec, submission, args.seed)?
    } else {
        if let Some(bad) = args.only.iter().find(|id| !spec.items.iter().any(|i| &i.id == *id)) {
            let ids: Vec<&str> = spec.items.iter().map(|i| i.id.as_str()).collect();
            return Err(Error::Usage(format!("--only {bad}: {lab} has no such item; its items: {}", ids.join(", "))));
        }
        g.grade_only(spec, submission, args.seed, &args.only)?
    };
    // The student's id: as given, else (for an overrides file's rows) the submission folder's name.
    let student = args.student.clone().or_else(|| {
        args.instructor.overrides.as_ref()?;
        submission.canonicalize().ok()?.file_name().map(|n| n.to_string_lossy().into_owned())
    });
    finish(&mut report, student, overrides);
    // Students (and CI on their behalf) see hidden items as pass/fail; Gradescope's renderer maps them itself.
    let shown = shown(&report, args.reveal || args.format == Some(Format::Gradescope));
    emit(&shown, args.format, args.out.as_deref(), args.verbose)?;
    if super::output::get().github_actions {
        // On GitHub Actions, failures also become annotations on the student's files and lines.
        eprint!("{}", report::annotations::render(&shown, submission));
    }
    Ok(report)
}
