//! Where the server is and how to talk to it.

/// Where the server is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// e.g. `https://punch.example.com` (plain http only for loopback).
    pub base_url: String,
    /// The server's policy key (P-256 SPKI DER), pinned at set-up.
    pub policy_public_key: Vec<u8>,
    /// Records per upload request.
    pub batch_size: u32,
    /// Each request gives up after this long.
    pub request_timeout_ms: u64,
    /// How failed syncs back off.
    pub retry: RetryConfig,
}

impl ServerConfig {
    /// The server at `base_url` with its pinned policy key (SPKI DER), default timing.
    pub fn new(base_url: &str, policy_public_key: Vec<u8>) -> ServerConfig {
        ServerConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            policy_public_key,
            batch_size: 500,
            request_timeout_ms: 30_000,
            retry: RetryConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Exponential backoff with full jitter after failed syncs.
pub struct RetryConfig {
    /// The first delay's ceiling.
    pub base_delay_ms: u64,
    /// No delay is longer.
    pub max_delay_ms: u64,
    /// Tries of one request within one `sync()` call.
    pub max_attempts_per_sync: u32,
    /// Longest total sleep inside one `sync()`; longer waits are left to the
    /// next call (WorkManager / the background thread).
    pub max_inline_wait_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            base_delay_ms: 1_000,
            max_delay_ms: 15 * 60 * 1000,
            max_attempts_per_sync: 3,
            max_inline_wait_ms: 10_000,
        }
    }
}

/// A Retry-After longer than this is treated as this (a hostile or broken server).
pub(crate) const MAX_RETRY_AFTER_MS: u64 = 24 * 3_600_000;

/// At least the base delay (a `Retry-After: 0` or a zero jitter draw must
/// not make a loop hammer the server), at most a day.
pub(crate) fn retry_wait(wait_ms: u64, retry: &RetryConfig) -> u64 {
    wait_ms.max(retry.base_delay_ms).min(MAX_RETRY_AFTER_MS)
}
