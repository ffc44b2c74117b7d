//! The judge/agent protocol's messages, typed. Mirrored by `harness/py/grade_protocol.py`, which says how
//! they flow: the grader asks the judge for a check's inputs, runs the workload in the submission's
//! process, and asks the judge for the verdict on what the workload observed.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A request to the judge process: one JSON line.
#[derive(Debug, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request<'a> {
    /// Which checks the judge module judges, and which of them plan their inputs.
    Describe,
    /// A run's inputs, chosen by the judge for this seed.
    Plan { check: &'a str, params: &'a Value, seed: u64 },
    /// The verdict on one run's observations.
    Judge { check: &'a str, params: &'a Value, seed: u64, inputs: &'a Value, observations: &'a Map<String, Value> },
}

/// The judge's answer to `describe`.
#[derive(Debug, Default, Deserialize)]
pub struct Described {
    pub judges: Vec<String>,
    pub plans: Vec<String>,
}

/// The judge's answer to `plan`.
#[derive(Debug, Deserialize)]
pub struct Planned {
    pub inputs: Value,
}

/// The judge's answer to `judge`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Verdict {
    pub ok: bool,
    pub message: Option<String>,
    pub hint: Option<String>,
}

/// Any answer: the judge's own fault is `{"error": ...}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Reply<T> {
    Error { error: String },
    Ok(T),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_by_op() {
        let params = serde_json::json!({"threads": 4});
        let line = serde_json::to_string(&Request::Plan { check: "c", params: &params, seed: 7 }).unwrap();
        assert_eq!(line, r#"{"op":"plan","check":"c","params":{"threads":4},"seed":7}"#);
        assert_eq!(serde_json::to_string(&Request::Describe).unwrap(), r#"{"op":"describe"}"#);
    }

    #[test]
    fn an_error_reply_is_told_apart_from_a_verdict() {
        let e: Reply<Verdict> = serde_json::from_str(r#"{"error": "boom"}"#).unwrap();
        assert!(matches!(e, Reply::Error { error } if error == "boom"));
        let v: Reply<Verdict> = serde_json::from_str(r#"{"ok": false, "message": "m", "hint": null}"#).unwrap();
        assert!(matches!(v, Reply::Ok(Verdict { ok: false, .. })));
    }
}
