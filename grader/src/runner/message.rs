//! The harness's messages on the result channel, typed: what `chan.send(type, **fields)` in
//! `harness/py/grade_harness.py` and `grade_check.py` writes, one nonce-stamped JSON line each.
//! A stamped line that is none of these is `Malformed`: the grader never guesses at what it meant.
use crate::report::model::{CompileError, Finding};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A process the harness names (left running, never joined, or outliving the check).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Proc {
    #[serde(default)]
    pub pid: i64,
    #[serde(default)]
    pub cmdline: String,
}

/// A place in the student's code.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Location {
    pub file: String,
    #[serde(default)]
    pub line: u64,
    #[serde(default)]
    pub function: Option<String>,
}

impl Location {
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// One run of a check (one seed): the agent's own verdict, then the judge's (see `judge::apply`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RunReport {
    /// The run's number; -1 on the report the channel itself writes for a forged message.
    #[serde(default)]
    pub index: Option<i64>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub ok: bool,
    #[serde(default, deserialize_with = "text")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub hint: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub diagnosis: Option<Value>,
    /// The tripwire's finding (a list) when the run touched the grader's machinery; else null or false.
    #[serde(default)]
    pub tampered: Option<Value>,
    /// What the workload recorded, for the judge; removed once judged.
    #[serde(default)]
    pub observations: Option<Map<String, Value>>,
    /// Set once the judge has given (or refused) its verdict.
    #[serde(skip)]
    pub judged: bool,
}

/// A message or hint as text: a check that failed with something other than a string still says it.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

impl RunReport {
    pub fn is_tampered(&self) -> bool {
        matches!(self.tampered, Some(Value::Array(_)))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Message {
    /// The harness is up (its process id: the check's process).
    Hello {
        pid: i32,
        #[serde(default)]
        python: Option<String>,
    },
    /// The harness's own fault.
    Error {
        message: String,
        #[serde(default)]
        trace: Option<String>,
    },
    Compiled { errors: Vec<CompileError> },
    Lint { findings: Vec<Finding> },
    StudentRoot { root: String },
    Run(RunReport),
    /// A deadlock the watchdog proved (the run is stopped after it).
    Deadlock {
        #[serde(default)]
        diagnosis: Value,
        #[serde(default)]
        index: Option<u64>,
        #[serde(default)]
        seed: Option<u64>,
    },
    /// Memory items: the harness's resident memory before the check, and the kernel's high-water marks.
    Baseline { bytes: u64 },
    Peak { bytes: u64 },
    /// Child processes still running after the check (killed since).
    Leaked { processes: Vec<Proc> },
    /// Child processes finished but never joined.
    Zombies { processes: Vec<Proc> },
    /// Processes that outlived the check, found by the harness's supervisor.
    Strays { processes: Vec<Proc> },
    /// The check's process died of this signal, as its supervisor saw: the supervisor is the run's
    /// process 1, which cannot die of a signal it sends itself, so it exits 1 after saying so.
    Killed { signal: i32 },
    /// Bench mode: the workload is set up and warmed; then one `sample` per command.
    Ready,
    Sample {
        #[serde(default)]
        seconds: f64,
        iterations: u64,
        #[serde(default)]
        cpu_seconds: f64,
    },
    Done,
    /// A stamped line that is none of the above (the harness's bug, or a forgery with a stolen nonce).
    #[serde(skip)]
    Malformed { error: String },
}

impl Message {
    /// The message a stamped JSON line carries.
    pub fn parse(v: Value) -> Message {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("(none)").to_string();
        serde_json::from_value(v).unwrap_or_else(|e| Message::Malformed { error: format!("a `{kind}` message: {e}") })
    }

    /// Ends a run's stream of messages: nothing useful follows.
    pub fn is_final(&self) -> bool {
        matches!(self, Message::Done | Message::Deadlock { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_parse_by_their_type() {
        assert_eq!(Message::parse(json!({"type": "done"})), Message::Done);
        assert_eq!(Message::parse(json!({"type": "hello", "pid": 7, "python": "3.11.7"})), Message::Hello { pid: 7, python: Some("3.11.7".into()) });
        let run = Message::parse(json!({"type": "run", "index": 1, "seed": 9, "ok": true, "message": null, "hint": null,
            "location": null, "diagnosis": null, "tampered": false, "observations": {"n": 3}}));
        let Message::Run(r) = run else { panic!("a run: {run:?}") };
        assert_eq!((r.index, r.seed, r.ok, r.is_tampered()), (Some(1), Some(9), true, false));
        assert_eq!(r.observations.unwrap()["n"], 3);
        let Message::Run(t) = Message::parse(json!({"type": "run", "index": 0, "ok": false, "tampered": ["m", "h"]})) else { panic!() };
        assert!(t.is_tampered());
        // The channel's own report of a forged message has no run number (-1); a message that is not a
        // string is still said.
        let Message::Run(f) = Message::parse(json!({"type": "run", "index": -1, "ok": false, "seed": null, "message": ["x", 1],
            "location": null, "tampered": [{"what": "called the grader's result channel"}]})) else { panic!() };
        assert_eq!((f.index, f.message.as_deref(), f.is_tampered()), (Some(-1), Some(r#"["x",1]"#), true));
        assert_eq!(
            Message::parse(json!({"type": "leaked", "processes": [{"pid": 5, "cmdline": "python w.py"}]})),
            Message::Leaked { processes: vec![Proc { pid: 5, cmdline: "python w.py".into() }] }
        );
        assert_eq!(Message::parse(json!({"type": "student-root", "root": "/r/"})), Message::StudentRoot { root: "/r/".into() });
    }

    #[test]
    fn a_line_of_no_known_shape_is_malformed_and_says_why() {
        for v in [json!({"type": "victory"}), json!({"no": "type"}), json!({"type": "sample", "iterations": "many"}), json!([1])] {
            let m = Message::parse(v.clone());
            assert!(matches!(&m, Message::Malformed { error } if !error.is_empty()), "{v} gave {m:?}");
        }
        let Message::Malformed { error } = Message::parse(json!({"type": "victory"})) else { panic!() };
        assert!(error.contains("`victory`"), "{error}");
    }
}
