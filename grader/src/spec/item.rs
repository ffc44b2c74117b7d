//! One item of a spec: the keys its kind takes, their ranges and defaults.
use super::raw::RawItem;
use super::validate::Ctx;
use super::{hints, Bench, DesignDoc, Item, Kind, LintRules, Limits, MemoryTarget, Quiz, Task};
use crate::error::Result;
use std::path::Path;
use std::time::Duration;

pub const LINT_RULES: &[&str] =
    &["lock-without-with", "bare-except", "thread-not-joined", "blocking-in-async", "pool-not-closed"];

pub(super) fn validate_item(
    ctx: &Ctx,
    it: RawItem,
    limits: &Limits,
    checks: &Path,
    checks_text: &mut Option<String>,
) -> Result<Item> {
    let kind = it.kind.value;
    let kind_name = serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    for (key, loc) in it.given_keys() {
        if !kind.allowed_keys().contains(&key) {
            return Err(ctx.err(loc, key, format!("does not apply to an item of kind `{kind_name}`")));
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
    let task = match kind {
        Kind::Compile => Task::Compile,
        Kind::Deterministic => Task::Deterministic,
        Kind::Stress => Task::Stress,
        Kind::Deadlock => Task::Deadlock,
        Kind::Manual => Task::Manual,
        Kind::Throughput => {
            let target = it.target_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "target_ratio", "a throughput item needs `target_ratio`"))?;
            let floor = it.floor_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "floor_ratio", "a throughput item needs `floor_ratio`"))?;
            if !(target.value > floor.value && floor.value >= 0.0) {
                return Err(ctx.err(&target.referenced, "target_ratio", "must be greater than `floor_ratio`, which must be >= 0"));
            }
            let samples = it.samples.as_ref().map(|s| s.value).unwrap_or(3);
            if samples == 0 || samples > 50 {
                return Err(ctx.err(&it.samples.as_ref().unwrap().referenced, "samples", "between 1 and 50"));
            }
            Task::Throughput(Bench {
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
        }
        Kind::Memory => {
            let target = it.target_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "target_ratio", "a memory item needs `target_ratio`"))?;
            let floor = it.floor_ratio.as_ref().ok_or_else(|| ctx.err(&it.kind.referenced, "floor_ratio", "a memory item needs `floor_ratio`"))?;
            if !(floor.value > target.value && target.value > 0.0) {
                return Err(ctx.err(&target.referenced, "target_ratio", "memory is better lower: `target_ratio` must be above 0 and below `floor_ratio`"));
            }
            Task::Memory(MemoryTarget { target_ratio: target.value, floor_ratio: floor.value })
        }
        Kind::Quiz => {
            let q = it.questions.ok_or_else(|| ctx.err(&it.kind.referenced, "questions", "a quiz item needs `questions`"))?;
            if q.value.is_empty() {
                return Err(ctx.err(&q.referenced, "questions", "list at least one question"));
            }
            for (qid, question) in &q.value {
                if question.answer.as_ref().is_some_and(|a| a.choices().is_empty()) {
                    return Err(ctx.err(&q.referenced, "answer", format!("question `{qid}` has an empty answer")));
                }
            }
            Task::Quiz(Quiz {
                answers_file: it.answers_file.map(|s| s.value).unwrap_or_else(|| "quiz.yaml".into()),
                questions: q.value,
            })
        }
        Kind::Design => {
            let sections = it.sections.ok_or_else(|| ctx.err(&it.kind.referenced, "sections", "a design item needs `sections`"))?;
            Task::Design(DesignDoc {
                file: it.file.map(|s| s.value).unwrap_or_else(|| "DESIGN.md".into()),
                sections: sections.value,
                min_words: it.min_words.map(|s| s.value).unwrap_or(40),
            })
        }
        Kind::Lint => {
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
            Task::Lint(LintRules { deduct: it.deduct.map(|d| d.value).unwrap_or(1.0), rules })
        }
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
        task,
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
        start_method: it.start_method.map(|m| m.value),
        scheduler: it.scheduler.map(|m| m.value).unwrap_or_default(),
        repetitions,
        yield_probability,
        lock_order: it.lock_order.map(|b| b.value).unwrap_or(false),
        checks: None,
    })
}

/// Whether Python source defines a top-level function `name`: `def name(`, or a top-level assignment that
/// binds it (`a, name = library.workloads(...)`, a function the check library builds).
fn defines_function(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        let rest = l.strip_prefix("async def ").or_else(|| l.strip_prefix("def "));
        if matches!(rest, Some(r) if r.strip_prefix(name).is_some_and(|after| after.trim_start().starts_with('('))) {
            return true;
        }
        let Some((targets, _)) = l.split_once(" = ") else { return false };
        !l.starts_with(char::is_whitespace)
            && targets.split(',').all(|t| {
                let t = t.trim();
                !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            && targets.split(',').any(|t| t.trim() == name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_functions_only() {
        let src = "def a(ctx):\n    pass\n    def b(ctx): pass\nasync def c (ctx): pass\ndef ab(ctx): pass\n";
        assert!(defines_function(src, "a"));
        assert!(!defines_function(src, "b"));
        assert!(defines_function(src, "c"));
        assert!(defines_function(src, "ab"));
        assert!(!defines_function(src, "d"));
        let bound = "a, wall_time = lib.workloads(m, c)\n    inner = 1\nx == y = 2\n";
        assert!(defines_function(bound, "wall_time"));
        assert!(defines_function(bound, "a"));
        assert!(!defines_function(bound, "inner"));
        assert!(!defines_function(bound, "wall"));
        assert!(!defines_function(bound, "x"));
    }
}
