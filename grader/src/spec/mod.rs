//! The lab spec: its YAML form, loading with line numbers, and validation into the model the plan uses.
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
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
    fn allowed_keys(self) -> &'static [&'static str] {
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

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    timeout: Option<f64>,
    memory_mb: Option<u64>,
    processes: Option<u32>,
    output_kb: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    module: Option<u32>,
    files: Spanned<Vec<String>>,
    #[serde(default)]
    checks: Option<String>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    packages: Option<Spanned<Vec<String>>>,
    items: Spanned<Vec<RawItem>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    name: String,
    category: Spanned<Category>,
    kind: Spanned<Kind>,
    points: Spanned<f64>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    hints: Option<Spanned<Hints>>,
    #[serde(default)]
    visibility: Option<Visibility>,
    #[serde(default)]
    timeout: Option<Spanned<f64>>,
    #[serde(default)]
    check: Option<Spanned<String>>,
    #[serde(default)]
    params: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    instrument: Option<Spanned<bool>>,
    #[serde(default)]
    start_method: Option<Spanned<StartMethod>>,
    #[serde(default)]
    scheduler: Option<Spanned<Scheduler>>,
    #[serde(default)]
    repetitions: Option<Spanned<u32>>,
    #[serde(default)]
    yield_probability: Option<Spanned<f64>>,
    #[serde(default)]
    lock_order: Option<Spanned<bool>>,
    #[serde(default)]
    http: Option<Spanned<crate::http::HttpSpec>>,
    #[serde(default)]
    samples: Option<Spanned<u32>>,
    #[serde(default)]
    parallel: Option<Spanned<Parallel>>,
    #[serde(default)]
    min_sample_ms: Option<Spanned<u32>>,
    #[serde(default)]
    target_ratio: Option<Spanned<f64>>,
    #[serde(default)]
    floor_ratio: Option<Spanned<f64>>,
    #[serde(default)]
    answers_file: Option<Spanned<String>>,
    #[serde(default)]
    questions: Option<Spanned<BTreeMap<String, Question>>>,
    #[serde(default)]
    file: Option<Spanned<String>>,
    #[serde(default)]
    sections: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    min_words: Option<Spanned<u32>>,
    #[serde(default)]
    deduct: Option<Spanned<f64>>,
    #[serde(default)]
    rules: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    requires: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    core: Option<Spanned<bool>>,
    #[serde(default)]
    timing: Option<Spanned<bool>>,
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

/// One graded item, validated and with every default filled in.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub category: Category,
    pub kind: Kind,
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
    pub bench: Option<Bench>,
    pub memory: Option<MemoryTarget>,
    pub quiz: Option<Quiz>,
    pub design: Option<DesignDoc>,
    pub lint: Option<LintRules>,
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

pub mod hints;
mod overlay;
pub use hints::{Failure, Hints};
pub use overlay::{apply_keys, apply_overlay};

pub const LINT_RULES: &[&str] =
    &["lock-without-with", "bare-except", "thread-not-joined", "blocking-in-async", "pool-not-closed"];

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, loc: &Location, key: &str, message: impl Into<String>) -> Error {
        Error::Spec {
            file: self.file.to_path_buf(),
            line: loc.line(),
            column: loc.column(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Turns a serde-saphyr error into one that names the key on the line it points at.
    fn from_yaml(&self, e: serde_saphyr::Error) -> Error {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let key = key_on_line(self.text, line);
        let message = e.to_string();
        let first = message.lines().next().unwrap_or("").to_string();
        let first = first.trim_start_matches("error: ");
        let first = match first.split_once(": ") {
            Some((pos, rest)) if pos.starts_with("line ") => rest.to_string(),
            _ => first.to_string(),
        };
        Error::Spec { file: self.file.to_path_buf(), line, column, key, message: first }
    }
}

/// The mapping key written on a given (1-based) line, for messages: `  - kind: strss` gives `kind`.
pub fn key_on_line(text: &str, line: u64) -> String {
    let Some(l) = text.lines().nth(line.saturating_sub(1) as usize) else { return String::from("?") };
    let l = l.trim_start().trim_start_matches("- ").trim_start();
    match l.split_once(':') {
        Some((k, _)) if !k.is_empty() && !k.contains(' ') => k.trim_matches('"').to_string(),
        _ => String::from("?"),
    }
}

/// Parses YAML text into `T`, with errors naming file, line and key.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T> {
    let ctx = Ctx { file, text };
    serde_saphyr::from_str(text).map_err(|e| ctx.from_yaml(e))
}

/// Loads and validates `specs_dir/<lab>.yaml`.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let raw: RawSpec = parse_yaml(path, &text)?;
    let ctx = Ctx { file: path, text: &text };
    validate(&ctx, raw)
}

fn validate(ctx: &Ctx, raw: RawSpec) -> Result<Spec> {
    let stem = ctx.file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if raw.id.value != stem {
        return Err(ctx.err(&raw.id.referenced, "id", format!("`{}` must equal the file name `{stem}`", raw.id.value)));
    }
    if raw.files.value.is_empty() {
        return Err(ctx.err(&raw.files.referenced, "files", "name at least one entry file"));
    }
    for f in &raw.files.value {
        if f.contains("..") || f.starts_with('/') {
            return Err(ctx.err(&raw.files.referenced, "files", format!("`{f}` must be a relative path inside the submission")));
        }
    }
    let specs_dir = ctx.file.parent().unwrap_or(Path::new("."));
    let checks = specs_dir.join(raw.checks.clone().unwrap_or_else(|| format!("{}/checks.py", raw.id.value)));
    let limits = Limits {
        timeout: Duration::from_secs_f64(raw.limits.timeout.unwrap_or(10.0).max(0.1)),
        memory_mb: raw.limits.memory_mb.unwrap_or(512),
        processes: raw.limits.processes.unwrap_or(64),
        output_kb: raw.limits.output_kb.unwrap_or(1024),
    };
    let mut checks_text: Option<String> = None;
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for it in raw.items.value {
        if !seen.insert(it.id.value.clone()) {
            return Err(ctx.err(&it.id.referenced, "id", format!("duplicate item id `{}`", it.id.value)));
        }
        if it.id.value.is_empty() || !it.id.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ctx.err(&it.id.referenced, "id", "item ids use letters, digits, `-` and `_`"));
        }
        let requires_at = it.requires.as_ref().map(|r| r.referenced.clone());
        let item = validate_item(ctx, it, &limits, &checks, &mut checks_text)?;
        items.push((item, requires_at));
    }
    let items = resolve_requires(ctx, items)?;
    for cat in Category::ALL {
        if !items.iter().any(|i| i.category == cat && i.points > 0.0) {
            return Err(ctx.err(
                &raw.items.referenced,
                "items",
                format!("no item with points in category `{}`: every category needs at least one", cat.id()),
            ));
        }
    }
    let packages = match &raw.packages {
        Some(p) => {
            let pinned: Vec<String> = crate::pyenv::pinned().into_iter().map(|(n, _)| n).collect();
            if let Some(missing) = p.value.iter().find(|n| !pinned.contains(&crate::pyenv::normalise(n))) {
                return Err(ctx.err(&p.referenced, "packages", format!(
                    "`{missing}` is not in python/requirements.lock: add it to python/requirements.in and run python/relock.sh"
                )));
            }
            p.value.clone()
        }
        None => Vec::new(),
    };
    Ok(Spec {
        packages,
        id: raw.id.value,
        title: raw.title,
        module: raw.module,
        path: ctx.file.to_path_buf(),
        files: raw.files.value,
        checks,
        limits,
        items,
        overlay: None,
        keys: None,
    })
}

/// Fills in each timed item's default `requires` (every completion-and-quality item that runs a check) and
/// checks the ones a spec gave: items of this lab, that run the student's code, never timed themselves.
fn resolve_requires(ctx: &Ctx, items: Vec<(Item, Option<Location>)>) -> Result<Vec<Item>> {
    let correctness = |i: &Item| matches!(i.kind, Kind::Deterministic | Kind::Stress | Kind::Deadlock);
    let defaults: Vec<String> =
        items.iter().filter(|(i, _)| i.category == Category::CompletionQuality && correctness(i)).map(|(i, _)| i.id.clone()).collect();
    let by_id: BTreeMap<String, bool> = items.iter().map(|(i, _)| (i.id.clone(), correctness(i))).collect();
    let mut out = Vec::new();
    for (mut item, at) in items {
        if matches!(item.kind, Kind::Throughput | Kind::Memory) {
            match at {
                Some(loc) => {
                    for r in &item.requires {
                        match by_id.get(r) {
                            None => return Err(ctx.err(&loc, "requires", format!("`{r}` is not an item of this lab"))),
                            Some(false) => {
                                return Err(ctx.err(&loc, "requires", format!(
                                    "`{r}` is not a correctness item (deterministic, stress or deadlock)"
                                )))
                            }
                            Some(true) => {}
                        }
                    }
                }
                None => item.requires = defaults.clone(),
            }
        }
        out.push(item);
    }
    Ok(out)
}

fn validate_item(
    ctx: &Ctx,
    it: RawItem,
    limits: &Limits,
    checks: &Path,
    checks_text: &mut Option<String>,
) -> Result<Item> {
    let kind = it.kind.value;
    let present: [(&str, Option<&Location>); 16] = [
        ("timeout", it.timeout.as_ref().map(|s| &s.referenced)),
        ("check", it.check.as_ref().map(|s| &s.referenced)),
        ("params", it.params.as_ref().map(|s| &s.referenced)),
        ("instrument", it.instrument.as_ref().map(|s| &s.referenced)),
        ("repetitions", it.repetitions.as_ref().map(|s| &s.referenced)),
        ("yield_probability", it.yield_probability.as_ref().map(|s| &s.referenced)),
        ("lock_order", it.lock_order.as_ref().map(|s| &s.referenced)),
        ("samples", it.samples.as_ref().map(|s| &s.referenced)),
        ("min_sample_ms", it.min_sample_ms.as_ref().map(|s| &s.referenced)),
        ("target_ratio", it.target_ratio.as_ref().map(|s| &s.referenced)),
        ("floor_ratio", it.floor_ratio.as_ref().map(|s| &s.referenced)),
        ("answers_file", it.answers_file.as_ref().map(|s| &s.referenced)),
        ("questions", it.questions.as_ref().map(|s| &s.referenced)),
        ("file", it.file.as_ref().map(|s| &s.referenced)),
        ("sections", it.sections.as_ref().map(|s| &s.referenced)),
        ("min_words", it.min_words.as_ref().map(|s| &s.referenced)),
    ];
    let extra = [
        ("http", it.http.as_ref().map(|s| &s.referenced)),
        ("scheduler", it.scheduler.as_ref().map(|s| &s.referenced)),
        ("start_method", it.start_method.as_ref().map(|s| &s.referenced)),
        ("deduct", it.deduct.as_ref().map(|s| &s.referenced)),
        ("rules", it.rules.as_ref().map(|s| &s.referenced)),
        ("parallel", it.parallel.as_ref().map(|s| &s.referenced)),
        ("requires", it.requires.as_ref().map(|s| &s.referenced)),
        ("core", it.core.as_ref().map(|s| &s.referenced)),
        ("timing", it.timing.as_ref().map(|s| &s.referenced)),
    ];
    let kind_name = serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    for (key, loc) in present.iter().chain(extra.iter()) {
        if let Some(loc) = loc {
            if !kind.allowed_keys().contains(key) {
                return Err(ctx.err(loc, key, format!("does not apply to an item of kind `{kind_name}`")));
            }
        }
    }
    if !(it.points.value >= 0.0 && it.points.value.is_finite()) {
        return Err(ctx.err(&it.points.referenced, "points", "must be a number >= 0"));
    }
    let timeout = match &it.timeout {
        Some(t) if !(t.value > 0.0 && t.value <= 600.0) => {
            return Err(ctx.err(&t.referenced, "timeout", "seconds, more than 0 and at most 600"))
        }
        Some(t) => Duration::from_secs_f64(t.value),
        None => limits.timeout,
    };
    let check = if kind.runs_check() {
        let Some(check) = &it.check else {
            return Err(ctx.err(&it.kind.referenced, "check", format!("an item of kind `{kind_name}` needs `check`: a function in {}", checks.display())));
        };
        if checks_text.is_none() {
            let text = std::fs::read_to_string(checks)
                .map_err(|e| ctx.err(&check.referenced, "check", format!("cannot read {}: {e}", checks.display())))?;
            *checks_text = Some(text);
        }
        let text = checks_text.as_deref().unwrap_or_default();
        if !defines_function(text, &check.value) {
            return Err(ctx.err(
                &check.referenced,
                "check",
                format!("no function `def {}(ctx)` in {}", check.value, checks.display()),
            ));
        }
        Some(check.value.clone())
    } else {
        None
    };
    let repetitions = match &it.repetitions {
        Some(r) if r.value == 0 || r.value > 10_000 => {
            return Err(ctx.err(&r.referenced, "repetitions", "between 1 and 10000"))
        }
        Some(r) => r.value,
        None => match kind {
            Kind::Stress | Kind::Deadlock => 5,
            _ => 1,
        },
    };
    let yield_probability = match &it.yield_probability {
        Some(p) if !(0.0..=1.0).contains(&p.value) => {
            return Err(ctx.err(&p.referenced, "yield_probability", "a probability between 0 and 1"))
        }
        Some(p) => p.value,
        None => 0.02,
    };
    let bench = if kind == Kind::Throughput {
        let target = it.target_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "target_ratio", "a throughput item needs `target_ratio`"))?;
        let floor = it.floor_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "floor_ratio", "a throughput item needs `floor_ratio`"))?;
        if !(target.value > floor.value && floor.value >= 0.0) {
            return Err(ctx.err(&target.referenced, "target_ratio", "must be greater than `floor_ratio`, which must be >= 0"));
        }
        let samples = it.samples.as_ref().map(|s| s.value).unwrap_or(3);
        if samples == 0 || samples > 50 {
            return Err(ctx.err(&it.samples.as_ref().unwrap().referenced, "samples", "between 1 and 50"));
        }
        Some(Bench {
            samples,
            min_sample_ms: it.min_sample_ms.as_ref().map(|s| s.value).unwrap_or(100).max(1),
            target_ratio: target.value,
            floor_ratio: floor.value,
            parallel: match &it.parallel {
                Some(p) if !(p.value.time_target > p.value.time_floor && p.value.time_floor >= 0.0) => {
                    return Err(ctx.err(&p.referenced, "parallel", "`time_target` must be greater than `time_floor`, which must be >= 0"))
                }
                Some(p) => Some(p.value),
                None => None,
            },
        })
    } else {
        None
    };
    let memory = if kind == Kind::Memory {
        let target = it.target_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "target_ratio", "a memory item needs `target_ratio`"))?;
        let floor = it.floor_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "floor_ratio", "a memory item needs `floor_ratio`"))?;
        if !(floor.value > target.value && target.value > 0.0) {
            return Err(ctx.err(&target.referenced, "target_ratio", "memory is better lower: `target_ratio` must be above 0 and below `floor_ratio`"));
        }
        Some(MemoryTarget { target_ratio: target.value, floor_ratio: floor.value })
    } else {
        None
    };
    let quiz = if kind == Kind::Quiz {
        let q = it.questions.ok_or_else(|| ctx.err(&it.kind.referenced, "questions", "a quiz item needs `questions`"))?;
        if q.value.is_empty() {
            return Err(ctx.err(&q.referenced, "questions", "list at least one question"));
        }
        for (qid, question) in &q.value {
            if question.answer.as_ref().is_some_and(|a| a.choices().is_empty()) {
                return Err(ctx.err(&q.referenced, "answer", format!("question `{qid}` has an empty answer")));
            }
        }
        Some(Quiz {
            answers_file: it.answers_file.map(|s| s.value).unwrap_or_else(|| "quiz.yaml".into()),
            questions: q.value,
        })
    } else {
        None
    };
    let design = if kind == Kind::Design {
        let sections = it.sections.ok_or_else(|| ctx.err(&it.kind.referenced, "sections", "a design item needs `sections`"))?;
        Some(DesignDoc {
            file: it.file.map(|s| s.value).unwrap_or_else(|| "DESIGN.md".into()),
            sections: sections.value,
            min_words: it.min_words.map(|s| s.value).unwrap_or(40),
        })
    } else {
        None
    };
    let lint = if kind == Kind::Lint {
        let mut rules = Vec::new();
        for r in it.rules.map(|r| r.value).unwrap_or_default() {
            let ruff_code = r.value.strip_prefix("ruff:").is_some_and(|c| {
                let letters = c.trim_end_matches(|ch: char| ch.is_ascii_digit());
                !letters.is_empty() && letters.chars().all(|ch| ch.is_ascii_uppercase())
            });
            if !LINT_RULES.contains(&r.value.as_str()) && !ruff_code {
                return Err(ctx.err(&r.referenced, "rules", format!(
                    "unknown lint rule `{}`; known: {}, or ruff's rule codes as `ruff:CODE` (ruff:ASYNC, ruff:B, ruff:BLE001)",
                    r.value, LINT_RULES.join(", ")
                )));
            }
            rules.push(r.value);
        }
        if rules.is_empty() {
            rules = LINT_RULES.iter().map(|s| s.to_string()).collect();
        }
        Some(LintRules { deduct: it.deduct.map(|d| d.value).unwrap_or(1.0), rules })
    } else {
        None
    };
    let hints = hints::validate(ctx, it.hints, kind)?;
    let http = match it.http {
        Some(h) => {
            h.value.validate().map_err(|e| ctx.err(&h.referenced, "http", e))?;
            Some(h.value)
        }
        None => None,
    };
    Ok(Item {
        http,
        id: it.id.value,
        name: it.name,
        category: it.category.value,
        kind,
        points: it.points.value,
        hint: it.hint,
        requires: it.requires.map(|r| r.value).unwrap_or_default(),
        core: it.core.map(|c| c.value).unwrap_or(false),
        timing: it.timing.map(|c| c.value).unwrap_or(false),
        hints,
        visibility: it.visibility.unwrap_or_default(),
        timeout,
        check,
        params: it.params.map(|p| p.value).unwrap_or(serde_json::Value::Object(Default::default())),
        instrument: it.instrument.map(|b| b.value).unwrap_or(!matches!(kind, Kind::Throughput | Kind::Memory)),
        memory,
        start_method: it.start_method.map(|m| m.value),
        scheduler: it.scheduler.map(|m| m.value).unwrap_or_default(),
        repetitions,
        yield_probability,
        lock_order: it.lock_order.map(|b| b.value).unwrap_or(false),
        bench,
        quiz,
        design,
        lint,
        checks: None,
    })
}

/// Whether Python source defines a top-level function `name`.
fn defines_function(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        let rest = l.strip_prefix("async def ").or_else(|| l.strip_prefix("def "));
        matches!(rest, Some(r) if r.strip_prefix(name).is_some_and(|after| after.trim_start().starts_with('(')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_on_line_finds_the_key() {
        let text = "a: 1\nitems:\n  - kind: strss\n    points: x\n";
        assert_eq!(key_on_line(text, 3), "kind");
        assert_eq!(key_on_line(text, 4), "points");
        assert_eq!(key_on_line(text, 9), "?");
    }

    #[test]
    fn finds_top_level_functions_only() {
        let src = "def a(ctx):\n    pass\n    def b(ctx): pass\nasync def c (ctx): pass\ndef ab(ctx): pass\n";
        assert!(defines_function(src, "a"));
        assert!(!defines_function(src, "b"));
        assert!(defines_function(src, "c"));
        assert!(defines_function(src, "ab"));
        assert!(!defines_function(src, "d"));
    }

    #[test]
    fn answers_compare_as_sets() {
        assert_eq!(Answer::One("B, a".into()).choices(), Answer::Many(vec!["a".into(), "b".into()]).choices());
        assert!(Answer::One("  ".into()).choices().is_empty());
    }
}
