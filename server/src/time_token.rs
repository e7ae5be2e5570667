//! Time tokens: the server's MAC over `"{device_id}|{server_time_ms}"`, so a
//! device can carry a server time in its anchor that it cannot have invented.

use ring::hmac;

/// Holds the server's HMAC-SHA256 key (generated once, kept in the database).
#[derive(Clone)]
pub struct TimeTokens {
    key: hmac::Key,
}

impl TimeTokens {
    pub fn new(secret: &[u8]) -> TimeTokens {
        TimeTokens {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    fn message(device_id: &str, server_time_ms: i64) -> String {
        format!("{device_id}|{server_time_ms}")
    }

    /// Hex HMAC-SHA256 over `"{device_id}|{server_time_ms}"`.
    pub fn issue(&self, device_id: &str, server_time_ms: i64) -> String {
        let tag = hmac::sign(
            &self.key,
            Self::message(device_id, server_time_ms).as_bytes(),
        );
        hex::encode(tag.as_ref())
    }

    /// Constant-time check of a token a device sent back.
    pub fn check(&self, device_id: &str, server_time_ms: i64, token: &str) -> bool {
        let Ok(tag) = hex::decode(token.trim()) else {
            return false;
        };
        hmac::verify(
            &self.key,
            Self::message(device_id, server_time_ms).as_bytes(),
            &tag,
        )
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_device_and_time() {
        let tokens = TimeTokens::new(b"0123456789abcdef0123456789abcdef");
        let t = tokens.issue("dev-1", 1_700_000_000_000);
        assert_eq!(t.len(), 64);
        assert!(tokens.check("dev-1", 1_700_000_000_000, &t));
        assert!(tokens.check("dev-1", 1_700_000_000_000, &t.to_uppercase()));
        assert!(!tokens.check("dev-1", 1_700_000_000_001, &t));
        assert!(!tokens.check("dev-2", 1_700_000_000_000, &t));
        assert!(!tokens.check("dev-1", 1_700_000_000_000, "zz"));
        assert!(!tokens.check("dev-1", 1_700_000_000_000, ""));
        let other = TimeTokens::new(b"another secret, another server!!");
        assert!(!other.check("dev-1", 1_700_000_000_000, &t));
    }
}
