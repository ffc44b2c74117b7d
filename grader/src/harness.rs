//! The Python harness, embedded in the binary and written out once per grading.
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

// FILES: every `src/harness/py/*.py`, listed by build.rs.
include!(concat!(env!("OUT_DIR"), "/harness_files.rs"));

/// Writes the harness into `dir`; returns the entry script.
pub fn install(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, text) in FILES {
        std::fs::write(dir.join(name), text).map_err(|e| Error::io(dir.join(name), e))?;
    }
    Ok(dir.join("grade_harness.py"))
}

#[cfg(test)]
mod tests {
    use super::FILES;
    use std::collections::{BTreeMap, BTreeSet};

    type Graph = BTreeMap<String, BTreeSet<String>>;

    /// The harness modules each module imports (`import grade_x`, `from grade_x import ...`, at any depth).
    fn imports() -> Graph {
        let modules: BTreeSet<&str> = FILES.iter().map(|(n, _)| n.trim_end_matches(".py")).collect();
        FILES
            .iter()
            .map(|(name, text)| {
                let me = name.trim_end_matches(".py");
                let used = text
                    .lines()
                    .filter_map(|l| {
                        let l = l.trim_start();
                        let rest = l.strip_prefix("import ").or_else(|| l.strip_prefix("from "))?;
                        let module = rest.split([' ', ',', '.']).next()?;
                        (modules.contains(module) && module != me).then(|| module.to_string())
                    })
                    .collect();
                (me.to_string(), used)
            })
            .collect()
    }

    /// A circle of imports (its modules in order), found depth-first; `None` when there is none.
    fn circle(graph: &Graph) -> Option<Vec<String>> {
        fn visit(m: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|p| p == m) {
                return Some(path[at..].iter().cloned().chain([m.to_string()]).collect());
            }
            if !done.insert(m.to_string()) {
                return None;
            }
            path.push(m.to_string());
            let found = graph.get(m).into_iter().flatten().find_map(|next| visit(next, graph, path, done));
            path.pop();
            found
        }
        let mut done = BTreeSet::new();
        graph.keys().find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
    }

    #[test]
    fn the_harness_has_no_import_circle() {
        let graph = imports();
        assert!(graph["grade_check"].contains("grade_ctx") && graph["grade_sched"].contains("grade_deadlock"), "{graph:?}");
        assert_eq!(circle(&graph), None);
    }

    #[test]
    fn a_circle_is_found_and_named() {
        let g = |edges: &[(&str, &str)]| -> Graph {
            let mut g = Graph::new();
            for (a, b) in edges {
                g.entry(a.to_string()).or_default().insert(b.to_string());
                g.entry(b.to_string()).or_default();
            }
            g
        };
        assert_eq!(circle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
        assert_eq!(circle(&g(&[("a", "b"), ("a", "c"), ("b", "c")])), None, "a diamond is no circle");
    }
}
