//! What a finished run left: why it stopped, its messages, output and resource use.
use super::capture::Captured;
use super::message::{self, Message};
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The harness said `done` or the root exited by itself.
    Exited,
    Timeout,
    Memory { peak_mb: u64 },
    Processes { count: u32 },
    OutputFlood { bytes: u64 },
}

/// Everything a finished run left: messages, how it ended, its output and its resource use.
#[derive(Debug)]
pub struct RunResult {
    pub messages: Vec<Message>,
    pub stop: Stop,
    pub exit: Option<ExitStatus>,
    pub stdout: Captured,
    pub stderr: Captured,
    pub stacks: Option<String>,
    /// faulthandler's thread ids ("0x00007f...") to thread names, when the harness could say.
    pub thread_names: std::collections::HashMap<String, String>,
    /// Processes of the tree still alive after the root exited (killed since).
    pub strays: Vec<(i32, String)>,
    /// Lines on the result channel that did not carry the nonce.
    pub forged: u32,
    pub peak_rss_bytes: u64,
    pub duration: Duration,
}

impl RunResult {
    pub fn done(&self) -> bool {
        self.messages.contains(&Message::Done)
    }

    /// The reports of the check's runs, in the order they came.
    pub fn runs(&self) -> impl Iterator<Item = &message::RunReport> {
        self.messages.iter().filter_map(|m| match m {
            Message::Run(r) => Some(r),
            _ => None,
        })
    }

    pub fn exit_text(&self) -> String {
        let signal = |sig: i32| format!("signal {}", Signal::try_from(sig).map(|s| s.as_str().to_string()).unwrap_or_else(|_| sig.to_string()));
        // The supervisor's word for how the check's process died, where it could not die the same way.
        let killed = self.messages.iter().find_map(|m| match m {
            Message::Killed { signal } => Some(*signal),
            _ => None,
        });
        match self.exit {
            Some(s) if s.code() == Some(1) && killed.is_some() => signal(killed.unwrap_or_default()),
            Some(s) if s.code().is_some() => format!("exit status {}", s.code().unwrap_or_default()),
            Some(s) => match s.signal() {
                Some(sig) => signal(sig),
                None => "unknown status".into(),
            },
            None => "still running".into(),
        }
    }
}
