//! How the commands' output looks, decided once per process from the terminal and the environment: the
//! report's format when none is asked (human on a terminal, JSON otherwise), colour (a terminal, and no
//! `NO_COLOR`), the width (`COLUMNS`, else the terminal's) and whether GitHub Actions runs us (then
//! failures are also annotations on the student's lines).
use crate::report::{self, Format, Style};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::OnceLock;

#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub stdout_tty: bool,
    pub no_color: bool,
    pub github_actions: bool,
}

pub(crate) fn get() -> &'static Output {
    static OUT: OnceLock<Output> = OnceLock::new();
    OUT.get_or_init(|| Output {
        stdout_tty: std::io::stdout().is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        github_actions: std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
    })
}

impl Output {
    /// Whether text written to standard output (`out` = None) or to a file is coloured.
    pub fn color(&self, out: Option<&Path>) -> bool {
        out.is_none() && self.stdout_tty && !self.no_color
    }

    /// The format asked for, else human on a terminal and JSON otherwise (a file, a pipe, CI).
    pub fn format(&self, asked: Option<Format>, out: Option<&Path>) -> Format {
        asked.unwrap_or(if out.is_none() && self.stdout_tty { Format::Human } else { Format::Json })
    }

    pub fn style(&self, out: Option<&Path>, verbose: bool) -> Style {
        Style { color: self.color(out), verbose, width: report::width(out.is_none() && self.stdout_tty) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_gets_colour_and_the_human_format_a_pipe_or_a_file_json_without_colour() {
        let tty = Output { stdout_tty: true, no_color: false, github_actions: false };
        assert!(tty.color(None) && !tty.color(Some(Path::new("r.json"))));
        assert_eq!(tty.format(None, None), Format::Human);
        assert_eq!(tty.format(None, Some(Path::new("r.txt"))), Format::Json);
        assert_eq!(tty.format(Some(Format::Junit), None), Format::Junit);
        let pipe = Output { stdout_tty: false, ..tty.clone() };
        assert!(!pipe.color(None));
        assert_eq!(pipe.format(None, None), Format::Json);
        let no_color = Output { no_color: true, ..tty };
        assert!(!no_color.color(None));
    }
}
