//! Time as the platform sees it: wall clock (the employee can change it) and
//! a monotonic clock since boot (they cannot). Platforms supply their own
//! (`SystemClock.elapsedRealtime`, `mach_continuous_time`); tests use ManualClock.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockReading {
    pub wall_time_ms: i64,
    pub utc_offset_min: i32,
    pub monotonic_ms: u64,
    /// Changes at every reboot; monotonic times compare only within one boot.
    pub boot_id: String,
}

pub trait Clock: Send + Sync {
    fn now(&self) -> ClockReading;
}

/// The host's clocks. On Linux the kernel boot id and uptime; elsewhere a
/// per-process boot id, so a restart is treated like a reboot (conservative).
pub struct SystemClock {
    process_boot_id: String,
    started: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            process_boot_id: format!("process-{}", uuid::Uuid::new_v4()),
            started: std::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> ClockReading {
        let wall_time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let linux = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .zip(std::fs::read_to_string("/proc/uptime").ok())
            .and_then(|(boot, uptime)| {
                let secs: f64 = uptime.split_whitespace().next()?.parse().ok()?;
                Some((boot.trim().to_string(), (secs * 1000.0) as u64))
            });
        let (boot_id, monotonic_ms) = linux.unwrap_or_else(|| {
            (
                self.process_boot_id.clone(),
                u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            )
        });
        ClockReading {
            wall_time_ms,
            utc_offset_min: 0,
            monotonic_ms,
            boot_id,
        }
    }
}

/// A clock the caller moves by hand: tests and the demo.
pub struct ManualClock(Mutex<ClockReading>);

impl ManualClock {
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
