//! Time as the platform sees it: wall clock (the employee can change it) and
//! a monotonic clock since boot (they cannot). Platforms supply their own
//! (`SystemClock.elapsedRealtime`, `mach_continuous_time`); tests use `test_support::ManualClock`.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq)]
/// One reading of the platform's clocks, taken together.
pub struct ClockReading {
    /// The wall clock (epoch ms): the employee can change it.
    pub wall_time_ms: i64,
    /// The device's UTC offset at that moment, in minutes.
    pub utc_offset_min: i32,
    /// Time since boot (ms), which the employee cannot change.
    pub monotonic_ms: u64,
    /// Changes at every reboot; monotonic times compare only within one boot.
    pub boot_id: String,
}

/// The platform's clocks (Android `elapsedRealtime`, iOS `mach_continuous_time`).
pub trait Clock: Send + Sync {
    /// Reads the wall and monotonic clocks now.
    fn now(&self) -> ClockReading;
}

/// The host's clocks: the wall clock with the host's real UTC offset; on
/// Linux the kernel's boot id and `CLOCK_BOOTTIME`. Elsewhere (a desktop host that is
/// not Linux) a per-process boot id and the time since the engine started,
/// so a restart is treated like a reboot: conservative, never wrong. Phones
/// pass their own clock through the bindings (Android
/// `SystemClock.elapsedRealtime` with `Settings.Global.BOOT_COUNT`; iOS
/// `mach_continuous_time` with `kern.bootsessionuuid`).
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
            .zip(boot_time_ms())
            .map(|(boot, ms)| (boot.trim().to_string(), ms));
        let (boot_id, monotonic_ms) = linux.unwrap_or_else(|| {
            (
                self.process_boot_id.clone(),
                u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            )
        });
        ClockReading {
            wall_time_ms,
            utc_offset_min: local_utc_offset_min(wall_time_ms),
            monotonic_ms,
            boot_id,
        }
    }
}

/// Time since boot in ms, suspend included (`CLOCK_BOOTTIME`: what Android's
/// `elapsedRealtime` and `/proc/uptime` count), or `None` if the kernel says no.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn boot_time_ms() -> Option<u64> {
    use rustix::time::{DynamicClockId, clock_gettime_dynamic};
    let t = clock_gettime_dynamic(DynamicClockId::Boottime).ok()?;
    let secs = u64::try_from(t.tv_sec).ok()?;
    let ms = u64::try_from(t.tv_nsec / 1_000_000).ok()?;
    secs.checked_mul(1000)?.checked_add(ms)
}

/// Elsewhere the caller falls back to time since the engine started.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn boot_time_ms() -> Option<u64> {
    None
}

/// The host time zone's offset from UTC at `wall_time_ms`, in minutes
/// (daylight saving included); 0 if the host has no zone information.
pub(crate) fn local_utc_offset_min(wall_time_ms: i64) -> i32 {
    // jiff, not chrono: the model's rules already use it, and one time crate
    // on the phone keeps the library small (issue 25). `system()` reads `TZ`,
    // /etc/localtime or Android's `persist.sys.timezone`; UTC if none.
    jiff::Timestamp::from_millisecond(wall_time_ms).map_or(0, |t| {
        jiff::tz::TimeZone::system().to_offset(t).seconds() / 60
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_offset_is_the_zones_and_monotonic_time_moves_forward() {
        let clock = SystemClock::default();
        let a = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = clock.now();
        assert_eq!(a.boot_id, b.boot_id);
        assert!(b.monotonic_ms >= a.monotonic_ms);
        assert!(b.wall_time_ms >= a.wall_time_ms);
        // The offset is what the zone database says for the host.
        assert_eq!(a.utc_offset_min, local_utc_offset_min(a.wall_time_ms));
        assert!(a.utc_offset_min.abs() <= 18 * 60);
    }

    /// The monotonic reading is the kernel's time since boot, suspend
    /// included: the same clock `/proc/uptime` shows (10 ms resolution there).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn monotonic_time_is_the_kernels_time_since_boot() {
        let uptime_ms = || -> u64 {
            let text = std::fs::read_to_string("/proc/uptime").unwrap_or_default();
            let secs: f64 = text
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(-1.0);
            assert!(secs >= 0.0, "no /proc/uptime: {text:?}");
            (secs * 1000.0) as u64
        };
        let before = uptime_ms();
        let reading = SystemClock::default().now();
        let after = uptime_ms();
        assert!(
            before <= reading.monotonic_ms + 10 && reading.monotonic_ms <= after + 10,
            "{before} <= {} <= {after}",
            reading.monotonic_ms
        );
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id");
        assert_eq!(
            boot_id.ok().map(|b| b.trim().to_string()),
            Some(reading.boot_id)
        );
    }

    /// Runs in a child process with `TZ` set (the test binary re-runs itself:
    /// the environment cannot safely be changed inside a threaded test).
    #[test]
    fn offset_follows_the_host_zone() {
        if std::env::var_os("PUNCH_CLOCK_CHILD").is_some() {
            // Shanghai has no daylight saving: always UTC+8.
            assert_eq!(SystemClock::default().now().utc_offset_min, 480);
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            panic!("no test executable path");
        };
        let out = std::process::Command::new(exe)
            .args(["--exact", "clock::tests::offset_follows_the_host_zone"])
            .env("PUNCH_CLOCK_CHILD", "1")
            .env("TZ", "Asia/Shanghai")
            .output();
        let out = out.map_err(|e| e.to_string());
        assert!(
            out.as_ref().is_ok_and(|o| o.status.success()),
            "child failed: {out:?}"
        );
    }
}
