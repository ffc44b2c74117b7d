//! A batch output directory: its reports and errors, and what is built from them alone (the gradebook,
//! the summary, the manifest), so that a resumed batch and a merge of shards write the same files.
use super::summary;
use crate::error::{Error, Result};
use crate::report::model::Report;
use crate::spec::Category;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const MANIFEST_SCHEMA: &str = "grade-batch/1";

/// One student's row: a report, or why there is none (`crashed`: its grading worker was lost).
#[derive(Debug, Clone)]
pub enum Entry {
    Graded(Box<Report>),
    Failed { student: String, message: String, crashed: bool },
}

/// How `errors/<student>.txt` begins when the grading worker was lost rather than the submission refused.
const CRASHED: &str = "crashed: ";

impl Entry {
    pub fn student(&self) -> &str {
        match self {
            Entry::Graded(r) => r.submission.student.as_deref().unwrap_or("?"),
            Entry::Failed { student, .. } => student,
        }
    }

    /// `graded`, `compile_error` (graded, but the code did not compile), `error` (not graded: the grader
    /// said why) or `crashed` (not graded: the grading worker was lost).
    pub fn status(&self) -> &'static str {
        match self {
            Entry::Graded(r) if !r.compile.ok => "compile_error",
            Entry::Graded(_) => "graded",
            Entry::Failed { crashed: true, .. } => "crashed",
            Entry::Failed { .. } => "error",
        }
    }

    /// Not graded, whatever the reason.
    pub fn failed(&self) -> bool {
        matches!(self, Entry::Failed { .. })
    }

    pub fn score(&self) -> Option<f64> {
        match self {
            Entry::Graded(r) => Some(r.score),
            Entry::Failed { .. } => None,
        }
    }
}

/// `OUT/batch.json`: what was graded, against what, and how it went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub lab: String,
    pub title: String,
    pub grader_version: String,
    pub spec_sha256: String,
    pub submissions: String,
    /// "K/N" of each shard that went into this directory ("1/1" for an unsharded batch).
    pub shards: Vec<String>,
    pub students: Vec<String>,
    pub ignored: Vec<String>,
    pub graded_now: usize,
    pub reused: usize,
    pub errors: usize,
    pub jobs: usize,
    pub duration_ms: u64,
}

pub fn report_path(out: &Path, student: &str) -> PathBuf {
    out.join("reports").join(format!("{student}.json"))
}

pub fn error_path(out: &Path, student: &str) -> PathBuf {
    out.join("errors").join(format!("{student}.txt"))
}

/// Writes `errors/<student>.txt` (atomically) and returns the entry it stands for.
pub fn write_error(out: &Path, student: &str, message: String, crashed: bool) -> Entry {
    let text = format!("{}{message}\n", if crashed { CRASHED } else { "" });
    let _ = crate::write_atomically(&error_path(out, student), &text);
    Entry::Failed { student: student.to_string(), message, crashed }
}

fn stems(dir: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let p = e.path();
                    (p.extension().is_some_and(|x| x == ext)).then(|| p.file_stem()?.to_str().map(String::from))?
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The entries of OUT, sorted by student: only `only`'s students when given (a batch's own), else all.
pub fn read_entries(out: &Path, only: Option<&[String]>) -> Result<Vec<Entry>> {
    let wanted = |s: &String| only.is_none_or(|o| o.contains(s));
    let mut entries = Vec::new();
    for student in stems(&out.join("reports"), "json").into_iter().filter(wanted) {
        let path = report_path(out, &student);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let mut report: Report = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: not a grade report: {e}", path.display())))?;
        report.submission.student.get_or_insert(student);
        entries.push(Entry::Graded(Box::new(report)));
    }
    for student in stems(&out.join("errors"), "txt").into_iter().filter(wanted) {
        if entries.iter().any(|e| e.student() == student) {
            continue;
        }
        let text = std::fs::read_to_string(error_path(out, &student)).unwrap_or_default();
        let (message, crashed) = match text.strip_prefix(CRASHED) {
            Some(rest) => (rest.trim().to_string(), true),
            None => (text.trim().to_string(), false),
        };
        entries.push(Entry::Failed { student, message, crashed });
    }
    entries.sort_by(|a, b| a.student().cmp(b.student()));
    Ok(entries)
}

/// `gradebook.csv`: one row per student, the six categories' points, and what stands out.
pub fn gradebook(entries: &[Entry]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["student", "status", "score"];
    header.extend(Category::ALL.iter().map(|c| c.id()));
    header.extend(["provisional", "sha256", "message"]);
    w.write_record(&header).map_err(|e| Error::Internal(e.to_string()))?;
    for e in entries {
        let mut row: Vec<String> = vec![e.student().into(), e.status().into()];
        match e {
            Entry::Graded(r) => {
                row.push(format!("{:.2}", r.score));
                for c in Category::ALL {
                    row.push(r.categories.iter().find(|x| x.id == c).map(|x| format!("{:.2}", x.points)).unwrap_or_default());
                }
                row.push(r.categories.iter().any(|c| c.provisional).to_string());
                row.push(r.submission.sha256.clone());
                row.push(note(r));
            }
            Entry::Failed { message, .. } => {
                row.push(String::new());
                row.extend(Category::ALL.iter().map(|_| String::new()));
                row.push(String::new());
                row.push(String::new());
                row.push(message.lines().next().unwrap_or_default().to_string());
            }
        }
        w.write_record(&row).map_err(|e| Error::Internal(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Internal(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The gradebook's message: the first compile error, or the items that did not pass.
fn note(r: &Report) -> String {
    if let Some(e) = r.compile.errors.first() {
        return format!("{}:{}: {}", e.file, e.line, e.message);
    }
    let missed: Vec<String> = r
        .tests
        .iter()
        .filter(|t| t.points < t.max_points && !matches!(t.status, crate::report::model::Status::Pending | crate::report::model::Status::Inconclusive))
        .map(|t| format!("{} ({})", t.id, t.status.as_str()))
        .collect();
    if missed.is_empty() { String::new() } else { format!("not full marks: {}", missed.join(", ")) }
}

/// Writes the gradebook, both summaries and the manifest, each atomically.
pub fn write_all(out: &Path, manifest: &Manifest, entries: &[Entry]) -> Result<()> {
    crate::write_atomically(&out.join("gradebook.csv"), &gradebook(entries)?)?;
    crate::write_atomically(&out.join("summary.txt"), &summary::text(manifest, entries))?;
    crate::write_atomically(&out.join("summary.html"), &summary::html(manifest, entries))?;
    let json = serde_json::to_string_pretty(manifest).map_err(|e| Error::Internal(e.to_string()))? + "\n";
    crate::write_atomically(&out.join("batch.json"), &json)
}

pub fn read_manifest(out: &Path) -> Result<Manifest> {
    let path = out.join("batch.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{}: not a batch manifest: {e}", path.display())))
}
