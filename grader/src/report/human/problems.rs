//! The distinct problems of a report: items grouped by root cause, each group led by the item that lost the
//! most points, ordered by what the group costs of the total score.
use crate::report::model::{Report, Status, TestResult, ThreadInfo};
use crate::spec::Kind;
use std::collections::HashMap;

pub struct Problem<'a> {
    /// The item its diagnosis is printed under.
    pub lead: &'a TestResult,
    pub items: usize,
    /// Points of the 100 it costs.
    pub cost: f64,
}

fn is_problem(t: &TestResult) -> bool {
    matches!(t.status, Status::Failed | Status::Timeout | Status::Deadlock | Status::Crashed | Status::Tampered)
}

/// Points of the total an item lost: its share of its category's weight.
fn cost(r: &Report, t: &TestResult) -> f64 {
    let of_category: f64 = r.tests.iter().filter(|x| x.category == t.category).map(|x| x.max_points).sum();
    if of_category <= 0.0 {
        return 0.0;
    }
    (t.max_points - t.points).max(0.0) / of_category * t.category.weight()
}

/// The report's problems, the costliest first (report order among equals).
pub fn problems(r: &Report) -> Vec<Problem<'_>> {
    let mut out: Vec<Problem> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    // Items skipped because the submission does not compile cost what the compile error costs.
    let compile = r.tests.iter().find(|t| t.kind == Kind::Compile && is_problem(t)).and_then(|t| t.root_cause.as_deref());
    let skipped = |t: &TestResult| t.status == Status::Skipped && !r.compile.ok;
    for t in r.tests.iter().filter(|t| is_problem(t) || skipped(t)) {
        let key = match (skipped(t), compile) {
            (true, Some(c)) => c,
            _ => t.root_cause.as_deref().unwrap_or(t.id.as_str()),
        };
        let c = cost(r, t);
        match index.get(key) {
            Some(&i) => {
                let p = &mut out[i];
                p.items += 1;
                p.cost += c;
                let lost = |x: &TestResult| x.max_points - x.points;
                if t.status != Status::Skipped && (p.lead.status == Status::Skipped || lost(t) > lost(p.lead)) {
                    p.lead = t;
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(Problem { lead: t, items: 1, cost: c });
            }
        }
    }
    out.sort_by(|a, b| b.cost.partial_cmp(&a.cost).unwrap_or(std::cmp::Ordering::Equal));
    out
}

/// For each item that shares its root cause with a problem's lead: that lead's id.
pub fn leads<'a>(problems: &[Problem<'a>]) -> HashMap<&'a str, &'a TestResult> {
    problems.iter().filter(|p| p.items > 1).filter_map(|p| Some((p.lead.root_cause.as_deref()?, p.lead))).collect()
}

fn joining(t: &ThreadInfo) -> bool {
    t.waiting_for.as_deref().is_some_and(|w| w.ends_with("(join)"))
}

/// A diagnosis said in one line (`deadlock: 5 threads wait for each other in a circle`), for the kinds
/// whose message is a list of every thread.
pub fn headline(t: &TestResult) -> Option<String> {
    let d = t.diagnosis.as_ref()?;
    let n = d.threads.iter().filter(|th| !joining(th)).count();
    let s = if n == 1 { "" } else { "s" };
    match d.kind.as_str() {
        "deadlock" if !d.cycle.is_empty() && n == 1 => Some(format!("deadlock: {} waits for a lock it holds itself", d.threads[0].name)),
        "deadlock" if !d.cycle.is_empty() && n > 1 => Some(format!("deadlock: {n} threads wait for each other in a circle")),
        "potential_deadlock" if n > 1 => Some(format!("can deadlock: {n} threads take the same locks in opposite orders")),
        "lost_wakeup" if n > 0 => Some(format!(
            "lost wake-up: {n} thread{s} wait{}, none left to wake {}",
            if n == 1 { "s" } else { "" },
            if n == 1 { "it" } else { "them" }
        )),
        "async_hang" if n > 0 => Some(format!("hang: {n} task{s} wait{}, nothing can wake the event loop", if n == 1 { "s" } else { "" })),
        _ => None,
    }
}

/// Where a problem is: the first line a thread waits at that is not a join (the join only waits for the
/// others), else the item's location.
pub fn place(t: &TestResult) -> Option<String> {
    let waiting = t.diagnosis.as_ref().and_then(|d| d.threads.iter().find(|th| th.line > 0 && !joining(th)));
    waiting.map(|th| format!("{}:{}", th.file, th.line)).or_else(|| t.location.clone())
}

/// What kind of problem a group is, for "same deadlock as `no-deadlock`".
pub fn noun(lead: &TestResult) -> &'static str {
    let class = lead.root_cause.as_deref().and_then(|c| c.split('-').next()).unwrap_or("");
    let kind = lead.diagnosis.as_ref().map(|d| d.kind.as_str()).unwrap_or("");
    match (class, kind) {
        ("deadlock", _) => "deadlock",
        ("hang", "lost_wakeup") => "lost wake-up",
        ("hang", _) => "hang",
        ("exception", _) => "exception",
        ("crash", _) => "crash",
        ("leak", _) => "leak",
        ("tampering", _) => "tampering",
        ("compile", _) => "compile error",
        _ => "failure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Category, Visibility};

    fn item(id: &str, category: Category, max: f64, status: Status, cause: Option<&str>) -> TestResult {
        TestResult {
            id: id.into(), name: id.into(), category, kind: Kind::Stress, status, points: 0.0, max_points: max,
            duration_ms: 0, runs: 1, failed_runs: 1, seed: None, message: Some("m".into()), hint: None, location: None,
            diagnosis: None, measurement: None, visibility: Visibility::Visible, findings: vec![], output: None,
            peak_rss_kb: None, timing: None, manual: None, root_cause: cause.map(String::from), core: false,
        }
    }

    #[test]
    fn a_cause_is_one_problem_led_by_its_costliest_item() {
        let mut passed = item("p", Category::CompletionQuality, 10.0, Status::Passed, None);
        passed.points = 10.0;
        let report = super::super::sample_report(vec![
                item("a", Category::CompletionQuality, 4.0, Status::Deadlock, Some("deadlock-1")),
                item("b", Category::CompletionQuality, 6.0, Status::Deadlock, Some("deadlock-1")),
                item("c", Category::Performance, 10.0, Status::Failed, Some("failure-2")),
                item("d", Category::ProblemSolving, 5.0, Status::Deadlock, Some("deadlock-1")),
                passed,
        ]);
        let p = problems(&report);
        assert_eq!(p.len(), 2);
        // 10 of 20 completion points (of 40) and 5 of 5 problem-solving points (of 10): 30 of the 100.
        assert_eq!((p[0].lead.id.as_str(), p[0].items), ("b", 3), "led by the item that lost the most");
        assert!((p[0].cost - 30.0).abs() < 1e-9, "{}", p[0].cost);
        // 10 of 10 performance points (of 20).
        assert_eq!((p[1].lead.id.as_str(), p[1].items), ("c", 1));
        assert!((p[1].cost - 20.0).abs() < 1e-9);
        let leads = leads(&p);
        assert_eq!(leads.get("deadlock-1").map(|t| t.id.as_str()), Some("b"));
        assert!(!leads.contains_key("failure-2"), "a cause of one item needs no lead");
        assert_eq!(noun(p[0].lead), "deadlock");
    }

    #[test]
    fn items_a_compile_error_kept_from_running_count_for_it() {
        let mut report = super::super::sample_report(vec![
            item("run", Category::CompletionQuality, 10.0, Status::Skipped, None),
            item("compiles", Category::CompletionQuality, 2.0, Status::Failed, Some("compile-1")),
        ]);
        report.tests[1].kind = Kind::Compile;
        report.compile.ok = false;
        let p = problems(&report);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].lead.id.as_str(), p[0].items), ("compiles", 2));
        assert!((p[0].cost - 40.0).abs() < 1e-9, "{}", p[0].cost);
    }
}
