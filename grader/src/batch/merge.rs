//! `grade merge`: the outputs of `grade batch --shard K/N` runs joined into one directory. Every shard's
//! reports and errors are copied; the gradebook, summary and manifest are built anew from them.
use super::book::{self, Manifest};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub fn merge(shards: &[PathBuf], out: &Path) -> Result<i32> {
    let mut manifests: Vec<Manifest> = Vec::new();
    for dir in shards {
        if !dir.join("reports").is_dir() {
            return Err(Error::Usage(format!("{}: not the output of `grade batch` (no reports/)", dir.display())));
        }
        manifests.push(book::read_manifest(dir)?);
    }
    let first = manifests.first().ok_or_else(|| Error::Usage("name the shards' output directories".into()))?.clone();
    for (dir, m) in shards.iter().zip(&manifests) {
        if m.lab != first.lab || m.spec_sha256 != first.spec_sha256 || m.grader_version != first.grader_version {
            return Err(Error::Usage(format!(
                "{}: graded {} (spec {}, grade {}), but {} graded {} (spec {}, grade {}): shards must share lab, spec and grader",
                dir.display(), m.lab, &m.spec_sha256[..12.min(m.spec_sha256.len())], m.grader_version,
                shards[0].display(), first.lab, &first.spec_sha256[..12.min(first.spec_sha256.len())], first.grader_version
            )));
        }
    }
    for sub in ["reports", "errors"] {
        let d = out.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    }
    let mut students: Vec<String> = Vec::new();
    let mut shard_names = Vec::new();
    for (dir, m) in shards.iter().zip(&manifests) {
        for student in &m.students {
            if students.contains(student) {
                return Err(Error::Usage(format!("{student} is in two shards ({}): merge each shard once", dir.display())));
            }
            students.push(student.clone());
            for (from, to) in [
                (book::report_path(dir, student), book::report_path(out, student)),
                (book::error_path(dir, student), book::error_path(out, student)),
            ] {
                if from.is_file() {
                    let text = std::fs::read_to_string(&from).map_err(|e| Error::io(&from, e))?;
                    crate::write_atomically(&to, &text)?;
                } else {
                    let _ = std::fs::remove_file(&to);
                }
            }
        }
        shard_names.extend(m.shards.iter().cloned());
    }
    students.sort();
    let entries = book::read_entries(out, Some(&students))?;
    let manifest = Manifest {
        shards: shard_names,
        students,
        ignored: first.ignored.clone(),
        graded_now: manifests.iter().map(|m| m.graded_now).sum(),
        reused: manifests.iter().map(|m| m.reused).sum(),
        errors: entries.iter().filter(|e| e.failed()).count(),
        duration_ms: manifests.iter().map(|m| m.duration_ms).max().unwrap_or(0),
        ..first
    };
    book::write_all(out, &manifest, &entries)?;
    eprintln!("grade: merged {} shards, {} students: {}", shards.len(), manifest.students.len(), out.join("gradebook.csv").display());
    Ok(0)
}
