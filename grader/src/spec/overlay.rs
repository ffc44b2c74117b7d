//! An instructor's private overlay (`--private DIR`): `DIR/<lab>.yaml` adds hidden items, with their checks
//! in DIR, and answer keys that the public spec leaves out. Students never see the overlay.
//!
//! ```yaml
//! lab: lab-2.1
//! checks: lab-2.1/hidden_checks.py   # beside the overlay; default <lab>/checks.py
//! items:                             # the public spec's item keys; visibility defaults to hidden
//!   - {id: hidden-stress, name: ..., category: completion_quality, kind: stress, points: 3, check: ...}
//! answers:                           # quiz keys: item id -> question id -> answer
//!   quiz: {q3: b}
//! ```
use super::item::validate_item;
use super::raw::RawItem;
use super::validate::Ctx;
use super::{parse_yaml, Answer, Kind, Spec, Visibility};
use crate::error::{Error, Result};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverlay {
    lab: Spanned<String>,
    #[serde(default)]
    checks: Option<String>,
    #[serde(default)]
    items: Vec<RawItem>,
    #[serde(default)]
    answers: BTreeMap<String, Spanned<BTreeMap<String, Answer>>>,
}

/// Merges `dir/<lab>.yaml` into `spec`. A lab without an overlay file is left as it is.
pub fn apply_overlay(spec: &mut Spec, dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!("--private {}: not a directory", dir.display())));
    }
    if let Some(path) = merge(spec, dir)? {
        spec.overlay = Some(path);
    }
    Ok(())
}

/// The course's answer keys, `keys/<lab>.yaml` beside `specs/` in the instructor's checkout (an overlay
/// that only gives `answers`): merged when present. The student kit has no `keys/`, so its quizzes say how
/// many questions are answered and wait for the key (`pending`).
pub fn apply_keys(spec: &mut Spec, dir: &Path) -> Result<()> {
    if dir.is_dir() {
        if let Some(path) = merge(spec, dir)? {
            spec.keys = Some(path);
        }
    }
    Ok(())
}

fn merge(spec: &mut Spec, dir: &Path) -> Result<Option<std::path::PathBuf>> {
    let path = dir.join(format!("{}.yaml", spec.id));
    if !path.is_file() {
        return Ok(None);
    }
    let path = path.canonicalize().map_err(|e| Error::io(&path, e))?;
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let raw: RawOverlay = parse_yaml(&path, &text)?;
    let ctx = Ctx { file: &path, text: &text };
    if raw.lab.value != spec.id {
        return Err(ctx.err(&raw.lab.referenced, "lab", format!("`{}` must be `{}`, the file's lab", raw.lab.value, spec.id)));
    }
    let base = path.parent().unwrap_or(dir);
    let checks = base.join(raw.checks.clone().unwrap_or_else(|| format!("{}/checks.py", spec.id)));
    let mut checks_text = None;
    for it in raw.items {
        if spec.items.iter().any(|i| i.id == it.id.value) {
            return Err(ctx.err(&it.id.referenced, "id", format!("item `{}` is already in the public spec", it.id.value)));
        }
        let defaulted = it.visibility.is_none();
        let mut item = validate_item(&ctx, it, &spec.limits, &checks, &mut checks_text)?;
        if defaulted {
            item.visibility = Visibility::Hidden;
        }
        if item.check.is_some() {
            item.checks = Some(checks.clone());
        }
        spec.items.push(item);
    }
    for (item_id, keys) in raw.answers {
        let Some(item) = spec.items.iter_mut().find(|i| i.id == item_id && i.kind() == Kind::Quiz) else {
            return Err(ctx.err(&keys.referenced, "answers", format!("no quiz item `{item_id}` in {}", spec.path.display())));
        };
        let crate::spec::Task::Quiz(quiz) = &mut item.task else { continue };
        for (qid, answer) in keys.value {
            let Some(q) = quiz.questions.get_mut(&qid) else {
                return Err(ctx.err(&keys.referenced, "answers", format!("quiz `{item_id}` has no question `{qid}`")));
            };
            if answer.choices().is_empty() {
                return Err(ctx.err(&keys.referenced, "answers", format!("the key of `{item_id}.{qid}` is empty")));
            }
            q.answer = Some(answer);
        }
    }
    Ok(Some(path))
}
