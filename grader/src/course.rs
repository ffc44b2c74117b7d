//! The course checkout: where specs, starters, solutions and fixtures live, and which labs there are.
use crate::error::{Error, Result};
use crate::spec::{self, Spec};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Course {
    pub specs: PathBuf,
    /// The directory holding `starter/`, `solutions/` and `fixtures/` (the parent of `specs/`).
    pub root: PathBuf,
    /// What performance items are measured against.
    pub perf: Perf,
}

/// What a throughput or memory item is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Perf {
    /// The reference solution, run beside the submission; where it is absent (the student kit), the
    /// reference's recorded baseline (`baselines/<lab>.json`), scaled to this machine: an estimate.
    #[default]
    Reference,
    /// The recorded baseline even where the reference is present (`--estimate`: what the kit would say).
    Estimate,
    /// Nothing: the submission (the reference) is timed alone for its baseline (`grade baseline`).
    Record,
}

impl Course {
    /// `--specs DIR` when given; otherwise the `specs/` of the checkout found from `start` upwards.
    pub fn locate(specs: Option<&Path>, start: &Path) -> Result<Course> {
        if let Some(dir) = specs {
            if !dir.is_dir() {
                return Err(Error::Usage(format!("--specs {}: not a directory", dir.display())));
            }
            let specs = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
            let root = specs.parent().map(Path::to_path_buf).unwrap_or_else(|| specs.clone());
            return Ok(Course { specs, root, perf: Perf::Reference });
        }
        let mut here = Some(start);
        while let Some(dir) = here {
            let candidate = dir.join("specs");
            if candidate.is_dir() && has_yaml(&candidate) {
                return Ok(Course { specs: candidate, root: dir.to_path_buf(), perf: Perf::Reference });
            }
            here = dir.parent();
        }
        Err(Error::Usage(format!(
            "no specs/ directory with lab specs in {} or any parent: run grade inside the course checkout or pass --specs DIR",
            start.display()
        )))
    }

    /// Lab ids, sorted in course order (lab-1.2 before lab-1.10).
    pub fn labs(&self) -> Result<Vec<String>> {
        let mut labs: Vec<String> = std::fs::read_dir(&self.specs)
            .map_err(|e| Error::io(&self.specs, e))?
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                (p.extension().is_some_and(|x| x == "yaml")).then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .collect();
        labs.sort_by_key(|l| lab_order(l));
        Ok(labs)
    }

    pub fn spec_path(&self, lab: &str) -> PathBuf {
        self.specs.join(format!("{lab}.yaml"))
    }

    pub fn load(&self, lab: &str) -> Result<Spec> {
        let path = self.spec_path(lab);
        if !path.is_file() {
            return Err(Error::UnknownLab { lab: lab.into(), specs: self.specs.clone(), known: self.labs().unwrap_or_default() });
        }
        let mut spec = spec::load(&path)?;
        spec::apply_keys(&mut spec, &self.keys())?;
        Ok(spec)
    }

    /// The answer keys' folder: `keys/` beside `specs/` (absent from the student kit).
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    pub fn starter(&self, lab: &str) -> PathBuf {
        self.root.join("starter").join(lab)
    }

    pub fn solution(&self, lab: &str) -> PathBuf {
        self.root.join("solutions").join(lab)
    }

    /// Fixture cases of a lab: (name, directory), sorted.
    pub fn fixtures(&self, lab: &str) -> Vec<(String, PathBuf)> {
        let dir = self.root.join("fixtures").join(lab);
        let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().is_dir())
                    .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

fn has_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().any(|e| e.path().extension().is_some_and(|x| x == "yaml")))
        .unwrap_or(false)
}

/// Sort key: family (lab, deliverable, ex, capstone), then numbers compared as numbers.
fn lab_order(id: &str) -> (u8, Vec<u32>, String) {
    let family = match id.split('-').next().unwrap_or("") {
        "lab" | "deliverable" => 0,
        "ex" => 1,
        "capstone" => 2,
        _ => 3,
    };
    let nums: Vec<u32> = id
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    // A module's deliverable comes after its labs: deliverable-2 sorts as 2.999.
    let nums = if id.starts_with("deliverable-") { vec![nums.first().copied().unwrap_or(0), 999] } else { nums };
    (family, nums, id.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn labs_sort_in_course_order() {
        let mut v = vec!["lab-1.10", "ex-pool", "deliverable-1", "lab-1.2", "lab-2.1"];
        v.sort_by_key(|l| super::lab_order(l));
        assert_eq!(v, ["lab-1.2", "lab-1.10", "deliverable-1", "lab-2.1", "ex-pool"]);
    }
}
