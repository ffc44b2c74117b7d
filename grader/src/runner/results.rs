//! The result channel's reader: nonce-stamped JSON lines from the harness, parsed on a thread of their
//! own. A line that does not parse as it stands (a lone surrogate escape such as `\ud800` from a student's
//! string, or bytes that are not UTF-8) is mended rather than lost: U+FFFD in place of what cannot be.
//! Also the files a run leaves beside its copy (stacks, thread names), read as safely as a submission's.
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::sync::mpsc;

pub(super) enum Line {
    Msg(super::message::Message),
    Forged,
}

/// Reads nonce-stamped JSON lines from the result pipe on a thread of its own.
pub(super) fn read_results(fd: OwnedFd, nonce: String) -> mpsc::Receiver<Line> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(File::from(fd).take(256 * 1024 * 1024));
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            let msg = match parse(&line) {
                Some(mut v) if v["nonce"] == nonce.as_str() => {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("nonce");
                    }
                    Line::Msg(super::message::Message::parse(v))
                }
                _ => Line::Forged,
            };
            if tx.send(msg).is_err() {
                break;
            }
        }
    });
    rx
}

/// A file the harness wrote in the run's directory, where the student's code can write too (and put a
/// link or a FIFO in its place): read without following links or blocking, at most `cap` bytes.
pub(super) fn read_run_file(path: &std::path::Path, cap: u64) -> Option<Vec<u8>> {
    let (dir, name) = (path.parent()?, path.file_name()?);
    crate::submission::read_capped(dir, std::path::Path::new(name), cap).ok()
}

/// One line as JSON: as it stands, else mended.
fn parse(line: &[u8]) -> Option<Value> {
    serde_json::from_slice(line).ok().or_else(|| serde_json::from_str(&mend_surrogates(&String::from_utf8_lossy(line))).ok())
}

/// JSON text with each `\uD800`-`\uDFFF` escape that is not half of a pair replaced by `\ufffd`.
fn mend_surrogates(text: &str) -> String {
    let hex = |s: &str| -> Option<u32> { s.get(2..6).and_then(|h| u32::from_str_radix(h, 16).ok()) };
    let (mut out, mut rest) = (String::with_capacity(text.len()), text);
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let escape = &rest[..1 + rest[1..].chars().next().map_or(0, char::len_utf8)];
        if escape != "\\u" {
            out.push_str(escape);
            rest = &rest[escape.len()..];
            continue;
        }
        let (Some(code), after) = (hex(rest), rest.get(6..).unwrap_or("")) else {
            out.push_str(escape);
            rest = &rest[2..];
            continue;
        };
        let low = (after.starts_with("\\u")).then(|| hex(after)).flatten();
        if (0xD800..0xDC00).contains(&code) && low.is_some_and(|l| (0xDC00..0xE000).contains(&l)) {
            out.push_str(&rest[..12]);
            rest = &rest[12..];
        } else {
            out.push_str(if (0xD800..0xE000).contains(&code) { "\\ufffd" } else { &rest[..6] });
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_are_mended_and_pairs_kept() {
        let v = parse(br#"{"m": "a\ud800b\\ud800\udc00\ud83d\ude00\udfff"}"#).expect("mended");
        assert_eq!(v["m"], "a\u{fffd}b\\ud800\u{fffd}\u{1f600}\u{fffd}");
        let v = parse(b"{\"m\": \"bad \xff byte\"}").expect("lossy");
        assert_eq!(v["m"], "bad \u{fffd} byte");
        assert!(parse(b"not json").is_none());
        assert_eq!(mend_surrogates("\\é\\"), "\\é\\");
    }
}
