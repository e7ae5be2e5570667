//! Request bodies: read with a size limit that is enforced while reading
//! (a declared or streamed body past it stops at the limit, nothing more
//! is buffered), a deadline, and a share of the process-wide body budget
//! held until the answer is sent.

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
        BodyBudget {
            permits: Arc::new(Semaphore::new(total_units)),
            total_units,
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
    ) -> Result<(Bytes, OwnedSemaphorePermit), BodyError> {
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
            Ok(Ok(bytes)) => Ok((bytes, permit)),
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
