//! Time anchors: the server's time paired with the device's monotonic clock
//! at an exchange, the basis of trusted time while offline.

use punch_model::ledger::record::TimeAnchor;
use punch_model::ledger::trusted_time::anchored_time_ms;
use punch_model::wire::{self, TimeResponse};

use super::report::SyncReport;
use super::requests::{
    CallFailure, Session, check_server_time, parse_answer, request_timestamp_ms,
};
use crate::clock::ClockReading;
use crate::device::DeviceContext;
use crate::error::Result;

/// The anchor `server_time_ms` (proved by `token`) makes at clock reading `at`.
pub(crate) fn anchor_at(at: &ClockReading, server_time_ms: i64, token: &str) -> TimeAnchor {
    TimeAnchor {
        server_time_ms,
        monotonic_ms: at.monotonic_ms,
        boot_id: at.boot_id.clone(),
        token: token.to_string(),
    }
}

/// Stores a fresh anchor taken now.
pub(crate) fn save_anchor(device: &DeviceContext, server_time_ms: i64, token: &str) -> Result<()> {
    let now = device.now();
    device
        .db
        .save_anchor(&anchor_at(&now, server_time_ms, token), now.wall_time_ms)
}

/// The stored anchor, if it belongs to this boot.
pub(crate) fn usable_anchor(device: &DeviceContext) -> Result<Option<TimeAnchor>> {
    let now = device.now();
    let anchor = device.db.anchor()?;
    Ok(anchor.filter(|a| anchored_time_ms(a, &now.boot_id, now.monotonic_ms).is_ok()))
}

/// Best estimate of the server's clock now: anchored time within the same
/// boot, else the wall clock corrected by the last known offset.
pub(crate) fn estimated_server_time_ms(device: &DeviceContext) -> Result<i64> {
    let now = device.now();
    let anchor = device.db.anchor()?;
    match anchor.and_then(|a| anchored_time_ms(&a, &now.boot_id, now.monotonic_ms).ok()) {
        Some(t) => Ok(t),
        None => request_timestamp_ms(device),
    }
}

/// Asks the server for its time (and its current policy version); returns
/// the head the server holds for this device, when it says.
pub(crate) fn refresh_time(
    session: &Session<'_>,
    report: &mut SyncReport,
) -> std::result::Result<Option<(u64, String)>, CallFailure> {
    let response = session.call("GET", wire::PATH_TIME, Vec::new(), report)?;
    let answer: TimeResponse = parse_answer(&response)?;
    check_server_time(answer.server_time_ms)?;
    {
        let mut hint = session
            .policy_hint
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *hint = Some(hint.map_or(answer.policy_version, |h| h.max(answer.policy_version)));
    }
    save_anchor(session.device, answer.server_time_ms, &answer.time_token)?;
    if let Some(reset) = &answer.chain_reset {
        super::segment::apply(session, reset, report)?;
    }
    Ok(answer.head_seq.zip(answer.head_hash))
}
