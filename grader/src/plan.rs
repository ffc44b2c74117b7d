//! Spec x seed -> the units to run: which item, with which seeds, under which schedule perturbation.
use crate::spec::{Item, Kind, Spec};

/// One item's planned work.
#[derive(Debug, Clone)]
pub struct Unit<'a> {
    pub item: &'a Item,
    /// The lab's id (for the replay command a failure prints).
    pub lab: &'a str,
    /// One seed per repetition; `seeds[k]` = base + k, so a failing seed replays as `--seed` for run 0.
    pub seeds: Vec<u64>,
    /// Yield-injection probability at each traced opcode of the student's files (stress, deadlock).
    pub trace: Option<f64>,
}

pub fn plan(spec: &Spec, base_seed: u64) -> Vec<Unit<'_>> {
    spec.items
        .iter()
        .map(|item| {
            let reps = match item.kind() {
                Kind::Stress | Kind::Deadlock => item.repetitions,
                _ => 1,
            };
            let trace = matches!(item.kind(), Kind::Stress | Kind::Deadlock).then_some(item.yield_probability);
            Unit { item, lab: &spec.id, seeds: (0..reps as u64).map(|k| base_seed.wrapping_add(k)).collect(), trace }
        })
        .collect()
}
