//! Retry timing: exponential backoff with full jitter, and Retry-After in
//! both its forms (delta-seconds and HTTP-date).

use std::time::UNIX_EPOCH;

/// Full jitter: a uniformly random delay in [0, min(cap, base·2^attempt)].
/// Spreads a fleet of phones that lost the network at the same moment.
/// Saturates: any `RetryConfig` an app passes gives a delay, never a panic.
pub fn full_jitter_ms(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    let ceiling = base_ms.saturating_mul(1u64 << attempt.min(40)).min(cap_ms);
    match ceiling.checked_add(1) {
        Some(span) => random_u64() % span,
        // [0, u64::MAX] is every value.
        None => random_u64(),
    }
}

fn random_u64() -> u64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    // A failing system RNG only loses jitter, never the retry itself.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// Milliseconds to wait from `now_ms`, from a Retry-After header value
/// (delta-seconds or an HTTP-date). None when unparseable: the caller falls
/// back to its own backoff. Callers cap the result (a hostile server may
/// send any number).
pub fn parse_retry_after_ms(value: &str, now_ms: i64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(u64::MAX, |s| s.saturating_mul(1000)),
        );
    }
    let at = parse_http_date_ms(value)?;
    Some(u64::try_from(at.saturating_sub(now_ms)).unwrap_or(0))
}

/// An HTTP-date (IMF-fixdate, RFC 850 or asctime, as `httpdate` reads them)
/// as epoch milliseconds.
pub fn parse_http_date_ms(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text).ok()?;
    let since = at.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(since.as_millis()).ok()
}

/// Formats epoch ms as IMF-fixdate (for tests' servers); times before
/// 1970 are formatted as the epoch.
#[cfg(any(test, feature = "test-support"))]
pub fn format_http_date(ms: i64) -> String {
    let at = UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    httpdate::fmt_http_date(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Extreme public `RetryConfig` values (issue 25, bug 9): a delay
        /// within the ceiling, never an overflow.
        #[test]
        fn jitter_saturates_on_any_config(
            attempt in any::<u32>(),
            base in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
            cap in prop_oneof![Just(0u64), Just(u64::MAX - 1), Just(u64::MAX), any::<u64>()],
        ) {
            let ceiling = base.saturating_mul(1u64 << attempt.min(40)).min(cap);
            prop_assert!(full_jitter_ms(attempt, base, cap) <= ceiling);
        }
    }

    #[test]
    fn http_dates_round_trip() {
        assert_eq!(
            parse_http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        for ms in [0, 784_111_777_000, 1_790_000_000_000, 951_782_400_000] {
            assert_eq!(parse_http_date_ms(&format_http_date(ms)), Some(ms));
        }
        assert_eq!(
            format_http_date(784_111_777_000),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_both_forms() {
        assert_eq!(parse_retry_after_ms("120", 0), Some(120_000));
        let now = 1_790_000_000_000;
        let later = format_http_date(now + 30_000);
        assert_eq!(parse_retry_after_ms(&later, now), Some(30_000));
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after_ms(&format_http_date(now - 5_000), now),
            Some(0)
        );
        assert_eq!(parse_retry_after_ms("-1", now), None);
        // Absurd values never overflow: a huge delay (capped by the caller)
        // or unparseable (the caller's own backoff), never a panic.
        assert_eq!(
            parse_retry_after_ms("99999999999999999999999", now),
            Some(u64::MAX)
        );
        assert_eq!(
            parse_retry_after_ms("Sun, 06 Nov 300000000 08:49:37 GMT", now),
            None
        );
        assert_eq!(
            parse_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(253_402_300_799_000 - now as u64)
        );
        assert_eq!(parse_retry_after_ms("soon", now), None);
    }

    #[test]
    fn jitter_stays_under_the_exponential_ceiling() {
        for attempt in 0..10 {
            let ceiling = (1000u64 << attempt).min(60_000);
            for _ in 0..50 {
                assert!(full_jitter_ms(attempt, 1000, 60_000) <= ceiling);
            }
        }
        assert_eq!(full_jitter_ms(100, 0, 60_000), 0);
        // Full jitter really spreads: 200 draws are not all equal.
        let draws: std::collections::HashSet<u64> =
            (0..200).map(|_| full_jitter_ms(5, 1000, 60_000)).collect();
        assert!(draws.len() > 50);
    }
}
