//! Items judged without running the student's code: compile, quiz, design, manual; and lint's scoring.
use super::verdict::{blank, grader_error, output_of};
use crate::report::model::{Compile, Status, TestResult};
use crate::runner::RunResult;
use crate::spec::{self, Answer, DesignDoc, Item, LintRules, Quiz};
use crate::submission::{read_capped, Unreadable};
use std::collections::BTreeMap;
use std::path::Path;

/// Bytes read of a quiz's answers or a design discussion.
const TEXT_CAP: u64 = 256 * 1024;

/// A text file of the submission (answers, discussion), read safely; the error says why not.
fn read_text(dir: &Path, rel: &str) -> Result<String, Unreadable> {
    read_capped(dir, Path::new(rel), TEXT_CAP).map(|b| String::from_utf8_lossy(&b).into_owned())
}

pub fn compile_item(item: &Item, compile: &Compile) -> TestResult {
    if compile.ok {
        return blank(item, Status::Passed);
    }
    let mut r = blank(item, Status::Failed);
    let e = &compile.errors[0];
    r.message = Some(if e.line > 0 {
        format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message)
    } else {
        format!("{}: {}", e.file, e.message)
    });
    r.location = (e.line > 0).then(|| format!("{}:{}", e.file, e.line));
    r
}

pub fn manual(item: &Item) -> TestResult {
    let mut r = blank(item, Status::Pending);
    r.message = Some("scored by an instructor".into());
    r
}

pub fn quiz(item: &Item, quiz: &Quiz, dir: &Path) -> TestResult {
    let keyless = quiz.questions.values().filter(|q| q.answer.is_none()).count();
    let mut r = blank(item, Status::Failed);
    let text = match read_text(dir, &quiz.answers_file) {
        Ok(t) => t,
        Err(Unreadable::Missing) => {
            r.message = Some(format!("no {} in the submission", quiz.answers_file));
            r.hint = Some(format!("copy {} from the starter and fill in each answer", quiz.answers_file));
            return r;
        }
        Err(e) => {
            r.message = Some(format!("{}: the answers must be in the file itself", e.describe(&quiz.answers_file)));
            r.hint = Some(format!("{} must be a plain file of at most {} KiB", quiz.answers_file, TEXT_CAP / 1024));
            return r;
        }
    };
    let answers: BTreeMap<String, Option<Answer>> = if text.trim().is_empty() {
        BTreeMap::new()
    } else {
        match spec::parse_yaml(Path::new(&quiz.answers_file), &text) {
            Ok(a) => a,
            Err(e) => {
                r.message = Some(format!("cannot read the answers: {e}"));
                r.hint = Some("one line per question: `q1: b`, or `q2: [a, c]` for several".into());
                return r;
            }
        }
    };
    if keyless > 0 {
        // The student kit (or a spec whose keys are the instructor's): say what was answered, and wait.
        let answered = quiz.questions.keys().filter(|q| answers.get(*q).and_then(|a| a.as_ref()).is_some_and(|a| !a.choices().is_empty())).count();
        let mut r = blank(item, Status::Pending);
        r.message = Some(format!(
            "{answered} of {} questions answered; the answers are checked against the key when the course grades your submission",
            quiz.questions.len()
        ));
        return r;
    }
    let mut wrong = Vec::new();
    let mut unanswered = Vec::new();
    for (qid, q) in &quiz.questions {
        match answers.get(qid).and_then(|a| a.as_ref()).map(Answer::choices) {
            Some(given) if !given.is_empty() => {
                if Some(given) != q.answer.as_ref().map(Answer::choices) {
                    wrong.push(qid.clone());
                }
            }
            _ => unanswered.push(qid.clone()),
        }
    }
    let total = quiz.questions.len();
    let right = total - wrong.len() - unanswered.len();
    r.points = item.points * right as f64 / total as f64;
    r.runs = 1;
    if right == total {
        r.status = Status::Passed;
        r.message = Some(format!("{right}/{total} right"));
    } else {
        let mut parts = vec![format!("{right}/{total} right")];
        if !wrong.is_empty() {
            parts.push(format!("wrong: {}", wrong.join(", ")));
        }
        if !unanswered.is_empty() {
            parts.push(format!("unanswered: {}", unanswered.join(", ")));
        }
        r.message = Some(parts.join("; "));
    }
    r
}

/// Words in a markdown body, leaving out HTML comments (the starter's prompts live in them).
fn words(text: &str) -> usize {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("-->") {
            Some(end) => &rest[start + end + 3..],
            None => "",
        };
    }
    out.push_str(rest);
    out.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).filter(|w| !w.contains("TODO")).count()
}

pub fn design(item: &Item, d: &DesignDoc, dir: &Path) -> TestResult {
    let mut r = blank(item, Status::Pending);
    let text = match read_text(dir, &d.file) {
        Ok(t) => t,
        Err(Unreadable::Missing) => {
            r.message = Some(format!("no {} in the submission (provisional 0; an instructor scores this item)", d.file));
            return r;
        }
        Err(e) => {
            r.message = Some(format!(
                "{}: the discussion must be in the file itself (provisional 0; an instructor scores this item)",
                e.describe(&d.file)
            ));
            return r;
        }
    };
    // Split into (heading, body) at markdown headings.
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.trim_start().strip_prefix('#') {
            sections.push((h.trim_start_matches('#').trim().to_lowercase(), String::new()));
        } else if let Some(last) = sections.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    let mut short = Vec::new();
    let mut ok = 0;
    for want in &d.sections {
        let found = sections.iter().find(|(h, _)| h.contains(&want.to_lowercase()));
        match found {
            Some((_, body)) if words(body) >= d.min_words as usize => ok += 1,
            Some((_, body)) => short.push(format!("`{want}` has {} words (needs {})", words(body), d.min_words)),
            None => short.push(format!("`{want}` is missing")),
        }
    }
    let total = d.sections.len().max(1);
    r.points = item.points * ok as f64 / total as f64;
    r.runs = 1;
    r.message = Some(if short.is_empty() {
        format!("provisional: all {total} sections present with substance; awaiting an instructor's score")
    } else {
        format!("provisional {ok}/{total} sections: {}; awaiting an instructor's score", short.join(", "))
    });
    r
}

pub fn lint_result(item: &Item, lint_rules: &LintRules, run: &RunResult) -> TestResult {
    let lint = run.messages.iter().find_map(|m| match m {
        crate::runner::message::Message::Lint { findings } => Some(findings.clone()),
        _ => None,
    });
    let Some(findings) = lint else {
        let mut r = grader_error(item, &format!("the lint run did not answer ({})", run.exit_text()));
        r.output = output_of(run);
        return r;
    };
    let deduct = lint_rules.deduct;
    let mut r = blank(item, if findings.is_empty() { Status::Passed } else { Status::Failed });
    r.runs = 1;
    r.points = (item.points - deduct * findings.len() as f64).max(0.0);
    if let Some(f) = findings.first() {
        r.message = Some(format!(
            "{} finding(s); first: {}:{} [{}] {}",
            findings.len(),
            f.file,
            f.line,
            f.rule,
            f.message
        ));
        r.location = Some(format!("{}:{}", f.file, f.line));
        r.failed_runs = 1;
    }
    r.findings = findings;
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn comments_and_todos_are_not_words() {
        assert_eq!(super::words("<!-- say why -->\nTODO\nWe order the locks. -- ok"), 5);
    }
}
