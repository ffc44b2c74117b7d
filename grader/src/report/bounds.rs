//! How much of what a run said a report keeps: each message and string at most `MESSAGE` bytes, each output
//! its last `OUTPUT` bytes, a bounded number of threads and findings, and the whole report at most `REPORT`
//! bytes of JSON (outputs go first, then diagnoses, then messages shrink). Every cut says what it cut.
use super::model::{CompileError, Diagnosis, Report, TestResult};
use super::text::{cap_in_place, cap_tail, thousands};

/// Bytes kept of one message, hint, summary or other string.
pub const MESSAGE: usize = 4 * 1024;
/// Bytes kept of a run's stdout, and of its stderr, per item (the end: where the failure is).
pub const OUTPUT: usize = 8 * 1024;
/// Bytes of JSON a whole report may take.
pub const REPORT: usize = 2 * 1024 * 1024;
/// Threads of a diagnosis and findings of an item kept.
const THREADS: usize = 64;
const FINDINGS: usize = 100;

fn cap_opt(s: &mut Option<String>, max: usize) {
    if let Some(s) = s.as_mut() {
        cap_in_place(s, max);
    }
}

fn bound_diagnosis(d: &mut Diagnosis) {
    cap_in_place(&mut d.kind, 64);
    cap_in_place(&mut d.summary, MESSAGE);
    if d.threads.len() > THREADS {
        let n = d.threads.len() - THREADS;
        d.threads.truncate(THREADS);
        d.summary.push_str(&format!(" [{n} more threads cut]"));
    }
    for t in &mut d.threads {
        for s in [&mut t.name, &mut t.file, &mut t.function] {
            cap_in_place(s, 256);
        }
        cap_opt(&mut t.waiting_for, 1024);
        t.holding.truncate(THREADS);
        t.holding.iter_mut().for_each(|h| {
            cap_in_place(h, 1024);
        });
    }
    d.cycle.truncate(THREADS);
    d.cycle.iter_mut().for_each(|c| {
        cap_in_place(c, 1024);
    });
}

/// Caps everything an item's result carries: the one place where what the harness said is bounded.
pub fn bound_result(r: &mut TestResult) {
    cap_opt(&mut r.message, MESSAGE);
    cap_opt(&mut r.hint, MESSAGE);
    cap_opt(&mut r.location, 512);
    if let Some(d) = r.diagnosis.as_mut() {
        bound_diagnosis(d);
    }
    if r.findings.len() > FINDINGS {
        r.findings.truncate(FINDINGS);
    }
    for f in &mut r.findings {
        cap_in_place(&mut f.message, 1024);
        cap_in_place(&mut f.file, 256);
        cap_in_place(&mut f.rule, 64);
    }
    if let Some(o) = r.output.as_mut() {
        for s in [&mut o.stdout, &mut o.stderr] {
            if s.len() > OUTPUT {
                *s = cap_tail(s, OUTPUT).into_owned();
                o.truncated = true;
            }
        }
    }
}

/// Caps a compile error (its message and source line come from the student's file).
pub fn bound_compile_error(e: &mut CompileError) {
    cap_in_place(&mut e.file, 256);
    cap_in_place(&mut e.message, MESSAGE);
    cap_in_place(&mut e.text, 1024);
}

fn size(r: &Report) -> usize {
    serde_json::to_vec_pretty(r).map(|v| v.len()).unwrap_or(0)
}

/// Keeps a report within `max` bytes of JSON: drops outputs (largest first), then diagnoses, then cuts
/// messages to a few hundred bytes, saying at each place what was cut.
pub fn fit(report: &mut Report, max: usize) {
    let mut over = size(report).saturating_sub(max);
    if over == 0 {
        return;
    }
    let mut order: Vec<usize> = (0..report.tests.len()).filter(|&i| report.tests[i].output.is_some()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(report.tests[i].output.as_ref().map_or(0, |o| o.stdout.len() + o.stderr.len())));
    for i in order {
        let Some(o) = report.tests[i].output.as_mut() else { continue };
        for s in [&mut o.stdout, &mut o.stderr] {
            if !s.is_empty() {
                let n = s.len();
                *s = format!("[cut {} bytes: the report was over {} MiB]", thousands(n as u64), max >> 20);
                over = over.saturating_sub(n);
            }
        }
        o.truncated = true;
        if over == 0 {
            return;
        }
    }
    for t in &mut report.tests {
        if let Some(d) = t.diagnosis.as_mut() {
            let n = d.threads.len();
            d.threads.clear();
            d.cycle.clear();
            if n > 0 {
                d.summary.push_str(&format!(" [{n} threads cut: the report was over {} MiB]", max >> 20));
            }
        }
    }
    for t in &mut report.tests {
        cap_opt(&mut t.message, 256);
        cap_opt(&mut t.hint, 256);
        t.findings.truncate(3);
        if let Some(d) = t.diagnosis.as_mut() {
            cap_in_place(&mut d.summary, 256);
        }
    }
    report.compile.errors.truncate(20);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_message_is_cut_and_says_so() {
        let mut s = Some("x".repeat(4_000_000));
        cap_opt(&mut s, MESSAGE);
        let s = s.unwrap();
        assert!(s.len() < MESSAGE + 40);
        assert!(s.ends_with("… [cut 3,995,904 bytes]"), "{}", &s[s.len() - 40..]);
    }

    #[test]
    fn a_report_over_the_cap_loses_its_outputs_first_and_says_so() {
        let test = |id: &str, out: usize| {
            serde_json::json!({"id": id, "name": id, "category": "completion_quality", "kind": "deterministic",
                "status": "failed", "points": 0.0, "max_points": 1.0, "duration_ms": 0, "runs": 1, "failed_runs": 1,
                "message": "m".repeat(3000), "visibility": "visible",
                "output": {"stdout": "o".repeat(out), "stderr": "", "truncated": false}})
        };
        let mut r: Report = serde_json::from_value(serde_json::json!({
            "schema": "grade-report/1", "lab": "lab-0.1", "title": "t", "submission": {"path": "p", "sha256": "s"},
            "grader": {"version": "v", "python": "3.11", "seed": 1}, "duration_ms": 0,
            "compile": {"ok": true, "errors": []}, "score": 0.0, "max_score": 100.0, "groups": [], "categories": [],
            "tests": [test("a", 100), test("b", 600_000), test("c", 600_000)]}))
        .unwrap();
        fit(&mut r, 1 << 20);
        assert!(size(&r) <= 1 << 20);
        assert_eq!(r.tests[0].output.as_ref().unwrap().stdout.len(), 100, "the small output stays");
        let cut = r.tests.iter().filter_map(|t| t.output.as_ref()).filter(|o| o.stdout.starts_with("[cut 600,000 bytes: the report was over 1 MiB]")).count();
        assert_eq!(cut, 1, "one big output was enough");
        assert_eq!(r.tests[1].message.as_ref().unwrap().len(), 3000, "messages stay when outputs were enough");
    }
}
