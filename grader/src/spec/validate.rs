//! Loading a spec: YAML with line numbers, then validation into the model (one item at a time: `item.rs`).
use super::item::validate_item;
use super::raw::RawSpec;
use super::{Category, Item, Kind, Limits, Spec};
use crate::error::{Error, Result};
use serde_saphyr::Location;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

pub(super) struct Ctx<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
}

impl Ctx<'_> {
    pub(super) fn err(&self, loc: &Location, key: &str, message: impl Into<String>) -> Error {
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
    let budget = match &raw.budget_s {
        Some(b) if !(b.value > 0.0 && b.value <= 3600.0) => {
            return Err(ctx.err(&b.referenced, "budget_s", "seconds, more than 0 and at most 3600"))
        }
        Some(b) => Some(Duration::from_secs_f64(b.value)),
        None => None,
    };
    Ok(Spec {
        budget,
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
    let correctness = |i: &Item| matches!(i.kind(), Kind::Deterministic | Kind::Stress | Kind::Deadlock);
    let defaults: Vec<String> =
        items.iter().filter(|(i, _)| i.category == Category::CompletionQuality && correctness(i)).map(|(i, _)| i.id.clone()).collect();
    let by_id: BTreeMap<String, bool> = items.iter().map(|(i, _)| (i.id.clone(), correctness(i))).collect();
    let mut out = Vec::new();
    for (mut item, at) in items {
        if matches!(item.kind(), Kind::Throughput | Kind::Memory) {
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
}
