//! Instructors' commands: `grade batch` (resume after SIGKILL, shards and merge), private overlays,
//! overrides and `grade rerun`, on the small course in tests/data.
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn specs() -> PathBuf {
    data().join("course/specs")
}

fn grade() -> Command {
    let mut cmd = Command::cargo_bin("grade").expect("the grade binary");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A class of lab-0.1: a good one, a racy one, one that hangs, one that does not compile, one that floods
/// its output, one that leaves with os._exit; and a stray file that is not a submission.
fn class() -> tempfile::TempDir {
    class_with("output-flood")
}

/// The same class with `eve` from another submission. The flood's stress item ends as `crashed` or
/// `timeout` depending on how fast it prints under tracing, so tests comparing whole gradebooks give eve
/// one whose verdicts are the same every time.
fn class_with(eve: &str) -> tempfile::TempDir {
    let dir = class_of(&[
        ("ada", data().join("course/solutions/lab-0.1")),
        ("bob", data().join("submissions/racy-counter")),
        ("cy", data().join("submissions/infinite-loop")),
        ("dee", data().join("submissions/syntax-error")),
        ("eve", data().join("submissions").join(eve)),
        ("fay", data().join("submissions/os-exit")),
    ]);
    std::fs::write(dir.path().join("README.txt"), "not a submission").unwrap();
    dir
}

/// A class of the given students, each a copy of a submission.
fn class_of(students: &[(&str, PathBuf)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, from) in students {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    dir
}

/// `grade batch` of lab-0.1 over `class` into `out`, seeded, two at a time.
fn batch_cmd(class: &Path, out: &Path) -> std::process::Command {
    batch_cmd_jobs(class, out, 2)
}

/// `grade batch` of lab-0.1 over `class` into `out`, seeded, `jobs` at a time.
fn batch_cmd_jobs(class: &Path, out: &Path, jobs: usize) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("grade"));
    cmd.env("NO_COLOR", "1").args(["batch", "--lab", "lab-0.1", "--seed", "5", "--jobs", &jobs.to_string(), "--specs"]);
    cmd.arg(specs()).arg(class).arg("--out").arg(out);
    cmd
}

fn batch(class: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    batch_cmd(class, out).args(extra).output().unwrap()
}

fn rows(out: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(out.join("gradebook.csv")).expect("a gradebook");
    r.records().map(|x| x.unwrap()).collect()
}

fn report(out: &Path, student: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join(format!("reports/{student}.json"))).unwrap()).unwrap()
}

fn status<'a>(report: &'a Value, id: &str) -> &'a str {
    report["tests"].as_array().unwrap().iter().find(|t| t["id"] == id).map(|t| t["status"].as_str().unwrap()).unwrap_or("absent")
}

#[test]
fn a_class_grades_in_one_command_into_reports_a_gradebook_and_a_summary() {
    let class = class();
    let out = tempfile::tempdir().unwrap();
    let o = batch(class.path(), out.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = rows(out.path());
    let by: Vec<(&str, &str)> = rows.iter().map(|r| (&r[0], &r[1])).collect();
    assert_eq!(
        by,
        [("ada", "graded"), ("bob", "graded"), ("cy", "graded"), ("dee", "compile_error"), ("eve", "graded"), ("fay", "graded")]
    );
    assert_eq!(&rows[0][2], "100.00", "the reference solution: {:?}", rows[0]);
    assert!(rows[1][2].parse::<f64>().unwrap() < 100.0 && rows[1][11].contains("stress"), "racy: {:?}", rows[1]);
    assert!(rows[3][11].contains("student.py:"), "the compile error's place: {:?}", rows[3]);
    // Each misbehaviour cost only its own items.
    assert_eq!(status(&report(out.path(), "cy"), "run"), "timeout");
    assert_eq!(status(&report(out.path(), "cy"), "compiles-a"), "passed");
    assert_eq!(status(&report(out.path(), "eve"), "run"), "crashed");
    assert_eq!(status(&report(out.path(), "fay"), "run"), "crashed");
    let r = report(out.path(), "bob");
    assert_eq!(r["submission"]["student"], "bob");
    assert_eq!(r["spec"]["sha256"].as_str().unwrap().len(), 64);
    assert!(r["grader"]["cores"].as_u64().unwrap() >= 1 && !r["grader"]["cpu"].as_str().unwrap().is_empty());
    let text = std::fs::read_to_string(out.path().join("summary.txt")).unwrap();
    assert!(text.contains("6 submissions: 6 graded (1 did not compile)") && text.contains("90-100"), "{text}");
    assert!(text.contains("stress") && text.contains("slowest") && text.contains("ignored (not folders): README.txt"), "{text}");
    let empty = tempfile::tempdir().unwrap();
    let none = batch(empty.path(), &out.path().join("x"), &[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no student folders"));
    let html = std::fs::read_to_string(out.path().join("summary.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("<rect") && !html.contains("<script"), "self-contained page");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(out.path().join("batch.json")).unwrap()).unwrap();
    assert_eq!(manifest["students"].as_array().unwrap().len(), 6);
    assert_eq!(manifest["ignored"][0], "README.txt");
    assert!(String::from_utf8_lossy(&o.stderr).contains("[  6/6]"), "progress lines when not on a terminal");
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn a_batch_killed_with_sigkill_resumes_to_the_same_gradebook() {
    let class = class_with("sys-exit-on-import");
    let whole = tempfile::tempdir().unwrap();
    assert_eq!(batch(class.path(), whole.path(), &[]).status.code(), Some(0));

    let out = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = batch_cmd(class.path(), out.path())
        .env("TMPDIR", tmp.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let reports = out.path().join("reports");
    let until = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&reports).map(|d| d.count()).unwrap_or(0) < 2 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no clean-up of any kind
    child.wait().unwrap();
    let done = std::fs::read_dir(&reports).unwrap().count();
    assert!((2..6).contains(&done), "killed mid-way, with {done} reports written");
    // Its runs died with it (a parent-death signal), though its workspaces stay until the next batch.
    std::thread::sleep(Duration::from_millis(500));
    let left = processes_mentioning(&tmp.path().display().to_string());
    assert!(left.is_empty(), "processes of the killed batch survive: {left:?}");

    let o = batch_cmd(class.path(), out.path()).env("TMPDIR", tmp.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{done} already graded")), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap(),
        std::fs::read_to_string(whole.path().join("gradebook.csv")).unwrap()
    );
    let stale: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(stale.is_empty(), "the killed batch's workspaces are swept: {stale:?}");
}

#[test]
fn shards_merge_into_the_gradebook_of_one_batch() {
    let class = class_with("sys-exit-on-import");
    let whole = tempfile::tempdir().unwrap();
    assert_eq!(batch(class.path(), whole.path(), &[]).status.code(), Some(0));
    let shards = tempfile::tempdir().unwrap();
    let (one, two) = (shards.path().join("s1"), shards.path().join("s2"));
    assert_eq!(batch(class.path(), &one, &["--shard", "1/2"]).status.code(), Some(0));
    assert_eq!(batch(class.path(), &two, &["--shard", "2/2"]).status.code(), Some(0));
    let names = |d: &Path| rows(d).iter().map(|r| r[0].to_string()).collect::<Vec<_>>();
    assert_eq!(names(&one), ["ada", "cy", "eve"]);
    assert_eq!(names(&two), ["bob", "dee", "fay"]);
    let merged = shards.path().join("all");
    grade().arg("merge").arg(&one).arg(&two).arg("--out").arg(&merged).assert().success();
    assert_eq!(
        std::fs::read_to_string(merged.join("gradebook.csv")).unwrap(),
        std::fs::read_to_string(whole.path().join("gradebook.csv")).unwrap()
    );
    grade().arg("merge").arg(&one).arg(&one).arg("--out").arg(shards.path().join("x")).assert().code(2)
        .stderr(predicate::str::contains("in two shards"));
    grade().args(["batch", "--lab", "lab-0.1", "--shard", "3/2", "."]).arg("--out").arg(&merged).assert().code(2)
        .stderr(predicate::str::contains("K runs from 1 to N"));
}

fn grade_json(dir: &Path, extra: &[&str]) -> Value {
    let o = grade()
        .args(["lab-0.1", "--format", "json", "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn item<'a>(r: &'a Value, id: &str) -> Option<&'a Value> {
    r["tests"].as_array().unwrap().iter().find(|t| t["id"] == id)
}

#[test]
fn a_private_overlay_adds_hidden_items_and_keys_that_students_see_as_pass_or_fail_only() {
    let private = data().join("private");
    let p = private.to_str().unwrap();
    let racy = data().join("submissions/sys-exit-on-import");
    let plain = grade_json(&racy, &[]);
    assert!(item(&plain, "hidden-main-twice").is_none(), "no overlay, no hidden item");

    let student = grade_json(&racy, &["--private", p]);
    let hidden = item(&student, "hidden-main-twice").expect("the hidden item counts and shows");
    assert_eq!(hidden["status"], "failed");
    assert_eq!(hidden["message"], "hidden test: failed");
    assert!(hidden["location"].is_null() && hidden["output"].is_null(), "no detail: {hidden}");
    assert!(hidden["hint"].is_null() && hidden["diagnosis"].is_null(), "no detail: {hidden}");
    assert!(item(&student, "secret-name").is_none(), "secret items are not shown to students");
    assert!(student["spec"]["private"].as_str().unwrap().ends_with("lab-0.1.yaml"));
    assert_ne!(student["spec"]["sha256"], plain["spec"]["sha256"], "the overlay is part of the spec's hash");

    let full = grade_json(&racy, &["--private", p, "--reveal"]);
    assert!(item(&full, "hidden-main-twice").unwrap()["message"].as_str().unwrap().contains("sys.exit"), "--reveal shows why");
    assert_eq!(item(&full, "secret-name").unwrap()["status"], "failed");

    // The overlay's key (q1: b) grades the quiz, not the public one (q1: a).
    let solution = data().join("course/solutions/lab-0.1");
    assert_eq!(item(&grade_json(&solution, &[]), "quiz").unwrap()["status"], "passed");
    assert_eq!(item(&grade_json(&solution, &["--private", p]), "quiz").unwrap()["status"], "failed");

    let gs = grade()
        .args(["lab-0.1", "--format", "gradescope", "--private", p, "--specs"])
        .arg(specs())
        .arg("--submission")
        .arg(&racy)
        .output()
        .unwrap();
    let gs: Value = serde_json::from_slice(&gs.stdout).unwrap();
    let by_name = |n: &str| gs["tests"].as_array().unwrap().iter().find(|t| t["name"].as_str().unwrap().contains(n)).cloned().unwrap();
    assert_eq!(by_name("hidden-main-twice")["visibility"], "visible");
    assert_eq!(by_name("hidden-main-twice")["output"], "hidden test: failed");
    assert_eq!(by_name("secret-name")["visibility"], "hidden", "Gradescope's own hidden");
}

#[test]
fn a_public_quiz_without_keys_waits_for_the_private_overlay() {
    let course = tempfile::tempdir().unwrap();
    let to = course.path().join("specs");
    std::fs::create_dir_all(to.join("lab-0.1")).unwrap();
    let text = std::fs::read_to_string(specs().join("lab-0.1.yaml")).unwrap();
    let keyless = text.replace(", answer: a}", "}");
    assert_ne!(keyless, text);
    std::fs::write(to.join("lab-0.1.yaml"), keyless).unwrap();
    std::fs::copy(specs().join("lab-0.1/checks.py"), to.join("lab-0.1/checks.py")).unwrap();
    let solution = data().join("course/solutions/lab-0.1");
    let run = |extra: &[&str]| -> Value {
        let o = grade().args(["lab-0.1", "--format", "json", "--specs"]).arg(&to).arg("--submission").arg(&solution).args(extra).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let r = run(&[]);
    assert_eq!(item(&r, "quiz").unwrap()["status"], "pending");
    assert!(item(&r, "quiz").unwrap()["message"].as_str().unwrap().contains("questions answered"));
    let quizzes = r["categories"].as_array().unwrap().iter().find(|c| c["id"] == "quizzes").unwrap();
    assert_eq!(quizzes["provisional"], true);
    let p = data().join("private");
    assert_eq!(item(&run(&["--private", p.to_str().unwrap()]), "quiz").unwrap()["status"], "failed", "keyed by the overlay (b)");
}

#[test]
fn overrides_set_manual_scores_mark_them_and_end_the_provisional_state() {
    let class = class();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("scores.csv");
    std::fs::write(&csv, "student,item,points,comment\nada,design,1.5,\"clear, but thin on trade-offs\"\nbob,design,2,good\n").unwrap();
    let out = dir.path().join("out");
    let o = batch(class.path(), &out, &["--overrides", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let ada = report(&out, "ada");
    let design = item(&ada, "design").unwrap();
    assert_eq!(design["points"], 1.5);
    assert_eq!(design["override"]["comment"], "clear, but thin on trade-offs");
    assert_eq!(design["override"]["auto_status"], "pending");
    let cat = ada["categories"].as_array().unwrap().iter().find(|c| c["id"] == "design").unwrap();
    assert_eq!((cat["provisional"].as_bool(), cat["points"].as_f64()), (Some(false), Some(7.5)));
    assert_eq!(ada["score"], 97.5);
    grade().arg("render").arg(out.join("reports/ada.json")).args(["--format", "human"]).assert().success()
        .stdout(predicate::str::contains("instructor's score: 1.5/2: clear, but thin on trade-offs"));
    let cy = report(&out, "cy");
    assert_eq!(item(&cy, "design").unwrap()["status"], "pending", "no override for cy");

    // A changed overrides file applies on the next run without regrading anyone.
    let yaml = dir.path().join("scores.yaml");
    std::fs::write(&yaml, "- {student: ada, item: design, points: 2, comment: revised}\n").unwrap();
    let o = batch(class.path(), &out, &["--overrides", yaml.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 graded, 6 already graded"));
    assert_eq!(report(&out, "ada")["score"], 100.0);
    assert_eq!(item(&report(&out, "bob"), "design").unwrap()["status"], "pending", "bob's override is gone");

    // A bad row names the file, the line and the key.
    std::fs::write(&csv, "student,item,points,comment\nada,desing,1,typo\n").unwrap();
    let o = batch(class.path(), &out, &["--overrides", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("scores.csv:2") && err.contains("key `item`") && err.contains("desing"), "{err}");
    std::fs::write(&yaml, "- {student: ada, item: design, points: 9}\n").unwrap();
    let o = batch(class.path(), &out, &["--overrides", yaml.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 to 2 points"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn rerun_regrades_from_a_report_with_its_seed_and_says_whether_it_matches() {
    let class = class();
    let out = tempfile::tempdir().unwrap();
    assert_eq!(batch(class.path(), out.path(), &["--private", data().join("private").to_str().unwrap()]).status.code(), Some(0));
    let old = report(out.path(), "bob");
    let o = grade().arg("rerun").arg(out.path().join("reports/bob.json")).args(["--format", "json", "--specs"]).arg(specs()).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("same result"), "{}", String::from_utf8_lossy(&o.stderr));
    let new: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(new["grader"]["seed"], old["grader"]["seed"]);
    assert_eq!(new["score"], old["score"]);
    assert!(item(&new, "secret-name").is_some(), "the overlay the report records is used again");
    // A saved report renders in another format without grading again.
    let o = grade().arg("render").arg(out.path().join("reports/bob.json")).args(["--format", "junit"]).output().unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&String::from_utf8_lossy(&o.stdout)).expect("JUnit XML");
    assert_eq!(junit.test_suites[0].test_cases.len(), old["tests"].as_array().unwrap().len());
    // The submission changed: rerun says so.
    std::fs::write(class.path().join("bob/student.py"), "def main():\n    return 42\n").unwrap();
    let o = grade().arg("rerun").arg(out.path().join("reports/bob.json")).args(["--format", "json", "--specs"]).arg(specs()).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the submission changed since") && err.contains("then"), "{err}");
}

/// The pid of the batch worker grading `submission` (its command line names the folder), once it runs.
fn worker_of(submission: &Path, within: Duration) -> Option<i32> {
    let until = Instant::now() + within;
    let wanted = submission.as_os_str().to_string_lossy().into_owned();
    while Instant::now() < until {
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(raw) = std::fs::read(e.path().join("cmdline")) else { continue };
            let args: Vec<String> = raw.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            if args.iter().any(|a| a == "__grade-one") && args.iter().any(|a| *a == wanted) {
                return Some(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Issue 9, item 4: a grading that dies costs its student only; the batch ends with a gradebook.
#[test]
fn a_lost_worker_makes_its_student_crashed_and_a_resume_grades_it() {
    // cy's submission hangs until each code item times out (2 s each): its worker lives long enough to kill.
    let class = class_of(&[
        ("ada", data().join("course/solutions/lab-0.1")),
        ("bob", data().join("submissions/sys-exit-on-import")),
        ("cy", data().join("submissions/infinite-loop")),
    ]);
    let whole = tempfile::tempdir().unwrap();
    assert_eq!(batch(class.path(), whole.path(), &[]).status.code(), Some(0));

    let out = tempfile::tempdir().unwrap();
    let child = batch_cmd(class.path(), out.path()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let pid = worker_of(&class.path().join("cy"), Duration::from_secs(60)).expect("a worker process grading cy");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "the batch goes on: {err}");
    assert!(err.contains("1 crashed"), "{err}");
    let got = rows(out.path());
    let want = rows(whole.path());
    assert_eq!(got.len(), 3, "every student has a row: {got:?}");
    assert_eq!((&got[2][0], &got[2][1]), ("cy", "crashed"));
    assert!(got[2][11].contains("killed by SIGKILL after"), "why: {:?}", got[2]);
    assert_eq!(&got[..2], &want[..2], "the others get their normal scores");
    let errors = std::fs::read_to_string(out.path().join("errors/cy.txt")).unwrap();
    assert!(errors.starts_with("crashed: the grading worker was killed by SIGKILL") && errors.contains("stderr"), "{errors}");
    assert!(!out.path().join("reports/cy.json").exists());
    let summary = std::fs::read_to_string(out.path().join("summary.txt")).unwrap();
    assert!(summary.contains("cy: crashed: the grading worker was killed"), "{summary}");

    // The resume retries cy (not killed this time) and reuses the others' reports.
    let o = batch(class.path(), out.path(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("1 graded, 2 already graded, 0 could not be graded"), "{err}");
    assert!(!out.path().join("errors/cy.txt").exists(), "the crash is forgotten once graded");
    assert_eq!(status(&report(out.path(), "cy"), "run"), "timeout");
    assert_eq!(
        std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap(),
        std::fs::read_to_string(whole.path().join("gradebook.csv")).unwrap()
    );
}

/// A submission that, on import, tries to take the batch down with it: it writes into OUT (found from the
/// batch's command line), kills every batch worker of its class it can see in /proc, and kills its
/// parents one after another from a forked child (which escapes the parent-death signal and is handed to
/// the next child subreaper up each time). It harms only processes of its own class: MARK is the class's
/// folder, so other graders running on this machine are safe from the test.
const HOSTILE: &str = r#"
import os, signal, time

MARK = "@MARK@"


def cmdline(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]


def write_into_out():
    for pid in pids():
        args = cmdline(pid).split()
        if MARK in cmdline(pid) and "--out" in args:
            out = args[args.index("--out") + 1]
            for rel in ("reports/ann.json", "reports/zed.json", "gradebook.csv", "errors/ann.txt", "pwned"):
                try:
                    with open(os.path.join(out, rel), "w") as f:
                        f.write('{"score": 100, "pwned": true}\n')
                except OSError:
                    pass


def kill_workers():
    for pid in pids():
        if "__grade-one" in cmdline(pid) and MARK in cmdline(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def kill_parents():
    for _ in range(100):
        parent = os.getppid()
        # Only the grader's processes (grade, its Python harness): never init or the test itself.
        if parent <= 1 or not ("grade" in cmdline(parent) or "python" in cmdline(parent)):
            break
        try:
            os.kill(parent, signal.SIGKILL)
        except OSError:
            break
        for _ in range(2000):  # at once, until the orphan is handed to the next reaper up
            if os.getppid() != parent:
                break
            time.sleep(0.001)


def forked(attack, delay):
    """Runs `attack` in a child, which escapes the parent-death signal, says its pid, and then stays."""
    if os.fork() == 0:
        with open("/dev/shm/grade-hostile-%s-%d" % (os.path.basename(MARK), os.getpid()), "w") as f:
            f.write(str(os.getpid()))
        time.sleep(delay)
        attack()
        time.sleep(30)
        os._exit(0)


write_into_out()
forked(kill_parents, 0.0)
forked(kill_workers, 0.5)
time.sleep(1)
for _ in range(10):
    try:
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError:
        pass


def main():
    return 42
"#;

/// Issue 9, item 4: a hostile student between two honest ones harms nobody's grade but its own.
#[test]
fn a_hostile_student_between_two_honest_ones_costs_only_itself() {
    let class = class_of(&[
        ("ann", data().join("course/solutions/lab-0.1")),
        ("hal", data().join("course/solutions/lab-0.1")),
        ("zed", data().join("submissions/sys-exit-on-import")),
    ]);
    let mark = class.path().display().to_string();
    std::fs::write(class.path().join("hal/student.py"), HOSTILE.replace("@MARK@", &mark)).unwrap();
    let alone: Vec<Value> = ["ann", "zed"].iter().map(|s| grade_json(&class.path().join(s), &["--seed", "5"])).collect();

    let out = tempfile::tempdir().unwrap();
    // One at a time: without a PID namespace for runs, hal could kill a neighbour's worker running beside it.
    let o = batch_cmd_jobs(class.path(), out.path(), 1).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "the batch survives hal: {err}");
    let got = rows(out.path());
    let names: Vec<&str> = got.iter().map(|r| &r[0]).collect();
    assert_eq!(names, ["ann", "hal", "zed"], "{err}");
    // In its own PID namespace (this machine has them) hal reaches nothing but its own run, which it
    // kills: graded, its runs crashed. Without one, it reaches its worker: the row says crashed.
    let sandboxed = report(out.path(), "ann")["grader"]["sandbox"].as_str().unwrap_or_default().starts_with("pid-namespace");
    if sandboxed {
        assert_eq!(&got[1][1], "graded", "hal reached only its own run: {:?}", got[1]);
        assert!(got[1][11].contains("(crashed)"), "hal's attack ran and killed its own runs: {:?}", got[1]);
    } else {
        assert_eq!(&got[1][1], "crashed", "hal killed its own worker: {:?}", got[1]);
    }
    for (row, alone) in [(&got[0], &alone[0]), (&got[2], &alone[1])] {
        assert_eq!(&row[1], "graded", "{row:?}");
        let score: f64 = row[2].parse().unwrap();
        assert_eq!(score, alone["score"].as_f64().unwrap(), "{} as graded alone: {row:?}", &row[0]);
        assert_eq!(report(out.path(), &row[0])["score"], alone["score"], "{}'s report is its own", &row[0]);
    }
    assert!(!out.path().join("pwned").exists(), "hal could not write into OUT");
    // Nothing of the class outlived the batch: no worker, no run, none of hal's forked attackers.
    std::thread::sleep(Duration::from_millis(300));
    let alive: Vec<String> = std::fs::read_dir("/proc").unwrap().flatten()
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|e| std::fs::read_to_string(e.path().join("stat")).is_ok_and(|s| !s.contains(") Z ")))
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(&mark)))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(alive.is_empty(), "processes of the class outlived the batch: {alive:?}");
    assert!(processes_mentioning(&mark).is_empty(), "no worker of this batch is left");
}

#[test]
fn an_overlays_timed_item_runs_the_overlays_own_workload() {
    let overlay = data().join("private-bench");
    let o = grade()
        .args(["lab-0.6", "--format", "json", "--only", "overlay-speed", "--reveal", "--private"])
        .arg(&overlay)
        .arg("--specs")
        .arg(specs())
        .arg("--submission")
        .arg(data().join("course/solutions/lab-0.6"))
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let t = item(&r, "overlay-speed").expect("the overlay's timed item");
    // The reference measured against itself: passed, or inconclusive on a machine too busy to measure.
    // Never an error or a crash, which is what the public checks.py (no such workload) would give.
    assert!(t["status"] == "passed" || t["status"] == "inconclusive", "{t}");
    assert!(t["measurement"].is_object() || t["status"] == "inconclusive", "{t}");
}
