//! A failure under the controlled scheduler replays exactly: for every lab item that runs under it and
//! every fixture of that lab expected to fail it, the failing seed the report names, given back with
//! `--only ITEM --seed S`, fails the same way 10 times out of 10.
use grade::course::Course;
use grade::grading::Grader;
use grade::python::Python;
use grade::report::model::Status;
use grade::spec::{Kind, Scheduler};
use std::path::Path;

const REPLAYS: usize = 10;

fn cases(course: &Course, root: &Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for lab in course.labs().unwrap() {
        let spec = course.load(&lab).unwrap();
        let controlled: Vec<&str> = spec
            .items
            .iter()
            .filter(|i| matches!(i.kind(), Kind::Stress | Kind::Deadlock) && i.scheduler == Scheduler::Controlled)
            .map(|i| i.id.as_str())
            .collect();
        let Ok(dirs) = std::fs::read_dir(root.join("fixtures").join(&lab)) else { continue };
        let mut dirs: Vec<_> = dirs.flatten().map(|d| d.path()).collect();
        dirs.sort();
        for dir in dirs {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("hostile-") {
                continue; // they fail by design of the attack, not by a schedule
            }
            let Ok(expect) = grade::verify::load_expect(&dir) else { continue };
            for (id, status) in &expect.tests {
                if controlled.contains(&id.as_str()) && matches!(status, Status::Failed | Status::Deadlock) {
                    out.push((lab.clone(), name.clone(), id.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn controlled_failures_replay_ten_times_out_of_ten() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let course = Course::locate(Some(&root.join("specs")), root).unwrap();
    let python = Python::resolve(None).unwrap();
    let grader = Grader { course, python, managed: Default::default(), jobs: 1 };
    let cases = cases(&grader.course, root);
    assert!(cases.len() >= 8, "the racy fixtures of the controlled labs: {cases:?}");
    let problems: Vec<String> = std::thread::scope(|s| {
        let halves: Vec<_> = cases
            .chunks(cases.len().div_ceil(2))
            .map(|chunk| {
                let grader = &grader;
                s.spawn(move || chunk.iter().filter_map(|c| replay(grader, root, c).err()).collect::<Vec<_>>())
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn replay(grader: &Grader, root: &Path, (lab, fixture, item): &(String, String, String)) -> Result<(), String> {
    let spec = grader.course.load(lab).unwrap();
    let dir = root.join("fixtures").join(lab).join(fixture);
    let only = [item.clone()];
    let first = grader.grade_only(&spec, &dir, Some(1), &only).map_err(|e| e.to_string())?;
    let t = first.tests.iter().find(|t| &t.id == item).unwrap();
    if !matches!(t.status, Status::Failed | Status::Deadlock) {
        return Err(format!("{lab} {fixture} {item}: expected a failure to replay, got {}", t.status.as_str()));
    }
    let seed = t.seed.ok_or_else(|| format!("{lab} {fixture} {item}: a failure without its seed"))?;
    let want = |t: &grade::report::model::TestResult| (t.status, t.message.clone(), t.diagnosis.as_ref().map(|d| d.summary.clone()));
    let mut reference = None;
    for k in 0..REPLAYS {
        let r = grader.grade_only(&spec, &dir, Some(seed), &only).map_err(|e| e.to_string())?;
        let got = want(r.tests.iter().find(|t| &t.id == item).unwrap());
        if k == 0 && !got.1.as_deref().unwrap_or("").contains(&format!("--only {item} --seed {seed} (exact")) {
            return Err(format!("{lab} {fixture} {item}: no exact replay command in {:?}", got.1));
        }
        match &reference {
            None => reference = Some(got),
            Some(r0) if *r0 != got => {
                return Err(format!("{lab} {fixture} {item}: replay {k} of seed {seed} differs:\n  {r0:?}\n  {got:?}"))
            }
            Some(_) => {}
        }
    }
    Ok(())
}
