//! Throughput: the student's workload and the reference's, in two warm processes, sampled alternately
//! while nothing else of the grader runs, each sample a number of calls the grader sets and times itself; ratio of the best samples (reference time / student time: noise
//! only ever makes code slower, so the fastest sample is the least disturbed), re-measured once when the
//! target is missed. A round counts only when the machine stayed quiet (`quiet`) and the best samples agree
//! with the medians; without a valid round the item is `inconclusive`.
use super::speedup::{self, Cores};
use super::verdict::{blank, grader_error, output_of};
use super::ItemCtx;
use crate::plan::Unit;
use crate::report::model::{Measurement, Status, TestResult};
use crate::runner::job::Job;
use crate::runner::message::Message;
use crate::runner::{exclusive, Run, RunSpec};
use crate::spec::Bench;
use std::path::Path;

pub(super) enum Side {
    /// A warmed side, and the fixture server it talks to (stopped when dropped).
    Ok(Run, Option<crate::http::Server>),
    Failed(TestResult),
}

/// Measuring rounds at most: the first, a re-measure of a miss, and room for one round the machine spoiled.
pub(super) const ROUNDS: usize = 4;

/// The best samples and the medians agree when the timing is trustworthy: within this factor, or giving
/// marks within `MARKS_AGREEMENT` of each other (two ratios far below the floor agree whatever they are).
pub(super) const AGREEMENT: f64 = 1.2;
pub(super) const MARKS_AGREEMENT: f64 = 0.2;

pub(super) fn agree(by_best: f64, by_median: f64, bench: &crate::spec::Bench) -> bool {
    if !(by_best.is_finite() && by_median.is_finite() && by_median > 0.0) {
        return false;
    }
    let marks = |r| fraction(r, bench.target_ratio, bench.floor_ratio);
    (by_best / by_median).ln().abs() <= AGREEMENT.ln() || (marks(by_best) - marks(by_median)).abs() <= MARKS_AGREEMENT
}

pub(super) fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::min)
}

pub(super) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

/// clamp((ratio - floor) / (target - floor), 0, 1)
pub fn fraction(ratio: f64, target: f64, floor: f64) -> f64 {
    if !ratio.is_finite() {
        return 0.0;
    }
    ((ratio - floor) / (target - floor)).clamp(0.0, 1.0)
}

pub fn throughput(ctx: &ItemCtx, unit: &Unit, bench: &Bench) -> TestResult {
    let item = unit.item;
    let reference = ctx.grader.course.solution(&ctx.spec.id);
    if ctx.grader.course.perf != crate::course::Perf::Reference || !reference.is_dir() {
        return super::estimate::throughput(ctx, unit, bench);
    }
    let _alone = exclusive::exclusive();
    let student = start(ctx, unit, "student", &ctx.source.dir, &ctx.source.files);
    let (mut student, _student_http) = match student {
        Side::Ok(run, http) => (run, http),
        Side::Failed(r) => return r,
    };
    let ref_files = match crate::submission::files(&reference) {
        Ok(f) => f,
        Err(e) => return grader_error(item, &e.to_string()),
    };
    let (mut refrun, _reference_http) = match start(ctx, unit, "reference", &reference, &ref_files) {
        Side::Ok(run, http) => (run, http),
        Side::Failed(mut r) => {
            r.status = Status::Error;
            r.points = 0.0;
            r.message = Some(format!("grader error: the reference solution failed: {}", r.message.unwrap_or_default()));
            return r;
        }
    };
    // Calibration: each side finds how many calls fill a sample. From then on the grader asks each for
    // exactly that many and times them on its own clock: the measured process's clock, and what it says
    // of itself, are never trusted.
    let mut calls = [1u64; 2];
    for (i, is_student) in [true, false].into_iter().enumerate() {
        let run = if is_student { &mut student } else { &mut refrun };
        match sample(run, None, item.timeout) {
            Ok((_, n, _)) => calls[i] = n.max(1),
            Err(why) => return failure(item, unit, is_student, why, student, refrun),
        }
    }
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    // A round is valid when the machine stayed quiet and the best samples tell the same story as the
    // medians; samples of a busy round are thrown away. A valid miss is measured once more before it
    // counts; no valid round at all is `inconclusive`, never a pass or a fail.
    let mut verdict: Option<f64> = None;
    let mut busy: Vec<f64> = Vec::new();
    let mut spread: Option<String> = None;
    let mut valid_rounds = 0;
    let (mut my_cores, mut their_cores) = (Cores::default(), Cores::default());
    let mut parallel: Option<speedup::Judged> = None;
    let machine_cores = crate::machine::get().cores;
    for _round in 0..ROUNDS {
        let watch = super::quiet::Watch::start(&mut [&mut student, &mut refrun]);
        let (mut m, mut t) = (Vec::new(), Vec::new());
        let (mut mc, mut tc) = (Cores::default(), Cores::default());
        for k in 0..bench.samples {
            // Alternate who goes first, so a drift in machine speed falls on both sides alike.
            let order: [bool; 2] = if k % 2 == 0 { [true, false] } else { [false, true] };
            for is_student in order {
                let run = if is_student { &mut student } else { &mut refrun };
                let n = calls[usize::from(!is_student)];
                match sample(run, Some(n), item.timeout) {
                    Ok((s, _, c)) => {
                        if is_student {
                            m.push(s);
                            mc.add(c);
                        } else {
                            t.push(s);
                            tc.add(c);
                        }
                    }
                    Err(why) => return failure(item, unit, is_student, why, student, refrun),
                }
            }
        }
        if let Some(others) = watch.others(&mut [&mut student, &mut refrun]) {
            if others > super::quiet::MAX_OTHER_CORES {
                busy.push(others);
                continue;
            }
        }
        mine.extend(m);
        theirs.extend(t);
        my_cores.add(mc);
        their_cores.add(tc);
        let (by_best, by_median) = (best(&theirs) / best(&mine), median(&theirs) / median(&mine));
        // A parallel item is judged by the cores: the time counts only within a wide band, so the best
        // samples and the medians need not agree so closely on it.
        let marks_agree = match &bench.parallel {
            Some(p) => (fraction(by_best, p.time_target, p.time_floor) - fraction(by_median, p.time_target, p.time_floor)).abs() <= MARKS_AGREEMENT,
            None => agree(by_best, by_median, bench),
        };
        if !marks_agree {
            spread = Some(format!("the samples were too spread: ratio {by_best:.2} of the best samples, {by_median:.2} of the medians"));
            verdict = None;
            continue;
        }
        let full = match &bench.parallel {
            Some(p) => match speedup::judge(by_best, my_cores, their_cores, bench, p, machine_cores) {
                Ok(j) => {
                    let f = j.fraction;
                    parallel = Some(j);
                    f >= 1.0
                }
                Err(why) => {
                    spread = Some(why);
                    parallel = None;
                    verdict = None;
                    continue;
                }
            },
            None => by_best >= bench.target_ratio,
        };
        valid_rounds += 1;
        verdict = Some(by_best);
        // A pass, a second valid round, or a miss by so much that no quieter machine could change it.
        let hopeless = bench.parallel.is_none() && by_best < bench.floor_ratio / 2.0;
        if full || valid_rounds == 2 || hopeless {
            break;
        }
    }
    student.send("exit");
    refrun.send("exit");
    let result = student.finish();
    drop(refrun.finish());
    if tampered(&result) {
        return super::verdict::from_run(item, unit, &result, Path::new(""));
    }
    let Some(ratio) = verdict else {
        let mut why = Vec::new();
        if !busy.is_empty() {
            let (lo, hi) = (busy.iter().copied().fold(f64::MAX, f64::min), busy.iter().copied().fold(0.0, f64::max));
            let used = if hi - lo < 0.05 { format!("{hi:.2}") } else { format!("{lo:.2} to {hi:.2}") };
            why.push(format!("other work on the machine used {used} cores in {} of {ROUNDS} rounds", busy.len()));
        }
        why.extend(spread);
        return inconclusive(item, &why, &mine, &theirs, bench);
    };
    if let Some(j) = parallel {
        let mut r = blank(item, if j.fraction >= 1.0 { Status::Passed } else { Status::Failed });
        r.points = item.points * j.fraction;
        r.runs = mine.len() as u32;
        r.peak_rss_kb = Some(result.peak_rss_bytes / 1024);
        r.message = Some(j.message);
        r.measurement = Some(Measurement { samples: mine, reference_samples: theirs, ..j.measurement });
        if j.fraction < 1.0 {
            r.hint = item.hint.clone().or_else(|| Some("split the work so every worker is busy at once, in processes".into()));
        }
        return r;
    }
    let f = fraction(ratio, bench.target_ratio, bench.floor_ratio);
    let mut r = blank(item, if f >= 1.0 { Status::Passed } else { Status::Failed });
    r.points = item.points * f;
    r.runs = (mine.len()) as u32;
    r.peak_rss_kb = Some(result.peak_rss_bytes / 1024);
    r.measurement = Some(Measurement {
        unit: "seconds per call (best sample)".into(),
        value: best(&mine),
        reference_value: best(&theirs),
        ratio: (ratio * 1000.0).round() / 1000.0,
        target_ratio: bench.target_ratio,
        floor_ratio: bench.floor_ratio,
        samples: mine.clone(),
        reference_samples: theirs.clone(),
        ..Default::default()
    });
    r.message = Some(format!(
        "{:.3} s per call against the reference's {:.3} s (best of {} samples each; medians {:.3} and {:.3}): ratio {:.2} (full marks at {:.2}, none at {:.2})",
        best(&mine),
        best(&theirs),
        mine.len(),
        median(&mine),
        median(&theirs),
        ratio,
        bench.target_ratio,
        bench.floor_ratio
    ));
    if f < 1.0 {
        r.hint = item.hint.clone().or_else(|| Some("compare with how the work is split and where it runs".into()));
    }
    r
}

/// No valid round: the figures and why, no points, and the advice to measure again on a quiet machine.
fn inconclusive(item: &crate::spec::Item, why: &[String], mine: &[f64], theirs: &[f64], bench: &crate::spec::Bench) -> TestResult {
    let mut r = super::verdict::inconclusive(item, &why.join("; "));
    r.runs = mine.len() as u32;
    if !mine.is_empty() && !theirs.is_empty() {
        r.measurement = Some(Measurement {
            unit: "seconds per call (best sample)".into(),
            value: best(mine),
            reference_value: best(theirs),
            ratio: ((best(theirs) / best(mine)) * 1000.0).round() / 1000.0,
            target_ratio: bench.target_ratio,
            floor_ratio: bench.floor_ratio,
            samples: mine.to_vec(),
            reference_samples: theirs.to_vec(),
            ..Default::default()
        });
    }
    r
}

/// Starts one side in bench mode and waits until its workload is set up and warmed.
pub(super) fn start(ctx: &ItemCtx, unit: &Unit, name: &str, from: &Path, files: &[std::path::PathBuf]) -> Side {
    let item = unit.item;
    let sub = match ctx.ws.copy_for_run(&format!("{}-{name}", item.id), from, files) {
        Ok(s) => s,
        Err(e) => return Side::Failed(grader_error(item, &e.to_string())),
    };
    let net = match crate::runner::jail::netns(ctx.python) {
        Ok(n) => n,
        Err(e) => return Side::Failed(grader_error(item, &format!("cannot make the run's network: {e}"))),
    };
    let (server, http) = match super::http_server(unit, net.as_deref()) {
        Ok(s) => s,
        Err(e) => return Side::Failed(grader_error(item, &e)),
    };
    let job = Job::bench(item, item.checks.as_ref().unwrap_or(&ctx.spec.checks), &sub, &unit.seeds, http);
    let spawned = Run::spawn(RunSpec {
        python: ctx.python,
        site: ctx.site,
        harness: &ctx.ws.harness,
        workdir: &sub,
        job,
        timeout: item.timeout,
        limits: &ctx.spec.limits,
        net,
    });
    let mut run = match spawned {
        Ok(r) => r,
        Err(e) => return Side::Failed(grader_error(item, &e.to_string())),
    };
    while let Some(m) = run.next_message() {
        match m {
            Message::Ready => return Side::Ok(run, server),
            Message::Run(_) | Message::Error { .. } | Message::Done | Message::Malformed { .. } => break,
            _ => {}
        }
    }
    let result = run.finish();
    let mut r = super::verdict::from_run(item, unit, &result, &sub);
    if r.status == Status::Passed {
        r.status = Status::Crashed;
        r.message = Some(format!("the workload never became ready ({})", result.exit_text()));
    }
    r.points = 0.0;
    Side::Failed(r)
}

/// One sample: `n` calls (or, with `None`, as many as fill the item's minimum sample), timed by the
/// grader from the command to the answer, with the CPU the run's processes used meanwhile (read from
/// /proc just outside the timed span). Returns (seconds per call, calls made, wall and CPU seconds).
pub(super) fn sample(run: &mut Run, n: Option<u64>, timeout: std::time::Duration) -> Result<(f64, u64, Cores), String> {
    run.extend(timeout);
    let cpu0 = run.cpu_ticks();
    let started = std::time::Instant::now();
    run.send(&n.map_or_else(|| "sample".to_string(), |n| format!("sample {n}")));
    let calls = next_sample(run)?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = run.cpu_ticks().saturating_sub(cpu0) as f64 / crate::runner::procs::ticks_per_second();
    if n.is_some_and(|n| n != calls) {
        return Err(format!("the workload said it ran {calls} times, not the {} the grader asked for", n.unwrap_or(0)));
    }
    Ok((seconds / calls.max(1) as f64, calls, Cores { wall: seconds, cpu }))
}

fn next_sample(run: &mut Run) -> Result<u64, String> {
    while let Some(m) = run.next_message() {
        match m {
            Message::Sample { iterations, .. } => return Some(iterations).filter(|&n| n > 0).ok_or_else(|| "a sample without its calls".to_string()),
            Message::Run(r) => return Err(r.message.unwrap_or_else(|| "the workload failed".into())),
            Message::Error { message, .. } => return Err(message),
            Message::Malformed { error } => return Err(format!("the harness sent a message the grader cannot read ({error})")),
            Message::Done => return Err("the run ended early".into()),
            _ => {}
        }
    }
    Err("the process stopped while it was being measured (timeout, crash or a limit)".into())
}

pub(super) fn tampered(result: &crate::runner::RunResult) -> bool {
    result.runs().any(|r| r.is_tampered())
}

/// The item's result when a side failed while measured: the student's failure (tampering named as such),
/// or a grader error when the reference failed.
fn failure(item: &crate::spec::Item, unit: &Unit, is_student: bool, why: String, student: Run, refrun: Run) -> TestResult {
    drop(refrun);
    if !is_student {
        drop(student.finish());
        return grader_error(item, &format!("the reference solution failed while measured: {why}"));
    }
    student_failed(item, unit, why, student)
}

/// The student's side failed while measured (`why`): tampering named as such, else how the run ended.
pub(super) fn student_failed(item: &crate::spec::Item, unit: &Unit, why: String, student: Run) -> TestResult {
    let result = student.finish();
    if tampered(&result) {
        return super::verdict::from_run(item, unit, &result, Path::new(""));
    }
    let mut r = blank(item, Status::Failed);
    r.message = Some(why);
    r.status = match result.stop {
        crate::runner::Stop::Timeout => Status::Timeout,
        crate::runner::Stop::Exited => Status::Failed,
        _ => Status::Crashed,
    };
    r.output = output_of(&result);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_is_clamped_and_linear() {
        assert_eq!(fraction(0.5, 0.85, 0.6), 0.0);
        assert_eq!(fraction(1.1, 0.85, 0.6), 1.0);
        assert!((fraction(0.725, 0.85, 0.6) - 0.5).abs() < 1e-9);
        assert_eq!(fraction(f64::NAN, 0.85, 0.6), 0.0);
    }

    #[test]
    fn best_and_median_must_agree() {
        let b = crate::spec::Bench { samples: 3, min_sample_ms: 100, target_ratio: 0.75, floor_ratio: 0.4, parallel: None };
        assert!(agree(1.0, 1.1, &b));
        assert!(agree(0.9, 0.8, &b));
        assert!(!agree(0.65, 1.0, &b), "one lucky reference sample against equal medians");
        assert!(agree(0.008, 0.012, &b), "far below the floor either way: the same verdict");
        assert!(agree(2.0, 3.0, &b), "far above the target either way");
        assert!(!agree(f64::NAN, 1.0, &b));
        assert!(!agree(1.0, 0.0, &b));
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
