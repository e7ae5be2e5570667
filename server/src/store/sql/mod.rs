//! Every [`StoreTx`] and [`PeopleTx`] method, written once over the
//! statement layer ([`Db`]) both back ends provide. One module per
//! aggregate; the trait impls below only say which module answers.
//!
//! The at-rest hook ([`Sealer`]) lives here too: the few methods that write
//! or read a sealed column pass it through the sealer the transaction was
//! opened with (`crate::at_rest`), so nothing else is wrapped.

mod chain;
mod devices;
mod enrollment;
mod events;
mod limits;
mod meta;
mod people;
mod pin;
mod policy;
mod privacy;
mod punches;
mod refusals;

use std::collections::HashMap;

use crate::at_rest::value::Slot;
use crate::error::Result;
use crate::store::db::{Db, Row, Value};
use crate::store::people::{
    ApiTokenRow, AuditRow, ChainAckRow, PeopleTx, PersonRow, PunchReviewRow, SessionRow, StaffRow,
};
use crate::store::punch_page::{PunchListRow, PunchQuery};
use crate::store::request_page::{RequestQuery, RequestRow};
use crate::store::sealable::{RowKey, SealableColumn, StoredValue};
use crate::store::{
    AttachmentRow, BindDevice, ChainRow, ChallengeRow, CodeRow, DeviceInfo, EmployeeRow,
    ErasureReport, EventDecision, EventFilter, NewPunch, PinCodeRow, PinProfile, PolicyRow,
    PurgeKind, RefusedRow, RejectedInfo, Revelation, StoreTx, StoredEvent, StoredPunchInfo,
};

/// Seals a column value on the way in and opens it on the way out
/// (`crate::at_rest`); without one, values are stored as given.
pub trait Sealer {
    fn seal(&self, slot: &Slot<'_>, plain: &[u8]) -> Result<Vec<u8>>;
    fn open(&self, slot: &Slot<'_>, stored: Vec<u8>) -> Result<Vec<u8>>;
    fn seal_text(&self, slot: &Slot<'_>, plain: &str) -> Result<String>;
    fn open_text(&self, slot: &Slot<'_>, stored: String) -> Result<String>;
}

/// [`StoreTx`] over one back end's open transaction.
pub struct SqlTx<'a> {
    db: &'a dyn Db,
    sealer: Option<&'a dyn Sealer>,
}

impl<'a> SqlTx<'a> {
    pub fn new(db: &'a dyn Db, sealer: Option<&'a dyn Sealer>) -> SqlTx<'a> {
        SqlTx { db, sealer }
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.db.query(sql, params)
    }

    fn opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.db.query(sql, params)?.into_iter().next())
    }

    fn exec(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.db.execute(sql, params)
    }

    /// Decodes every row with `decode`.
    fn all<T>(
        &self,
        sql: &str,
        params: &[Value],
        decode: impl FnMut(Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.query(sql, params)?.into_iter().map(decode).collect()
    }

    fn first<T>(
        &self,
        sql: &str,
        params: &[Value],
        decode: impl FnOnce(Row) -> Result<T>,
    ) -> Result<Option<T>> {
        self.opt(sql, params)?.map(decode).transpose()
    }

    /// Takes `lock` until the transaction ends (write transactions only).
    fn lock(&self, lock: crate::store::db::Lock<'_>) -> Result<()> {
        if self.db.write()
            && let Some((sql, params)) = self.db.dialect().lock(lock)
        {
            self.exec(sql, &params)?;
        }
        Ok(())
    }

    /// Counts punch, event and refusal rows read (`ServerStore::rows_read`).
    fn counted<T>(&self, rows: Vec<T>) -> Vec<T> {
        self.db
            .rows_read()
            .fetch_add(rows.len() as u64, std::sync::atomic::Ordering::Relaxed);
        rows
    }

    fn seal(&self, slot: &Slot<'_>, plain: &[u8]) -> Result<Value> {
        Ok(Value::Blob(match self.sealer {
            Some(s) => s.seal(slot, plain)?,
            None => plain.to_vec(),
        }))
    }

    fn open(&self, slot: &Slot<'_>, stored: Vec<u8>) -> Result<Vec<u8>> {
        match self.sealer {
            Some(s) => s.open(slot, stored),
            None => Ok(stored),
        }
    }

    fn seal_text(&self, slot: &Slot<'_>, plain: &str) -> Result<Value> {
        Ok(Value::Text(match self.sealer {
            Some(s) => s.seal_text(slot, plain)?,
            None => plain.to_string(),
        }))
    }

    fn open_text(&self, slot: &Slot<'_>, stored: String) -> Result<String> {
        match self.sealer {
            Some(s) => s.open_text(slot, stored),
            None => Ok(stored),
        }
    }
}

/// `?1, ?2, … ?n`.
fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// JSON text of a value the server wrote (an error here is a bug).
fn json<T: serde::Serialize>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| crate::error::ServerError::Corrupt(format!("{what}: {e}")))
}

/// Which module answers each method: `name(args) -> T => module`.
macro_rules! answered_by {
    ($trait:path { $(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty => $module:ident;)* }) => {
        impl $trait for SqlTx<'_> {
            $(fn $name(&self, $($arg: $ty),*) -> $ret { $module::$name(self, $($arg),*) })*
        }
    };
}

impl StoreTx for SqlTx<'_> {
    fn people(&self) -> &dyn PeopleTx {
        self
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        meta::meta(self, key)
    }
    fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        meta::set_meta(self, key, value)
    }
    fn meta_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>> {
        meta::meta_or_insert(self, key, value)
    }

    fn upsert_employee(&self, employee_id: &str, name: &str, now_ms: i64) -> Result<()> {
        enrollment::upsert_employee(self, employee_id, name, now_ms)
    }
    fn employee(&self, employee_id: &str) -> Result<Option<EmployeeRow>> {
        enrollment::employee(self, employee_id)
    }
    fn set_rebind_approved(&self, employee_id: &str, at_ms: Option<i64>) -> Result<()> {
        enrollment::set_rebind_approved(self, employee_id, at_ms)
    }
    fn insert_code(&self, code: &CodeRow) -> Result<()> {
        enrollment::insert_code(self, code)
    }
    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>> {
        enrollment::code(self, code_hash)
    }
    fn mark_code_used(&self, code_hash: &str, device_id: &str, now_ms: i64) -> Result<()> {
        enrollment::mark_code_used(self, code_hash, device_id, now_ms)
    }
    fn insert_challenge(&self, challenge: &ChallengeRow) -> Result<()> {
        enrollment::insert_challenge(self, challenge)
    }
    fn challenge(&self, challenge_hash: &str) -> Result<Option<ChallengeRow>> {
        enrollment::challenge(self, challenge_hash)
    }
    fn mark_challenge_used(&self, challenge_hash: &str, now_ms: i64) -> Result<()> {
        enrollment::mark_challenge_used(self, challenge_hash, now_ms)
    }

    fn device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        devices::device(self, device_id)
    }
    fn bound_device_of(&self, employee_id: &str) -> Result<Option<DeviceInfo>> {
        devices::bound_device_of(self, employee_id)
    }
    fn all_devices(&self) -> Result<Vec<DeviceInfo>> {
        devices::all_devices(self)
    }
    fn devices_of(&self, employee_id: &str) -> Result<Vec<DeviceInfo>> {
        devices::devices_of(self, employee_id)
    }
    fn bind_device(&self, device: &BindDevice<'_>) -> Result<()> {
        devices::bind_device(self, device)
    }
    fn mark_unbound(&self, device_id: &str, now_ms: i64) -> Result<bool> {
        devices::mark_unbound(self, device_id, now_ms)
    }
    fn set_head(&self, device_id: &str, seq: u64, hash_hex: &str) -> Result<()> {
        devices::set_head(self, device_id, seq, hash_hex)
    }
    fn set_punch_key(&self, device_id: &str, punch_key: &[u8], assurance: &str) -> Result<()> {
        devices::set_punch_key(self, device_id, punch_key, assurance)
    }
    fn lock_device(&self, device_id: &str) -> Result<Option<DeviceInfo>> {
        devices::lock_device(self, device_id)
    }
    fn devices_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        employee: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(DeviceInfo, Option<String>)>> {
        devices::devices_page(self, after, team, employee, limit)
    }
    fn insert_nonce(&self, device_id: &str, nonce: &str, request_ts_ms: i64) -> Result<bool> {
        devices::insert_nonce(self, device_id, nonce, request_ts_ms)
    }
    fn prune_nonces(&self, max_age_ms: i64) -> Result<u64> {
        devices::prune_nonces(self, max_age_ms)
    }

    fn upsert_site(&self, site_id: &str, json: &str, now_ms: i64) -> Result<()> {
        policy::upsert_site(self, site_id, json, now_ms)
    }
    fn remove_site(&self, site_id: &str) -> Result<bool> {
        policy::remove_site(self, site_id)
    }
    fn sites(&self) -> Result<Vec<String>> {
        policy::sites(self)
    }
    fn latest_policy(&self) -> Result<Option<PolicyRow>> {
        policy::latest_policy(self)
    }
    fn latest_policy_version(&self) -> Result<u64> {
        policy::latest_policy_version(self)
    }
    fn policy(&self, version: u64) -> Result<Option<PolicyRow>> {
        policy::policy(self, version)
    }
    fn insert_policy(&self, row: &PolicyRow) -> Result<()> {
        policy::insert_policy(self, row)
    }

    fn punch_bytes(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> {
        chain::punch_bytes(self, device_id, seq)
    }
    fn punch_bytes_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, Vec<u8>>> {
        chain::punch_bytes_many(self, device_id, seqs)
    }
    fn kept_hash(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        chain::kept_hash(self, device_id, seq)
    }
    fn punch_location(&self, punch_id: &str) -> Result<Option<(String, u64)>> {
        chain::punch_location(self, punch_id)
    }
    fn punch_locations(&self, punch_ids: &[String]) -> Result<HashMap<String, (String, u64)>> {
        chain::punch_locations(self, punch_ids)
    }
    fn insert_punch(&self, punch: &NewPunch<'_>) -> Result<()> {
        chain::insert_punches(self, std::slice::from_ref(punch))
    }
    fn insert_punches(&self, punches: &[NewPunch<'_>]) -> Result<()> {
        chain::insert_punches(self, punches)
    }
    fn record_rejected(&self, rejected: &RejectedInfo) -> Result<()> {
        refusals::record_rejected(self, rejected)
    }
    fn rejected_link(
        &self,
        device_id: &str,
        seq: u64,
        hash_hex: &str,
    ) -> Result<Option<(String, String)>> {
        refusals::rejected_link(self, device_id, seq, hash_hex)
    }
    fn punch_info(&self, device_id: &str, seq: u64) -> Result<Option<StoredPunchInfo>> {
        punches::punch_info(self, device_id, seq)
    }
    fn punches_of(&self, employee_id: &str) -> Result<Vec<StoredPunchInfo>> {
        punches::punches_of(self, employee_id)
    }
    fn all_punches(&self) -> Result<Vec<StoredPunchInfo>> {
        punches::all_punches(self)
    }
    fn punch_page(&self, query: &PunchQuery) -> Result<Vec<PunchListRow>> {
        punches::punch_page(self, query)
    }
    fn all_rejected(&self) -> Result<Vec<RejectedInfo>> {
        refusals::all_rejected(self)
    }
    fn rejected_about(&self, employee_id: &str) -> Result<Vec<RejectedInfo>> {
        refusals::rejected_about(self, employee_id)
    }
    fn refused_count(&self, device_id: &str) -> Result<u64> {
        refusals::refused_count(self, device_id)
    }
    fn refused_devices(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        refusals::refused_devices(self, after, team, limit)
    }
    fn refused_of(&self, device_id: &str, limit: usize) -> Result<Vec<RefusedRow>> {
        refusals::refused_of(self, device_id, limit)
    }
    fn head_statement(&self, device_id: &str, seq: u64) -> Result<Option<String>> {
        chain::head_statement(self, device_id, seq)
    }
    fn head_statements_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, String>> {
        chain::head_statements_many(self, device_id, seqs)
    }
    fn highest_head_statement(&self, device_id: &str) -> Result<Option<(u64, String)>> {
        chain::highest_head_statement(self, device_id)
    }
    fn insert_head_statement(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        now_ms: i64,
    ) -> Result<()> {
        chain::insert_head_statement(self, device_id, seq, hash, now_ms)
    }
    fn open_shift(&self, device_id: &str) -> Result<Option<punch_model::rules::shift::OpenShift>> {
        punches::open_shift(self, device_id)
    }
    fn evidence_counter(&self, device_id: &str, day: i64) -> Result<(u64, u64)> {
        chain::evidence_counter(self, device_id, day)
    }
    fn bump_evidence_counter(
        &self,
        device_id: &str,
        day: i64,
        stored: u64,
        dropped: u64,
    ) -> Result<()> {
        chain::bump_evidence_counter(self, device_id, day, stored, dropped)
    }
    fn chain_rows(&self, device_id: &str) -> Result<Vec<ChainRow>> {
        chain::chain_rows(self, device_id)
    }

    fn pin_profile(&self, employee_id: &str) -> Result<Option<PinProfile>> {
        pin::pin_profile(self, employee_id)
    }
    fn upsert_pin_profile(&self, profile: &PinProfile) -> Result<()> {
        pin::upsert_pin_profile(self, profile)
    }
    fn insert_pin_code(&self, code: &PinCodeRow) -> Result<()> {
        pin::insert_pin_code(self, code)
    }
    fn supersede_pin_codes(&self, employee_id: &str, now_ms: i64) -> Result<u64> {
        pin::supersede_pin_codes(self, employee_id, now_ms)
    }
    fn prune_pin_codes(&self, before_ms: i64) -> Result<u64> {
        pin::prune_pin_codes(self, before_ms)
    }
    fn pin_code(&self, code_hash: &str) -> Result<Option<PinCodeRow>> {
        pin::pin_code(self, code_hash)
    }
    fn mark_pin_code_used(&self, code_hash: &str, now_ms: i64) -> Result<bool> {
        pin::mark_pin_code_used(self, code_hash, now_ms)
    }
    fn upsert_kiosk_member(&self, site_id: &str, employee_id: &str, verifier: &str) -> Result<()> {
        pin::upsert_kiosk_member(self, site_id, employee_id, verifier)
    }
    fn kiosk_members(&self) -> Result<Vec<(String, String, String)>> {
        pin::kiosk_members(self)
    }
    fn kiosk_site_of(&self, employee_id: &str) -> Result<Option<String>> {
        pin::kiosk_site_of(self, employee_id)
    }

    fn rate_hit(&self, key: &str, window_ms: i64, now_ms: i64) -> Result<(u64, i64)> {
        limits::rate_hit(self, key, window_ms, now_ms)
    }
    fn prune_rate_limits(&self, before_ms: i64) -> Result<u64> {
        limits::prune_rate_limits(self, before_ms)
    }
    fn rate_clear(&self, key: &str) -> Result<()> {
        limits::rate_clear(self, key)
    }
    fn rate_clear_prefix(&self, prefix: &str) -> Result<()> {
        limits::rate_clear_prefix(self, prefix)
    }

    fn record_revelation(&self, revelation: &Revelation) -> Result<()> {
        privacy::record_revelation(self, revelation)
    }
    fn revelations_of(&self, employee_id: &str) -> Result<Vec<Revelation>> {
        privacy::revelations_of(self, employee_id)
    }
    fn put_data_key(&self, device_id: &str, key_id: &str, key: &[u8], now_ms: i64) -> Result<()> {
        privacy::put_data_key(self, device_id, key_id, key, now_ms)
    }
    fn data_key(&self, device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>> {
        privacy::data_key(self, device_id, key_id)
    }
    fn purge(&self, kind: PurgeKind, before_ms: i64) -> Result<u64> {
        privacy::purge(self, kind, before_ms)
    }
    fn erase_employee(&self, employee_id: &str, now_ms: i64) -> Result<ErasureReport> {
        privacy::erase_employee(self, employee_id, now_ms)
    }
    fn stored_values(
        &self,
        column: SealableColumn,
        after: Option<&RowKey>,
        limit: u32,
    ) -> Result<Vec<StoredValue>> {
        privacy::stored_values(self, column, after, limit)
    }
    fn replace_value(
        &self,
        column: SealableColumn,
        row: &RowKey,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool> {
        privacy::replace_value(self, column, row, old, new)
    }

    fn insert_event(&self, event: &StoredEvent) -> Result<()> {
        events::insert_event(self, event)
    }
    fn events(&self, filter: &EventFilter<'_>) -> Result<Vec<StoredEvent>> {
        events::events(self, filter)
    }
    fn events_by_id(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        events::events_by_id(self, event_id)
    }
    fn event_id_holder(&self, event_id: &str) -> Result<Option<(String, u64)>> {
        events::event_id_holder(self, event_id)
    }
    fn decide_event(
        &self,
        device_id: &str,
        seq: u64,
        decision: &EventDecision<'_>,
    ) -> Result<bool> {
        events::decide_event(self, device_id, seq, decision)
    }
    fn request_page(&self, query: &RequestQuery) -> Result<Vec<RequestRow>> {
        events::request_page(self, query)
    }
    fn insert_attachment(&self, attachment: &AttachmentRow) -> Result<()> {
        events::insert_attachment(self, attachment)
    }
    fn attachment(&self, employee_id: &str, sha256: &str) -> Result<Option<AttachmentRow>> {
        events::attachment(self, employee_id, sha256)
    }
}

answered_by!(PeopleTx {
    fn upsert_staff(staff: &StaffRow) -> Result<()> => people;
    fn staff(username: &str) -> Result<Option<StaffRow>> => people;
    fn staff_list() -> Result<Vec<StaffRow>> => people;
    fn set_signin_state(username: &str, failed: u32, locked_until_ms: Option<i64>, totp_last_step: i64) -> Result<()> => people;
    fn insert_session(session: &SessionRow) -> Result<()> => people;
    fn session(id_hash: &str) -> Result<Option<SessionRow>> => people;
    fn delete_session(id_hash: &str) -> Result<()> => people;
    fn delete_sessions_of(username: &str) -> Result<u64> => people;
    fn insert_api_token(token: &ApiTokenRow) -> Result<()> => people;
    fn api_token(token_hash: &str) -> Result<Option<ApiTokenRow>> => people;
    fn api_tokens(username: Option<&str>) -> Result<Vec<ApiTokenRow>> => people;
    fn revoke_api_tokens(username: &str, token_id: Option<&str>, now_ms: i64) -> Result<u64> => people;
    fn set_team(employee_id: &str, team: Option<&str>) -> Result<bool> => people;
    fn people() -> Result<Vec<PersonRow>> => people;
    fn people_page(after: Option<&str>, team: Option<&str>, limit: usize) -> Result<Vec<PersonRow>> => people;
    fn team_of(employee_id: &str) -> Result<Option<String>> => people;
    fn set_punch_review(review: &PunchReviewRow) -> Result<()> => people;
    fn punch_reviews() -> Result<Vec<PunchReviewRow>> => people;
    fn punch_review(device_id: &str, seq: u64) -> Result<Option<PunchReviewRow>> => people;
    fn insert_chain_ack(ack: &ChainAckRow) -> Result<i64> => people;
    fn latest_chain_ack(device_id: &str) -> Result<Option<ChainAckRow>> => people;
    fn mark_chain_ack_applied(id: i64, now_ms: i64) -> Result<()> => people;
    fn lock_audit_head() -> Result<Option<(u64, String)>> => people;
    fn append_audit(row: &AuditRow) -> Result<()> => people;
    fn audit_rows(after_seq: u64, limit: u32) -> Result<Vec<AuditRow>> => people;
});
