//! Hints per way an item can fail: an item's optional `hints: {deadlock: ..., wrong_result: ...}`. The
//! report shows the one that fits what happened, else the hint the verdict would give without them.
use super::validate::Ctx;
use super::Kind;
use crate::error::Result;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// How an item failed, as far as a hint is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// A wait-for cycle among locks (or a lock-order cycle that can close into one).
    Deadlock,
    /// Every thread (or task) waits and nothing is left to wake them.
    LostWakeup,
    /// Still running when its time was up.
    Timeout,
    /// A race or a plain mistake: the check saw a wrong result.
    WrongResult,
    /// The student's code raised, exited or killed its process.
    Crash,
    /// Processes, shared memory or descriptors left behind.
    Leak,
    /// Correct, but slower (or bigger) than the reference allows.
    Slow,
}

impl Failure {
    pub const ALL: [Failure; 7] =
        [Failure::Deadlock, Failure::LostWakeup, Failure::Timeout, Failure::WrongResult, Failure::Crash, Failure::Leak, Failure::Slow];

    /// The key in a spec's `hints:`.
    pub fn key(self) -> &'static str {
        match self {
            Failure::Deadlock => "deadlock",
            Failure::LostWakeup => "lost_wakeup",
            Failure::Timeout => "timeout",
            Failure::WrongResult => "wrong_result",
            Failure::Crash => "crash",
            Failure::Leak => "leak",
            Failure::Slow => "slow",
        }
    }
}

/// An item's hints per failure; each optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hints {
    #[serde(default)]
    deadlock: Option<String>,
    #[serde(default)]
    lost_wakeup: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    wrong_result: Option<String>,
    #[serde(default)]
    crash: Option<String>,
    #[serde(default)]
    leak: Option<String>,
    #[serde(default)]
    slow: Option<String>,
}

impl Hints {
    pub fn get(&self, failure: Failure) -> Option<&str> {
        match failure {
            Failure::Deadlock => self.deadlock.as_deref(),
            Failure::LostWakeup => self.lost_wakeup.as_deref(),
            Failure::Timeout => self.timeout.as_deref(),
            Failure::WrongResult => self.wrong_result.as_deref(),
            Failure::Crash => self.crash.as_deref(),
            Failure::Leak => self.leak.as_deref(),
            Failure::Slow => self.slow.as_deref(),
        }
    }
}

/// The hint an item shows: the item's hint for how it failed when it has one, else `otherwise` (what the
/// verdict chose: a check's `hint=`, the item's general `hint`, the harness's word on a lost wake-up).
pub fn choose(item: &super::Item, failure: Option<Failure>, otherwise: Option<String>) -> Option<String> {
    failure.and_then(|f| item.hints.get(f)).map(|h| h.trim().to_string()).or(otherwise)
}

/// Checks an item's `hints:` (only items that run the student's code can fail these ways).
pub(super) fn validate(ctx: &Ctx, raw: Option<Spanned<Hints>>, kind: Kind) -> Result<Hints> {
    let Some(raw) = raw else { return Ok(Hints::default()) };
    if !kind.runs_check() {
        return Err(ctx.err(&raw.referenced, "hints", "applies only to items that run a check (deterministic, stress, deadlock, throughput, memory)"));
    }
    if let Some(f) = Failure::ALL.into_iter().find(|f| raw.value.get(*f).is_some_and(|h| h.trim().is_empty())) {
        return Err(ctx.err(&raw.referenced, "hints", format!("`{}` is empty: write the hint or leave the key out", f.key())));
    }
    Ok(raw.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_own_key() {
        let h: Hints = serde_json::from_value(serde_json::json!({"deadlock": "a", "slow": "b"})).unwrap();
        assert_eq!(h.get(Failure::Deadlock), Some("a"));
        assert_eq!(h.get(Failure::Slow), Some("b"));
        assert_eq!(h.get(Failure::LostWakeup), None);
        let keys: std::collections::BTreeSet<&str> = Failure::ALL.iter().map(|f| f.key()).collect();
        assert_eq!(keys.len(), Failure::ALL.len());
        assert!(serde_json::from_value::<Hints>(serde_json::json!({"deadlocks": "a"})).is_err());
    }
}
