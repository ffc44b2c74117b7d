//! Reporters: each turns a finished report into text. None re-runs or re-derives anything.
pub mod annotations;
pub mod bounds;
pub mod finish;
pub mod gradescope;
pub mod human;
pub mod junit;
pub mod model;
pub mod text;

use model::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// Gradescope's results.json.
    Gradescope,
    /// JUnit XML, for CI test reporters.
    Junit,
}

pub struct Style {
    pub color: bool,
    pub verbose: bool,
    /// Columns the human report is fitted to.
    pub width: usize,
}

/// The columns to fit the human report to: `$COLUMNS` when set, else the terminal's width when writing to
/// one, else 80.
pub fn width(to_terminal: bool) -> usize {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|n| *n >= 20) {
        return n;
    }
    let terminal = to_terminal.then(|| terminal_size::terminal_size().map(|(w, _)| w.0 as usize)).flatten();
    terminal.filter(|n| *n >= 20).unwrap_or(80)
}

/// What a student may see: hidden items keep their status and points but lose every detail, secret items
/// are left out (the categories and total still count them).
pub fn student_view(report: &Report) -> Report {
    use crate::spec::Visibility;
    let mut shown = report.clone();
    shown.tests.retain(|t| t.visibility != Visibility::Secret);
    for t in shown.tests.iter_mut().filter(|t| t.visibility == Visibility::Hidden) {
        t.message = Some(format!("hidden test: {}", t.status.as_str()));
        t.hint = None;
        t.location = None;
        t.diagnosis = None;
        t.measurement = None;
        t.findings.clear();
        t.output = None;
        t.seed = None;
        t.root_cause = None;
    }
    shown
}

pub fn render(report: &Report, format: Format, style: &Style) -> String {
    match format {
        Format::Human => human::render(report, style),
        Format::Json => text::json_safe(serde_json::to_string_pretty(report).unwrap_or_default()) + "\n",
        Format::Gradescope => gradescope::render(report),
        Format::Junit => junit::render(report),
    }
}
