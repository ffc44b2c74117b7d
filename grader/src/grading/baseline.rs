//! Performance baselines: the reference solution's figures for each throughput and memory item, measured
//! on the course's machine by `grade baseline` (the reference graded alone, `Perf::Record`), each time
//! with the calibration workload's time on that machine beside it. The student kit carries them
//! (`baselines/<lab>.json`) instead of the reference, and scores a performance item against them, the
//! time scaled by how much slower or faster the student's machine runs the same calibration workload.
use crate::course::Course;
use crate::error::{Error, Result};
use crate::report::model::{Report, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which calibration workload an item's time follows: one process of pure Python, or two at once.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    Single,
    Multi,
}

impl Workload {
    /// A reference that kept more than this many cores busy is timed against the multi-process workload.
    const MULTI_ABOVE_CORES: f64 = 1.2;

    pub fn for_cores(cores: f64) -> Workload {
        if cores > Self::MULTI_ABOVE_CORES { Workload::Multi } else { Workload::Single }
    }

    fn arg(self) -> &'static str {
        match self {
            Workload::Single => "single",
            Workload::Multi => "multi",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ItemBaseline {
    /// Seconds per call of the reference (best and median sample), the cores it kept busy, and the
    /// calibration workload's seconds measured in the same grading.
    Throughput { best: f64, median: f64, cores: f64, workload: Workload, calibration: f64 },
    /// The reference's peak MiB above the harness's baseline (memory does not scale with speed).
    Memory { mib: f64 },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabBaseline {
    pub lab: String,
    /// The Python that measured it, and the cores the machine gave it.
    pub python: String,
    pub machine_cores: usize,
    pub items: BTreeMap<String, ItemBaseline>,
}

/// `3.13` of `3.13.0`: the version a baseline holds for (a workload's speed against the calibration's
/// moves between minor versions: measured, up to 1.7x from 3.11 to 3.13).
pub fn minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Where a lab's baseline for `version` is: `<dir>/py<minor>/<lab>.json` when that version has its own,
/// else `<dir>/<lab>.json` (the course's default version, or the only one recorded).
fn file_in(dir: &Path, lab: &str, version: &str) -> PathBuf {
    let own = dir.join(format!("py{}", minor(version))).join(format!("{lab}.json"));
    if own.is_file() { own } else { dir.join(format!("{lab}.json")) }
}

/// Where `grade baseline` under `version` writes: the default file unless it holds another version's.
fn file_for_recording(dir: &Path, lab: &str, version: &str) -> PathBuf {
    let default = dir.join(format!("{lab}.json"));
    let other = std::fs::read_to_string(&default)
        .ok()
        .and_then(|t| serde_json::from_str::<LabBaseline>(&t).ok())
        .is_some_and(|b| minor(&b.python) != minor(version));
    if other { dir.join(format!("py{}", minor(version))).join(format!("{lab}.json")) } else { default }
}

/// The lab's recorded baseline for this Python (its own version's, else the default one), if the course
/// has one; a malformed file is an error naming it.
pub fn load(course: &Course, lab: &str, version: &str) -> Result<Option<LabBaseline>> {
    let p = file_in(&course.root.join("baselines"), lab, version);
    if !p.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Usage(format!("{}: line {}: not a baseline: {e} (write it anew with `grade baseline {lab}`)", p.display(), e.line())))
}

/// Seconds of the calibration workload on this machine, best of its rounds (see grade_calibrate.py); an
/// error when even that round was not given the CPU it needed (a busy machine: no valid calibration).
pub fn calibrate(python: &Path, harness: &Path, workload: Workload) -> std::result::Result<f64, String> {
    let script = harness.parent().unwrap_or(Path::new(".")).join("grade_calibrate.py");
    let out = Command::new(python)
        .arg("-I")
        .arg(&script)
        .arg(workload.arg())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the calibration workload: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| {
        format!("the calibration workload failed: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("no output"))
    })?;
    let (wall, cpu) = (v["seconds"].as_f64().unwrap_or(0.0), v["cpu"].as_f64().unwrap_or(0.0));
    if wall <= 0.0 {
        return Err("the calibration workload gave no time".into());
    }
    // On its own, a process keeps its core busy; two keep two busy (where there are two).
    let cores = crate::machine::get().cores.min(2) as f64;
    let wanted = match workload {
        Workload::Single => 1.0,
        Workload::Multi => cores,
    } * MIN_CPU_SHARE;
    if cpu / wall < wanted {
        return Err(format!(
            "BUSY: the calibration workload got {:.2} cores of CPU for {:.3} s, not the {wanted:.2} it needs undisturbed",
            cpu / wall,
            wall
        ));
    }
    Ok(wall)
}

/// The share of its cores' time a calibration round must get to count.
const MIN_CPU_SHARE: f64 = 0.8;

/// The baseline of one lab from a report of its reference graded with `Perf::Record`: the items measured
/// validly, and why each of the others was not.
pub fn from_report(report: &Report, python: &str) -> (LabBaseline, Vec<String>) {
    let mut items = BTreeMap::new();
    let mut problems = Vec::new();
    for t in &report.tests {
        if !matches!(t.kind, crate::spec::Kind::Throughput | crate::spec::Kind::Memory) || t.status == Status::Skipped {
            continue;
        }
        let why = t.message.clone().unwrap_or_default();
        let m = match (&t.measurement, t.status) {
            (Some(m), Status::Passed) => m,
            _ => {
                problems.push(format!("{}: {} ({why})", t.id, t.status.as_str()));
                continue;
            }
        };
        let b = match t.kind {
            crate::spec::Kind::Memory => ItemBaseline::Memory { mib: m.value },
            _ => {
                let cores = m.cores.unwrap_or(1.0);
                let Some(calibration) = m.calibration else {
                    problems.push(format!("{}: no calibration time", t.id));
                    continue;
                };
                ItemBaseline::Throughput {
                    best: m.value,
                    median: super::bench::median(&m.samples),
                    cores,
                    workload: Workload::for_cores(cores),
                    calibration,
                }
            }
        };
        items.insert(t.id.clone(), b);
    }
    let machine_cores = crate::machine::get().cores;
    (LabBaseline { lab: report.lab.clone(), python: python.to_string(), machine_cores, items }, problems)
}

/// Independent recordings of each lab's reference: the baseline keeps the middle one of each item.
const RECORDINGS: usize = 3;

/// Per item, the recording in the middle: by time per call over calibration time (what the estimate
/// scales), or by peak memory.
fn middle(recordings: &[LabBaseline]) -> BTreeMap<String, ItemBaseline> {
    let mut out = BTreeMap::new();
    let ids: std::collections::BTreeSet<&String> = recordings.iter().flat_map(|r| r.items.keys()).collect();
    for id in ids {
        let mut seen: Vec<(f64, &ItemBaseline)> = recordings
            .iter()
            .filter_map(|r| r.items.get(id))
            .map(|b| match b {
                ItemBaseline::Throughput { best, calibration, .. } => (best / calibration, b),
                ItemBaseline::Memory { mib } => (*mib, b),
            })
            .collect();
        seen.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, b)) = seen.get(seen.len() / 2) {
            out.insert(id.clone(), (*b).clone());
        }
    }
    out
}

/// `grade baseline`: for each lab (all with a performance item when none is named), grades its reference
/// solution's performance items alone (`Perf::Record`) and writes `<out>/<lab>.json` with the items
/// measured validly. An item the machine was too busy to measure is measured again once the machine is
/// quiet (waiting at most `quiet_wait` each time, twice); one still missing is named, left out (the kit
/// shows it pending) and makes the exit status 1.
pub fn record(g: &super::Grader, labs: &[String], out: Option<&Path>, quiet_wait: std::time::Duration) -> Result<i32> {
    let dir = out.map(Path::to_path_buf).unwrap_or_else(|| g.course.root.join("baselines"));
    let labs = if labs.is_empty() { g.course.labs()? } else { labs.to_vec() };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut code = 0;
    for lab in labs {
        let spec = g.course.load(&lab)?;
        let mut perf = spec.clone();
        perf.items.retain(|i| matches!(i.kind(), crate::spec::Kind::Throughput | crate::spec::Kind::Memory));
        if perf.items.is_empty() {
            continue;
        }
        for i in &mut perf.items {
            i.requires.clear(); // the reference's correctness is `grade check`'s to show
        }
        let solution = g.course.solution(&lab);
        let (mut baseline, mut problems) = from_report(&g.grade(&perf, &solution, None)?, &g.python.version);
        for _again in 0..2 {
            if problems.is_empty() {
                break;
            }
            super::quiet::wait_until_quiet(quiet_wait, std::time::Duration::from_secs(5));
            let mut missing = perf.clone();
            missing.items.retain(|i| !baseline.items.contains_key(&i.id));
            let (more, still) = from_report(&g.grade(&missing, &solution, None)?, &g.python.version);
            baseline.items.extend(more.items);
            problems = still;
        }
        // A workload's time varies from one process to the next more than within one (threads' switching,
        // memory layout): the record is the middle one of several recordings, by time over calibration.
        let mut recordings = vec![baseline.clone()];
        for _ in 1..RECORDINGS {
            let (more, _) = from_report(&g.grade(&perf, &solution, None)?, &g.python.version);
            recordings.push(more);
        }
        baseline.items = middle(&recordings);
        if !baseline.items.is_empty() {
            let p = file_for_recording(&dir, &lab, &g.python.version);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let text = serde_json::to_string_pretty(&baseline).map_err(|e| Error::Internal(e.to_string()))? + "\n";
            crate::write_atomically(&p, &text)?;
            eprintln!("grade: {lab}: {} item(s) recorded in {}", baseline.items.len(), p.display());
        }
        if !problems.is_empty() {
            eprintln!("grade: {lab}: not recorded: {}", problems.join("; "));
            code = 1;
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_round_trips_and_rejects_unknown_keys() {
        let mut items = BTreeMap::new();
        items.insert("throughput".into(), ItemBaseline::Throughput { best: 0.01, median: 0.012, cores: 1.9, workload: Workload::Multi, calibration: 0.1 });
        items.insert("memory".into(), ItemBaseline::Memory { mib: 12.5 });
        let b = LabBaseline { lab: "lab-4.1".into(), python: "3.11.7".into(), machine_cores: 2, items };
        let text = serde_json::to_string_pretty(&b).unwrap();
        assert!(text.contains("\"kind\": \"throughput\"") && text.contains("\"workload\": \"multi\""), "{text}");
        assert_eq!(serde_json::from_str::<LabBaseline>(&text).unwrap(), b);
        assert!(serde_json::from_str::<LabBaseline>(&text.replace("\"machine_cores\"", "\"cpus\"")).is_err());
    }

    #[test]
    fn the_record_is_the_middle_recording_by_time_over_calibration() {
        let rec = |best: f64, calibration: f64| {
            let mut items = BTreeMap::new();
            items.insert("t".to_string(), ItemBaseline::Throughput { best, median: best, cores: 1.0, workload: Workload::Single, calibration });
            LabBaseline { lab: "l".into(), python: "3.11".into(), machine_cores: 2, items }
        };
        // ratios 0.5, 0.25 and 0.4: the middle is the third, whatever the order
        let m = middle(&[rec(0.05, 0.1), rec(0.05, 0.2), rec(0.04, 0.1)]);
        assert_eq!(m["t"], ItemBaseline::Throughput { best: 0.04, median: 0.04, cores: 1.0, workload: Workload::Single, calibration: 0.1 });
    }

    #[test]
    fn each_python_version_reads_and_writes_its_own_baseline_beside_the_default() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let write = |p: &Path, python: &str| {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let b = LabBaseline { lab: "l".into(), python: python.into(), machine_cores: 2, items: BTreeMap::new() };
            std::fs::write(p, serde_json::to_string(&b).unwrap()).unwrap();
        };
        // Nothing yet: the first recording is the default, whatever its version.
        assert_eq!(file_for_recording(dir, "l", "3.13.0"), dir.join("l.json"));
        write(&dir.join("l.json"), "3.11.7");
        assert_eq!(file_for_recording(dir, "l", "3.11.9"), dir.join("l.json"), "the same minor version records over it");
        assert_eq!(file_for_recording(dir, "l", "3.13.0"), dir.join("py3.13/l.json"));
        assert_eq!(file_in(dir, "l", "3.13.0"), dir.join("l.json"), "no 3.13 record yet: the default");
        write(&dir.join("py3.13/l.json"), "3.13.0");
        assert_eq!(file_in(dir, "l", "3.13.1"), dir.join("py3.13/l.json"));
        assert_eq!(file_in(dir, "l", "3.11.7"), dir.join("l.json"));
        assert_eq!(minor("3.12.1"), "3.12");
    }

    #[test]
    fn the_workload_follows_the_cores_the_reference_used() {
        assert_eq!(Workload::for_cores(1.0), Workload::Single);
        assert_eq!(Workload::for_cores(1.9), Workload::Multi);
    }
}
