//! `grade check [LAB...]`: every lab's own trials (solution, starter, fixtures) against their
//! expectations, and each lab's trials against its budget.
use super::grader;
use crate::cli::Common;
use crate::error::Result;
use crate::report::model::Status;
use crate::{report, verify};

pub fn check(labs: &[String], common: &Common) -> Result<i32> {
    let g = grader(common)?;
    // Every spec first: a malformed one is an error of its own (exit 2), named with file and line.
    let all = if labs.is_empty() { g.course.labs()? } else { labs.to_vec() };
    let specs = all.iter().map(|lab| g.course.load(lab)).collect::<Result<Vec<_>>>()?;
    let trials = verify::trials(&g.course, &all)?;
    let color = super::output::get().color(None);
    let mut failed = 0;
    let mut over = Vec::new();
    for spec in &specs {
        let lab = &spec.id;
        let mut spent = std::time::Duration::ZERO;
        for trial in trials.iter().filter(|t| &t.lab == lab) {
            let started = std::time::Instant::now();
            let (report, verdict) = verify::judge_trial(&g, trial);
            let secs = started.elapsed().as_secs_f64();
            spent += report.as_ref().map(verify::run_time).unwrap_or_default();
            match (verdict, report) {
                (Ok(()), Some(r)) => {
                    // An inconclusive item contradicts nothing, and so proves nothing either: say how many.
                    let open = r.tests.iter().filter(|t| t.status == Status::Inconclusive).count();
                    let open = if open > 0 { format!("  ({open} inconclusive)") } else { String::new() };
                    println!("{} {:<48} score {:>6}  {secs:5.1} s{open}", paint(color, "32", "ok  "), trial.name(), r.score)
                }
                (verdict, _) => {
                    failed += 1;
                    let why = verdict.err().unwrap_or_else(|| "no report".into());
                    println!("{} {:<48} {secs:5.1} s", paint(color, "31", "FAIL"), trial.name());
                    for line in report::text::safe(&why).lines() {
                        println!("       {line}");
                    }
                }
            }
        }
        let budget = spec.budget.map(|b| format!("{:.0} s", b.as_secs_f64())).unwrap_or_else(|| "none".into());
        println!("     {lab}: {:.1} s in runs, budget {budget}", spent.as_secs_f64());
        if let Err(why) = verify::budget_problem(spec, spent) {
            over.push(why);
        }
    }
    for why in &over {
        println!("{} {why}", paint(color, "31", "OVER"));
    }
    println!("\n{} passed, {} failed, {} lab(s) over or without a budget", trials.len() - failed, failed, over.len());
    Ok(if failed > 0 || !over.is_empty() { 1 } else { 0 })
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}
