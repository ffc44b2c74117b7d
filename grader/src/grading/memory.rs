//! Memory: the peak resident memory of the student's run against the reference solution's, in the same
//! grading. Each side runs the item's check once; what counts is the process tree's peak (polled by the
//! runner, and the kernel's own high-water marks reported by the harness) above the harness's baseline.
use super::bench::fraction;
use super::verdict::{blank, from_run, grader_error};
use super::ItemCtx;
use crate::plan::Unit;
use crate::report::model::{Measurement, Status, TestResult};
use crate::course::Perf;
use crate::runner::message::Message;
use crate::runner::RunResult;
use crate::spec::MemoryTarget;

const MIB: f64 = 1024.0 * 1024.0;

/// Peak bytes above the baseline, from the runner's polls and the harness's high-water marks.
fn used(run: &RunResult) -> f64 {
    let baseline = run.messages.iter().find_map(|m| match m {
        Message::Baseline { bytes } => Some(*bytes),
        _ => None,
    });
    let marked = run.messages.iter().filter_map(|m| match m {
        Message::Peak { bytes } => Some(*bytes),
        _ => None,
    });
    let (baseline, marked) = (baseline.unwrap_or(0), marked.max().unwrap_or(0));
    run.peak_rss_bytes.max(marked).saturating_sub(baseline) as f64
}

pub fn memory(ctx: &ItemCtx, unit: &Unit, target: &MemoryTarget) -> TestResult {
    let item = unit.item;
    let reference = ctx.grader.course.solution(&ctx.spec.id);
    let perf = ctx.grader.course.perf;
    // Against the reference run here; or, without it (the student kit, `--estimate`), its recorded peak.
    let recorded = match perf {
        Perf::Reference if reference.is_dir() => None,
        Perf::Record => None,
        _ => match super::estimate::memory_reference(ctx, item) {
            Ok(mib) => mib,
            Err(r) => return r,
        },
    };
    // Alone on the machine, like a throughput item: other runs' memory pressure and CPU stay out of it.
    let _alone = crate::runner::exclusive::exclusive();
    let (mine, sub) = match ctx.check_run(unit, &ctx.source.dir, &ctx.source.files, "") {
        Ok(r) => r,
        Err(e) => return grader_error(item, &e),
    };
    let judged = from_run(item, unit, &mine, &sub);
    if judged.status != Status::Passed {
        return judged; // a wrong answer, a crash or a leak is judged before its memory
    }
    let value = used(&mine) / MIB;
    if perf == Perf::Record {
        let mut r = blank(item, Status::Passed);
        r.message = Some(format!("recorded: peak {value:.1} MiB"));
        r.measurement = Some(Measurement { unit: "MiB above the harness's baseline (peak)".into(), value, ..Default::default() });
        return r;
    }
    let reference_value = match recorded {
        Some(mib) => mib,
        None => {
            let ref_files = match crate::submission::files(&reference) {
                Ok(f) => f,
                Err(e) => return grader_error(item, &e.to_string()),
            };
            match ctx.check_run(unit, &reference, &ref_files, "-reference") {
                Ok((run, dir)) => {
                    let r = from_run(item, unit, &run, &dir);
                    if r.status != Status::Passed {
                        return grader_error(item, &format!("the reference solution failed: {}", r.message.unwrap_or_default()));
                    }
                    used(&run) / MIB
                }
                Err(e) => return grader_error(item, &e),
            }
        }
    };
    // Below 1 MiB either way is noise: compare from 1 MiB up.
    let ratio = value.max(1.0) / reference_value.max(1.0);
    // Lower is better: full marks at target_ratio, none at floor_ratio (which is above it).
    let f = fraction(-ratio, -target.target_ratio, -target.floor_ratio);
    let mut r = blank(item, if f >= 1.0 { Status::Passed } else { Status::Failed });
    r.points = item.points * f;
    r.runs = 1;
    r.seed = judged.seed;
    r.peak_rss_kb = Some(mine.peak_rss_bytes / 1024);
    r.measurement = Some(Measurement {
        unit: "MiB above the harness's baseline (peak)".into(),
        value: (value * 10.0).round() / 10.0,
        reference_value: (reference_value * 10.0).round() / 10.0,
        ratio: (ratio * 1000.0).round() / 1000.0,
        target_ratio: target.target_ratio,
        floor_ratio: target.floor_ratio,
        samples: vec![value],
        reference_samples: vec![reference_value],
        estimated: recorded.is_some(),
        ..Default::default()
    });
    r.message = Some(format!(
        "peak {value:.1} MiB against the reference's {reference_value:.1} MiB{}: ratio {ratio:.2} (full marks at or below {:.2}, none at {:.2})",
        if recorded.is_some() { " (estimated: its peak recorded on the course's machine)" } else { "" },
        target.target_ratio,
        target.floor_ratio
    ));
    if f < 1.0 {
        r.hint = item.hint.clone().or_else(|| Some("look for copies of the data per worker, or results kept in full where a stream would do".into()));
    }
    r
}
