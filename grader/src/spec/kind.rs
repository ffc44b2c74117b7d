//! An item's kind, and the settings that come with it: `Kind` is the tag (what a report says, which
//! keys a spec may give), `Task` the kind with exactly the settings that kind takes.
use super::Question;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an item does and how it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Compile,
    Deterministic,
    Stress,
    Deadlock,
    Throughput,
    Memory,
    Quiz,
    Design,
    Lint,
    Manual,
}

impl Kind {
    /// Item kinds that run the lab's check code in the harness.
    pub fn runs_check(self) -> bool {
        matches!(self, Kind::Deterministic | Kind::Stress | Kind::Deadlock | Kind::Throughput | Kind::Memory)
    }

    /// Item kinds that execute the student's code (and are skipped when it does not compile).
    pub fn runs_student_code(self) -> bool {
        self.runs_check() || self == Kind::Lint
    }

    /// The optional keys that make sense for this kind.
    pub(super) fn allowed_keys(self) -> &'static [&'static str] {
        const CODE: &[&str] = &["check", "params", "timeout", "instrument", "start_method", "http", "core", "timing"];
        match self {
            Kind::Compile | Kind::Manual => &[],
            Kind::Deterministic => CODE,
            Kind::Stress => &[
                "check", "params", "timeout", "instrument", "start_method", "repetitions", "yield_probability", "scheduler",
                "http", "core", "timing",
            ],
            Kind::Deadlock => &[
                "check", "params", "timeout", "instrument", "start_method", "repetitions", "yield_probability", "lock_order",
                "scheduler", "http", "core",
            ],
            Kind::Throughput => {
                &["check", "params", "timeout", "samples", "min_sample_ms", "target_ratio", "floor_ratio", "http", "requires", "parallel"]
            }
            Kind::Memory => &["check", "params", "timeout", "start_method", "target_ratio", "floor_ratio", "http", "requires"],
            Kind::Quiz => &["answers_file", "questions"],
            Kind::Design => &["file", "sections", "min_words"],
            Kind::Lint => &["timeout", "deduct", "rules"],
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bench {
    pub samples: u32,
    pub min_sample_ms: u32,
    pub target_ratio: f64,
    pub floor_ratio: f64,
    /// A parallel speed-up item: `target_ratio`/`floor_ratio` apply to the cores used (the process tree's
    /// CPU time over wall time) against the reference's, and the time only within this band.
    pub parallel: Option<Parallel>,
}

/// How a parallel speed-up item weighs the time: full marks down to `time_target` (reference time /
/// student time), none at `time_floor`: a slower inner loop costs little, a slowed-down serial run
/// dressed as parallel earns nothing.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parallel {
    #[serde(default = "Parallel::default_target")]
    pub time_target: f64,
    #[serde(default = "Parallel::default_floor")]
    pub time_floor: f64,
}

impl Parallel {
    fn default_target() -> f64 {
        0.5
    }
    fn default_floor() -> f64 {
        0.25
    }
}

/// A memory item's bounds on (student's peak) / (reference's peak): lower is better.
#[derive(Debug, Clone)]
pub struct MemoryTarget {
    pub target_ratio: f64,
    pub floor_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct Quiz {
    pub answers_file: String,
    pub questions: BTreeMap<String, Question>,
}

#[derive(Debug, Clone)]
pub struct DesignDoc {
    pub file: String,
    pub sections: Vec<String>,
    pub min_words: u32,
}

#[derive(Debug, Clone)]
pub struct LintRules {
    pub deduct: f64,
    pub rules: Vec<String>,
}

/// An item's kind, carrying the settings only that kind takes: a throughput item always has its sampling
/// settings and no other item has them (the keys every kind that runs code shares stay on `Item`).
#[derive(Debug, Clone)]
pub enum Task {
    Compile,
    Deterministic,
    Stress,
    Deadlock,
    Throughput(Bench),
    Memory(MemoryTarget),
    Quiz(Quiz),
    Design(DesignDoc),
    Lint(LintRules),
    Manual,
}

impl Task {
    pub fn kind(&self) -> Kind {
        match self {
            Task::Compile => Kind::Compile,
            Task::Deterministic => Kind::Deterministic,
            Task::Stress => Kind::Stress,
            Task::Deadlock => Kind::Deadlock,
            Task::Throughput(_) => Kind::Throughput,
            Task::Memory(_) => Kind::Memory,
            Task::Quiz(_) => Kind::Quiz,
            Task::Design(_) => Kind::Design,
            Task::Lint(_) => Kind::Lint,
            Task::Manual => Kind::Manual,
        }
    }
}
