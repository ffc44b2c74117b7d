//! Performance without the reference at hand. `Perf::Record` (`grade baseline`) times the submission
//! alone: the reference's figures for the baseline. Otherwise, where the reference solution is absent (the
//! student kit) or `--estimate` asks for it, the submission is timed alone and scored against the
//! recorded figures, the reference's time scaled by this machine's calibration time over the recorded
//! one: the item is marked `estimated` and its category provisional. Validity is the same as against a
//! live reference: a quiet machine and agreeing samples, or `inconclusive`.
use super::baseline::{self, ItemBaseline, Workload};
use super::bench::{self, best, fraction, median, sample, Side};
use super::speedup::{self, Cores};
use super::verdict::{blank, grader_error};
use super::ItemCtx;
use crate::plan::Unit;
use crate::report::model::{Measurement, Status, TestResult};
use crate::runner::exclusive;
use crate::spec::{Bench, Item};

/// How far an estimated ratio may be off for a single-process item: measured against the live reference
/// on this machine, estimates from a record taken days before erred by up to 1.5x (lab-3.4's reference:
/// 0.70 estimated, 1.07 measured), from a fresh one by up to 1.2x (bench/README.md). An estimate short
/// of full marks by less than this cannot be told from correct code: `inconclusive`, never a fail.
/// (Parallel speed-up items are judged by the cores kept busy, which needs no scaling: within 7%.)
const UNCERTAINTY: f64 = 1.35;

/// An estimated ratio short of full marks, but by less than an estimate can be wrong.
fn too_close_to_tell(ratio: f64, target: f64) -> bool {
    ratio < target && ratio * UNCERTAINTY >= target
}

/// What the submission's samples are scored against.
enum Against {
    /// Nothing: the figures are recorded (`grade baseline`).
    Record,
    /// The reference's recorded time per call (best and median), scaled by `scale`, and its cores.
    Recorded { best: f64, median: f64, cores: f64, scale: f64 },
}

/// How much longer the reference would take here: the share of its time it kept its cores busy follows
/// the machine's speed (`ratio`, this machine's calibration time over the recorded one); the rest of it
/// was waiting (a server's reply, a sleep) and takes as long anywhere.
fn scale(ratio: f64, cores: f64, workload: Workload) -> f64 {
    let procs = match workload {
        Workload::Single => 1.0,
        Workload::Multi => 2.0,
    };
    let busy = (cores / procs).clamp(0.0, 1.0);
    busy * ratio + (1.0 - busy)
}

/// The item's recorded baseline, or why there is none (then the item is pending, as without a reference).
/// With it, when it was recorded under another minor version of Python, a note saying so.
fn recorded(ctx: &ItemCtx, item: &Item) -> Result<Option<(ItemBaseline, Option<String>)>, TestResult> {
    let here = &ctx.grader.python.version;
    match baseline::load(&ctx.grader.course, &ctx.spec.id, here) {
        Ok(b) => Ok(b.and_then(|b| {
            let note = (baseline::minor(&b.python) != baseline::minor(here)).then(|| {
                format!(
                    "recorded on Python {}, graded on {here}: a workload's speed against the calibration's moves between versions (up to 1.7x), so this estimate is less certain; `grade baseline` under Python {} records one for it",
                    b.python,
                    baseline::minor(here)
                )
            });
            b.items.get(&item.id).cloned().map(|i| (i, note))
        })),
        Err(e) => Err(grader_error(item, &e.to_string())),
    }
}

/// This machine's calibration time; a machine too busy to calibrate on makes the item inconclusive.
/// Two runs of the workload, the faster counts: a process that started slow is not the machine.
fn calibration(ctx: &ItemCtx, item: &Item, workload: Workload) -> Result<f64, TestResult> {
    let once = || baseline::calibrate(ctx.python, &ctx.ws.harness, workload);
    let best = match (once(), once()) {
        (Ok(a), Ok(b)) => Ok(a.min(b)),
        (Ok(a), Err(_)) | (Err(_), Ok(a)) => Ok(a),
        (Err(e), Err(_)) => Err(e),
    };
    best.map_err(|e| match e.strip_prefix("BUSY: ") {
        Some(why) => super::verdict::inconclusive(item, why),
        None => grader_error(item, &e),
    })
}

/// An estimate short of full marks is measured again in a fresh process (with a fresh calibration), and
/// the better of the two counts; a second process that gives no verdict leaves the item inconclusive. Against a live reference both sides are sampled in turn, so a process
/// that runs slow for reasons of its own (where its memory landed, how its threads were placed: 20-40%
/// from one process to the next on this machine) shows in both; against a record it shows in the
/// submission's alone and would fail correct code. Slow code is slow in both processes.
pub(super) fn throughput(ctx: &ItemCtx, unit: &Unit, bench: &Bench) -> TestResult {
    let first = throughput_once(ctx, unit, bench);
    let estimated = first.measurement.as_ref().is_some_and(|m| m.estimated);
    if !(estimated && first.status == Status::Failed) {
        return first;
    }
    let mut second = throughput_once(ctx, unit, bench);
    let ratio = |r: &TestResult| r.measurement.as_ref().map(|m| m.ratio).unwrap_or_default();
    if second.status == Status::Inconclusive {
        // The failure is not confirmed (the second process came too close to tell, or the machine got
        // busy): no verdict from one process alone.
        if let Some(m) = second.message.as_mut() {
            m.push_str(&format!("; a first process measured ratio {:.2}", ratio(&first)));
        }
        return second;
    }
    let scored = |r: &TestResult| matches!(r.status, Status::Passed | Status::Failed) && r.measurement.as_ref().is_some_and(|m| m.estimated);
    let (mut better, other) = if scored(&second) && second.points > first.points { (second, first) } else { (first, second) };
    let seen = if scored(&other) { format!("ratio {:.2}", ratio(&other)) } else { format!("{:?}", other.status).to_lowercase() };
    if let Some(m) = better.message.as_mut() {
        m.push_str(&format!("; the better of two processes (the other: {seen})"));
    }
    better
}

fn throughput_once(ctx: &ItemCtx, unit: &Unit, bench: &Bench) -> TestResult {
    let item = unit.item;
    let record = ctx.grader.course.perf == crate::course::Perf::Record;
    let mut across = None;
    let base = if record {
        None
    } else {
        match recorded(ctx, item) {
            Ok(Some((ItemBaseline::Throughput { best, median, cores, workload, calibration }, note))) => {
                across = note;
                Some((best, median, cores, workload, calibration))
            }
            Ok(_) => return super::verdict::no_reference(item),
            Err(r) => return r,
        }
    };
    let _alone = exclusive::exclusive();
    // The fixture server (labs that talk HTTP) lives as long as the measured run.
    let (mut run, _http) = match bench::start(ctx, unit, "student", &ctx.source.dir, &ctx.source.files) {
        Side::Ok(run, http) => (run, http),
        Side::Failed(r) => return r,
    };
    let against = match base {
        None => Against::Record,
        Some((b, m, cores, workload, recorded_calibration)) => match calibration(ctx, item, workload) {
            Ok(here) => Against::Recorded { best: b, median: m, cores, scale: scale(here / recorded_calibration, cores, workload) },
            Err(r) => return r,
        },
    };
    let calls = match sample(&mut run, None, item.timeout) {
        Ok((_, n, _)) => n.max(1),
        Err(why) => return bench::student_failed(item, unit, why, run),
    };
    let machine_cores = crate::machine::get().cores;
    let mut busy = Vec::new();
    let mut spread = None;
    let mut judged: Option<(Vec<f64>, Cores)> = None;
    for _round in 0..bench::ROUNDS {
        let watch = super::quiet::Watch::start(&mut [&mut run]);
        let (mut mine, mut cores) = (Vec::new(), Cores::default());
        for _ in 0..bench.samples {
            match sample(&mut run, Some(calls), item.timeout) {
                Ok((s, _, c)) => {
                    mine.push(s);
                    cores.add(c);
                }
                Err(why) => return bench::student_failed(item, unit, why, run),
            }
        }
        if let Some(others) = watch.others(&mut [&mut run]) {
            if others > super::quiet::MAX_OTHER_CORES {
                busy.push(others);
                continue;
            }
        }
        // The best sample and the median must tell the same story, as against a live reference.
        let (b, m) = (best(&mine), median(&mine));
        let agree = match &against {
            Against::Record => m / b <= bench::AGREEMENT,
            Against::Recorded { best: rb, median: rm, scale, .. } => {
                let (by_best, by_median) = (rb * scale / b, rm * scale / m);
                match &bench.parallel {
                    Some(p) => {
                        (fraction(by_best, p.time_target, p.time_floor) - fraction(by_median, p.time_target, p.time_floor)).abs()
                            <= bench::MARKS_AGREEMENT
                    }
                    None => bench::agree(by_best, by_median, bench),
                }
            }
        };
        if !agree {
            spread = Some(format!("the samples were too spread: best {b:.4} s, median {m:.4} s per call"));
            continue;
        }
        judged = Some((mine, cores));
        break;
    }
    run.send("exit");
    let result = run.finish();
    if bench::tampered(&result) {
        return super::verdict::from_run(item, unit, &result, std::path::Path::new(""));
    }
    let Some((mine, cores)) = judged else {
        let mut why: Vec<String> = busy.iter().map(|b| format!("other work on the machine used {b:.2} cores")).take(1).collect();
        why.extend(spread);
        return super::verdict::inconclusive(item, &why.join("; "));
    };
    let used = cores.used();
    let (b, m) = (best(&mine), median(&mine));
    match against {
        Against::Record => {
            let mut r = blank(item, Status::Passed);
            let workload = Workload::for_cores(used);
            let here = match calibration(ctx, item, workload) {
                Ok(s) => s,
                Err(r) => return r,
            };
            r.runs = mine.len() as u32;
            r.message = Some(format!("recorded: {b:.4} s per call (median {m:.4}), {used:.2} cores busy; calibration {here:.4} s"));
            r.measurement = Some(Measurement {
                unit: "seconds per call (best sample)".into(),
                value: b,
                samples: mine,
                cores: Some((used * 1000.0).round() / 1000.0),
                calibration: Some(here),
                ..Default::default()
            });
            r
        }
        Against::Recorded { best: rb, median: rm, cores: rc, scale } => {
            let (their_best, their_median) = (rb * scale, rm * scale);
            let ratio = their_best / b;
            let mut how = format!(
                "estimated: the reference's recorded {rb:.4} s per call, scaled by this machine's calibration (x{scale:.2}), is {their_best:.4} s"
            );
            if let Some(note) = &across {
                how.push_str(&format!(" ({note})"));
            }
            let (f, message, mut measurement) = match &bench.parallel {
                Some(p) => {
                    let theirs = Cores { wall: 1.0, cpu: rc.min(machine_cores as f64) };
                    match speedup::judge(ratio, cores, theirs, bench, p, machine_cores) {
                        Ok(j) => (j.fraction, format!("{}; {how}", j.message), j.measurement),
                        Err(why) => return super::verdict::inconclusive(item, &why),
                    }
                }
                None => {
                    let f = fraction(ratio, bench.target_ratio, bench.floor_ratio);
                    if too_close_to_tell(ratio, bench.target_ratio) {
                        return super::verdict::inconclusive(
                            item,
                            &format!(
                                "estimated ratio {ratio:.2} against full marks at {:.2}: closer than an estimate can tell (it errs by up to x{UNCERTAINTY:.2}); {how}; the course's grading measures it against the reference",
                                bench.target_ratio
                            ),
                        );
                    }
                    let message = format!(
                        "{b:.4} s per call against the reference's {their_best:.4} s (best of {} samples; medians {m:.4} and {their_median:.4}): ratio {ratio:.2} (full marks at {:.2}, none at {:.2}); {how}",
                        mine.len(),
                        bench.target_ratio,
                        bench.floor_ratio
                    );
                    let measurement = Measurement {
                        unit: "seconds per call (best sample)".into(),
                        value: b,
                        reference_value: their_best,
                        ratio: (ratio * 1000.0).round() / 1000.0,
                        target_ratio: bench.target_ratio,
                        floor_ratio: bench.floor_ratio,
                        ..Default::default()
                    };
                    (f, message, measurement)
                }
            };
            measurement.samples = mine.clone();
            measurement.estimated = true;
            measurement.calibration = Some((scale * 1000.0).round() / 1000.0);
            measurement.cores = Some((used * 1000.0).round() / 1000.0);
            let mut r = blank(item, if f >= 1.0 { Status::Passed } else { Status::Failed });
            r.points = item.points * f;
            r.runs = mine.len() as u32;
            r.peak_rss_kb = Some(result.peak_rss_bytes / 1024);
            r.message = Some(message);
            r.measurement = Some(measurement);
            if f < 1.0 {
                r.hint = item.hint.clone().or_else(|| Some("compare with how the work is split and where it runs".into()));
            }
            r
        }
    }
}

/// The recorded peak of the reference, when memory is scored without it (`None`: record or pending).
pub(super) fn memory_reference(ctx: &ItemCtx, item: &Item) -> Result<Option<f64>, TestResult> {
    match recorded(ctx, item)? {
        Some((ItemBaseline::Memory { mib }, _)) => Ok(Some(mib)),
        _ => Err(super::verdict::no_reference(item)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estimate_just_short_of_the_target_is_too_close_to_tell_one_far_below_is_not() {
        // lab-3.4 (full marks at 0.75): its reference estimated at 0.70 from an old record.
        assert!(too_close_to_tell(0.70, 0.75));
        assert!(!too_close_to_tell(0.75, 0.75), "full marks: judged");
        assert!(!too_close_to_tell(0.30, 0.75), "a slow fixture (0.21-0.27 measured) still fails");
        assert!(too_close_to_tell(0.75 / UNCERTAINTY + 0.001, 0.75) && !too_close_to_tell(0.75 / UNCERTAINTY - 0.001, 0.75));
    }

    #[test]
    fn only_the_busy_share_of_the_reference_time_follows_the_machine() {
        assert!((scale(2.0, 1.0, Workload::Single) - 2.0).abs() < 1e-9, "CPU-bound: twice as slow");
        assert!((scale(2.0, 0.0, Workload::Single) - 1.0).abs() < 1e-9, "all waiting: as long anywhere");
        assert!((scale(2.0, 0.5, Workload::Single) - 1.5).abs() < 1e-9);
        assert!((scale(0.5, 1.9, Workload::Multi) - (0.95 * 0.5 + 0.05)).abs() < 1e-9);
    }
}
