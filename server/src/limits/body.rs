//! Request bodies: read with a size limit that is enforced while reading
//! (a declared or streamed body past it stops at the limit, nothing more
//! is buffered), a deadline, and a share of the process-wide body budget
//! held until the answer is sent.
//!
//! A body is read before its signature can be checked (the signature
//! covers it), so the budget cannot wait for authentication. Instead a
//! request that does not name an enrolled, bound device (a stranger, or an
//! enrollment) draws from a quarter of the budget: strangers can fill that
//! quarter, never the rest, which devices keep.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Budget accounting unit: permits are KiB (a semaphore counts in u32).
const UNIT: usize = 1024;

/// Bodies in memory at once, across all connections of this process.
#[derive(Clone)]
pub struct BodyBudget {
    permits: Arc<Semaphore>,
    total_units: usize,
    /// What requests from no known device may hold at once (also counted
    /// in `permits`).
    strangers: Arc<Semaphore>,
    stranger_units: usize,
}

/// Who a body is read for, as far as can be told before reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The request names an enrolled, bound device (its signature is
    /// checked once the body is in).
    KnownDevice,
    Stranger,
}

/// Keeps a read body's bytes counted until dropped.
pub struct BodyPermit {
    _total: OwnedSemaphorePermit,
    _stranger: Option<OwnedSemaphorePermit>,
}

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    TooLarge {
        limit: usize,
    },
    /// Not received within the body read timeout.
    Timeout,
    /// The budget stayed exhausted for the whole body timeout.
    Busy,
    /// The client broke off or sent a malformed body.
    Broken(String),
}

impl BodyBudget {
    pub fn new(bytes: usize) -> BodyBudget {
        let total_units = (bytes / UNIT).clamp(1, Semaphore::MAX_PERMITS);
        let stranger_units = (total_units / 4).max(1);
        BodyBudget {
            permits: Arc::new(Semaphore::new(total_units)),
            total_units,
            strangers: Arc::new(Semaphore::new(stranger_units)),
            stranger_units,
        }
    }

    /// Reads `body` (at most `limit` bytes) within `timeout`; the permit
    /// keeps the bytes counted until the caller drops it.
    pub async fn read(
        &self,
        headers: &HeaderMap,
        body: Body,
        limit: usize,
        timeout: Duration,
        sender: Sender,
    ) -> Result<(Bytes, BodyPermit), BodyError> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(BodyError::TooLarge { limit });
        }
        // Without a length (chunked), reserve the route's whole limit.
        let bytes = declared.map_or(limit, |n| n as usize);
        let units = bytes.div_ceil(UNIT).clamp(1, self.total_units);
        let deadline = tokio::time::Instant::now() + timeout;
        let stranger = match sender {
            Sender::KnownDevice => None,
            Sender::Stranger => Some(
                tokio::time::timeout_at(
                    deadline,
                    self.strangers
                        .clone()
                        .acquire_many_owned(units.min(self.stranger_units) as u32),
                )
                .await
                .map_err(|_| BodyError::Busy)?
                .map_err(|_| BodyError::Busy)?,
            ),
        };
        let permit = tokio::time::timeout_at(
            deadline,
            self.permits.clone().acquire_many_owned(units as u32),
        )
        .await
        .map_err(|_| BodyError::Busy)?
        .map_err(|_| BodyError::Busy)?;
        let read = tokio::time::timeout_at(deadline, axum::body::to_bytes(body, limit)).await;
        match read {
            Err(_) => Err(BodyError::Timeout),
            Ok(Ok(bytes)) => Ok((
                bytes,
                BodyPermit {
                    _total: permit,
                    _stranger: stranger,
                },
            )),
            Ok(Err(e)) => {
                // to_bytes reports the limit as a LengthLimitError source.
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
                while let Some(err) = source {
                    if err.is::<http_body_util::LengthLimitError>() {
                        return Err(BodyError::TooLarge { limit });
                    }
                    source = err.source();
                }
                Err(BodyError::Broken(e.to_string()))
            }
        }
    }
}
