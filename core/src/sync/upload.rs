//! Batched, idempotent upload of pending records as their exact stored bytes.

use std::collections::HashSet;

use punch_model::wire::{self, ErrorCode, UploadRequest, UploadResponse};

use super::anchor::anchor_at;
use super::error::SyncError;
use super::head::reconcile;
use super::report::{RejectedPunch, SyncReport};
use super::requests::{CallFailure, Session, check_server_time, parse_answer};
use crate::error::PunchError;

/// Uploads every pending record; true if at least one batch was answered.
pub(crate) fn upload_pending(
    session: &Session<'_>,
    report: &mut SyncReport,
) -> Result<bool, CallFailure> {
    let mut batch_size = session.server.batch_size.clamp(1, wire::MAX_BATCH as u32);
    // Server heads we already rewound to: a server that keeps "forgetting"
    // cannot make us loop.
    let mut rewound = HashSet::new();
    let mut uploaded_any = false;
    loop {
        let batch = session.device.db.pending_batch(batch_size)?;
        if batch.is_empty() {
            return Ok(uploaded_any);
        }
        let request = UploadRequest {
            device_id: session.device.device_id.clone(),
            records: batch,
        };
        let body =
            serde_json::to_vec(&request).map_err(|e| PunchError::CorruptState(e.to_string()))?;
        let response = match session.call("POST", wire::PATH_PUNCHES, body, report) {
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
        let answer: UploadResponse = parse_answer(&response)?;
        check_server_time(answer.server_time_ms)?;
        let mut progressed = settle(session, &request, &answer, report, &mut rewound)?;
        if let Some(reset) = &answer.chain_reset {
            progressed |= super::segment::apply(session, reset, report)?;
        }
        if let Some(hash) = &answer.head_hash
            && rewound.insert(answer.head_seq)
        {
            progressed |= reconcile(session, answer.head_seq, hash, report)? > 0;
        }
        uploaded_any = true;
        if let Some(seq) = answer.key_rotation_pending {
            // The rest waits for HR's approval of the new punch key: not a failure.
            report.key_rotation_pending = Some(seq);
            return Ok(uploaded_any);
        }
        if !progressed {
            // The server answered but settled none of the batch: don't spin.
            return Err(CallFailure::bad_response(
                "the server's answer settled none of the uploaded records".into(),
            ));
        }
    }
}

/// Commits the server's per-record answers; true if any record settled.
fn settle(
    session: &Session<'_>,
    request: &UploadRequest,
    answer: &UploadResponse,
    report: &mut SyncReport,
    rewound: &mut HashSet<u64>,
) -> Result<bool, PunchError> {
    let sent: HashSet<u64> = request.records.iter().map(|r| r.seq).collect();
    let now = session.device.now();
    let anchor = anchor_at(&now, answer.server_time_ms, &answer.time_token);
    let may_rewind = !rewound.contains(&answer.head_seq);
    let (settled, did_rewind) =
        session
            .device
            .db
            .settle_upload(&sent, answer, may_rewind, &anchor, now.wall_time_ms)?;
    if did_rewind {
        rewound.insert(answer.head_seq);
    }
    report.uploaded += settled.uploaded;
    report.duplicates += settled.duplicates;
    report.resent += settled.resent;
    report
        .rejected
        .extend(settled.rejected.into_iter().map(|r| RejectedPunch {
            seq: r.seq,
            reason: r.reason,
            detail: r.detail,
        }));
    Ok(settled.settled)
}
