//! Parallel speed-up items (`parallel:` in the spec): judged by the parallelism the lab teaches, what the
//! cores did, not by the inner loop. Each side's cores used is its process tree's CPU time over the wall
//! time of its samples (reaped workers count through their parent); the student's against the
//! reference's earns the marks, and the time against the reference counts only within a wide band
//! (`Parallel`). The measurement is valid only when the reference itself ran in parallel: on a machine
//! with one core, or one too busy to give it two, the item is inconclusive.
use super::bench::fraction;
use crate::report::model::Measurement;
use crate::spec::{Bench, Parallel};

/// The reference must keep this many cores busy on average for the parallelism to be measurable.
pub const MIN_REFERENCE_CORES: f64 = 1.4;

/// CPU and wall seconds of one side's samples, summed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cores {
    pub wall: f64,
    pub cpu: f64,
}

impl Cores {
    pub fn add(&mut self, other: Cores) {
        self.wall += other.wall;
        self.cpu += other.cpu;
    }

    pub fn used(&self) -> f64 {
        if self.wall > 0.0 { self.cpu / self.wall } else { 0.0 }
    }
}

pub struct Judged {
    pub fraction: f64,
    pub message: String,
    pub measurement: Measurement,
}

/// The marks of a parallel item, or why its measurement is not valid here.
pub fn judge(time_ratio: f64, mine: Cores, theirs: Cores, bench: &Bench, par: &Parallel, machine_cores: usize) -> Result<Judged, String> {
    if machine_cores < 2 {
        return Err("this machine gives the grader one core: a parallel speed-up cannot be measured on it".into());
    }
    let (used, reference) = (mine.used(), theirs.used());
    if reference < MIN_REFERENCE_CORES {
        return Err(format!(
            "the reference kept only {reference:.2} of {machine_cores} cores busy: the machine did not let it run in parallel"
        ));
    }
    let ratio = used / reference;
    let by_cores = fraction(ratio, bench.target_ratio, bench.floor_ratio);
    let by_time = fraction(time_ratio, par.time_target, par.time_floor);
    let time = if by_time >= 1.0 {
        format!("time ratio {time_ratio:.2}, within the band (down to {:.2})", par.time_target)
    } else {
        format!("time ratio {time_ratio:.2}, below the band: full marks at {:.2}, none at {:.2}", par.time_target, par.time_floor)
    };
    let message = format!(
        "kept {used:.2} cores busy against the reference's {reference:.2}: ratio {ratio:.2} (full marks at {:.2}, none at {:.2}); {time}",
        bench.target_ratio, bench.floor_ratio
    );
    let measurement = Measurement {
        unit: "cores kept busy (CPU time / wall time of the process tree)".into(),
        value: (used * 1000.0).round() / 1000.0,
        reference_value: (reference * 1000.0).round() / 1000.0,
        ratio: (ratio * 1000.0).round() / 1000.0,
        target_ratio: bench.target_ratio,
        floor_ratio: bench.floor_ratio,
        samples: Vec::new(),
        reference_samples: Vec::new(),
        ..Default::default()
    };
    Ok(Judged { fraction: by_cores * by_time, message, measurement })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench() -> (Bench, Parallel) {
        let par = Parallel { time_target: 0.5, time_floor: 0.25 };
        (Bench { samples: 3, min_sample_ms: 100, target_ratio: 0.8, floor_ratio: 0.6, parallel: Some(par) }, par)
    }

    fn cores(used: f64) -> Cores {
        Cores { wall: 1.0, cpu: used }
    }

    #[test]
    fn a_slower_inner_loop_that_parallelises_as_well_keeps_full_marks() {
        let (b, p) = bench();
        let j = judge(0.66, cores(1.9), cores(1.95), &b, &p, 2).unwrap();
        assert_eq!(j.fraction, 1.0, "{}", j.message);
    }

    #[test]
    fn one_core_busy_is_no_speed_up_whatever_the_time() {
        let (b, p) = bench();
        assert_eq!(judge(1.0, cores(1.0), cores(1.9), &b, &p, 2).unwrap().fraction, 0.0, "threads under the GIL, or one worker");
    }

    #[test]
    fn a_busy_slow_imitation_of_parallelism_earns_nothing() {
        let (b, p) = bench();
        assert_eq!(judge(0.2, cores(2.0), cores(1.9), &b, &p, 2).unwrap().fraction, 0.0, "spinning processes, slow");
    }

    #[test]
    fn a_reference_that_could_not_run_in_parallel_makes_it_inconclusive() {
        let (b, p) = bench();
        assert!(judge(1.0, cores(1.0), cores(1.1), &b, &p, 2).is_err());
        assert!(judge(1.0, cores(1.0), cores(1.9), &b, &p, 1).is_err());
    }
}
