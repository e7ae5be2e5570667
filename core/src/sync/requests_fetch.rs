//! Where the device's requests stand: asked only while one waits for a
//! decision (or a field site may arrive), with the signed personal
//! addendum installed from the same answer, and the forgotten clock-outs
//! the server found (asked also while the employee is clocked in); then the files filed with
//! make-up requests go up.

use punch_model::ledger::signing::sha256;
use punch_model::wire::{self, AttachmentStored, RequestsResponse};

use super::error::SyncError;
use super::report::SyncReport;
use super::requests::{CallFailure, Session, parse_answer};
use crate::error::PunchError;
use crate::exceptions;
use crate::installed_policy::InstalledPolicy;
use crate::store::StatusRow;

pub(crate) fn refresh_requests(
    session: &Session<'_>,
    policy: &InstalledPolicy,
    report: &mut SyncReport,
) -> Result<(), CallFailure> {
    let device = session.device;
    let uploads = device.db.attachments_to_upload()?;
    // Clocked in here: the server may have found the clock-out forgotten
    // (`crate::exceptions::forgotten`), which only this answer tells.
    let wanted = exceptions::any_undecided(device)?
        || !policy.field_sites().is_empty()
        || device.db.punch_context()?.own_open_shift().is_some();
    if !wanted && uploads.is_empty() {
        return Ok(());
    }
    for attachment in uploads {
        // The stored bytes must still be what the request signed.
        if hex::encode(sha256(&attachment.body)) != attachment.sha256 {
            return Err(CallFailure::Local(PunchError::CorruptState(format!(
                "attachment {} no longer matches its hash",
                attachment.sha256
            ))));
        }
        let path = format!("{}/{}", wire::PATH_ATTACHMENTS, attachment.sha256);
        match session.call("PUT", &path, attachment.body, report) {
            Ok(response) => {
                let stored: AttachmentStored = parse_answer(&response)?;
                if stored.sha256 != attachment.sha256 {
                    return Err(CallFailure::bad_response(
                        "the server stored another attachment".into(),
                    ));
                }
                device.db.mark_attachment_uploaded(&attachment.sha256)?;
            }
            // Refused for good (no request names it yet, or too large):
            // keep it and try again with the next sync, after the request.
            Err(CallFailure::Permanent(_)) => {}
            Err(other) => return Err(other),
        }
    }
    let response = session.call("GET", wire::PATH_REQUESTS, Vec::new(), report)?;
    let answer: RequestsResponse = parse_answer(&response)?;
    let rows: Vec<StatusRow> = answer
        .decisions
        .into_iter()
        .map(|d| StatusRow {
            event_id: d.event_id,
            status: d.status,
            detail: d.detail,
            comment: d.comment,
            decided_at_ms: d.decided_at_ms,
        })
        .collect();
    device.db.save_request_statuses(&rows)?;
    device.db.save_forgotten_clock_outs(&answer.forgotten)?;
    match policy.install_addendum(device, answer.addendum.as_ref()) {
        Ok(()) => Ok(()),
        Err(PunchError::Addendum(message)) => Err(CallFailure::Transient {
            error: SyncError::Policy { message },
            after_ms: None,
        }),
        Err(e) => Err(CallFailure::Local(e)),
    }
}
