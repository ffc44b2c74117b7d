//! The spec's model, validated and with every default filled in: what the plan reads.
use super::{Hints, Kind, Task};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

/// The six score categories, with the course's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    CompletionQuality,
    Performance,
    ProblemSolving,
    Quizzes,
    Design,
    BestPractices,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::CompletionQuality,
        Category::Performance,
        Category::ProblemSolving,
        Category::Quizzes,
        Category::Design,
        Category::BestPractices,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Category::CompletionQuality => "completion_quality",
            Category::Performance => "performance",
            Category::ProblemSolving => "problem_solving",
            Category::Quizzes => "quizzes",
            Category::Design => "design",
            Category::BestPractices => "best_practices",
        }
    }

    pub fn weight(self) -> f64 {
        match self {
            Category::CompletionQuality => 40.0,
            Category::Performance => 20.0,
            Category::ProblemSolving => 10.0,
            Category::Quizzes => 15.0,
            Category::Design => 10.0,
            Category::BestPractices => 5.0,
        }
    }

    pub fn group(self) -> Group {
        match self {
            Category::CompletionQuality | Category::Performance | Category::ProblemSolving => Group::Practical,
            _ => Group::Theory,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Practical,
    Theory,
}

impl Group {
    pub const ALL: [Group; 2] = [Group::Practical, Group::Theory];
    pub fn weight(self) -> f64 {
        match self {
            Group::Practical => 70.0,
            Group::Theory => 30.0,
        }
    }
}

/// Who decides thread switches in stress and deadlock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheduler {
    /// The operating system, with seeded yield injection at traced opcodes: likely, not exact, replay.
    #[default]
    Os,
    /// The harness: one thread at a time, the seed picks who goes next; exact replay.
    Controlled,
}

/// The multiprocessing start method a check runs under (`spawn` exposes unpicklable work and missing
/// `__main__` guards that the default `fork` hides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartMethod {
    Fork,
    Spawn,
    Forkserver,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Visible,
    /// Students see only whether it passed and its points, not why.
    Hidden,
    /// Students do not see it at all (it still counts).
    Secret,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

impl Answer {
    /// The answer as a set of lower-case choices.
    pub fn choices(&self) -> BTreeSet<String> {
        match self {
            Answer::One(s) => s
                .split(',')
                .map(|c| c.trim().to_lowercase())
                .filter(|c| !c.is_empty())
                .collect(),
            Answer::Many(v) => v.iter().map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub text: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The key; left out of a public spec when an instructor's private overlay holds it.
    #[serde(default)]
    pub answer: Option<Answer>,
}

/// Resource limits for every run of a lab.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    #[serde(serialize_with = "secs")]
    pub timeout: Duration,
    pub memory_mb: u64,
    pub processes: u32,
    pub output_kb: u64,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One graded item, validated and with every default filled in.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub category: Category,
    /// The kind and the settings that come with it.
    pub task: Task,
    pub points: f64,
    pub hint: Option<String>,
    /// Hints per way the item can fail (`hints::choose` picks the one shown).
    pub hints: Hints,
    pub visibility: Visibility,
    pub timeout: Duration,
    pub check: Option<String>,
    pub params: serde_json::Value,
    pub instrument: bool,
    pub start_method: Option<StartMethod>,
    pub scheduler: Scheduler,
    pub repetitions: u32,
    pub yield_probability: f64,
    pub lock_order: bool,
    /// Start the fixture HTTP server for this item's runs, with these routes (a check may replace them).
    pub http: Option<crate::http::HttpSpec>,
    /// The checks file of an item from a private overlay (others use the spec's).
    pub checks: Option<PathBuf>,
    /// A timed item: the items that must pass before it is measured (performance is earned only by correct
    /// code). Default: every other completion-and-quality item of the lab that runs the student's code.
    pub requires: Vec<String>,
    /// The lab's core property: failing it caps the whole score (`score::CORE_CAP`).
    pub core: bool,
    /// The check fails code that is too slow or not concurrent enough, by the wall clock: it runs alone on
    /// the machine, and a failure seen while other work kept the machine busy is run again once it is
    /// quiet, and is `inconclusive` if it never is (load only ever makes code look slower, so a pass stands).
    pub timing: bool,
}

impl Item {
    pub fn kind(&self) -> Kind {
        self.task.kind()
    }
}

/// A lab's spec, validated.
#[derive(Debug, Clone)]
pub struct Spec {
    pub id: String,
    pub title: String,
    pub module: Option<u32>,
    pub path: PathBuf,
    pub files: Vec<String>,
    pub checks: PathBuf,
    pub limits: Limits,
    /// Third-party packages the lab's code imports; they come from the managed environment.
    pub packages: Vec<String>,
    /// The seconds all of the lab's trials (solution, starter, every fixture) may spend in runs of the
    /// harness, summed: the lab's share of the course's test suite, sized on purpose (`grade check` and the
    /// labs test hold every lab to it).
    pub budget: Option<Duration>,
    pub items: Vec<Item>,
    /// The instructor's private overlay merged in, if any.
    pub overlay: Option<PathBuf>,
    /// The course's answer keys merged in (`keys/<lab>.yaml`), if any.
    pub keys: Option<PathBuf>,
}

impl Spec {
    /// sha256 over the spec file, every checks file its items use, the modules beside them (judges, helpers), the
    /// keys and the private overlay, in that order.
    pub fn sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut files = vec![self.path.clone(), self.checks.clone()];
        for item in &self.items {
            if let Some(c) = &item.checks {
                if !files.contains(c) {
                    files.push(c.clone());
                }
            }
        }
        // Beside each checks file: its judge and the helper modules both halves import, in name order.
        let mut beside = Vec::new();
        for c in &files[1..] {
            let Some(Ok(rd)) = c.parent().map(std::fs::read_dir) else { continue };
            let mut py: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "py") && p != c).collect();
            py.sort();
            for p in py {
                if !files.contains(&p) && !beside.contains(&p) {
                    beside.push(p);
                }
            }
        }
        files.extend(beside);
        files.extend(self.keys.iter().cloned());
        files.extend(self.overlay.iter().cloned());
        let mut h = Sha256::new();
        for f in files {
            // A lab without code items has no checks file: it hashes as empty.
            let bytes = std::fs::read(&f).unwrap_or_default();
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
        format!("{:x}", h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_compare_as_sets() {
        assert_eq!(Answer::One("B, a".into()).choices(), Answer::Many(vec!["a".into(), "b".into()]).choices());
        assert!(Answer::One("  ".into()).choices().is_empty());
    }
}
