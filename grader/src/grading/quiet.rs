//! Whether the machine stayed quiet while something was timed: the CPU the whole machine used, minus what
//! the measured process trees and the grader itself used, over the wall time. Timed work runs under the
//! exclusive lock, so anything left over is other work on the machine (another user's job, a busy loop, a
//! hypervisor's steal) and the measurement is not valid.
use crate::runner::procs::{machine_busy_ticks, read_stat, ticks_per_second};
use crate::runner::Run;
use std::time::Instant;

/// Other work may use this many cores on average during a measurement (the grader's own polling, daemons).
pub const MAX_OTHER_CORES: f64 = 0.35;

pub struct Watch {
    started: Instant,
    machine: Option<u64>,
    measured: u64,
}

fn own_ticks() -> u64 {
    read_stat(std::process::id() as i32).map(|s| s.cpu_ticks).unwrap_or(0)
}

fn measured(runs: &mut [&mut Run]) -> u64 {
    runs.iter_mut().map(|r| r.cpu_ticks()).sum::<u64>() + own_ticks()
}

impl Watch {
    pub fn start(runs: &mut [&mut Run]) -> Watch {
        let measured = measured(runs);
        Watch { started: Instant::now(), machine: machine_busy_ticks(), measured }
    }

    /// Cores' worth of CPU that other work used since the start, on average; `None` when the machine does
    /// not say (no /proc/stat): the measurement then goes by its samples alone.
    pub fn others(&self, runs: &mut [&mut Run]) -> Option<f64> {
        let now = measured(runs);
        let machine = machine_busy_ticks()?.checked_sub(self.machine?)?;
        let wall = self.started.elapsed().as_secs_f64();
        if wall <= 0.0 {
            return None;
        }
        let other = machine.saturating_sub(now.saturating_sub(self.measured));
        Some(other as f64 / ticks_per_second() / wall)
    }
}

/// Cores' worth of CPU the whole machine is using, over `over`.
pub fn busy_cores(over: std::time::Duration) -> Option<f64> {
    let a = machine_busy_ticks()?;
    std::thread::sleep(over);
    let b = machine_busy_ticks()?;
    Some(b.saturating_sub(a) as f64 / ticks_per_second() / over.as_secs_f64())
}

/// Waits until the machine has stayed quiet (below half a core's use per core) for `hold`, at most `max`;
/// true when it did. A machine that does not say how busy it is counts as quiet.
pub fn wait_until_quiet(max: std::time::Duration, hold: std::time::Duration) -> bool {
    let cores = crate::machine::get().cores as f64;
    let until = Instant::now() + max;
    let mut quiet_since = Instant::now();
    loop {
        match busy_cores(std::time::Duration::from_secs(1)) {
            None => return true,
            Some(busy) if busy >= 0.5 * cores => quiet_since = Instant::now(),
            Some(_) => {}
        }
        if quiet_since.elapsed() >= hold {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
    }
}
