//! Talking to the server: enrollment, device-signed requests, batched
//! idempotent upload, signed-policy refresh, time anchors, and persisted
//! backoff so a killed process resumes where it left off.
//!
//! Contract for WorkManager / BGTaskScheduler: `sync()` blocks, is safe to
//! call from several threads (one upload runs at a time; others wait), and is
//! safe to kill at any point: a record is marked uploaded only after the
//! server's answer is committed locally, and re-sending it yields "duplicate".

use std::collections::HashSet;
use std::sync::Arc;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::backoff;
use crate::engine::PunchEngine;
use crate::error::{PunchError, Result};
use crate::protocol::{self, ErrorCode, ErrorResponse, RecordStatus, RejectReason};
use crate::record::TimeAnchor;
use crate::store;
use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError};

/// Where the server is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// e.g. `https://punch.example.com` (plain http only for loopback).
    pub base_url: String,
    /// The server's policy key (P-256 SPKI DER), pinned at set-up.
    pub policy_public_key: Vec<u8>,
    /// Records per upload request.
    pub batch_size: usize,
    pub request_timeout_ms: u64,
    pub retry: RetryConfig,
}

impl ServerConfig {
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
pub struct RetryConfig {
    pub base_delay_ms: u64,
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

/// Why a sync did not finish; surfaced in the report and the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum SyncError {
    #[error("network: {message}")]
    Network { message: String },
    #[error("server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("rate limited by the server")]
    RateLimited,
    /// A 4xx the device cannot fix by retrying (unbound device, bad signature...).
    #[error("server refused the request ({code:?}): {message}")]
    Refused {
        code: Option<ErrorCode>,
        message: String,
    },
    #[error("server answered something unusable: {message}")]
    BadResponse { message: String },
    #[error("server policy refused: {message}")]
    Policy { message: String },
}

impl SyncError {
    /// Permanent errors stop automatic retries until something changes.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SyncError::Refused { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPunch {
    pub seq: u64,
    pub reason: Option<RejectReason>,
    pub detail: Option<String>,
}

/// What one `sync()` did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncReport {
    pub uploaded: u64,
    pub duplicates: u64,
    /// Records acknowledged before that the server no longer had, sent again.
    pub resent: u64,
    pub rejected: Vec<RejectedPunch>,
    /// Records still waiting for upload.
    pub remaining: u64,
    pub requests: u32,
    /// Set when a newer policy was installed.
    pub policy_installed: Option<u64>,
    pub error: Option<SyncError>,
    /// When the next attempt should happen (backoff / Retry-After), epoch ms.
    pub next_retry_ms: Option<i64>,
    /// True when the call did nothing because a backoff is still running.
    pub deferred: bool,
}

/// For the UI: how the queue stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub pending: u64,
    pub uploaded: u64,
    pub rejected: u64,
    pub last_success_ms: Option<i64>,
    pub last_error: Option<SyncError>,
    pub next_attempt_ms: Option<i64>,
    pub consecutive_failures: u32,
    pub policy_version: Option<u64>,
    /// Whether punches taken now carry a usable time anchor.
    pub anchored: bool,
}

/// Called (on the calling thread) whenever the status may have changed.
pub trait SyncListener: Send + Sync {
    fn on_status(&self, status: &SyncStatus);
}

/// Persisted between calls (and process deaths) in the meta table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SyncState {
    consecutive_failures: u32,
    next_attempt_ms: Option<i64>,
    last_success_ms: Option<i64>,
    last_error: Option<SyncError>,
}

const META_SYNC_STATE: &str = "sync_state";
const META_SERVER_OFFSET: &str = "server_offset_ms";
pub(crate) const META_ANCHOR: &str = "time_anchor";

/// How one HTTP exchange failed.
enum CallFailure {
    /// Worth retrying later; `after_ms` from Retry-After if the server said.
    Transient {
        error: SyncError,
        after_ms: Option<u64>,
    },
    Permanent(SyncError),
    /// Our own database or set-up failed: an error for the caller, not the server's fault.
    Local(PunchError),
}

/// A Retry-After longer than this is treated as this (a hostile or broken server).
const MAX_RETRY_AFTER_MS: u64 = 24 * 3_600_000;
/// Server times outside [2000-01-01, 2200-01-01) are garbage, never an anchor.
const SANE_SERVER_TIME_MS: std::ops::Range<i64> = 946_684_800_000..7_258_118_400_000;

impl PunchEngine {
    fn server(&self) -> Result<&ServerConfig> {
        self.server.as_ref().ok_or(PunchError::NotConfigured)
    }

    fn transport(&self) -> Result<Arc<dyn Transport>> {
        let mut slot = self.transport.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        #[cfg(feature = "http-client")]
        {
            let t: Arc<dyn Transport> = Arc::new(crate::http_client::ReqwestTransport::new()?);
            *slot = Some(t.clone());
            Ok(t)
        }
        #[cfg(not(feature = "http-client"))]
        Err(PunchError::NotConfigured)
    }

    /// Enrolls this device with a one-time code from the employer; binds the
    /// device to the code's employee and takes a first time anchor.
    pub fn enroll(&self, code: &str) -> Result<String> {
        let server = self.server()?;
        let body = serde_json::to_vec(&protocol::EnrollRequest {
            code: code.trim().to_string(),
            device_id: self.device_id.clone(),
            public_key: self.public_key.clone(),
            key_storage: if self.software_key {
                "software"
            } else {
                "hardware"
            }
            .into(),
            platform: std::env::consts::OS.into(),
        })
        .map_err(|e| PunchError::CorruptState(e.to_string()))?;
        // Signed with the key being enrolled (proof of possession).
        let transport = self.transport()?;
        let sign = || self.signed_request(server, "POST", protocol::PATH_ENROLL, &body);
        let mut response = transport.send(&sign())?;
        if let SyncError::Refused {
            code: Some(ErrorCode::StaleTimestamp),
            ..
        } = error_from_response(&response)
        {
            // A phone whose clock is off: learn the server's time, sign again.
            self.learn_offset(&response);
            response = transport.send(&sign())?;
        }
        if response.status != 200 {
            let error = error_from_response(&response);
            return Err(PunchError::Sync(error));
        }
        let answer: protocol::EnrollResponse = serde_json::from_slice(&response.body)
            .map_err(|e| PunchError::Sync(bad_response(e)))?;
        if answer.device_id != self.device_id {
            return Err(PunchError::Sync(SyncError::BadResponse {
                message: "enrollment answered for another device".into(),
            }));
        }
        if !SANE_SERVER_TIME_MS.contains(&answer.server_time_ms) {
            return Err(PunchError::Sync(SyncError::BadResponse {
                message: format!("server time {} is not plausible", answer.server_time_ms),
            }));
        }
        self.set_employee(&answer.employee_id)?;
        self.save_anchor(&self.clock.now(), answer.server_time_ms, &answer.time_token)?;
        self.notify_status();
        Ok(answer.employee_id)
    }

    /// Uploads pending punches and refreshes the policy. Network and server
    /// trouble is reported in the returned report (with when to retry);
    /// only local failures (the database, missing set-up) are errors.
    pub fn sync(&self) -> Result<SyncReport> {
        self.sync_inner(false)
    }

    /// Like [`sync`](Self::sync) but ignores a running backoff (a user's
    /// explicit "sync now"); a server's Retry-After is still honoured.
    pub fn sync_now(&self) -> Result<SyncReport> {
        self.sync_inner(true)
    }

    fn sync_inner(&self, force: bool) -> Result<SyncReport> {
        let report = {
            let _one_at_a_time = self.sync_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.sync_locked(force)?
        };
        // After the lock: a listener may call sync() itself.
        self.notify_status();
        Ok(report)
    }

    fn sync_locked(&self, force: bool) -> Result<SyncReport> {
        let server = self.server()?.clone();
        let state = self.load_sync_state()?;
        let now = self.clock.now().wall_time_ms;
        let mut report = SyncReport::default();
        let rate_limited = matches!(state.last_error, Some(SyncError::RateLimited));
        // A deadline further away than any we set means the clock moved: ignore it.
        let longest =
            i64::try_from(MAX_RETRY_AFTER_MS.max(server.retry.max_delay_ms)).unwrap_or(i64::MAX);
        if let Some(next) = state.next_attempt_ms
            && next > now
            && next.saturating_sub(now) <= longest
            && (!force || rate_limited)
        {
            report.deferred = true;
            report.next_retry_ms = Some(next);
            report.error = state.last_error.clone();
            report.remaining = self.pending_count()?;
            return Ok(report);
        }
        if self.device()?.employee_id.is_none() {
            return Err(PunchError::NoEmployee);
        }
        let outcome = self.run_sync(&server, &mut report);
        // Re-read under the state lock: network_available() may have changed it.
        let _state = self.state_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = self.load_sync_state()?;
        match outcome {
            Ok(()) => {
                state.consecutive_failures = 0;
                state.next_attempt_ms = None;
                state.last_success_ms = Some(self.clock.now().wall_time_ms);
                state.last_error = None;
            }
            Err(CallFailure::Local(e)) => return Err(e),
            Err(CallFailure::Transient { error, after_ms }) => {
                self.record_failure(&server, &mut state, &mut report, error, after_ms)
            }
            // Permanent: back off to the maximum instead of hammering.
            Err(CallFailure::Permanent(error)) => {
                let max = Some(server.retry.max_delay_ms);
                self.record_failure(&server, &mut state, &mut report, error, max)
            }
        }
        self.save_sync_state(&state)?;
        report.remaining = self.pending_count()?;
        Ok(report)
    }

    fn record_failure(
        &self,
        server: &ServerConfig,
        state: &mut SyncState,
        report: &mut SyncReport,
        error: SyncError,
        after_ms: Option<u64>,
    ) {
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        let backoff_ms = backoff::full_jitter_ms(
            state.consecutive_failures,
            server.retry.base_delay_ms,
            server.retry.max_delay_ms,
        );
        let wait = retry_wait(after_ms.unwrap_or(backoff_ms), &server.retry);
        let next = self
            .clock
            .now()
            .wall_time_ms
            .saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
        state.next_attempt_ms = Some(next);
        state.last_error = Some(error.clone());
        report.error = Some(error);
        report.next_retry_ms = Some(next);
    }

    fn run_sync(
        &self,
        server: &ServerConfig,
        report: &mut SyncReport,
    ) -> std::result::Result<(), CallFailure> {
        if self.policy_version().is_none() {
            self.refresh_policy(server, report)?;
        }
        let mut batch_size = server.batch_size.clamp(1, protocol::MAX_BATCH);
        // Server heads we already rewound to: a server that keeps "forgetting"
        // cannot make us loop.
        let mut rewound = HashSet::new();
        let mut uploaded_any = false;
        loop {
            let batch = self.pending_batch(batch_size).map_err(CallFailure::Local)?;
            if batch.is_empty() {
                break;
            }
            let request = protocol::UploadRequest {
                device_id: self.device_id.clone(),
                records: batch,
            };
            let body = serde_json::to_vec(&request)
                .map_err(|e| CallFailure::Local(PunchError::CorruptState(e.to_string())))?;
            let response = match self.call(server, "POST", protocol::PATH_PUNCHES, body, report) {
                Ok(r) => r,
                Err(CallFailure::Permanent(SyncError::Refused {
                    code: Some(ErrorCode::BatchTooLarge),
                    ..
                })) if batch_size > 1 => {
                    batch_size /= 2;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let answer: protocol::UploadResponse =
                serde_json::from_slice(&response.body).map_err(|e| CallFailure::Transient {
                    error: bad_response(e),
                    after_ms: None,
                })?;
            check_server_time(answer.server_time_ms)?;
            let progressed = self
                .apply_results(&request, &answer, report, &mut rewound)
                .map_err(CallFailure::Local)?;
            uploaded_any = true;
            if !progressed {
                // The server answered but settled none of the batch: don't spin.
                return Err(CallFailure::Transient {
                    error: SyncError::BadResponse {
                        message: "the server's answer settled none of the uploaded records".into(),
                    },
                    after_ms: None,
                });
            }
        }
        // Nothing to upload (or the anchor is from another boot): still
        // refresh the anchor and learn of a newer policy, so an idle phone
        // is never locked out by an expired policy or left unanchored.
        if !uploaded_any || self.usable_anchor().is_none() {
            self.refresh_time(server, report)?;
        }
        let installed = self.policy_version().unwrap_or(0);
        let hint = *self.policy_hint.lock().unwrap_or_else(|e| e.into_inner());
        if hint.is_some_and(|v| v > installed) {
            self.refresh_policy(server, report)?;
        }
        Ok(())
    }

    fn refresh_time(
        &self,
        server: &ServerConfig,
        report: &mut SyncReport,
    ) -> std::result::Result<(), CallFailure> {
        let response = self.call(server, "GET", protocol::PATH_TIME, Vec::new(), report)?;
        let answer: protocol::TimeResponse =
            serde_json::from_slice(&response.body).map_err(|e| CallFailure::Transient {
                error: bad_response(e),
                after_ms: None,
            })?;
        check_server_time(answer.server_time_ms)?;
        {
            let mut hint = self.policy_hint.lock().unwrap_or_else(|e| e.into_inner());
            *hint = Some(hint.map_or(answer.policy_version, |h| h.max(answer.policy_version)));
        }
        self.save_anchor(&self.clock.now(), answer.server_time_ms, &answer.time_token)
            .map_err(CallFailure::Local)
    }

    fn pending_batch(&self, limit: usize) -> Result<Vec<protocol::UploadRecord>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT seq, record, signature FROM punches WHERE upload_state = 'pending'
             ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(protocol::UploadRecord {
                seq: r.get::<_, i64>(0)? as u64,
                record: r.get(1)?,
                signature: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Commits the server's per-record answers; true if any record settled.
    fn apply_results(
        &self,
        request: &protocol::UploadRequest,
        answer: &protocol::UploadResponse,
        report: &mut SyncReport,
        rewound: &mut HashSet<u64>,
    ) -> Result<bool> {
        let sent: HashSet<u64> = request.records.iter().map(|r| r.seq).collect();
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        // Gaps right after records we hold as uploaded: the server lost them
        // (restored from a backup). Send them again; the gapped ones stay pending.
        let rewind = !rewound.contains(&answer.head_seq) && server_lost_records(&tx, answer)?;
        let mut settled = false;
        if rewind {
            rewound.insert(answer.head_seq);
            let resent = tx.execute(
                "UPDATE punches SET upload_state = 'pending', upload_detail = 'resent: server lost it'
                 WHERE seq > ?1 AND upload_state = 'uploaded'",
                params![db_seq(answer.head_seq)],
            )?;
            report.resent += resent as u64;
            settled = true;
        }
        for result in &answer.results {
            // Only answers about records we actually sent count.
            if !sent.contains(&result.seq) {
                continue;
            }
            if rewind && result.reason == Some(RejectReason::Gap) {
                continue;
            }
            let (state, detail) = match result.status {
                RecordStatus::Accepted => {
                    report.uploaded += 1;
                    ("uploaded", None)
                }
                RecordStatus::Duplicate => {
                    report.duplicates += 1;
                    ("uploaded", Some("duplicate".to_string()))
                }
                RecordStatus::Rejected => {
                    report.rejected.push(RejectedPunch {
                        seq: result.seq,
                        reason: result.reason,
                        detail: result.detail.clone(),
                    });
                    let reason = result
                        .reason
                        .and_then(|r| serde_json::to_value(r).ok())
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| "unspecified".into());
                    let detail = match &result.detail {
                        Some(d) => format!("{reason}: {d}"),
                        None => reason,
                    };
                    ("rejected", Some(detail))
                }
            };
            let changed = tx
                .prepare_cached(
                    "UPDATE punches SET upload_state = ?1, upload_detail = ?2
                     WHERE seq = ?3 AND upload_state = 'pending'",
                )?
                .execute(params![state, detail, db_seq(result.seq)])?;
            settled |= changed > 0;
        }
        // One commit (one fsync) for the results and the fresh anchor.
        write_anchor(
            &tx,
            &self.clock.now(),
            answer.server_time_ms,
            &answer.time_token,
        )?;
        tx.commit()?;
        Ok(settled)
    }

    fn refresh_policy(
        &self,
        server: &ServerConfig,
        report: &mut SyncReport,
    ) -> std::result::Result<(), CallFailure> {
        let response = self.call(server, "GET", protocol::PATH_POLICY, Vec::new(), report)?;
        let answer: protocol::PolicyResponse =
            serde_json::from_slice(&response.body).map_err(|e| CallFailure::Transient {
                error: bad_response(e),
                after_ms: None,
            })?;
        check_server_time(answer.server_time_ms)?;
        let sent_at = self.clock.now();
        self.save_anchor(&sent_at, answer.server_time_ms, &answer.time_token)
            .map_err(CallFailure::Local)?;
        let installed = self.policy_version();
        match self.install_policy_json(&answer.body, Some(&answer.signature)) {
            Ok(v) => {
                if installed != Some(v) {
                    report.policy_installed = Some(v);
                }
                Ok(())
            }
            // Bad signature, rollback, expiry: keep the last good policy and say so.
            Err(
                e @ (PunchError::Policy(_)
                | PunchError::PolicyRollback { .. }
                | PunchError::PolicySignature),
            ) => Err(CallFailure::Transient {
                error: SyncError::Policy {
                    message: e.to_string(),
                },
                after_ms: None,
            }),
            Err(e) => Err(CallFailure::Local(e)),
        }
    }

    /// One authenticated request, retried within this call's budget.
    fn call(
        &self,
        server: &ServerConfig,
        method: &str,
        path: &str,
        body: Vec<u8>,
        report: &mut SyncReport,
    ) -> std::result::Result<HttpResponse, CallFailure> {
        let transport = self.transport().map_err(CallFailure::Local)?;
        let mut waited_ms = 0u64;
        let mut attempt = 0u32;
        let mut re_anchored = false;
        let mut re_nonced = false;
        loop {
            attempt += 1;
            let request = self.signed_request(server, method, path, &body);
            report.requests += 1;
            let outcome = transport.send(&request);
            let failure = match outcome {
                Ok(response) => {
                    if let Some(v) = response
                        .header(protocol::HEADER_POLICY_VERSION)
                        .and_then(|v| v.parse::<u64>().ok())
                    {
                        *self.policy_hint.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
                    }
                    match classify_response(&response, self.clock.now().wall_time_ms) {
                        Ok(()) => return Ok(response),
                        Err(CallFailure::Permanent(SyncError::Refused {
                            code: Some(ErrorCode::StaleTimestamp),
                            ..
                        })) if !re_anchored => {
                            // Our idea of server time was off: learn it and retry at once.
                            re_anchored = true;
                            self.learn_offset(&response);
                            continue;
                        }
                        Err(CallFailure::Permanent(SyncError::Refused {
                            code: Some(ErrorCode::ReplayedNonce),
                            ..
                        })) if !re_nonced => {
                            // A transport re-sent our exact request; sign a fresh one.
                            re_nonced = true;
                            continue;
                        }
                        Err(f) => f,
                    }
                }
                Err(e) if !e.is_retryable() => {
                    return Err(CallFailure::Permanent(SyncError::Network {
                        message: e.to_string(),
                    }));
                }
                Err(e) => CallFailure::Transient {
                    error: SyncError::Network {
                        message: e.to_string(),
                    },
                    after_ms: None,
                },
            };
            let CallFailure::Transient { error, after_ms } = failure else {
                return Err(failure);
            };
            let delay = retry_wait(
                after_ms.unwrap_or_else(|| {
                    backoff::full_jitter_ms(
                        attempt,
                        server.retry.base_delay_ms,
                        server.retry.max_delay_ms,
                    )
                }),
                &server.retry,
            );
            if attempt >= server.retry.max_attempts_per_sync
                || waited_ms.saturating_add(delay) > server.retry.max_inline_wait_ms
            {
                return Err(CallFailure::Transient { error, after_ms });
            }
            std::thread::sleep(std::time::Duration::from_millis(delay));
            waited_ms = waited_ms.saturating_add(delay);
        }
    }

    fn signed_request(
        &self,
        server: &ServerConfig,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> HttpRequest {
        let timestamp = self.request_timestamp_ms();
        let nonce = random_nonce();
        let signing = protocol::request_signing_string(method, path, body, timestamp, &nonce);
        // A signer failure surfaces as the server's bad-signature answer.
        let signature = self.signer.sign(&signing).unwrap_or_default();
        HttpRequest {
            method: method.into(),
            url: format!("{}{}", server.base_url, path),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (protocol::HEADER_DEVICE.into(), self.device_id.clone()),
                (protocol::HEADER_TIMESTAMP.into(), timestamp.to_string()),
                (protocol::HEADER_NONCE.into(), nonce),
                (
                    protocol::HEADER_SIGNATURE.into(),
                    protocol::b64::encode(&signature),
                ),
            ],
            body: body.to_vec(),
            timeout_ms: server.request_timeout_ms,
        }
    }

    /// Stores a fresh anchor: the server's time paired with our monotonic clock.
    fn save_anchor(
        &self,
        at: &crate::clock::ClockReading,
        server_time_ms: i64,
        token: &str,
    ) -> Result<()> {
        let inner = self.lock();
        write_anchor(&inner.conn, at, server_time_ms, token)
    }

    fn learn_offset(&self, response: &HttpResponse) {
        let server_time = response
            .header(protocol::HEADER_SERVER_TIME)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|t| SANE_SERVER_TIME_MS.contains(t));
        if let Some(t) = server_time {
            let offset = t.saturating_sub(self.clock.now().wall_time_ms);
            let inner = self.lock();
            let _ = store::set_meta(&inner.conn, META_SERVER_OFFSET, &offset.to_string());
        }
    }

    /// Timestamp for request signing: the wall clock corrected by the offset
    /// learned at the last exchange, so a device whose clock was moved is
    /// corrected by one stale-timestamp answer rather than locked out.
    fn request_timestamp_ms(&self) -> i64 {
        let offset = store::get_meta(&self.lock().conn, META_SERVER_OFFSET)
            .ok()
            .flatten()
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(0);
        self.clock.now().wall_time_ms.saturating_add(offset)
    }

    /// The current anchor if it belongs to this boot.
    pub(crate) fn usable_anchor(&self) -> Option<TimeAnchor> {
        let inner = self.lock();
        let anchor: TimeAnchor = store::get_meta(&inner.conn, META_ANCHOR)
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str(&t).ok())?;
        let now = self.clock.now();
        (anchor.boot_id == now.boot_id && now.monotonic_ms >= anchor.monotonic_ms).then_some(anchor)
    }

    /// Best estimate of the server's clock now: anchored time within the
    /// same boot, else the wall clock corrected by the last known offset.
    pub fn estimated_server_time_ms(&self) -> i64 {
        match self.usable_anchor() {
            Some(a) => {
                let elapsed = self.clock.now().monotonic_ms.saturating_sub(a.monotonic_ms);
                a.server_time_ms
                    .saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
            }
            None => self.request_timestamp_ms(),
        }
    }

    fn load_sync_state(&self) -> Result<SyncState> {
        let text = store::get_meta(&self.lock().conn, META_SYNC_STATE)?;
        // An unreadable state only forgets the backoff: never blocks syncing.
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    fn save_sync_state(&self, state: &SyncState) -> Result<()> {
        let text =
            serde_json::to_string(state).map_err(|e| PunchError::CorruptState(e.to_string()))?;
        store::set_meta(&self.lock().conn, META_SYNC_STATE, &text)
    }

    /// Tells the engine the network is back: a backoff caused by network
    /// failures ends now (a server's Retry-After still stands).
    pub fn network_available(&self) -> Result<()> {
        {
            let _state = self.state_lock.lock().unwrap_or_else(|e| e.into_inner());
            let mut state = self.load_sync_state()?;
            if matches!(state.last_error, Some(SyncError::Network { .. })) {
                state.next_attempt_ms = None;
                self.save_sync_state(&state)?;
            }
        }
        self.wake_background();
        Ok(())
    }

    pub fn status(&self) -> Result<SyncStatus> {
        let state = self.load_sync_state()?;
        let (pending, uploaded, rejected) = {
            let inner = self.lock();
            (
                store::count_by_state(&inner.conn, "pending")?,
                store::count_by_state(&inner.conn, "uploaded")?,
                store::count_by_state(&inner.conn, "rejected")?,
            )
        };
        Ok(SyncStatus {
            pending,
            uploaded,
            rejected,
            last_success_ms: state.last_success_ms,
            last_error: state.last_error,
            next_attempt_ms: state.next_attempt_ms,
            consecutive_failures: state.consecutive_failures,
            policy_version: self.policy_version(),
            anchored: self.usable_anchor().is_some(),
        })
    }

    pub fn set_listener(&self, listener: Option<Arc<dyn SyncListener>>) {
        *self.listener.lock().unwrap_or_else(|e| e.into_inner()) = listener;
    }

    pub(crate) fn notify_status(&self) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(l) = listener
            && let Ok(status) = self.status()
        {
            l.on_status(&status);
        }
    }
}

/// Stores a fresh anchor (the server's time paired with our monotonic clock)
/// and the wall-clock offset used to timestamp requests.
fn write_anchor(
    conn: &rusqlite::Connection,
    at: &crate::clock::ClockReading,
    server_time_ms: i64,
    token: &str,
) -> Result<()> {
    let anchor = TimeAnchor {
        server_time_ms,
        monotonic_ms: at.monotonic_ms,
        boot_id: at.boot_id.clone(),
        token: token.to_string(),
    };
    let text =
        serde_json::to_string(&anchor).map_err(|e| PunchError::CorruptState(e.to_string()))?;
    store::set_meta(conn, META_ANCHOR, &text)?;
    store::set_meta(
        conn,
        META_SERVER_OFFSET,
        &server_time_ms.saturating_sub(at.wall_time_ms).to_string(),
    )
}

/// A gap whose missing records we hold as uploaded means the server lost them.
fn server_lost_records(
    tx: &rusqlite::Transaction<'_>,
    answer: &protocol::UploadResponse,
) -> Result<bool> {
    let head = answer.head_seq;
    let Some(first_gap) = answer
        .results
        .iter()
        .filter(|r| r.status == RecordStatus::Rejected && r.reason == Some(RejectReason::Gap))
        .map(|r| r.seq)
        .filter(|&seq| seq > head.saturating_add(1))
        .min()
    else {
        return Ok(false);
    };
    let missing = first_gap - head - 1;
    let uploaded: i64 = tx.query_row(
        "SELECT COUNT(*) FROM punches WHERE seq > ?1 AND seq < ?2 AND upload_state = 'uploaded'",
        params![db_seq(head), db_seq(first_gap)],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(uploaded).unwrap_or(0) == missing)
}

/// At least the base delay (a `Retry-After: 0` or a zero jitter draw must
/// not make a loop hammer the server), at most a day.
fn retry_wait(wait_ms: u64, retry: &RetryConfig) -> u64 {
    wait_ms.max(retry.base_delay_ms).min(MAX_RETRY_AFTER_MS)
}

/// Seqs are stored in SQLite's i64; ours never come near 2^63.
fn db_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn check_server_time(server_time_ms: i64) -> std::result::Result<(), CallFailure> {
    if SANE_SERVER_TIME_MS.contains(&server_time_ms) {
        Ok(())
    } else {
        Err(CallFailure::Transient {
            error: SyncError::BadResponse {
                message: format!("server time {server_time_ms} is not a plausible time"),
            },
            after_ms: None,
        })
    }
}

fn bad_response(e: serde_json::Error) -> SyncError {
    SyncError::BadResponse {
        message: e.to_string(),
    }
}

fn random_nonce() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    hex::encode(bytes)
}

/// The typed error of a non-2xx response.
fn error_from_response(response: &HttpResponse) -> SyncError {
    let parsed: Option<ErrorResponse> = serde_json::from_slice(&response.body).ok();
    let message = parsed
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&response.body)
                .chars()
                .take(200)
                .collect()
        });
    match response.status {
        429 => SyncError::RateLimited,
        500..=599 => SyncError::Server {
            status: response.status,
            message,
        },
        _ => SyncError::Refused {
            code: parsed.map(|e| e.error),
            message,
        },
    }
}

/// 2xx is success; 408/429/5xx are transient (honouring Retry-After); other
/// 4xx are permanent.
fn classify_response(response: &HttpResponse, now_ms: i64) -> std::result::Result<(), CallFailure> {
    match response.status {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => {
            let after_ms = response
                .header("retry-after")
                .and_then(|v| backoff::parse_retry_after_ms(v, now_ms));
            Err(CallFailure::Transient {
                error: error_from_response(response),
                after_ms,
            })
        }
        _ => Err(CallFailure::Permanent(error_from_response(response))),
    }
}

impl From<TransportError> for PunchError {
    fn from(e: TransportError) -> Self {
        PunchError::Sync(SyncError::Network {
            message: e.to_string(),
        })
    }
}
