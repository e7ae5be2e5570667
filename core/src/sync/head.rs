//! The server's view of this device's chain wins over the local upload
//! flags: every answer that names the server's head is compared with the
//! local chain, whatever lies above it is sent again, and a head this device
//! never produced is reported.

use super::report::SyncReport;
use super::requests::Session;
use crate::error::Result;

/// Applies the server's head `(seq, hash)`; returns how many records were
/// made pending again.
pub(crate) fn reconcile(
    session: &Session<'_>,
    server_seq: u64,
    server_hash: &str,
    report: &mut SyncReport,
) -> Result<u64> {
    let check = session.device.db.reconcile_head(server_seq, server_hash)?;
    report.resent += check.resent;
    if check.foreign {
        report.server_head_mismatch = Some(server_seq);
    }
    Ok(check.resent)
}
