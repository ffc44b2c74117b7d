//! Gradescope's `results.json`: the total, and one test per item whose scores add up to it (an item's
//! points are scaled by its category's weight, as the total is). Text from the submission goes through
//! `text::safe`, so Gradescope shows a student's escape sequences written out.
use super::model::{Report, Status, TestResult};
use super::text::{json_safe, safe};
use crate::spec::Visibility;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn render(report: &Report) -> String {
    let mut category_points: BTreeMap<String, f64> = BTreeMap::new();
    for t in &report.tests {
        *category_points.entry(t.category.id().to_string()).or_default() += t.max_points;
    }
    let weight = |t: &TestResult| -> f64 {
        let total = category_points.get(t.category.id()).copied().unwrap_or(0.0);
        let w = report.categories.iter().find(|c| c.id == t.category).map(|c| c.weight).unwrap_or(0.0);
        if total > 0.0 { w / total } else { 0.0 }
    };
    let tests: Vec<Value> = report
        .tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let scale = weight(t);
            json!({
                "name": format!("{} ({})", t.name, t.id),
                "number": format!("{}", i + 1),
                "score": round2(t.points * scale),
                "max_score": round2(t.max_points * scale),
                "status": if t.status == Status::Passed { "passed" } else { "failed" },
                "output": if t.visibility == Visibility::Hidden { format!("hidden test: {}", t.status.as_str()) } else { output(t) },
                // Hidden: the student sees pass/fail and points only. Secret: Gradescope's own `hidden`.
                "visibility": match t.visibility { Visibility::Secret => "hidden", _ => "visible" },
                "tags": [t.category.id(), t.status.as_str()],
            })
        })
        .collect();
    let mut summary = format!("{}: {} ({:.1}/100)\n", report.lab, report.title, report.score);
    for e in &report.compile.errors {
        summary.push_str(&format!("{}\n", safe(&format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message))));
    }
    for a in &report.adjustments {
        summary.push_str(&format!("adjustment -{}: {}\n", round2(a.points), safe(&a.reason)));
    }
    let provisional: Vec<&str> =
        report.categories.iter().filter(|c| c.provisional).map(|c| c.id.id()).collect();
    if !provisional.is_empty() {
        summary.push_str(&format!("provisional until an instructor scores them: {}\n", provisional.join(", ")));
    }
    let value = json!({
        "score": round2(report.score),
        "execution_time": (report.duration_ms as f64 / 1000.0).ceil() as u64,
        "output": summary,
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"grade": {"lab": report.lab, "sha256": report.submission.sha256, "seed": report.grader.seed,
                                 "version": report.grader.version}},
    });
    json_safe(serde_json::to_string_pretty(&value).unwrap_or_default()) + "\n"
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn output(t: &TestResult) -> String {
    let mut out = t.status.as_str().to_string();
    if let Some(m) = &t.message {
        out.push_str(": ");
        out.push_str(m);
    }
    if let Some(l) = &t.location {
        out.push_str(&format!("\nat {l}"));
    }
    if let Some(h) = &t.hint {
        out.push_str(&format!("\nhint: {h}"));
    }
    if let Some(o) = &t.manual {
        out.push_str(&format!("\ninstructor's score: {}/{} {}", o.points, t.max_points, o.comment));
    }
    safe(&out).into_owned()
}
