//! The lockout schedule, as pure functions. After `max_failures`
//! consecutive failures the PIN locks for `first_lock_s`, doubling with each
//! further lock up to `max_lock_s`; a success clears the count and the
//! doubling.
//!
//! A lock is measured on the monotonic clock (which the employee cannot set),
//! checkpointed at each look: time while the phone was off is not counted
//! (after a reboot the lock resumes where the last checkpoint left it), so a
//! reboot or a moved wall clock never shortens it. Once the device holds an
//! anchor from this boot (server time), the lock also ends at its anchored
//! end, which counts the time the phone was off. The wall clock is never used.

use serde::{Deserialize, Serialize};

use super::settings::PinSettings;

/// The clocks a judgement needs, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeNow {
    pub boot_id: String,
    pub monotonic_ms: u64,
    /// Server time by an anchor taken in this boot, if there is one.
    pub anchored_ms: Option<i64>,
    /// The device's best "now" (anchored, else the wall clock floored by the
    /// last server time): only for showing when a lock ends.
    pub trusted_ms: i64,
}

/// A lock in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveLock {
    pub duration_ms: u64,
    /// How much of it had passed at the checkpoint.
    pub served_ms: u64,
    /// The checkpoint: which boot, and its monotonic time.
    pub boot_id: String,
    pub monotonic_ms: u64,
    /// Server time at which it ends, once known from an anchor.
    pub ends_at_anchored_ms: Option<i64>,
}

/// The PIN's failure count and lock, as kept on a device (per employee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LockState {
    /// Consecutive failures since the last success or lock.
    pub failures: u32,
    /// Locks since the last success (the doubling).
    pub locks: u32,
    pub lock: Option<ActiveLock>,
}

/// What a look at the lock found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockVerdict {
    Open {
        tries_left: u32,
    },
    Locked {
        remaining_ms: u64,
        ends_at_ms: i64,
    },
    /// The lock ran out at this look (an `unlocked` event is due).
    JustUnlocked {
        tries_left: u32,
    },
}

/// How long lock number `n` (1-based) lasts.
pub fn lock_duration_ms(n: u32, settings: &PinSettings) -> u64 {
    let first = settings.first_lock_s.saturating_mul(1000);
    let max = settings.max_lock_s.saturating_mul(1000);
    let factor = 1u64.checked_shl(n.saturating_sub(1)).unwrap_or(u64::MAX);
    first.saturating_mul(factor).min(max)
}

fn signed(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

impl ActiveLock {
    fn start(duration_ms: u64, now: &TimeNow) -> ActiveLock {
        ActiveLock {
            duration_ms,
            served_ms: 0,
            boot_id: now.boot_id.clone(),
            monotonic_ms: now.monotonic_ms,
            ends_at_anchored_ms: now
                .anchored_ms
                .map(|t| t.saturating_add(signed(duration_ms))),
        }
    }

    /// Moves the checkpoint to `now`; returns the time still to serve.
    fn advance(&mut self, now: &TimeNow) -> u64 {
        if self.boot_id == now.boot_id && now.monotonic_ms >= self.monotonic_ms {
            self.served_ms = self
                .served_ms
                .saturating_add(now.monotonic_ms - self.monotonic_ms);
        }
        // Another boot (or a monotonic clock gone back): the time between is
        // unknown and not counted.
        self.boot_id = now.boot_id.clone();
        self.monotonic_ms = now.monotonic_ms;
        let by_monotonic = self.duration_ms.saturating_sub(self.served_ms);
        match (now.anchored_ms, self.ends_at_anchored_ms) {
            (Some(t), Some(end)) => {
                by_monotonic.min(u64::try_from(end.saturating_sub(t)).unwrap_or(0))
            }
            (Some(t), None) => {
                // First anchored look: from now on server time says when it ends.
                self.ends_at_anchored_ms = Some(t.saturating_add(signed(by_monotonic)));
                by_monotonic
            }
            (None, _) => by_monotonic,
        }
    }
}

impl LockState {
    fn tries_left(&self, settings: &PinSettings) -> u32 {
        settings.max_failures.saturating_sub(self.failures)
    }

    /// Looks at the lock now (checkpointing it): the caller persists `self`.
    pub fn judge(&mut self, settings: &PinSettings, now: &TimeNow) -> LockVerdict {
        let Some(lock) = self.lock.as_mut() else {
            return LockVerdict::Open {
                tries_left: self.tries_left(settings),
            };
        };
        let remaining_ms = lock.advance(now);
        if remaining_ms == 0 {
            self.lock = None;
            return LockVerdict::JustUnlocked {
                tries_left: self.tries_left(settings),
            };
        }
        LockVerdict::Locked {
            remaining_ms,
            ends_at_ms: now.trusted_ms.saturating_add(signed(remaining_ms)),
        }
    }

    /// Counts a failure (the caller judged the lock open first); returns the
    /// new lock's duration when this failure started one.
    pub fn fail(&mut self, settings: &PinSettings, now: &TimeNow) -> Option<u64> {
        self.failures = self.failures.saturating_add(1);
        if self.failures < settings.max_failures {
            return None;
        }
        self.failures = 0;
        self.locks = self.locks.saturating_add(1);
        let duration = lock_duration_ms(self.locks, settings);
        self.lock = Some(ActiveLock::start(duration, now));
        Some(duration)
    }

    /// A correct PIN, or a reset: the count, the doubling and any lock end.
    pub fn clear(&mut self) {
        *self = LockState::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(boot: &str, mono_s: u64, anchored_s: Option<i64>) -> TimeNow {
        TimeNow {
            boot_id: boot.into(),
            monotonic_ms: mono_s * 1000,
            anchored_ms: anchored_s.map(|s| 1_800_000_000_000 + s * 1000),
            trusted_ms: 1_800_000_000_000,
        }
    }

    #[test]
    fn schedule_doubles_from_30_minutes_to_24_hours() {
        let s = PinSettings::default();
        let mins: Vec<u64> = (1..=8).map(|n| lock_duration_ms(n, &s) / 60_000).collect();
        assert_eq!(mins, [30, 60, 120, 240, 480, 960, 1440, 1440]);
        assert_eq!(lock_duration_ms(200, &s), 86_400_000);
    }

    #[test]
    fn five_failures_lock_and_the_lock_ends_on_monotonic_time() {
        let s = PinSettings::default();
        let mut st = LockState::default();
        let t0 = at("b1", 100, None);
        for i in 0..4 {
            assert_eq!(st.fail(&s, &t0), None, "failure {i}");
        }
        assert_eq!(st.judge(&s, &t0), LockVerdict::Open { tries_left: 1 });
        assert_eq!(st.fail(&s, &t0), Some(1_800_000));
        assert!(matches!(
            st.judge(&s, &at("b1", 100 + 1799, None)),
            LockVerdict::Locked {
                remaining_ms: 1000,
                ..
            }
        ));
        assert_eq!(
            st.judge(&s, &at("b1", 100 + 1800, None)),
            LockVerdict::JustUnlocked { tries_left: 5 }
        );
        // The next lock lasts twice as long.
        let t1 = at("b1", 2000, None);
        for _ in 0..5 {
            st.fail(&s, &t1);
        }
        assert!(matches!(
            st.judge(&s, &at("b1", 2000 + 3599, None)),
            LockVerdict::Locked { .. }
        ));
    }

    #[test]
    fn a_reboot_resumes_the_lock_and_an_anchor_counts_the_time_off() {
        let s = PinSettings::default();
        let mut st = LockState::default();
        for _ in 0..5 {
            st.fail(&s, &at("b1", 0, Some(0)));
        }
        // 10 minutes served, then a reboot: the new boot's clock starts at 5 s.
        assert!(matches!(
            st.judge(&s, &at("b1", 600, None)),
            LockVerdict::Locked {
                remaining_ms: 1_200_000,
                ..
            }
        ));
        assert!(matches!(
            st.judge(&s, &at("b2", 5, None)),
            LockVerdict::Locked {
                remaining_ms: 1_200_000,
                ..
            }
        ));
        assert!(matches!(
            st.judge(&s, &at("b2", 65, None)),
            LockVerdict::Locked {
                remaining_ms: 1_140_000,
                ..
            }
        ));
        // A fresh anchor in the new boot says 31 minutes passed since the lock.
        assert_eq!(
            st.judge(&s, &at("b2", 70, Some(31 * 60))),
            LockVerdict::JustUnlocked { tries_left: 5 }
        );
    }

    #[test]
    fn a_success_clears_count_and_doubling() {
        let s = PinSettings::default();
        let mut st = LockState::default();
        st.fail(&s, &at("b", 0, None));
        st.clear();
        assert_eq!(
            st.judge(&s, &at("b", 0, None)),
            LockVerdict::Open { tries_left: 5 }
        );
    }
}
