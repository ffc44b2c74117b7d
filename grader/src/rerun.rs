//! `grade rerun REPORT`: grades again what a report records (the submission's folder, the lab, the seed,
//! the private overlay, the instructor's overrides) and says how the new result compares.
use crate::error::{Error, Result};
use crate::grading::{Grader, VERSION};
use crate::report::model::Report;
use std::path::{Path, PathBuf};

pub fn read(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not a JSON report of `grade --format json` ({e})", path.display())))
}

/// The specs directory a report's spec came from, when the command line does not name one.
pub fn specs_dir(old: &Report) -> Option<PathBuf> {
    Path::new(&old.spec.path).parent().filter(|p| p.is_dir()).map(Path::to_path_buf)
}

/// Regrades; returns the new report, with the old one's overrides carried over.
pub fn rerun(g: &Grader, old: &Report) -> Result<Report> {
    let mut spec = g.course.load(&old.lab)?;
    if let Some(private) = &old.spec.private {
        let dir = Path::new(private).parent().unwrap_or(Path::new("."));
        crate::spec::apply_overlay(&mut spec, dir)?;
    }
    let dir = PathBuf::from(&old.submission.path);
    if !dir.is_dir() {
        return Err(Error::Usage(format!("the report's submission {} is not there any more", dir.display())));
    }
    let sha = crate::submission::files(&dir).and_then(|f| crate::submission::sha256(&dir, &f))?;
    let mut warn = Vec::new();
    if sha != old.submission.sha256 {
        warn.push(format!("the submission changed since (sha256 {} then, {} now)", short(&old.submission.sha256), short(&sha)));
    }
    let spec_sha = spec.sha256();
    if spec_sha != old.spec.sha256 {
        warn.push(format!("the spec or its checks changed since (sha256 {} then, {} now)", short(&old.spec.sha256), short(&spec_sha)));
    }
    if old.grader.version != VERSION {
        warn.push(format!("graded by grade {} then, {VERSION} now", old.grader.version));
    }
    if old.grader.python != g.python.version {
        warn.push(format!("Python {} then, {} now", old.grader.python, g.python.version));
    }
    for w in &warn {
        eprintln!("grade: warning: {w}");
    }
    let mut new = g.grade(&spec, &dir, Some(old.grader.seed))?;
    // The instructor's scores stand as they were.
    crate::report::finish::finish(&mut new, old.submission.student.clone(), &crate::overrides::Overrides::of_report(old));
    eprintln!("{}", compare(old, &new));
    Ok(new)
}

fn short(sha: &str) -> &str {
    &sha[..12.min(sha.len())]
}

/// One line when nothing changed, else the items whose status or points moved.
pub fn compare(old: &Report, new: &Report) -> String {
    let mut diffs = Vec::new();
    for t in &new.tests {
        match old.tests.iter().find(|o| o.id == t.id) {
            Some(o) if o.status != t.status || (o.points - t.points).abs() > 0.005 => diffs.push(format!(
                "  {}: {} {:.2} then, {} {:.2} now",
                t.id,
                o.status.as_str(),
                o.points,
                t.status.as_str(),
                t.points
            )),
            Some(_) => {}
            None => diffs.push(format!("  {}: new item", t.id)),
        }
    }
    if diffs.is_empty() && (old.score - new.score).abs() < 0.005 {
        format!("grade: rerun of {} (seed {}): same result, score {:.2}", new.lab, new.grader.seed, new.score)
    } else {
        format!(
            "grade: rerun of {} (seed {}): score {:.2} then, {:.2} now\n{}",
            new.lab,
            new.grader.seed,
            old.score,
            new.score,
            diffs.join("\n")
        )
    }
}
