//! Replacing the punch key: the new key is created by the platform with a
//! challenge bound to the rotation's place in the chain, announced by a
//! `key_rotation` event the channel key signs, and used from the next
//! record on. Records signed before keep uploading through the channel key
//! whatever happened to the old punch key.

use std::sync::Arc;

use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::key_rotation::{
    KeyRole, KeyRotation, RotationReason, key_fingerprint, rotation_challenge,
};
use punch_model::ledger::signing::{Signer, SoftwareSigner};

use crate::device::DeviceContext;
use crate::error::Result;
use crate::keys::{HeldKey, KeyProvider, KeySet};
use crate::recorder::{self, EventReceipt};

/// Records a rotation to a new punch key from `provider` (None: a software
/// key kept in the database) and puts the key in force.
pub(crate) fn rotate_punch_key(
    device: &DeviceContext,
    policy_version: u64,
    provider: Option<&dyn KeyProvider>,
    reason: RotationReason,
) -> Result<EventReceipt> {
    let before = device.keys();
    let ((event_id, wall_time_ms, new_key), seq, hash) =
        recorder::append_signed_by(device, KeyRole::Channel, |ctx, now, seq| {
            let prev = recorder::prev_hash_of(ctx);
            let challenge = rotation_challenge(&device.device_id, seq, &prev);
            // Foreign code (a Keystore or Secure Enclave call): no lock is held.
            let (signer, attestation, pkcs8): (Arc<dyn Signer>, _, _) = match provider {
                Some(p) => {
                    let provided = p.create_key(KeyRole::Punch, &challenge)?;
                    (provided.signer, provided.attestation, None)
                }
                None => {
                    let (s, pkcs8) = SoftwareSigner::generate()?;
                    (Arc::new(s), None, Some(pkcs8))
                }
            };
            let public_key = signer.public_key_spki()?;
            let event = ChainEvent::KeyRotation(KeyRotation {
                punch_key: public_key.clone(),
                replaces: key_fingerprint(&before.punch.public_key),
                reason,
                attestation,
            });
            let record = recorder::event_record(device, ctx, now, seq, policy_version, event)?;
            let mut built = recorder::built_event(&record)?;
            built.new_punch_key = Some((public_key.clone(), pkcs8.clone()));
            let held = HeldKey {
                signer,
                public_key,
                software: pkcs8.is_some(),
            };
            Ok(built.with_outcome((record.event_id, record.wall_time_ms, held)))
        })?;
    let mut keys = KeySet::clone(&device.keys());
    keys.rotations.push((seq, new_key.public_key.clone()));
    keys.punch = new_key;
    device.set_keys(keys);
    Ok(EventReceipt {
        event_id,
        seq,
        wall_time_ms,
        record_hash: hex::encode(hash),
    })
}
