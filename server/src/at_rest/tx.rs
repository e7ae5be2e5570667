//! [`SealedTx`]: a [`StoreTx`] that seals the evidence columns on the way
//! in and opens them on the way out, over any backend. Business rules see
//! clear values and never know; the backends store what they are given.
//! Everything else passes through unchanged.

use std::collections::HashMap;

use crate::error::Result;
use crate::store::sealable::{RowKey, SECRET_META, SealableColumn, StoredValue};
use crate::store::{
    AttachmentRow, BindDevice, ChainRow, ChallengeRow, CodeRow, DeviceInfo, EmployeeRow,
    ErasureReport, EventDecision, EventFilter, NewPunch, PinCodeRow, PinProfile, PolicyRow,
    PurgeKind, RejectedInfo, Revelation, StoreTx, StoredEvent, StoredPunchInfo, people,
};

use super::AtRestKeys;
use super::value::{self, Slot};

/// The slot of a `meta` row that is a server secret (`SECRET_META`).
fn secret_slot(key: &str) -> Option<Slot<'_>> {
    SECRET_META
        .contains(&key)
        .then_some(Slot::Secret { name: key })
}

/// Without keys the same layer frames the clear values that could pass for
/// sealed ones (`value::keep_clear`).
pub struct SealedTx<'a> {
    pub(super) inner: &'a dyn StoreTx,
    pub(super) keys: Option<&'a AtRestKeys>,
}

impl SealedTx<'_> {
    pub(super) fn seal(&self, slot: &Slot<'_>, plain: &[u8]) -> Result<Vec<u8>> {
        match self.keys {
            Some(keys) => Ok(value::seal(keys, slot, plain)?),
            None => Ok(value::keep_clear(plain)),
        }
    }

    pub(super) fn open(&self, slot: &Slot<'_>, stored: Vec<u8>) -> Result<Vec<u8>> {
        match self.keys {
            Some(keys) => Ok(value::open(keys, slot, stored)?),
            None => Ok(value::open_clear(stored)),
        }
    }

    // Bodies are the server's JSON (they begin with `{`): clear, they are
    // never mistaken for sealed and stay as they are.
    fn seal_text(&self, slot: &Slot<'_>, plain: &str) -> Result<String> {
        match self.keys {
            Some(keys) => Ok(value::seal_text(keys, slot, plain)?),
            None => Ok(plain.to_string()),
        }
    }

    fn open_text(&self, slot: &Slot<'_>, stored: String) -> Result<String> {
        match self.keys {
            Some(keys) => Ok(value::open_text(keys, slot, stored)?),
            None => Ok(stored),
        }
    }

    fn chain(device_id: &str, seq: u64) -> Slot<'_> {
        Slot::ChainRecord { device_id, seq }
    }

    fn sealed_event(&self, e: &StoredEvent) -> Result<StoredEvent> {
        let mut out = e.clone();
        out.record = self.seal(&Self::chain(&e.device_id, e.seq), &e.record)?;
        out.body = self.seal_text(
            &Slot::EventBody {
                device_id: &e.device_id,
                seq: e.seq,
            },
            &e.body,
        )?;
        Ok(out)
    }

    fn opened_event(&self, mut e: StoredEvent) -> Result<StoredEvent> {
        e.record = self.open(
            &Self::chain(&e.device_id, e.seq),
            std::mem::take(&mut e.record),
        )?;
        let body = std::mem::take(&mut e.body);
        e.body = self.open_text(
            &Slot::EventBody {
                device_id: &e.device_id,
                seq: e.seq,
            },
            body,
        )?;
        Ok(e)
    }

    fn rejected_slot(r: &RejectedInfo) -> Slot<'_> {
        Slot::RejectedRecord {
            device_id: &r.device_id,
            hash: &r.hash,
        }
    }

    fn sealed_punch<'p>(&self, p: &NewPunch<'p>) -> Result<(NewPunch<'p>, Vec<u8>)> {
        let sealed = self.seal(&Self::chain(&p.info.device_id, p.info.seq), p.record)?;
        Ok((p.clone(), sealed))
    }
}

impl StoreTx for SealedTx<'_> {
    fn punch_bytes(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> {
        self.inner
            .punch_bytes(device_id, seq)?
            .map(|b| self.open(&Self::chain(device_id, seq), b))
            .transpose()
    }

    fn punch_bytes_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, Vec<u8>>> {
        self.inner
            .punch_bytes_many(device_id, seqs)?
            .into_iter()
            .map(|(seq, b)| Ok((seq, self.open(&Self::chain(device_id, seq), b)?)))
            .collect()
    }

    fn insert_punch(&self, punch: &NewPunch<'_>) -> Result<()> {
        let (p, sealed) = self.sealed_punch(punch)?;
        self.inner.insert_punch(&NewPunch {
            record: &sealed,
            ..p
        })
    }

    fn insert_punches(&self, punches: &[NewPunch<'_>]) -> Result<()> {
        let sealed = punches
            .iter()
            .map(|p| self.sealed_punch(p))
            .collect::<Result<Vec<_>>>()?;
        let rows: Vec<NewPunch<'_>> = sealed
            .iter()
            .map(|(p, bytes)| NewPunch {
                record: bytes,
                ..p.clone()
            })
            .collect();
        self.inner.insert_punches(&rows)
    }

    fn record_rejected(&self, rejected: &RejectedInfo) -> Result<()> {
        let mut row = rejected.clone();
        row.record = self.seal(&Self::rejected_slot(rejected), &rejected.record)?;
        self.inner.record_rejected(&row)
    }

    fn refused_devices(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.inner.refused_devices(after, team, limit)
    }

    fn refused_of(&self, device_id: &str, limit: usize) -> Result<Vec<crate::store::RefusedRow>> {
        self.inner.refused_of(device_id, limit)
    }

    fn rejected(&self) -> Result<Vec<RejectedInfo>> {
        self.inner
            .rejected()?
            .into_iter()
            .map(|mut r| {
                let stored = std::mem::take(&mut r.record);
                r.record = self.open(&Self::rejected_slot(&r), stored)?;
                Ok(r)
            })
            .collect()
    }

    fn chain_rows(&self, device_id: &str) -> Result<Vec<ChainRow>> {
        self.inner
            .chain_rows(device_id)?
            .into_iter()
            .map(|mut row| {
                let stored = std::mem::take(&mut row.record);
                row.record = self.open(&Self::chain(device_id, row.seq), stored)?;
                Ok(row)
            })
            .collect()
    }

    fn insert_event(&self, event: &StoredEvent) -> Result<()> {
        self.inner.insert_event(&self.sealed_event(event)?)
    }

    fn events(&self, filter: &EventFilter<'_>) -> Result<Vec<StoredEvent>> {
        self.inner
            .events(filter)?
            .into_iter()
            .map(|e| self.opened_event(e))
            .collect()
    }

    fn events_by_id(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        self.inner
            .events_by_id(event_id)?
            .into_iter()
            .map(|e| self.opened_event(e))
            .collect()
    }

    fn event_id_holder(&self, event_id: &str) -> Result<Option<(String, u64)>> {
        self.inner.event_id_holder(event_id)
    }

    fn insert_attachment(&self, attachment: &AttachmentRow) -> Result<()> {
        let mut row = attachment.clone();
        row.body = self.seal(
            &Slot::Attachment {
                sha256: &attachment.sha256,
            },
            &attachment.body,
        )?;
        self.inner.insert_attachment(&row)
    }

    fn attachment(&self, employee_id: &str, sha256: &str) -> Result<Option<AttachmentRow>> {
        self.inner
            .attachment(employee_id, sha256)?
            .map(|mut a| {
                let stored = std::mem::take(&mut a.body);
                a.body = self.open(&Slot::Attachment { sha256 }, stored)?;
                Ok(a)
            })
            .transpose()
    }

    fn put_data_key(&self, device_id: &str, key_id: &str, key: &[u8], now_ms: i64) -> Result<()> {
        let sealed = self.seal(&Slot::DataKey { device_id, key_id }, key)?;
        self.inner.put_data_key(device_id, key_id, &sealed, now_ms)
    }

    fn data_key(&self, device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>> {
        self.inner
            .data_key(device_id, key_id)?
            .map(|k| self.open(&Slot::DataKey { device_id, key_id }, k))
            .transpose()
    }

    // Raw on purpose: the reseal job reads and writes values as stored.
    fn stored_values(
        &self,
        column: SealableColumn,
        after: Option<&RowKey>,
        limit: u32,
    ) -> Result<Vec<StoredValue>> {
        self.inner.stored_values(column, after, limit)
    }

    fn replace_value(
        &self,
        column: SealableColumn,
        row: &RowKey,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool> {
        self.inner.replace_value(column, row, old, new)
    }

    // Unchanged.
    fn people(&self) -> &dyn people::PeopleTx {
        // TOTP seeds sealed (`at_rest::people`).
        self
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let stored = self.inner.meta(key)?;
        match secret_slot(key) {
            Some(slot) => stored.map(|v| self.open(&slot, v)).transpose(),
            None => Ok(stored),
        }
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        match secret_slot(key) {
            Some(slot) => self.inner.set_meta(key, &self.seal(&slot, value)?),
            None => self.inner.set_meta(key, value),
        }
    }

    fn meta_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>> {
        match secret_slot(key) {
            Some(slot) => {
                let stored = self.inner.meta_or_insert(key, &self.seal(&slot, value)?)?;
                self.open(&slot, stored)
            }
            None => self.inner.meta_or_insert(key, value),
        }
    }

    fn upsert_employee(&self, employee_id: &str, name: &str, now_ms: i64) -> Result<()> {
        self.inner.upsert_employee(employee_id, name, now_ms)
    }

    fn employee(&self, employee_id: &str) -> Result<Option<EmployeeRow>> {
        self.inner.employee(employee_id)
    }

    fn set_rebind_approved(&self, employee_id: &str, at_ms: Option<i64>) -> Result<()> {
        self.inner.set_rebind_approved(employee_id, at_ms)
    }

    fn insert_code(&self, code: &CodeRow) -> Result<()> {
        self.inner.insert_code(code)
    }

    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>> {
        self.inner.code(code_hash)
    }

    fn mark_code_used(&self, code_hash: &str, device_id: &str, now_ms: i64) -> Result<()> {
        self.inner.mark_code_used(code_hash, device_id, now_ms)
    }

    fn insert_challenge(&self, challenge: &ChallengeRow) -> Result<()> {
        self.inner.insert_challenge(challenge)
    }

    fn challenge(&self, challenge_hash: &str) -> Result<Option<ChallengeRow>> {
        self.inner.challenge(challenge_hash)
    }

    fn mark_challenge_used(&self, challenge_hash: &str, now_ms: i64) -> Result<()> {
        self.inner.mark_challenge_used(challenge_hash, now_ms)
    }

    fn device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        self.inner.device(device_id)
    }

    fn bound_device_of(&self, employee_id: &str) -> Result<Option<DeviceInfo>> {
        self.inner.bound_device_of(employee_id)
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>> {
        self.inner.devices()
    }

    fn devices_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        employee: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(DeviceInfo, Option<String>)>> {
        self.inner.devices_page(after, team, employee, limit)
    }

    fn bind_device(&self, device: &BindDevice<'_>) -> Result<()> {
        self.inner.bind_device(device)
    }

    fn mark_unbound(&self, device_id: &str, now_ms: i64) -> Result<bool> {
        self.inner.mark_unbound(device_id, now_ms)
    }

    fn set_head(&self, device_id: &str, seq: u64, hash_hex: &str) -> Result<()> {
        self.inner.set_head(device_id, seq, hash_hex)
    }

    fn set_punch_key(&self, device_id: &str, punch_key: &[u8], assurance: &str) -> Result<()> {
        self.inner.set_punch_key(device_id, punch_key, assurance)
    }

    fn lock_device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        self.inner.lock_device(device_id)
    }

    fn insert_nonce(&self, device_id: &str, nonce: &str, request_ts_ms: i64) -> Result<bool> {
        self.inner.insert_nonce(device_id, nonce, request_ts_ms)
    }

    fn prune_nonces(&self, max_age_ms: i64) -> Result<u64> {
        self.inner.prune_nonces(max_age_ms)
    }

    fn upsert_site(&self, site_id: &str, json: &str, now_ms: i64) -> Result<()> {
        self.inner.upsert_site(site_id, json, now_ms)
    }

    fn remove_site(&self, site_id: &str) -> Result<bool> {
        self.inner.remove_site(site_id)
    }

    fn sites(&self) -> Result<Vec<String>> {
        self.inner.sites()
    }

    fn latest_policy(&self) -> Result<Option<PolicyRow>> {
        self.inner.latest_policy()
    }

    fn latest_policy_version(&self) -> Result<u64> {
        self.inner.latest_policy_version()
    }

    fn policy(&self, version: u64) -> Result<Option<PolicyRow>> {
        self.inner.policy(version)
    }

    fn insert_policy(&self, row: &PolicyRow) -> Result<()> {
        self.inner.insert_policy(row)
    }

    fn punch_location(&self, punch_id: &str) -> Result<Option<(String, u64)>> {
        self.inner.punch_location(punch_id)
    }

    fn kept_hash(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        // A hash of the record as received: never sealed, nothing to open.
        self.inner.kept_hash(device_id, seq)
    }

    fn punch_locations(&self, punch_ids: &[String]) -> Result<HashMap<String, (String, u64)>> {
        self.inner.punch_locations(punch_ids)
    }

    fn refusals_with_hash(
        &self,
        device_id: &str,
        seq: u64,
        hash_hex: &str,
    ) -> Result<Vec<(String, String)>> {
        self.inner.refusals_with_hash(device_id, seq, hash_hex)
    }

    fn punch_info(&self, device_id: &str, seq: u64) -> Result<Option<StoredPunchInfo>> {
        self.inner.punch_info(device_id, seq)
    }

    fn punches_of(&self, employee_id: &str) -> Result<Vec<StoredPunchInfo>> {
        self.inner.punches_of(employee_id)
    }

    fn request_page(
        &self,
        query: &crate::store::request_page::RequestQuery,
    ) -> Result<Vec<crate::store::request_page::RequestRow>> {
        self.inner
            .request_page(query)?
            .into_iter()
            .map(|r| {
                Ok(crate::store::request_page::RequestRow {
                    event: self.opened_event(r.event)?,
                    team: r.team,
                })
            })
            .collect()
    }

    fn punch_page(
        &self,
        query: &crate::store::punch_page::PunchQuery,
    ) -> Result<Vec<crate::store::punch_page::PunchListRow>> {
        self.inner.punch_page(query)
    }

    fn punches(&self) -> Result<Vec<StoredPunchInfo>> {
        self.inner.punches()
    }

    fn head_statement(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        self.inner.head_statement(device_id, seq)
    }

    fn head_statements_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, String>> {
        self.inner.head_statements_many(device_id, seqs)
    }

    fn highest_head_statement(&self, device_id: &str) -> Result<Option<(u64, String)>> {
        self.inner.highest_head_statement(device_id)
    }

    fn insert_head_statement(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.inner
            .insert_head_statement(device_id, seq, hash, now_ms)
    }

    fn open_shift(
        &self,
        device_id: &str,
        employee_id: &str,
    ) -> Result<Option<punch_model::rules::shift::OpenShift>> {
        self.inner.open_shift(device_id, employee_id)
    }

    fn evidence_counter(&self, device_id: &str, day: i64) -> Result<(u64, u64)> {
        self.inner.evidence_counter(device_id, day)
    }

    fn bump_evidence_counter(
        &self,
        device_id: &str,
        day: i64,
        stored: u64,
        dropped: u64,
    ) -> Result<()> {
        self.inner
            .bump_evidence_counter(device_id, day, stored, dropped)
    }

    fn pin_profile(&self, employee_id: &str) -> Result<Option<PinProfile>> {
        self.inner.pin_profile(employee_id)
    }

    fn upsert_pin_profile(&self, profile: &PinProfile) -> Result<()> {
        self.inner.upsert_pin_profile(profile)
    }

    fn insert_pin_code(&self, code: &PinCodeRow) -> Result<()> {
        self.inner.insert_pin_code(code)
    }

    fn prune_pin_codes(&self, before_ms: i64) -> Result<u64> {
        self.inner.prune_pin_codes(before_ms)
    }

    fn supersede_pin_codes(&self, employee_id: &str, now_ms: i64) -> Result<u64> {
        self.inner.supersede_pin_codes(employee_id, now_ms)
    }

    fn pin_code(&self, code_hash: &str) -> Result<Option<PinCodeRow>> {
        self.inner.pin_code(code_hash)
    }

    fn mark_pin_code_used(&self, code_hash: &str, now_ms: i64) -> Result<bool> {
        self.inner.mark_pin_code_used(code_hash, now_ms)
    }

    fn upsert_kiosk_member(&self, site_id: &str, employee_id: &str, verifier: &str) -> Result<()> {
        self.inner
            .upsert_kiosk_member(site_id, employee_id, verifier)
    }

    fn kiosk_members(&self) -> Result<Vec<(String, String, String)>> {
        self.inner.kiosk_members()
    }

    fn kiosk_site_of(&self, employee_id: &str) -> Result<Option<String>> {
        self.inner.kiosk_site_of(employee_id)
    }

    fn rate_hit(&self, key: &str, window_ms: i64, now_ms: i64) -> Result<(u64, i64)> {
        self.inner.rate_hit(key, window_ms, now_ms)
    }

    fn rate_clear(&self, key: &str) -> Result<()> {
        self.inner.rate_clear(key)
    }

    fn rate_clear_prefix(&self, prefix: &str) -> Result<()> {
        self.inner.rate_clear_prefix(prefix)
    }

    fn prune_rate_limits(&self, before_ms: i64) -> Result<u64> {
        self.inner.prune_rate_limits(before_ms)
    }

    fn record_revelation(&self, revelation: &Revelation) -> Result<()> {
        self.inner.record_revelation(revelation)
    }

    fn revelations_of(&self, employee_id: &str) -> Result<Vec<Revelation>> {
        self.inner.revelations_of(employee_id)
    }

    fn purge(&self, kind: PurgeKind, before_ms: i64) -> Result<u64> {
        self.inner.purge(kind, before_ms)
    }

    fn erase_employee(&self, employee_id: &str, now_ms: i64) -> Result<ErasureReport> {
        self.inner.erase_employee(employee_id, now_ms)
    }

    fn decide_event(
        &self,
        device_id: &str,
        seq: u64,
        decision: &EventDecision<'_>,
    ) -> Result<bool> {
        self.inner.decide_event(device_id, seq, decision)
    }
}
