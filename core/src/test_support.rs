//! What tests drive the engine with; not for apps (feature `test-support`,
//! which the workspace's test crates and the CLI's scripted demo enable).

use std::sync::Mutex;

use crate::clock::{Clock, ClockReading};

pub use crate::sync::backoff::{format_http_date, parse_retry_after_ms};

/// A clock the caller moves by hand: tests and the demo.
pub struct ManualClock(Mutex<ClockReading>);

impl ManualClock {
    /// A clock that reads `reading` until moved.
    pub fn new(reading: ClockReading) -> ManualClock {
        ManualClock(Mutex::new(reading))
    }

    /// Moves both clocks forward, as real time passing does.
    pub fn advance_ms(&self, ms: u64) {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        r.wall_time_ms = r
            .wall_time_ms
            .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
        r.monotonic_ms = r.monotonic_ms.saturating_add(ms);
    }

    /// Moves only the wall clock, as an employee changing the phone's time does.
    pub fn set_wall_ms(&self, wall_time_ms: i64) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wall_time_ms = wall_time_ms;
    }

    /// A reboot: new boot id, monotonic clock restarts.
    pub fn reboot(&self, boot_id: &str) {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        r.boot_id = boot_id.to_string();
        r.monotonic_ms = 0;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> ClockReading {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
