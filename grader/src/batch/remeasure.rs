//! The batch's second look at measurements that could not be made: once every submission is graded, the
//! items left `inconclusive` (a busy machine) are measured again, after waiting for the machine to stay
//! quiet for 10 s (at most `--quiet-wait` seconds). What is still inconclusive then stays so, provisional,
//! and the summary says so; nothing is ever scored from an invalid measurement.
use super::watch::Outcome;
use super::worker::Workers;
use super::Options;
use crate::overrides::Overrides;
use crate::report::model::{Report, Status};
use std::path::Path;
use std::time::Duration;

/// The students among `mine` whose report in OUT has inconclusive items, with those items.
fn open_items(out: &Path, mine: &[String]) -> Vec<(String, Vec<String>)> {
    mine.iter()
        .filter_map(|s| {
            let text = std::fs::read_to_string(super::book::report_path(out, s)).ok()?;
            let r: Report = serde_json::from_str(&text).ok()?;
            let ids: Vec<String> = r.tests.iter().filter(|t| t.status == Status::Inconclusive).map(|t| t.id.clone()).collect();
            (!ids.is_empty()).then(|| (s.clone(), ids))
        })
        .collect()
}

/// Measures the inconclusive items again; returns how many submissions still have some.
pub fn second_look(workers: &Workers, root: &Path, mine: &[String], args: &Options, overrides: &Overrides) -> usize {
    let open = open_items(&args.out, mine);
    if open.is_empty() {
        return 0;
    }
    if args.quiet_wait.is_zero() {
        return open.len();
    }
    eprintln!(
        "grade: {} submission(s) have measurements the busy machine spoiled; waiting for it to be quiet (at most {} s)",
        open.len(),
        args.quiet_wait.as_secs()
    );
    if !crate::grading::quiet::wait_until_quiet(args.quiet_wait, Duration::from_secs(10)) {
        eprintln!("grade: the machine never stayed quiet; those items stay inconclusive (run the batch again later)");
        return open.len();
    }
    for (student, items) in &open {
        let Outcome::Report(again) = workers.grade_only(&root.join(student), items) else { continue };
        let path = super::book::report_path(&args.out, student);
        let Some(mut report) = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str::<Report>(&t).ok())
        else {
            continue;
        };
        crate::score::replace_tests(&mut report, again.tests.into_iter().filter(|t| items.contains(&t.id)));
        crate::report::finish::finish(&mut report, Some(student.to_string()), overrides);
        let text = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
        let _ = crate::write_atomically(&path, &text);
    }
    open_items(&args.out, mine).len()
}
