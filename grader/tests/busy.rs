//! Grading on a busy machine: a measurement the machine spoiled is `inconclusive`, never a pass or a
//! fail, and `grade batch` measures it again at the end, once the machine has been quiet for a while.
//! (Its own test binary: nothing else of the suite runs beside it, so "quiet" means quiet.)
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn course() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One test at a time: each makes the machine busy, then needs it quiet.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Busy loops on every core until the returned flag is set.
fn spin() -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let handles = (0..cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    (stop, handles)
}

#[test]
fn a_batch_measures_inconclusive_items_again_once_the_machine_is_quiet() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ada = class.path().join("ada");
    std::fs::create_dir_all(&ada).unwrap();
    for e in std::fs::read_dir(course().join("solutions/lab-5.3")).unwrap().flatten() {
        std::fs::copy(e.path(), ada.join(e.file_name())).unwrap();
    }
    let (stop, spinners) = spin();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("grade"));
    cmd.current_dir(course()).env("NO_COLOR", "1");
    cmd.args(["batch", "--lab", "lab-5.3", "--jobs", "1", "--quiet-wait", "120"]).arg(class.path()).arg("--out").arg(out.path());
    cmd.stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::null());
    let child = cmd.spawn().unwrap();
    // The first grading, beside the busy loops: its report is written as soon as it is done.
    let report = out.path().join("reports/ada.json");
    let t0 = Instant::now();
    while !report.exists() && t0.elapsed() < Duration::from_secs(240) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let first: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("the first report")).unwrap();
    stop.store(true, Ordering::Relaxed);
    spinners.into_iter().for_each(|s| s.join().unwrap());
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{stderr}");
    let status = |r: &Value| r["tests"].as_array().unwrap().iter().find(|t| t["id"] == "throughput").unwrap()["status"].clone();
    assert_eq!(status(&first), "inconclusive", "measured beside busy loops: {}", first["tests"]);
    assert!(stderr.contains("waiting for it to be quiet"), "{stderr}");
    let last: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let book = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    if stderr.contains("never stayed quiet") {
        // Other work kept the machine busy the whole wait (a shared machine): the item stays inconclusive,
        // provisional, and the batch says so; never a pass or a fail from a spoiled measurement.
        assert_eq!(status(&last), "inconclusive", "{stderr}");
        assert!(stderr.contains("with inconclusive measurements"), "{stderr}");
        eprintln!("note: the machine never became quiet; the second measurement was not exercised");
    } else {
        assert_eq!(status(&last), "passed", "measured again on the quiet machine: {stderr}");
        assert_eq!(last["score"], 100.0);
        assert!(book.contains("ada") && book.contains("100"), "{book}");
    }
}

/// lab-2.4's `real-concurrency` judges by the clock (`timing: true`): beside busy loops its reference
/// solution is never failed (a pass stands; a failure under load is run again, then inconclusive), and
/// on the quiet machine it passes.
#[test]
fn a_check_that_judges_by_the_clock_never_fails_correct_code_under_load() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let grade = |quiet: bool| -> Value {
        let spinning = (!quiet).then(spin);
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("grade"))
            .current_dir(course())
            .args(["lab-2.4", "--format", "json", "--only", "real-concurrency", "--submission", "solutions/lab-2.4"])
            .output()
            .unwrap();
        if let Some((stop, spinners)) = spinning {
            stop.store(true, Ordering::Relaxed);
            spinners.into_iter().for_each(|s| s.join().unwrap());
        }
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        r["tests"].as_array().unwrap().iter().find(|t| t["id"] == "real-concurrency").unwrap().clone()
    };
    let busy = grade(false);
    assert!(["passed", "inconclusive"].contains(&busy["status"].as_str().unwrap()), "beside busy loops: {busy}");
    if busy["status"] == "inconclusive" {
        assert!(busy["message"].as_str().unwrap().contains("judges by the clock"), "{busy}");
    }
    let quiet = grade(true);
    assert_eq!(quiet["status"], "passed", "{quiet}");
}

#[test]
fn a_deadlock_found_by_a_clock_judged_check_stands_under_load() {
    // The wait-for cycle is a certain verdict: a busy machine makes a clock-judged item inconclusive only
    // when it failed by the clock (failed, timeout), never when it proved a deadlock.
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let (stop, spinners) = spin();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("grade"))
        .current_dir(course())
        .args(["lab-2.4", "--format", "json", "--only", "no-starvation", "--submission", "fixtures/lab-2.4/naive-deadlock"])
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    spinners.into_iter().for_each(|s| s.join().unwrap());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = r["tests"].as_array().unwrap().iter().find(|t| t["id"] == "no-starvation").unwrap().clone();
    assert_eq!(item["status"], "deadlock", "{item}");
}
