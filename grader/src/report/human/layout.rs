//! Text fitted to the terminal: words wrapped to a width under a prefix, long texts and lists cut with a
//! count of what was cut. Widths count characters; the text given here is already `text::safe`.

/// The fewest columns a wrapped text gets, however deep its indentation.
const MIN_COLUMNS: usize = 20;

pub fn columns(s: &str) -> usize {
    s.chars().count()
}

/// `text` cut to `max` columns, ending in `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if columns(text) <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Each line of `text` wrapped at spaces to `width` columns (`first` for the very first line); a word
/// longer than a line is broken. Spaces inside a line are kept as they are; a wrapped line starts with
/// its word.
pub fn wrap(text: &str, first: usize, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let room_of = |lines: &Vec<String>| if lines.is_empty() { first.max(1) } else { width };
    for paragraph in text.replace('\t', " ").split('\n') {
        let mut line = String::new();
        let mut gap = 0;
        let mut first = true;
        for word in paragraph.split(' ') {
            if word.is_empty() {
                gap += 1;
                continue;
            }
            let mut word = word.to_string();
            // A paragraph keeps its indentation (a traceback's); a wrapped line starts with its word.
            let mut sep = if first { gap } else if line.is_empty() { 0 } else { gap + 1 };
            gap = 0;
            first = false;
            loop {
                let full = room_of(&lines);
                let room = full.saturating_sub(columns(&line) + sep);
                if columns(&word) <= room {
                    line.push_str(&" ".repeat(sep));
                    line.push_str(&word);
                    break;
                }
                if !line.is_empty() && (columns(&word) <= width || room == 0) {
                    lines.push(std::mem::take(&mut line));
                    sep = 0;
                    continue;
                }
                // Longer than a whole line: what fits here, the rest on the next.
                let head: String = word.chars().take(room).collect();
                let rest: String = word.chars().skip(room).collect();
                line.push_str(&" ".repeat(sep));
                line.push_str(&head);
                lines.push(std::mem::take(&mut line));
                word = rest;
                sep = 0;
            }
        }
        lines.push(line);
    }
    while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The report being written: every line fitted to `width`.
pub struct Page {
    pub out: String,
    pub width: usize,
    /// Show everything: no text or list is cut.
    pub full: bool,
}

impl Page {
    pub fn new(width: usize, full: bool) -> Page {
        Page { out: String::new(), width, full }
    }

    pub fn line(&mut self, text: &str) {
        self.out.push_str(text.trim_end());
        self.out.push('\n');
    }

    /// `text` wrapped under `first` (its first line) and `rest` (the others), `first` and `rest` being of
    /// equal width; at most `max` lines unless the page is full, the last then saying how many were cut.
    /// `paint` colours the first prefix (it is measured unpainted).
    pub fn block(&mut self, first: &str, painted: Option<&str>, rest: &str, text: &str, max: usize) {
        let room = |prefix: &str| self.width.saturating_sub(columns(prefix)).max(MIN_COLUMNS);
        let lines = wrap(text, room(first), room(rest));
        let keep = if self.full || lines.len() <= max { lines.len() } else { max.saturating_sub(1).max(1) };
        for (i, l) in lines.iter().take(keep).enumerate() {
            let prefix = if i == 0 { painted.unwrap_or(first) } else { rest };
            self.line(&format!("{prefix}{l}"));
        }
        if keep < lines.len() {
            self.note(rest, &more(lines.len() - keep, "line"));
        }
    }

    /// `text` wrapped under `prefix`, never cut.
    pub fn note(&mut self, prefix: &str, text: &str) {
        self.block(prefix, None, prefix, text, usize::MAX);
    }
}

/// `… 3 more lines (--verbose shows all)`.
pub fn more(n: usize, what: &str) -> String {
    format!("… {n} more {what}{} (--verbose shows all)", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_to_the_width_and_long_words_break() {
        assert_eq!(wrap("aaa bbb ccc", 7, 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("aaa bbb ccc", 3, 7), vec!["aaa", "bbb ccc"]);
        assert_eq!(wrap("a  (b)   c", 20, 20), vec!["a  (b)   c"], "spaces inside a line are kept");
        assert_eq!(wrap("aaa  bbb", 4, 4), vec!["aaa", "bbb"]);
        assert_eq!(wrap("  File \"a.py\", line 3\n    x = 1", 40, 40), vec!["  File \"a.py\", line 3", "    x = 1"], "indentation kept");
        assert_eq!(wrap("a\n\nb", 5, 5), vec!["a", "", "b"]);
        assert_eq!(wrap("xxxxxxxxxx", 4, 4), vec!["xxxx", "xxxx", "xx"]);
        assert_eq!(wrap("ab xxxxxxxxxx", 4, 4), vec!["ab x", "xxxx", "xxxx", "x"], "a word too long for any line fills this one");
        assert_eq!(wrap("", 4, 4), vec![""]);
        let text = "deadlock: Thread-1 (philosopher) waits at philosophers.py:17 for forks[1] é…";
        for w in 1..30 {
            let lines = wrap(text, w + 3, w);
            assert!(columns(&lines[0]) <= w + 3 && lines[1..].iter().all(|l| columns(l) <= w), "width {w}: {lines:?}");
            assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""), "width {w}: nothing lost");
        }
        assert_eq!(wrap(text, 200, 200), vec![text]);
    }

    #[test]
    fn blocks_fit_the_page_and_say_what_they_cut() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let mut page = Page::new(30, false);
        page.block("  - ", None, "    ", text, 2);
        let lines: Vec<&str> = page.out.lines().collect();
        assert_eq!(lines, vec!["  - one two three four five", "    … 2 more lines (--verbose", "    shows all)"]);
        let mut full = Page::new(30, true);
        full.block("  - ", None, "    ", text, 2);
        assert_eq!(full.out.lines().count(), 3);
        assert!(full.out.lines().all(|l| columns(l) <= 30) && !full.out.contains("more"));
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
