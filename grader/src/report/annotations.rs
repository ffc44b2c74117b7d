//! GitHub Actions workflow commands: each item that did not pass becomes an `::error` (or `::warning` for a
//! provisional one) on its file and line, so the failure shows on the pull request's diff. Values are
//! escaped as GitHub requires (`%`, CR, LF; in properties also `:` and `,`) after `text::safe`, so a
//! student's text stays on the annotation's one line and never reads as a command of its own.
use super::model::{Report, Status};
use super::text::safe;
use std::path::Path;

pub fn render(report: &Report, submission: &Path) -> String {
    let mut out = String::new();
    for e in &report.compile.errors {
        let file = submission.join(&e.file);
        out.push_str(&format!(
            "::error file={},line={},col={},title={}::{}\n",
            escape_prop(&file.display().to_string()),
            e.line.max(1),
            e.column.max(1),
            escape_prop(&format!("{}: does not compile", report.lab)),
            escape(&e.message)
        ));
    }
    for t in &report.tests {
        if matches!(t.status, Status::Passed | Status::Skipped) {
            continue;
        }
        let level = if matches!(t.status, Status::Pending | Status::Inconclusive) { "warning" } else { "error" };
        let mut props = vec![format!("title={}", escape_prop(&format!("{} {}: {}", report.lab, t.id, t.status.as_str())))];
        if let Some((file, line)) = t.location.as_deref().and_then(|l| l.rsplit_once(':')) {
            props.insert(0, format!("line={line}"));
            props.insert(0, format!("file={}", escape_prop(&submission.join(file).display().to_string())));
        }
        let mut msg = t.message.clone().unwrap_or_else(|| t.status.as_str().to_string());
        if let Some(h) = &t.hint {
            msg.push_str(&format!("\nhint: {h}"));
        }
        out.push_str(&format!("::{level} {}::{}\n", props.join(","), escape(&msg)));
    }
    out
}

fn escape(s: &str) -> String {
    safe(s).replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    #[test]
    fn workflow_command_values_are_escaped() {
        assert_eq!(super::escape("a%b\nc"), "a%25b%0Ac");
        assert_eq!(super::escape_prop("x:1,y"), "x%3A1%2Cy");
        assert_eq!(super::escape("boom\n::error::pwned\x1b[2J"), "boom%0A\\x3a:error::pwned\\x1b[2J");
    }
}
