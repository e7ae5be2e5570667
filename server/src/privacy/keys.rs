//! Devices' data keys: a phone seals each record's payload at rest
//! (`punch_model::ledger::sealed`) and escrows the key here, so the server
//! reads what it must review and a phone that loses its platform key loses
//! nothing it has not uploaded.

use punch_model::ledger::event::EventRecord;
use punch_model::ledger::record::{PunchRecord, SealedPayload};
use punch_model::ledger::sealed::{DataKey, key_id, unseal, unseal_event};
use punch_model::wire::privacy::DataKeyRequest;

use crate::error::{Result, ServerError};
use crate::store::StoreTx;

/// Whether the key is 32 bytes and is what its id says.
pub fn well_formed(req: &DataKeyRequest) -> bool {
    req.key.len() == 32 && key_id(&req.key) == req.key_id
}

/// Stores a device's data key; refuses one that is not what its id says.
pub fn accept(tx: &dyn StoreTx, device_id: &str, req: &DataKeyRequest, now_ms: i64) -> Result<()> {
    if !well_formed(req) {
        return Err(ServerError::Invalid(
            "a data key is 32 bytes and its id the first 16 hex digits of its SHA-256".into(),
        ));
    }
    tx.privacy()
        .put_data_key(device_id, &req.key_id, &req.key, now_ms)
}

/// The record as judged (payload decrypted), or None when it is sealed with
/// a key this server was never given or that does not open it.
pub fn open_record(
    tx: &dyn StoreTx,
    device_id: &str,
    record: &PunchRecord,
) -> Result<Option<PunchRecord>> {
    let Some(sealed) = &record.sealed else {
        return Ok(Some(record.clone()));
    };
    let Some(key) = escrowed(tx, device_id, sealed)? else {
        return Ok(None);
    };
    Ok(unseal(&key, record).ok())
}

/// The event as recorded (a refused attempt's payload decrypted), or None
/// when it is sealed with a key this server was never given or that does
/// not open it.
pub fn open_event(
    tx: &dyn StoreTx,
    device_id: &str,
    record: &EventRecord,
) -> Result<Option<EventRecord>> {
    let Some(sealed) = record.sealed() else {
        return Ok(Some(record.clone()));
    };
    let Some(key) = escrowed(tx, device_id, sealed)? else {
        return Ok(None);
    };
    Ok(unseal_event(&key, record).ok())
}

/// The escrowed key a payload names, if this server holds it.
fn escrowed(tx: &dyn StoreTx, device_id: &str, sealed: &SealedPayload) -> Result<Option<DataKey>> {
    let Some(raw) = tx.privacy().data_key(device_id, &sealed.key_id)? else {
        return Ok(None);
    };
    DataKey::from_bytes(&raw)
        .map(Some)
        .map_err(|e| ServerError::Corrupt(e.to_string()))
}
