//! The employer acknowledged this device's chain break (`wire::ChainReset`
//! in a time or upload answer): set the refused records aside as evidence
//! and let the next punch start a new segment on the acknowledged head.

use punch_model::wire::ChainReset;

use super::report::SyncReport;
use super::requests::Session;
use crate::error::PunchError;

/// Applies `reset` once; true if it changed anything.
pub(crate) fn apply(
    session: &Session<'_>,
    reset: &ChainReset,
    report: &mut SyncReport,
) -> Result<bool, PunchError> {
    let now = session.device.now().wall_time_ms;
    let applied = session.device.db.apply_chain_reset(reset, now)?;
    if let Some(set_aside) = applied {
        report.chain_reset = Some(set_aside);
    }
    Ok(applied.is_some())
}
