//! Student-derived text made small and safe to print: cut to a size with the cut said, control characters
//! escaped so a terminal shows them instead of obeying them, and no line that starts with `::` (a GitHub
//! Actions workflow command). Every renderer and every cap goes through these few functions.
use std::borrow::Cow;

const MARK_OPEN: &str = "… [cut ";
const MARK_CLOSE: &str = " bytes]";

/// `n` with a comma every three digits: 3998211 -> "3,998,211".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The bytes of `dropped` that were the student's: its length, with each earlier cut's mark in it (by the
/// harness, or an earlier cap) counted as the bytes that cut said it left out.
fn dropped_bytes(dropped: &str) -> u64 {
    let mut total = dropped.len() as u64;
    let mut rest = dropped;
    while let Some(at) = rest.find(MARK_OPEN) {
        rest = &rest[at + MARK_OPEN.len()..];
        let Some(end) = rest.find(MARK_CLOSE) else { break };
        if let Ok(n) = rest[..end].replace(',', "").parse::<u64>() {
            total = total - (MARK_OPEN.len() + end + MARK_CLOSE.len()) as u64 + n;
            rest = &rest[end + MARK_CLOSE.len()..];
        }
    }
    total
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first `max` bytes of `s` (at a character boundary), then `… [cut N bytes]`, N counting every byte
/// left out (also those an earlier cut of the same text left out).
pub fn cap_head(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let keep = floor_boundary(s, max);
    Cow::Owned(format!("{}{MARK_OPEN}{}{MARK_CLOSE}", &s[..keep], thousands(dropped_bytes(&s[keep..]))))
}

/// The last `max` bytes of `s` (at a character boundary), after a line `[cut N bytes] …`.
pub fn cap_tail(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    Cow::Owned(format!("[cut {} bytes] …\n{}", thousands(start as u64), &s[start..]))
}

/// Caps a string in place (see `cap_head`); says whether it cut.
pub fn cap_in_place(s: &mut String, max: usize) -> bool {
    match cap_head(s, max) {
        Cow::Borrowed(_) => false,
        Cow::Owned(c) => {
            *s = c;
            true
        }
    }
}

/// A character a terminal or an XML parser would not take as plain text: C0 but `\n` and `\t`, DEL, C1,
/// and the non-characters XML 1.0 forbids.
fn is_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || c == '\u{fffe}' || c == '\u{ffff}'
}

/// Whether a line would be a GitHub Actions workflow command: the runner trims leading white space, then
/// looks for `::` (or the older `##[`).
fn is_command(line: &str) -> bool {
    let rest = line.trim_start();
    rest.starts_with("::") || rest.starts_with("##[")
}

/// Student-derived text safe to print anywhere: every control character but `\n` and `\t` written out
/// (`\x1b`, `\u{9b}`), and in a line that would be a workflow command, its first `:` (or `#`) written out
/// the same way (`\x3a:error::...`).
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) && !s.split('\n').any(is_command) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trigger = is_command(line).then(|| line.len() - line.trim_start().len());
        for (at, c) in line.char_indices() {
            match c {
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x80 && (is_control(c) || trigger == Some(at)) => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
    }
    Cow::Owned(out)
}

/// `safe`, with every line after the first indented by `pad` (for a message under a column).
pub fn safe_indented(s: &str, pad: &str) -> String {
    safe(s).replace('\n', &format!("\n{pad}"))
}

/// JSON text whose strings carry DEL, C1 or the other controls serde_json leaves raw: each written as a
/// `\u` escape, which means the same character to a JSON reader. They can only be inside strings.
pub fn json_safe(text: String) -> String {
    if !text.chars().any(is_control_raw_in_json) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_control_raw_in_json(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_control_raw_in_json(c: char) -> bool {
    is_control(c) && (c as u32) >= 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_say_what_they_cut() {
        assert_eq!(cap_head("abcdef", 10), "abcdef");
        assert_eq!(cap_head("abcdef", 2), "ab… [cut 4 bytes]");
        assert_eq!(cap_head(&format!("{}… [cut 1,000 bytes]", "x".repeat(50)), 10), "xxxxxxxxxx… [cut 1,040 bytes]");
        assert_eq!(cap_head("ééé", 3), "é… [cut 4 bytes]");
        assert_eq!(cap_head(&format!("{}… [cut 1,000 bytes] (run 2)", "x".repeat(50)), 10), "xxxxxxxxxx… [cut 1,048 bytes]");
        assert_eq!(cap_tail("abcdef", 2), "[cut 4 bytes] …\nef");
        assert_eq!(thousands(3_998_211), "3,998,211");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn controls_are_written_out_and_workflow_commands_defused() {
        assert_eq!(safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(safe("\x1b]0;pwned\x07a\0b\r\u{9b}c\u{7f}"), "\\x1b]0;pwned\\x07a\\x00b\\r\\u{9b}c\\x7f");
        assert_eq!(safe("::error::pwned"), "\\x3a:error::pwned");
        assert_eq!(safe("ok\n  ::add-mask::x\n a::b\n:x\n##[set-env]"), "ok\n  \\x3a:add-mask::x\n a::b\n:x\n\\x23#[set-env]");
        assert_eq!(safe("\n::"), "\n\\x3a:");
        assert_eq!(safe_indented("a\n::b", "  "), "a\n  \\x3a:b");
        assert_eq!(json_safe("\"a\u{9b}\u{7f}é\"".into()), "\"a\\u009b\\u007fé\"");
    }
}
