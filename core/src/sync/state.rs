//! The sync state kept between calls (and process deaths): the backoff.

use serde::{Deserialize, Serialize};

use super::backoff;
use super::config::{RetryConfig, retry_wait};
use super::error::SyncError;
use super::report::SyncReport;

/// Persisted in the store's meta table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SyncState {
    pub consecutive_failures: u32,
    pub next_attempt_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub last_error: Option<SyncError>,
    #[serde(default)]
    pub server_head_mismatch: Option<u64>,
}

impl SyncState {
    pub fn succeeded(&mut self, now_ms: i64) {
        self.consecutive_failures = 0;
        self.next_attempt_ms = None;
        self.last_success_ms = Some(now_ms);
        self.last_error = None;
    }

    /// Schedules the next attempt: the server's `after_ms` if it said,
    /// otherwise exponential backoff with full jitter.
    pub fn failed(
        &mut self,
        retry: &RetryConfig,
        report: &mut SyncReport,
        error: SyncError,
        after_ms: Option<u64>,
        now_ms: i64,
    ) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let backoff_ms = backoff::full_jitter_ms(
            self.consecutive_failures,
            retry.base_delay_ms,
            retry.max_delay_ms,
        );
        let wait = retry_wait(after_ms.unwrap_or(backoff_ms), retry);
        let next = now_ms.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
        self.next_attempt_ms = Some(next);
        self.last_error = Some(error.clone());
        report.error = Some(error);
        report.next_retry_ms = Some(next);
    }
}
