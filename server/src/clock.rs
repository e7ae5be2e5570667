//! Server time: the one clock every response reports and every check uses.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (UTC).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        // A clock before 1970 is a broken host; report 0 rather than panic.
        .unwrap_or(0)
}

/// `now + ttl` in ms, saturating (a huge TTL means "practically never").
pub fn after_ms(now_ms: i64, ttl: std::time::Duration) -> i64 {
    now_ms.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}
