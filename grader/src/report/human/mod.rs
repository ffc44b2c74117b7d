//! The console report: the header, what to fix first (the distinct problems, costliest first), one entry
//! per item, then the categories and the total; fitted to `Style::width`, with long texts and lists cut
//! (and the cut counted) unless `verbose`. Items that failed for one root cause show its diagnosis once,
//! under the item that lost the most points; the others say which item that is. Everything that came from
//! the submission goes through `text::safe`: the student's escape sequences are shown, never obeyed.
mod layout;
mod problems;
mod threads;

use super::model::{Report, Status, TestResult};
use super::text::safe;
use super::Style;
use layout::{clip, columns, more, Page};
use problems::Problem;
use std::collections::HashMap;

/// Lines of an item's message, of its threads and of its lint findings shown before a cut.
const MESSAGE_LINES: usize = 4;
const THREAD_LINES: usize = 5;
const FINDINGS: usize = 5;
/// Problems listed at the top (a fifth line says how many more there are).
const PROBLEMS: usize = 4;
/// The fewest columns an item's reason gets beside it; fewer, and it goes on the lines below.
const MIN_REASON: usize = 24;
const DETAIL: &str = "      ";
const DETAIL_MORE: &str = "        ";

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

fn points(t: &TestResult) -> String {
    format!("{}/{}", num(t.points), num(t.max_points))
}

/// An item's message, with its location when the message does not say it.
fn reason(t: &TestResult) -> String {
    let text = t.message.clone().unwrap_or_else(|| t.name.clone());
    match &t.location {
        Some(l) if !text.contains(l.as_str()) => format!("{text}  [{l}]"),
        _ => text,
    }
}

fn header(page: &mut Page, r: &Report, style: &Style) {
    let title = clip(&r.title, page.width.saturating_sub(columns(&r.lab) + 2));
    page.line(&format!("{}  {title}", paint(style, "1", &r.lab)));
    let sha: String = r.submission.sha256.chars().take(12).collect();
    let path = format!("submission {}", safe(&r.submission.path));
    let facts = format!("(sha256 {sha}, seed {}, {:.1} s)", r.grader.seed, r.duration_ms as f64 / 1000.0);
    if columns(&path) + 2 + columns(&facts) <= page.width {
        page.line(&format!("{path}  {facts}"));
    } else {
        page.block("", None, "  ", &path, usize::MAX);
        page.line(&format!("  {facts}"));
    }
    if !r.compile.ok {
        page.line("");
        page.line(&paint(style, "31;1", "compile errors (code items were not run):"));
        for e in &r.compile.errors {
            if e.line > 0 {
                page.block("  ", None, DETAIL, &safe(&format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message)), MESSAGE_LINES);
                if !e.text.trim().is_empty() {
                    page.block(DETAIL, None, DETAIL, &safe(e.text.trim()), MESSAGE_LINES);
                }
            } else {
                page.block("  ", None, DETAIL, &safe(&format!("{}: {}", e.file, e.message)), MESSAGE_LINES);
            }
        }
    }
}

/// At most five lines: the problems, costliest first, each with where it is.
fn summary(page: &mut Page, problems: &[Problem]) {
    if problems.is_empty() {
        return;
    }
    page.line("");
    page.block("", None, "  ", "what to fix first (points of the 100 each problem costs):", usize::MAX);
    let shown = if problems.len() > PROBLEMS + 1 { PROBLEMS } else { problems.len() };
    let wheres: Vec<String> =
        problems[..shown].iter().map(|p| safe(&problems::place(p.lead).unwrap_or_else(|| p.lead.id.clone())).into_owned()).collect();
    let w = wheres.iter().map(|s| columns(s)).max().unwrap_or(0).min(28).min(page.width / 3);
    for (p, at) in problems[..shown].iter().zip(&wheres) {
        let prefix = format!("  {:>6}  {:<w$}  ", format!("-{:.1}", p.cost), clip(at, w));
        let suffix = if p.items > 1 { format!(" ({} items)", p.items) } else { String::new() };
        let what = problems::headline(p.lead).or_else(|| p.lead.message.clone()).unwrap_or_else(|| p.lead.name.clone());
        let what = safe(what.lines().next().unwrap_or("")).into_owned();
        let room = page.width.saturating_sub(columns(&prefix) + columns(&suffix)).max(10);
        // On a very narrow terminal even that is too wide: the line is cut at its edge.
        page.line(&clip(&format!("{prefix}{}{suffix}", clip(&what, room)), page.width));
    }
    if shown < problems.len() {
        page.line(&format!("  … and {} more problems, below", problems.len() - shown));
    }
}

struct Columns {
    points: usize,
    id: usize,
}

fn item(page: &mut Page, t: &TestResult, style: &Style, cols: &Columns, leads: &HashMap<&str, &TestResult>) {
    let (word, color) = label(t.status);
    let pts = points(t);
    // An id too long for the terminal is cut at its edge (no spec's id is, on any terminal in use).
    let id = clip(&t.id, page.width.saturating_sub(13 + cols.points).max(8));
    let head = format!("  {word:<8} {pts:>p$}  {id:<i$}  ", p = cols.points, i = cols.id);
    let painted = format!("  {} {pts:>p$}  {id:<i$}  ", paint(style, color, &format!("{word:<8}")), p = cols.points, i = cols.id);
    let pad = " ".repeat(columns(&head));
    let lead = t.root_cause.as_deref().and_then(|c| leads.get(c)).filter(|l| l.id != t.id);
    let failed = t.status != Status::Passed;
    let text = match (lead, page.full) {
        (Some(l), false) => format!("same {} as `{}`", problems::noun(l), l.id),
        (Some(l), true) => format!("same {} as `{}`: {}", problems::noun(l), l.id, reason(t)),
        (None, false) => problems::headline(t).filter(|_| failed).unwrap_or_else(|| reason(t)),
        (None, true) => reason(t),
    };
    if columns(&head) + MIN_REASON <= page.width {
        page.block(&head, Some(&painted), &pad, &safe(&text), MESSAGE_LINES);
    } else {
        // A terminal too narrow for the reason beside the item: it goes below.
        page.line(painted.trim_end());
        page.block(DETAIL, None, DETAIL_MORE, &safe(&text), MESSAGE_LINES);
    }
    if let Some(o) = &t.manual {
        let comment = if o.comment.is_empty() { String::new() } else { format!(": {}", o.comment) };
        let text = format!("instructor's score: {}/{}{}", num(o.points), num(t.max_points), safe(&comment));
        page.block(DETAIL, None, DETAIL_MORE, &text, MESSAGE_LINES);
    }
    if !failed || (lead.is_some() && !page.full) {
        return;
    }
    details(page, t, style);
}

/// What is said under a failed item: its threads, its other lint findings, its hint, its output.
fn details(page: &mut Page, t: &TestResult, style: &Style) {
    if let Some(d) = &t.diagnosis {
        let lines = threads::lines(d);
        let keep = if page.full || lines.len() <= THREAD_LINES { lines.len() } else { THREAD_LINES - 1 };
        for l in &lines[..keep] {
            page.block(DETAIL, None, DETAIL_MORE, l, usize::MAX);
        }
        if keep < lines.len() {
            page.note(DETAIL, &more(lines.len() - keep, "line"));
        }
    }
    let findings: Vec<String> =
        t.findings.iter().skip(1).map(|f| safe(&format!("{}:{} [{}] {}", f.file, f.line, f.rule, f.message)).into_owned()).collect();
    let keep = if page.full || findings.len() <= FINDINGS { findings.len() } else { FINDINGS - 1 };
    for f in &findings[..keep] {
        page.block(DETAIL, None, DETAIL_MORE, f, MESSAGE_LINES);
    }
    if keep < findings.len() {
        page.note(DETAIL, &more(findings.len() - keep, "finding"));
    }
    if let Some(h) = &t.hint {
        let first = format!("{DETAIL}hint: ");
        let painted = format!("{DETAIL}{} ", paint(style, "2", "hint:"));
        page.block(&first, Some(&painted), &" ".repeat(columns(&first)), &safe(h), MESSAGE_LINES);
    }
    if page.full {
        if let Some(o) = &t.output {
            for (name, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
                if !text.trim().is_empty() {
                    page.line(&format!("{DETAIL}--- {name} ---"));
                    for l in safe(text).lines() {
                        page.block(DETAIL, None, DETAIL, l, usize::MAX);
                    }
                }
            }
            if o.truncated {
                page.line(&format!("{DETAIL}(output truncated)"));
            }
        }
    }
}

pub fn render(r: &Report, style: &Style) -> String {
    let mut page = Page::new(style.width, style.verbose);
    header(&mut page, r, style);
    let problems = problems::problems(r);
    summary(&mut page, &problems);
    let leads = problems::leads(&problems);
    let cols = Columns {
        points: r.tests.iter().map(|t| columns(&points(t))).max().unwrap_or(5).max(5),
        id: r.tests.iter().map(|t| columns(&t.id)).max().unwrap_or(10).min(24),
    };
    page.line("");
    for t in &r.tests {
        item(&mut page, t, style, &cols, &leads);
    }
    page.line("");
    page.line("categories");
    for c in &r.categories {
        page.line(&format!(
            "  {:<20} {:>6}/{:<3} {:>4.0}%{}",
            c.id.id(),
            num(c.points),
            num(c.weight),
            c.earned_fraction * 100.0,
            if c.provisional { "  (provisional)" } else { "" }
        ));
    }
    let groups: Vec<String> = r
        .groups
        .iter()
        .map(|g| {
            let id = serde_json::to_value(g.id).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            format!("{id} {}/{}", num(g.points), num(g.weight))
        })
        .collect();
    if !r.adjustments.is_empty() {
        page.line("");
        page.line("adjustments");
        for a in &r.adjustments {
            let head = format!("  -{:<7}", num(a.points));
            page.block(&head, None, &" ".repeat(head.len()), &crate::report::text::safe(&a.reason), usize::MAX);
        }
    }
    let passed = r.tests.iter().filter(|t| t.status == Status::Passed).count();
    page.line("");
    let total = format!("{}/100  ({}; {passed} of {} items passed)", num(r.score), groups.join(", "), r.tests.len());
    page.block("total ", Some(&format!("{} ", paint(style, "1", "total"))), "      ", &total, usize::MAX);
    page.out
}

#[cfg(test)]
pub(super) fn sample_report(tests: Vec<TestResult>) -> Report {
    let mut r: Report = serde_json::from_value(serde_json::json!({
        "schema": "grade-report/1", "lab": "lab-x", "title": "A lab", "submission": {"path": "sub", "sha256": "0123456789abcdef"},
        "grader": {"version": "0", "python": "3.11", "seed": 7}, "duration_ms": 1500, "compile": {"ok": true, "errors": []},
        "score": 0.0, "max_score": 100.0, "groups": [], "categories": [], "tests": []
    }))
    .unwrap();
    r.tests = tests;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Diagnosis, ThreadInfo};
    use crate::spec::{Category, Kind, Visibility};

    fn failed(id: &str, status: Status, message: &str, cause: Option<&str>) -> TestResult {
        TestResult {
            id: id.into(), name: id.into(), category: Category::CompletionQuality, kind: Kind::Stress, status, points: 0.0,
            max_points: 5.0, duration_ms: 0, runs: 1, failed_runs: 1, seed: None, message: Some(message.into()),
            hint: Some("take the forks in one global order, whatever the philosopher's seat".into()), location: None,
            diagnosis: None, measurement: None, visibility: Visibility::Visible, findings: vec![], output: None,
            peak_rss_kb: None, timing: None, manual: None, core: false, root_cause: cause.map(String::from),
        }
    }

    fn report() -> Report {
        let threads = (0..7)
            .map(|i| ThreadInfo {
                name: format!("Thread-{i} (philosopher)"), file: "philosophers.py".into(), line: 17, function: "philosopher".into(),
                waiting_for: Some(format!("forks[{}] (threading.Lock, philosophers.py:10)", (i + 1) % 7)),
                holding: vec![format!("forks[{i}] (threading.Lock, philosophers.py:10) acquired at philosophers.py:16 in philosopher")],
            })
            .collect();
        let mut lead = failed("a-rather-long-item-identifier-here", Status::Deadlock, "deadlock: Thread-0 waits ... held by Thread-1", Some("deadlock-1"));
        lead.max_points = 9.0;
        lead.diagnosis = Some(Diagnosis { kind: "deadlock".into(), summary: String::new(), threads, cycle: vec!["Thread-0".into()] });
        let long = format!("expected 900, got 345: {}", "x".repeat(300));
        sample_report(vec![
            lead,
            failed("other", Status::Deadlock, "deadlock: ...", Some("deadlock-1")),
            failed("wrong", Status::Failed, &long, Some("failure-2")),
        ])
    }

    #[test]
    fn every_line_fits_the_width_and_one_cause_is_told_once() {
        for width in (40..=140).step_by(7) {
            for verbose in [false, true] {
                let text = render(&report(), &Style { color: false, verbose, width });
                for l in text.lines() {
                    assert!(columns(l) <= width, "width {width}, verbose {verbose}: {l:?}\n{text}");
                }
                // The text as if unwrapped (a narrow page breaks long words too).
                let words: String = text.split_whitespace().collect();
                assert!(words.contains("othersamedeadlockas`a-rather-long-item-identifier-here`"), "{text}");
                assert_eq!(words.matches("Thread-3(philosopher)").count(), 1, "{text}");
                let cut = !words.contains("Thread-5(philosopher)");
                assert_eq!(cut, !verbose, "seven threads cut to four and a count, all with --verbose:\n{text}");
                assert_eq!(words.contains("…3morelines(--verboseshowsall)"), !verbose, "{text}");
            }
        }
    }

    #[test]
    fn the_summary_orders_problems_by_cost_in_at_most_five_lines() {
        let mut r = report();
        for i in 0..6 {
            let mut t = failed(&format!("extra-{i}"), Status::Failed, "wrong", None);
            t.max_points = 1.0 + i as f64;
            r.tests.push(t);
        }
        let text = render(&r, &Style { color: false, verbose: false, width: 100 });
        let summary: Vec<&str> = text.lines().skip_while(|l| !l.starts_with("what to fix first")).skip(1).take_while(|l| !l.is_empty()).collect();
        assert_eq!(summary.len(), 5, "{text}");
        assert!(summary[0].contains("deadlock: 7 threads wait for each other in a circle (2 items)"), "{text}");
        // Every item here is of one category worth 40 of 40 points: a point lost costs one of the 100.
        assert!(summary[0].trim_start().starts_with("-14.0"), "{text}");
        assert!(summary[1].contains("-6.0  extra-5 "), "costliest first:\n{text}");
        assert!(summary[2].contains("-5.0  wrong ") && summary[3].contains("-5.0  extra-4 "), "equals in report order:\n{text}");
        assert_eq!(summary[4], "  … and 4 more problems, below");
    }
}
