//! The report: what a grading produced, serialized as `grade-report/1`. Field names are the contract's.
use crate::spec::{Category, Group, Kind, Visibility};
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "grade-report/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    Timeout,
    Deadlock,
    Crashed,
    Skipped,
    Pending,
    Error,
    /// The submission disabled or bypassed the grader's instrumentation: earns 0, names the line.
    Tampered,
    /// A measurement that could not be made validly on this machine now: earns nothing yet, provisional.
    Inconclusive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::Deadlock => "deadlock",
            Status::Crashed => "crashed",
            Status::Skipped => "skipped",
            Status::Pending => "pending",
            Status::Error => "error",
            Status::Tampered => "tampered",
            Status::Inconclusive => "inconclusive",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThreadInfo {
    pub name: String,
    pub file: String,
    pub line: u64,
    pub function: String,
    #[serde(default)]
    pub waiting_for: Option<String>,
    #[serde(default)]
    pub holding: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Diagnosis {
    pub kind: String,
    pub summary: String,
    #[serde(default)]
    pub threads: Vec<ThreadInfo>,
    #[serde(default)]
    pub cycle: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Measurement {
    pub unit: String,
    pub value: f64,
    pub reference_value: f64,
    pub ratio: f64,
    pub target_ratio: f64,
    pub floor_ratio: f64,
    #[serde(default)]
    pub samples: Vec<f64>,
    #[serde(default)]
    pub reference_samples: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub file: String,
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TestResult {
    pub id: String,
    pub name: String,
    pub category: Category,
    pub kind: Kind,
    pub status: Status,
    pub points: f64,
    pub max_points: f64,
    pub duration_ms: u64,
    pub runs: u32,
    pub failed_runs: u32,
    pub seed: Option<u64>,
    pub message: Option<String>,
    pub hint: Option<String>,
    /// The student's file:line the message is about, when there is one.
    pub location: Option<String>,
    pub diagnosis: Option<Diagnosis>,
    pub measurement: Option<Measurement>,
    pub visibility: Visibility,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
    #[serde(default)]
    pub peak_rss_kb: Option<u64>,
    /// Where the item's time went: in its Python processes, and their start-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// An instructor's score that replaced the automatic one.
    #[serde(default, rename = "override", skip_serializing_if = "Option::is_none")]
    pub manual: Option<Override>,
    /// Why the item failed, as an id: items that failed for the same reason (one wait-for cycle, one
    /// exception at one line, one kind of leak) share it. Only on items that did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Timing {
    /// Wall time from spawning the item's harness processes to their exit, summed over its runs.
    pub run_ms: u64,
    /// Of that, the time to the harness's first message (interpreter start and imports).
    pub start_ms: u64,
}

/// An instructor's score for an item (from an overrides file), with what the grader had given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Override {
    pub points: f64,
    pub comment: String,
    /// The file it came from.
    pub source: String,
    pub auto_points: f64,
    pub auto_status: Status,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompileError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Compile {
    pub ok: bool,
    pub errors: Vec<CompileError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Submission {
    pub path: String,
    pub sha256: String,
    /// The student's id in a batch (the folder's name), or as given with `--student`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraderInfo {
    pub version: String,
    pub python: String,
    pub seed: u64,
    /// The machine: cores the grader could use, the CPU model, the kernel.
    #[serde(default)]
    pub cores: usize,
    #[serde(default)]
    pub cpu: String,
    #[serde(default)]
    pub os: String,
    /// How runs were confined: `landlock` (writes only beneath the run's directory) or `none`.
    #[serde(default)]
    pub sandbox: String,
}

/// What was graded against: the spec (with its checks and any private overlay) and its limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SpecInfo {
    pub path: String,
    /// sha256 over the spec, its checks files and the private overlay, in that order.
    pub sha256: String,
    #[serde(default)]
    pub private: Option<String>,
    pub limits: LimitsInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct LimitsInfo {
    pub timeout_s: f64,
    pub memory_mb: u64,
    pub processes: u32,
    pub output_kb: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupScore {
    pub id: Group,
    pub weight: f64,
    pub points: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryScore {
    pub id: Category,
    pub group: Group,
    pub weight: f64,
    pub earned_fraction: f64,
    pub points: f64,
    pub provisional: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub lab: String,
    pub title: String,
    pub submission: Submission,
    pub grader: GraderInfo,
    #[serde(default)]
    pub spec: SpecInfo,
    pub duration_ms: u64,
    pub compile: Compile,
    pub score: f64,
    pub max_score: f64,
    pub groups: Vec<GroupScore>,
    pub categories: Vec<CategoryScore>,
    pub tests: Vec<TestResult>,
}
