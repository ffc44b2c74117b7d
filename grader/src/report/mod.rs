//! Reporters: each turns a finished report into text. None re-runs or re-derives anything.
pub mod annotations;
pub mod gradescope;
pub mod human;
pub mod junit;
pub mod model;

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
}

pub fn render(report: &Report, format: Format, style: &Style) -> String {
    match format {
        Format::Human => human::render(report, style),
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        Format::Gradescope => gradescope::render(report),
        Format::Junit => junit::render(report),
    }
}
