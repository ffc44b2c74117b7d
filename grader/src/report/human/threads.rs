//! A diagnosis's threads as few short lines: threads that wait at the same line for the same thing share
//! one, a primitive's type and creation line are said once (`forks[1] (threading.Lock, philosophers.py:10)`,
//! then `forks[2]`), and a held lock says the line it was taken at.
use crate::report::model::{Diagnosis, ThreadInfo};
use crate::report::text::safe;
use std::collections::HashSet;

/// Whether `inner` (the text between parentheses) is a primitive's details: `TYPE, FILE:LINE`.
fn is_details(inner: &str) -> bool {
    let Some((_, site)) = inner.split_once(", ") else { return false };
    let Some((file, line)) = site.rsplit_once(':') else { return false };
    !file.is_empty() && !file.contains(' ') && !line.is_empty() && line.chars().all(|c| c.is_ascii_digit())
}

/// `text` with each primitive's details left out where they were said before (`seen` remembers them).
fn said_once(text: &str, seen: &mut HashSet<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find(" (") {
        let after = &rest[open + 2..];
        let Some(close) = after.find(')') else { break };
        let inner = &after[..close];
        out.push_str(&rest[..open]);
        if !(is_details(inner) && !seen.insert(inner.to_string())) {
            out.push_str(&rest[open..open + 2 + close + 1]);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `forks[0] (...) acquired at philosophers.py:16 in philosopher` -> (`forks[0] (...)`, `since line 16`).
fn held(holding: &str, file: &str) -> (String, String) {
    let Some((what, site)) = holding.rsplit_once(" acquired at ") else { return (holding.to_string(), String::new()) };
    let at = site.split(" in ").next().unwrap_or(site);
    let since = match at.rsplit_once(':') {
        Some((f, line)) if f == file => format!("since line {line}"),
        _ => format!("since {at}"),
    };
    (what.to_string(), since)
}

/// What one thread does, without its name: the key that threads doing the same share.
fn doing(t: &ThreadInfo, seen: &mut HashSet<String>, many: bool) -> String {
    let (wait, hold) = if many { ("wait", "hold") } else { ("waits", "holds") };
    let mut s = if t.line > 0 { format!("at {}:{}", t.file, t.line) } else { String::new() };
    match &t.waiting_for {
        Some(w) => s.push_str(&format!(" {wait} for {}", said_once(w, seen))),
        None if !t.function.is_empty() && t.function != "?" => s.push_str(&format!(" in {}", t.function)),
        None => {}
    }
    for (i, h) in t.holding.iter().enumerate() {
        let (what, since) = held(h, &t.file);
        let verb = if i == 0 { format!(", {hold} ") } else { "; ".to_string() };
        s.push_str(&format!("{verb}{} {since}", said_once(&what, seen)));
    }
    s.trim().to_string()
}

fn names(list: &[&str]) -> String {
    match list {
        [one] => one.to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} others", rest.len()),
        [] => String::new(),
    }
}

/// One line per group of threads that wait at the same line for the same thing, in the diagnosis's
/// order; student text made safe.
pub fn lines(d: &Diagnosis) -> Vec<String> {
    let mut groups: Vec<(String, Vec<&ThreadInfo>)> = Vec::new();
    for t in &d.threads {
        let key = doing(t, &mut HashSet::new(), false);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(t),
            None => groups.push((key, vec![t])),
        }
    }
    let mut seen = HashSet::new();
    groups
        .iter()
        .map(|(_, members)| {
            let who: Vec<&str> = members.iter().map(|t| t.name.as_str()).collect();
            safe(&format!("{} {}", names(&who), doing(members[0], &mut seen, members.len() > 1))).into_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn philosopher(i: usize) -> ThreadInfo {
        ThreadInfo {
            name: format!("Thread-{} (philosopher)", i + 1),
            file: "philosophers.py".into(),
            line: 17,
            function: "philosopher".into(),
            waiting_for: Some(format!("forks[{}] (threading.Lock, philosophers.py:10)", (i + 1) % 5)),
            holding: vec![format!("forks[{i}] (threading.Lock, philosophers.py:10) acquired at philosophers.py:16 in philosopher")],
        }
    }

    #[test]
    fn a_cycle_names_each_fork_and_says_its_type_once() {
        let d = Diagnosis { kind: "deadlock".into(), summary: String::new(), threads: (0..5).map(philosopher).collect(), cycle: vec![] };
        let l = lines(&d);
        assert_eq!(l.len(), 5);
        assert_eq!(l[0], "Thread-1 (philosopher) at philosophers.py:17 waits for forks[1] (threading.Lock, philosophers.py:10), holds forks[0] since line 16");
        assert_eq!(l[1], "Thread-2 (philosopher) at philosophers.py:17 waits for forks[2], holds forks[1] since line 16");
        assert!(l[1..].iter().all(|x| x.chars().count() <= 94), "after the first, each fits 100 columns under its indent: {l:?}");
    }

    #[test]
    fn threads_waiting_alike_share_a_line() {
        let consumer = |n: usize| ThreadInfo {
            name: format!("Thread-{n} (consumer)"),
            file: "pc.py".into(),
            line: 18,
            function: "consumer".into(),
            waiting_for: Some("q.get() (queue.Queue, pc.py:9)".into()),
            holding: vec![],
        };
        let main = ThreadInfo { name: "MainThread".into(), file: "pc.py".into(), line: 29, function: "run".into(),
            waiting_for: Some("thread Thread-2 (consumer) to finish (join)".into()), holding: vec![] };
        let d = Diagnosis { kind: "lost_wakeup".into(), summary: String::new(), threads: vec![main, consumer(2), consumer(3), consumer(4), consumer(5)], cycle: vec![] };
        assert_eq!(lines(&d), vec![
            "MainThread at pc.py:29 waits for thread Thread-2 (consumer) to finish (join)",
            "Thread-2 (consumer), Thread-3 (consumer) and 2 others at pc.py:18 wait for q.get() (queue.Queue, pc.py:9)",
        ]);
        let stuck = ThreadInfo { name: "w\x1b[2J".into(), file: "a.py".into(), line: 3, function: "spin".into(), waiting_for: None, holding: vec![] };
        let d = Diagnosis { kind: "timeout".into(), summary: String::new(), threads: vec![stuck], cycle: vec![] };
        assert_eq!(lines(&d), vec!["w\\x1b[2J at a.py:3 in spin"]);
    }
}
