//! Retry timing: exponential backoff with full jitter, and Retry-After in
//! both its forms (delta-seconds and HTTP-date).

/// Full jitter: a uniformly random delay in [0, min(cap, base·2^attempt)].
/// Spreads a fleet of phones that lost the network at the same moment.
pub fn full_jitter_ms(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    let ceiling = base_ms
        .saturating_mul(1u64.checked_shl(attempt.min(40)).unwrap_or(u64::MAX))
        .min(cap_ms);
    if ceiling == 0 {
        return 0;
    }
    random_u64() % (ceiling + 1)
}

fn random_u64() -> u64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    // A failing system RNG only loses jitter, never the retry itself.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// Milliseconds to wait from `now_ms`, from a Retry-After header value.
/// None when the value is unparseable (the caller falls back to backoff).
pub fn parse_retry_after_ms(value: &str, now_ms: i64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(|s| s.saturating_mul(1000));
    }
    let at = parse_http_date_ms(value)?;
    Some(u64::try_from(at.saturating_sub(now_ms)).unwrap_or(0))
}

/// IMF-fixdate, the form servers must send: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn parse_http_date_ms(text: &str) -> Option<i64> {
    let (_, rest) = text.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let s: i64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + h) * 60 + m) * 60_000 + s * 1000)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats epoch ms as IMF-fixdate (for servers and tests).
pub fn format_http_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} GMT",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
