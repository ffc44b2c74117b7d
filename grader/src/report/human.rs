//! The console report: one line per item, then categories and the total. Everything that came from the
//! submission goes through `text::safe`: the student's escape sequences are shown, never obeyed.
use super::model::{Report, Status, TestResult};
use super::text::{safe, safe_indented};
use super::Style;
use std::fmt::Write;

fn paint(style: &Style, code: &str, text: &str) -> String {
    if style.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

fn label(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Passed => ("PASS", "32"),
        Status::Failed => ("FAIL", "31"),
        Status::Timeout => ("TIMEOUT", "31"),
        Status::Deadlock => ("DEADLOCK", "31;1"),
        Status::Crashed => ("CRASH", "31"),
        Status::Skipped => ("SKIP", "33"),
        Status::Pending => ("PENDING", "36"),
        Status::Error => ("ERROR", "35"),
        Status::Tampered => ("TAMPERED", "35;1"),
        Status::Inconclusive => ("UNSURE", "33;1"),
    }
}

fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn test_line(out: &mut String, t: &TestResult, style: &Style, width: usize) {
    let (word, color) = label(t.status);
    let pts = format!("{}/{}", num(t.points), num(t.max_points));
    let pad = " ".repeat(24 + width);
    let reason = t.message.clone().unwrap_or_else(|| t.name.clone());
    let at = match &t.location {
        Some(l) if !reason.contains(l.as_str()) => format!("  [{}]", safe(l)),
        _ => String::new(),
    };
    let reason = safe_indented(&reason, &pad);
    let _ = writeln!(out, "  {} {:>9}  {:<width$}  {}{}", paint(style, color, &format!("{word:<8}")), pts, t.id, reason, at);
    if let Some(o) = &t.manual {
        let comment = if o.comment.is_empty() { String::new() } else { format!(": {}", safe_indented(&o.comment, &pad)) };
        let _ = writeln!(out, "{pad}{} {}/{}{comment}", paint(style, "2", "instructor's score:"), num(o.points), num(t.max_points));
    }
    if t.status != Status::Passed {
        if let Some(d) = &t.diagnosis {
            for th in d.threads.iter().take(8) {
                let mut line = format!("{} at {}:{} in {}", th.name, th.file, th.line, th.function);
                if let Some(w) = &th.waiting_for {
                    line.push_str(&format!(", waiting for {w}"));
                }
                if !th.holding.is_empty() {
                    line.push_str(&format!(", holding {}", th.holding.join(", ")));
                }
                let _ = writeln!(out, "{pad}{}", safe_indented(&line, &pad));
            }
        }
        for f in t.findings.iter().skip(1).take(9) {
            let line = format!("{}:{} [{}] {}", f.file, f.line, f.rule, f.message);
            let _ = writeln!(out, "{pad}{}", safe_indented(&line, &pad));
        }
        if let Some(h) = &t.hint {
            let _ = writeln!(out, "{pad}{} {}", paint(style, "2", "hint:"), safe_indented(h, &pad));
        }
        if style.verbose {
            if let Some(o) = &t.output {
                for (name, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
                    if !text.trim().is_empty() {
                        let _ = writeln!(out, "{pad}--- {name} ---");
                        for l in safe(text).lines().take(60) {
                            let _ = writeln!(out, "{pad}{l}");
                        }
                    }
                }
                if o.truncated {
                    let _ = writeln!(out, "{pad}(output truncated)");
                }
            }
        }
    }
}

pub fn render(r: &Report, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}", paint(style, "1", &r.lab), r.title);
    let _ = writeln!(out, "submission {}  (sha256 {}, seed {}, {:.1} s)", safe(&r.submission.path),
        &r.submission.sha256[..12.min(r.submission.sha256.len())], r.grader.seed, r.duration_ms as f64 / 1000.0);
    if !r.compile.ok {
        let _ = writeln!(out, "\n{}", paint(style, "31;1", "compile errors (code items were not run):"));
        for e in &r.compile.errors {
            let pad = "      ";
            if e.line > 0 {
                let line = format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message);
                let _ = writeln!(out, "  {}", safe_indented(&line, pad));
                if !e.text.trim().is_empty() {
                    let _ = writeln!(out, "{pad}{}", safe_indented(e.text.trim(), pad));
                }
            } else {
                let _ = writeln!(out, "  {}", safe_indented(&format!("{}: {}", e.file, e.message), pad));
            }
        }
    }
    let width = r.tests.iter().map(|t| t.id.len()).max().unwrap_or(10);
    let _ = writeln!(out);
    for t in &r.tests {
        test_line(&mut out, t, style, width);
    }
    let _ = writeln!(out, "\ncategories");
    for c in &r.categories {
        let _ = writeln!(out, "  {:<20} {:>6}/{:<3} {:>4.0}%{}", c.id.id(), num(c.points), num(c.weight),
            c.earned_fraction * 100.0, if c.provisional { "  (provisional)" } else { "" });
    }
    if !r.adjustments.is_empty() {
        let _ = writeln!(out, "\nadjustments");
        for a in &r.adjustments {
            let pad = " ".repeat(4 + 20 + 8);
            let _ = writeln!(out, "  {:<20} {:>7}  {}", a.id, format!("-{}", num(a.points)), safe_indented(&a.reason, &pad));
        }
    }
    let groups: Vec<String> = r.groups.iter().map(|g| format!("{} {}/{}",
        serde_json::to_value(g.id).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
        num(g.points), num(g.weight))).collect();
    let passed = r.tests.iter().filter(|t| t.status == Status::Passed).count();
    let _ = writeln!(out, "\n{} {}/100  ({}; {passed} of {} items passed)",
        paint(style, "1", "total"), num(r.score), groups.join(", "), r.tests.len());
    out
}
