//! Escrows the data key that seals record payloads at rest with the server,
//! before any record sealed with it is uploaded (`data_key` says why the
//! server holds it).

use punch_model::wire::privacy::{DataKeyRequest, PATH_DATA_KEY};

use super::report::SyncReport;
use super::requests::{CallFailure, Session};
use crate::error::PunchError;
use crate::store::Sealing;

/// Gives the server the current data key once (it reads sealed payloads
/// with it; see `data_key` for why the server holds it).
pub(crate) fn escrow_data_key(
    session: &Session<'_>,
    report: &mut SyncReport,
) -> std::result::Result<(), CallFailure> {
    let key = match session.device.db.sealing() {
        Sealing::Ready(key) => key,
        Sealing::Off | Sealing::Unavailable { .. } => return Ok(()),
    };
    let id = key.id();
    if session.device.db.escrowed_data_key()?.as_deref() == Some(id.as_str()) {
        return Ok(());
    }
    let body = serde_json::to_vec(&DataKeyRequest {
        key_id: id.clone(),
        key: key.as_bytes().to_vec(),
    })
    .map_err(|e| CallFailure::Local(PunchError::CorruptState(e.to_string())))?;
    session.call("POST", PATH_DATA_KEY, body, report)?;
    session.device.db.set_escrowed_data_key(&id)?;
    Ok(())
}
