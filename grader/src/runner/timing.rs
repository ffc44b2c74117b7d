//! Where an item's time goes: each finished run adds its wall time and start-up to its thread's tally,
//! which the item's judge takes when it is done (an item's runs all happen on the thread that judges it).
use crate::report::model::Timing;
use std::cell::Cell;
use std::time::Duration;

thread_local! {
    static TALLY: Cell<Timing> = const { Cell::new(Timing { run_ms: 0, start_ms: 0 }) };
}

pub fn add(run: Duration, start: Option<Duration>) {
    TALLY.with(|t| {
        let mut v = t.get();
        v.run_ms += run.as_millis() as u64;
        v.start_ms += start.map(|s| s.as_millis() as u64).unwrap_or(0);
        t.set(v);
    });
}

/// The tally since the last take, reset to zero.
pub fn take() -> Timing {
    TALLY.with(|t| t.replace(Timing::default()))
}
