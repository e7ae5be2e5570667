//! One authenticated exchange with the server: the request signed by the
//! device key (no bearer token), sent through the transport, retried within
//! the call's budget, and its answer classified as success, transient or
//! permanent failure.

use std::sync::{Arc, Mutex};

use ring::rand::{SecureRandom, SystemRandom};

use punch_model::ledger::key_rotation::KeyRole;
use punch_model::wire::{self, ErrorCode, ErrorResponse};

use super::backoff;
use super::config::{ServerConfig, retry_wait};
use super::error::SyncError;
use super::report::SyncReport;
use crate::device::DeviceContext;
use crate::error::PunchError;
use crate::net::transport::{HttpRequest, HttpResponse, Transport};

/// Server times outside [2000-01-01, 2200-01-01) are garbage, never an anchor.
pub(crate) const SANE_SERVER_TIME_MS: std::ops::Range<i64> = 946_684_800_000..7_258_118_400_000;

/// How one HTTP exchange failed.
pub(crate) enum CallFailure {
    /// Worth retrying later; `after_ms` from Retry-After if the server said.
    Transient {
        error: SyncError,
        after_ms: Option<u64>,
    },
    Permanent(SyncError),
    /// Our own database, key or set-up failed: an error for the caller, not the server's fault.
    Local(PunchError),
}

impl CallFailure {
    pub fn bad_response(message: String) -> CallFailure {
        CallFailure::Transient {
            error: SyncError::BadResponse { message },
            after_ms: None,
        }
    }
}

impl From<PunchError> for CallFailure {
    fn from(e: PunchError) -> Self {
        CallFailure::Local(e)
    }
}

/// Everything one sync call needs to talk to the server.
pub(crate) struct Session<'a> {
    pub device: &'a DeviceContext,
    pub server: &'a ServerConfig,
    pub transport: Arc<dyn Transport>,
    /// The newest policy version the server mentioned.
    pub policy_hint: &'a Mutex<Option<u64>>,
}

impl Session<'_> {
    /// One authenticated request, retried within this call's budget.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        report: &mut SyncReport,
    ) -> Result<HttpResponse, CallFailure> {
        let retry = &self.server.retry;
        let mut waited_ms = 0u64;
        let mut attempt = 0u32;
        let mut re_anchored = false;
        let mut re_nonced = false;
        loop {
            attempt += 1;
            let request = self.signed_request(method, path, &body)?;
            report.requests += 1;
            let failure = match self.transport.send(&request) {
                Ok(response) => {
                    self.note_policy_hint(&response);
                    match classify_response(&response, self.device.now().wall_time_ms) {
                        Ok(()) => return Ok(response),
                        Err(CallFailure::Permanent(SyncError::Refused {
                            code: Some(ErrorCode::StaleTimestamp),
                            ..
                        })) if !re_anchored => {
                            // Our idea of server time was off: learn it and retry at once.
                            re_anchored = true;
                            self.learn_offset(&response)?;
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
                // A refusal or a TLS failure would fail again: no retry within this call.
                Err(e) if !e.is_retryable() => return Err(CallFailure::Permanent(e.into())),
                Err(e) => CallFailure::Transient {
                    error: e.into(),
                    after_ms: None,
                },
            };
            let CallFailure::Transient { error, after_ms } = failure else {
                return Err(failure);
            };
            let delay = retry_wait(
                after_ms.unwrap_or_else(|| {
                    backoff::full_jitter_ms(attempt, retry.base_delay_ms, retry.max_delay_ms)
                }),
                retry,
            );
            if attempt >= retry.max_attempts_per_sync
                || waited_ms.saturating_add(delay) > retry.max_inline_wait_ms
            {
                return Err(CallFailure::Transient { error, after_ms });
            }
            std::thread::sleep(std::time::Duration::from_millis(delay));
            waited_ms = waited_ms.saturating_add(delay);
        }
    }

    /// A request signed by the device key. A signer or random-number failure
    /// is a local error: nothing unsigned or predictable is ever sent.
    pub fn signed_request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<HttpRequest, PunchError> {
        let timestamp = self.request_timestamp_ms()?;
        let nonce = random_nonce()?;
        let head = self.device.db.head_statement()?;
        let signing =
            wire::request_signing_string(method, path, body, timestamp, &nonce, Some(&head));
        let signature = self.device.sign(KeyRole::Channel, &signing)?;
        Ok(HttpRequest {
            method: method.into(),
            url: format!("{}{}", self.server.base_url, path),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (wire::HEADER_DEVICE.into(), self.device.device_id.clone()),
                (wire::HEADER_TIMESTAMP.into(), timestamp.to_string()),
                (wire::HEADER_NONCE.into(), nonce),
                (wire::HEADER_HEAD.into(), head.to_string()),
                (wire::HEADER_SIGNATURE.into(), wire::b64::encode(&signature)),
            ],
            body: body.to_vec(),
            timeout_ms: self.server.request_timeout_ms,
        })
    }

    fn note_policy_hint(&self, response: &HttpResponse) {
        if let Some(v) = response
            .header(wire::HEADER_POLICY_VERSION)
            .and_then(|v| v.parse::<u64>().ok())
        {
            *self.policy_hint.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
        }
    }

    /// Remembers how far the device's wall clock is from the server's, from
    /// an answer's time header.
    pub fn learn_offset(&self, response: &HttpResponse) -> Result<(), PunchError> {
        let server_time = response
            .header(wire::HEADER_SERVER_TIME)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|t| SANE_SERVER_TIME_MS.contains(t));
        if let Some(t) = server_time {
            let offset = t.saturating_sub(self.device.now().wall_time_ms);
            self.device.db.set_server_offset_ms(offset)?;
        }
        Ok(())
    }

    /// Timestamp for request signing: the wall clock corrected by the offset
    /// learned at the last exchange, so a device whose clock was moved is
    /// corrected by one stale-timestamp answer rather than locked out.
    pub fn request_timestamp_ms(&self) -> Result<i64, PunchError> {
        request_timestamp_ms(self.device)
    }
}

pub(crate) fn request_timestamp_ms(device: &DeviceContext) -> Result<i64, PunchError> {
    let now = device.now();
    let offset = device.db.server_offset_ms()?;
    Ok(now.wall_time_ms.saturating_add(offset))
}

fn random_nonce() -> Result<String, PunchError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PunchError::CorruptState("the system random generator failed".into()))?;
    Ok(hex::encode(bytes))
}

/// Rejects a body's server time that no real server sends.
pub(crate) fn check_server_time(server_time_ms: i64) -> Result<(), CallFailure> {
    if SANE_SERVER_TIME_MS.contains(&server_time_ms) {
        Ok(())
    } else {
        Err(CallFailure::bad_response(format!(
            "server time {server_time_ms} is not a plausible time"
        )))
    }
}

/// Parses a JSON answer; garbage is a transient bad response.
pub(crate) fn parse_answer<T: serde::de::DeserializeOwned>(
    response: &HttpResponse,
) -> Result<T, CallFailure> {
    serde_json::from_slice(&response.body).map_err(|e| CallFailure::bad_response(e.to_string()))
}

/// The typed error of a non-2xx response.
pub(crate) fn error_from_response(response: &HttpResponse) -> SyncError {
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
fn classify_response(response: &HttpResponse, now_ms: i64) -> Result<(), CallFailure> {
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
