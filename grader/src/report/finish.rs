//! The last stage of every grading, the same for `grade`, `batch` and `rerun`: the report is given its
//! student's id and the instructor's overrides; then each reader gets the view it may see.
use super::model::Report;
use crate::overrides::Overrides;

/// Puts `student` on the report (when known) and applies `overrides` to it (the instructor's scores
/// replace the automatic ones, the automatic ones kept beside them). True when the overrides changed what
/// the report says.
pub fn finish(report: &mut Report, student: Option<String>, overrides: &Overrides) -> bool {
    if student.is_some() {
        report.submission.student = student;
    }
    let id = report.submission.student.clone().unwrap_or_default();
    overrides.apply(report, &id)
}

/// What a reader is shown: the whole report when `reveal` (an instructor, or a renderer that hides
/// items itself), else the student's view (hidden items as pass/fail, secret ones left out).
pub fn shown(report: &Report, reveal: bool) -> Report {
    if reveal { report.clone() } else { super::student_view(report) }
}
