//! JUnit XML (via quick-junit): one test suite per lab, one test case per item. A failed item is a
//! `failure`; a timeout, deadlock or crash too (the student's code misbehaved); a grader error is an `error`.
//! Text from the submission goes through `text::safe` (quick-junit would drop escape sequences; shown
//! written out instead, and no line reads as a GitHub workflow command).
use super::model::{Report, Status};
use super::text::safe;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

pub fn render(report: &Report) -> String {
    let mut suite = TestSuite::new(report.lab.clone());
    suite.set_time(Duration::from_millis(report.duration_ms));
    suite.add_property(quick_junit::Property::new("score", format!("{}", report.score)));
    for a in &report.adjustments {
        suite.add_property(quick_junit::Property::new(
            format!("adjustment.{}", a.id),
            format!("-{}: {}", a.points, safe(&a.reason)),
        ));
    }
    for t in &report.tests {
        let mut status = match t.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Skipped | Status::Pending | Status::Inconclusive => TestCaseStatus::skipped(),
            Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            _ => TestCaseStatus::non_success(NonSuccessKind::Failure),
        };
        if t.status != Status::Passed {
            status.set_type(t.status.as_str());
            if let Some(m) = &t.message {
                status.set_message(safe(m).into_owned());
            }
            let mut text = String::new();
            if let Some(l) = &t.location {
                text.push_str(&format!("at {l}\n"));
            }
            if let Some(h) = &t.hint {
                text.push_str(&format!("hint: {h}\n"));
            }
            text.push_str(&format!("points {} of {}\n", t.points, t.max_points));
            status.set_description(safe(&text).into_owned());
        }
        let mut case = TestCase::new(t.id.clone(), status);
        case.set_classname(format!("{}.{}", report.lab, t.category.id()));
        case.set_time(Duration::from_millis(t.duration_ms));
        if let Some(o) = &t.output {
            if !o.stdout.is_empty() {
                case.set_system_out(safe(&o.stdout).into_owned());
            }
            if !o.stderr.is_empty() {
                case.set_system_err(safe(&o.stderr).into_owned());
            }
        }
        suite.add_test_case(case);
    }
    let mut junit = quick_junit::Report::new(format!("grade {}", report.lab));
    junit.add_test_suite(suite);
    junit.to_string().unwrap_or_default()
}
