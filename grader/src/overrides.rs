//! Manual scores: an overrides file (CSV with the header `student,item,points,comment`, or a YAML list of
//! the same keys) sets items an instructor grades by hand (design discussions, say). An overridden item
//! keeps what the grader gave it, is marked in the report, and its category stops being provisional.
use crate::error::{Error, Result};
use crate::report::model::{Override, Report, Status};
use crate::spec::Spec;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub student: String,
    pub item: String,
    pub points: f64,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub file: Option<PathBuf>,
    /// Each row with the line it came from.
    pub rows: Vec<(u64, Row)>,
}

fn bad(file: &Path, line: u64, key: &str, message: impl Into<String>) -> Error {
    Error::Spec { file: file.to_path_buf(), line, column: 0, key: key.into(), message: message.into() }
}

impl Overrides {
    /// Reads `file` (YAML when it ends in .yaml or .yml, CSV otherwise) and checks it against the spec:
    /// every item must exist and take a manual score within its points.
    pub fn load(file: &Path, spec: &Spec) -> Result<Overrides> {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let yaml = file.extension().is_some_and(|x| x == "yaml" || x == "yml");
        let rows: Vec<(u64, Row)> = if yaml {
            let rows: Vec<serde_saphyr::Spanned<Row>> = crate::spec::parse_yaml(file, &text)?;
            rows.into_iter().map(|r| (r.referenced.line(), r.value)).collect()
        } else {
            let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
            let mut rows = Vec::new();
            for rec in reader.deserialize::<Row>() {
                let row = rec.map_err(|e| {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    bad(file, line, "?", format!("{e} (the header is `student,item,points,comment`)"))
                })?;
                rows.push((rows.len() as u64 + 2, row));
            }
            rows
        };
        let mut seen = std::collections::BTreeSet::new();
        for (line, row) in &rows {
            if !seen.insert((row.student.clone(), row.item.clone())) {
                return Err(bad(file, *line, "item", format!("a second score for {} / {}", row.student, row.item)));
            }
            let Some(item) = spec.items.iter().find(|i| i.id == row.item) else {
                let known: Vec<&str> = spec.items.iter().map(|i| i.id.as_str()).collect();
                return Err(bad(file, *line, "item", format!("{} has no item `{}`; its items: {}", spec.id, row.item, known.join(", "))));
            };
            if !(row.points >= 0.0 && row.points <= item.points) {
                return Err(bad(file, *line, "points", format!("`{}` is worth 0 to {} points, not {}", item.id, item.points, row.points)));
            }
            if row.student.trim().is_empty() {
                return Err(bad(file, *line, "student", "name the student (the submission folder's name)"));
            }
        }
        Ok(Overrides { file: Some(file.to_path_buf()), rows })
    }

    /// Students the file names.
    pub fn students(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|(_, r)| r.student.as_str())
    }

    /// Puts back what the grader gave, then applies this file's rows for `student`; rescores. Returns
    /// whether any item's manual score changed.
    pub fn apply(&self, report: &mut Report, student: &str) -> bool {
        let before: Vec<Option<Override>> = report.tests.iter().map(|t| t.manual.clone()).collect();
        for t in &mut report.tests {
            if let Some(o) = t.manual.take() {
                t.points = o.auto_points;
                t.status = o.auto_status;
            }
        }
        let source = self.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default();
        for (_, row) in self.rows.iter().filter(|(_, r)| r.student == student) {
            if let Some(t) = report.tests.iter_mut().find(|t| t.id == row.item) {
                t.manual = Some(Override {
                    points: row.points,
                    comment: row.comment.clone(),
                    source: source.clone(),
                    auto_points: t.points,
                    auto_status: t.status,
                });
                t.points = row.points;
                t.status = if row.points > 0.0 { Status::Passed } else { Status::Failed };
            }
        }
        crate::score::rescore(report);
        report.tests.iter().map(|t| &t.manual).ne(before.iter())
    }

    /// The manual scores a report carries, as an overrides file would give them (for `grade rerun`).
    pub fn of_report(report: &Report) -> Overrides {
        let student = report.submission.student.clone().unwrap_or_default();
        let mut file = None;
        let rows = report
            .tests
            .iter()
            .filter_map(|t| {
                let o = t.manual.as_ref()?;
                file.get_or_insert_with(|| PathBuf::from(&o.source));
                let row = Row { student: student.clone(), item: t.id.clone(), points: o.points, comment: o.comment.clone() };
                Some((0, row))
            })
            .collect();
        Overrides { file, rows }
    }
}
