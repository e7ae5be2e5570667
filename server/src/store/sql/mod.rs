//! Every repository of [`StoreTx`] ([`PeopleTx`], [`PunchesTx`]…), written
//! once over the statement layer ([`Db`]) both back ends provide. One module
//! per table group; the trait impls below only say which module answers.
//!
//! The at-rest hook ([`Sealer`]) lives here too: the few methods that write
//! or read a sealed column pass it through the sealer the transaction was
//! opened with (`crate::at_rest`), so nothing else is wrapped.

mod browser;
mod chain;
mod devices;
mod employee_devices;
mod enrollment;
mod events;
mod faults;
mod forgotten;
mod ingest_batch;
mod limits;
mod meta;
mod people;
mod photos;
mod pin;
mod policy;
mod privacy;
mod punches;
mod refusals;

use std::collections::HashMap;

use crate::at_rest::value::Slot;
use crate::error::Result;
use crate::store::browser::{BrowserTx, CeremonyRow, PasskeyRow};
use crate::store::chain::ChainTx;
use crate::store::db::{Db, Row, Value};
use crate::store::devices::DevicesTx;
use crate::store::employee_devices::{
    ClockPunch, DeviceApprovalRow, EmployeeDevicesTx, NewDeviceApproval,
};
use crate::store::enrollment::EnrollmentTx;
use crate::store::events::EventsTx;
use crate::store::evidence::EvidenceTx;
use crate::store::faults::{FaultsTx, SilentQuery, SilentTerminal};
use crate::store::forgotten::{ForgottenFilter, ForgottenRow, ForgottenTx, SweepQuery};
use crate::store::head_statements::HeadStatementsTx;
use crate::store::ingest_batch::{HeadStanding, IngestBatchTx};
use crate::store::kiosk::KioskTx;
use crate::store::limits::LimitsTx;
use crate::store::meta::MetaTx;
use crate::store::people::{
    ApiTokenRow, AuditRow, ChainAckRow, PeopleTx, PersonRow, PunchReviewRow, SessionRow, StaffRow,
};
use crate::store::photos::{PhotosTx, PunchPhotoRow};
use crate::store::pin::PinTx;
use crate::store::policies::PoliciesTx;
use crate::store::privacy::PrivacyTx;
use crate::store::punch_page::{PunchListRow, PunchQuery};
use crate::store::punches::PunchesTx;
use crate::store::refusals::RefusalsTx;
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

/// Which module answers each method: `fn name(args) -> T => module;`
/// becomes `fn name(&self, args) -> T { module::name(self, args) }`; the
/// first braces hold methods written out.
macro_rules! answered_by {
    ($trait:ident { $($item:item)* } {
        $(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty => $module:ident;)*
    }) => {
        impl $trait for SqlTx<'_> {
            $($item)*
            $(fn $name(&self, $($arg: $ty),*) -> $ret { $module::$name(self, $($arg),*) })*
        }
    };
}

impl StoreTx for SqlTx<'_> {
    fn people(&self) -> &dyn PeopleTx {
        self
    }
    fn browser(&self) -> &dyn BrowserTx {
        self
    }
    fn photos(&self) -> &dyn PhotosTx {
        self
    }
    fn forgotten(&self) -> &dyn ForgottenTx {
        self
    }
    fn employee_devices(&self) -> &dyn EmployeeDevicesTx {
        self
    }
    fn faults(&self) -> &dyn FaultsTx {
        self
    }
    fn meta(&self) -> &dyn MetaTx {
        self
    }
    fn enrollment(&self) -> &dyn EnrollmentTx {
        self
    }
    fn devices(&self) -> &dyn DevicesTx {
        self
    }
    fn policies(&self) -> &dyn PoliciesTx {
        self
    }
    fn punches(&self) -> &dyn PunchesTx {
        self
    }
    fn refusals(&self) -> &dyn RefusalsTx {
        self
    }
    fn head_statements(&self) -> &dyn HeadStatementsTx {
        self
    }
    fn evidence(&self) -> &dyn EvidenceTx {
        self
    }
    fn pin(&self) -> &dyn PinTx {
        self
    }
    fn kiosk(&self) -> &dyn KioskTx {
        self
    }
    fn limits(&self) -> &dyn LimitsTx {
        self
    }
    fn privacy(&self) -> &dyn PrivacyTx {
        self
    }
    fn chain(&self) -> &dyn ChainTx {
        self
    }
    fn events(&self) -> &dyn EventsTx {
        self
    }
    fn ingest_batch(&self) -> &dyn IngestBatchTx {
        self
    }
}

answered_by!(FaultsTx {} {
    fn touch_seen(device_id: &str, now_ms: i64) -> Result<()> => faults;
    fn last_seen(device_id: &str) -> Result<Option<i64>> => faults;
    fn silent_terminals(query: &SilentQuery) -> Result<Vec<SilentTerminal>> => faults;
    fn event_at(device_id: &str, seq: u64) -> Result<Option<StoredEvent>> => faults;
});

answered_by!(PeopleTx {} {
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
    fn chain_acks(device_id: &str) -> Result<Vec<ChainAckRow>> => people;
    fn mark_chain_ack_applied(id: i64, now_ms: i64) -> Result<()> => people;
    fn lock_audit_head() -> Result<Option<(u64, String)>> => people;
    fn append_audit(row: &AuditRow) -> Result<()> => people;
    fn audit_rows(after_seq: u64, limit: u32) -> Result<Vec<AuditRow>> => people;
});

answered_by!(BrowserTx {} {
    fn insert_ceremony(ceremony: &CeremonyRow) -> Result<()> => browser;
    fn take_ceremony(ceremony_id: &str, kind: &str, now_ms: i64) -> Result<Option<CeremonyRow>> => browser;
    fn prune_ceremonies(before_ms: i64) -> Result<u64> => browser;
    fn insert_passkey(passkey: &PasskeyRow, public_key: &[u8]) -> Result<()> => browser;
    fn passkeys_of(employee_id: &str) -> Result<Vec<PasskeyRow>> => browser;
    fn passkey_of_device(device_id: &str) -> Result<Option<PasskeyRow>> => browser;
    fn update_passkey(credential_id: &str, passkey: &str) -> Result<()> => browser;
    fn passkeys_ever(employee_id: &str) -> Result<Vec<PasskeyRow>> => browser;
    fn revoke_passkey(device_id: &str, now_ms: i64) -> Result<bool> => browser;
});

answered_by!(IngestBatchTx {} {
    fn head_standing(device_id: &str, seq: u64) -> Result<HeadStanding> => ingest_batch;
    fn pending_rotation_seq(device_id: &str) -> Result<Option<u64>> => ingest_batch;
});

answered_by!(PhotosTx {} {
    fn note_punch_photo(photo: &PunchPhotoRow) -> Result<()> => photos;
    fn punch_photo(employee_id: &str, sha256: &str) -> Result<Option<PunchPhotoRow>> => photos;
    fn photo_of_punch(device_id: &str, seq: u64) -> Result<Option<(PunchPhotoRow, bool)>> => photos;
    fn device_has_punch(device_id: &str) -> Result<bool> => photos;
    fn purge_photos(before_ms: i64) -> Result<u64> => photos;
});

answered_by!(ForgottenTx {} {
    fn insert_forgotten(row: &ForgottenRow) -> Result<bool> => forgotten;
    fn supersede_forgotten(employee_id: &str, shift_id: &str, start_ms: i64, punch_id: &str, now_ms: i64) -> Result<bool> => forgotten;
    fn forgotten_of(employee_id: &str, since_ms: i64) -> Result<Vec<ForgottenRow>> => forgotten;
    fn forgotten_list(filter: &ForgottenFilter<'_>, limit: usize) -> Result<Vec<ForgottenRow>> => forgotten;
    fn sweep_targets(query: &SweepQuery) -> Result<Vec<(String, i64)>> => forgotten;
    fn clock_punches_from(employee_id: &str, from_ms: i64) -> Result<Vec<StoredPunchInfo>> => forgotten;
});

answered_by!(EmployeeDevicesTx {} {
    fn lock_employee(employee_id: &str) -> Result<()> => employee_devices;
    fn insert_device_approval(approval: &NewDeviceApproval<'_>) -> Result<i64> => employee_devices;
    fn unused_device_approval(employee_id: &str) -> Result<Option<DeviceApprovalRow>> => employee_devices;
    fn use_device_approval(id: i64, device_id: &str, now_ms: i64) -> Result<bool> => employee_devices;
    fn device_approvals(employee_id: &str) -> Result<Vec<DeviceApprovalRow>> => employee_devices;
    fn latest_clock_punch(employee_id: &str, at_ms: i64, device_id: &str, seq: u64) -> Result<Option<ClockPunch>> => employee_devices;
    fn clock_punches_since(employee_id: &str, from_ms: i64) -> Result<Vec<ClockPunch>> => employee_devices;
    fn erase_approval_reasons(employee_id: &str) -> Result<u64> => employee_devices;
});

answered_by!(MetaTx {} {
    fn get(key: &str) -> Result<Option<Vec<u8>>> => meta;
    fn set(key: &str, value: &[u8]) -> Result<()> => meta;
    fn get_or_insert(key: &str, value: &[u8]) -> Result<Vec<u8>> => meta;
});

answered_by!(EnrollmentTx {} {
    fn upsert_employee(employee_id: &str, name: &str, now_ms: i64) -> Result<()> => enrollment;
    fn employee(employee_id: &str) -> Result<Option<EmployeeRow>> => enrollment;
    fn set_rebind_approved(employee_id: &str, at_ms: Option<i64>) -> Result<()> => enrollment;
    fn insert_code(code: &CodeRow) -> Result<()> => enrollment;
    fn code(code_hash: &str) -> Result<Option<CodeRow>> => enrollment;
    fn mark_code_used(code_hash: &str, device_id: &str, now_ms: i64) -> Result<()> => enrollment;
    fn insert_challenge(challenge: &ChallengeRow) -> Result<()> => enrollment;
    fn challenge(challenge_hash: &str) -> Result<Option<ChallengeRow>> => enrollment;
    fn mark_challenge_used(challenge_hash: &str, now_ms: i64) -> Result<()> => enrollment;
});

answered_by!(DevicesTx {} {
    fn device(device_id: &str) -> Result<Option<DeviceInfo>> => devices;
    fn all_devices() -> Result<Vec<DeviceInfo>> => devices;
    fn devices_of(employee_id: &str) -> Result<Vec<DeviceInfo>> => devices;
    fn bind_device(device: &BindDevice<'_>) -> Result<()> => devices;
    fn mark_unbound(device_id: &str, now_ms: i64) -> Result<bool> => devices;
    fn set_head(device_id: &str, seq: u64, hash_hex: &str) -> Result<()> => devices;
    fn set_punch_key(device_id: &str, punch_key: &[u8], assurance: &str) -> Result<()> => devices;
    fn lock_device(device_id: &str) -> Result<Option<DeviceInfo>> => devices;
    fn devices_page(after: Option<&str>, team: Option<&str>, employee: Option<&str>, limit: usize) -> Result<Vec<(DeviceInfo, Option<String>)>> => devices;
    fn insert_nonce(device_id: &str, nonce: &str, request_ts_ms: i64) -> Result<bool> => devices;
    fn prune_nonces(max_age_ms: i64) -> Result<u64> => devices;
});

answered_by!(PoliciesTx {} {
    fn upsert_site(site_id: &str, json: &str, now_ms: i64) -> Result<()> => policy;
    fn remove_site(site_id: &str) -> Result<bool> => policy;
    fn sites() -> Result<Vec<String>> => policy;
    fn latest_policy() -> Result<Option<PolicyRow>> => policy;
    fn latest_policy_version() -> Result<u64> => policy;
    fn policy(version: u64) -> Result<Option<PolicyRow>> => policy;
    fn insert_policy(row: &PolicyRow) -> Result<()> => policy;
});

answered_by!(PunchesTx {} {
    fn punch_location(punch_id: &str) -> Result<Option<(String, u64)>> => chain;
    fn punch_locations(punch_ids: &[String]) -> Result<HashMap<String, (String, u64)>> => chain;
    fn insert_punch(punch: &NewPunch<'_>) -> Result<()> => chain;
    fn insert_punches(punches: &[NewPunch<'_>]) -> Result<()> => chain;
    fn punch_info(device_id: &str, seq: u64) -> Result<Option<StoredPunchInfo>> => punches;
    fn punches_of(employee_id: &str) -> Result<Vec<StoredPunchInfo>> => punches;
    fn all_punches() -> Result<Vec<StoredPunchInfo>> => punches;
    fn punch_page(query: &PunchQuery) -> Result<Vec<PunchListRow>> => punches;
    fn open_shift(device_id: &str, employee_id: &str) -> Result<Option<punch_model::rules::shift::OpenShift>> => punches;
});

answered_by!(RefusalsTx {} {
    fn record_rejected(rejected: &RejectedInfo) -> Result<()> => refusals;
    fn refusals_with_hash(device_id: &str, seq: u64, hash_hex: &str) -> Result<Vec<(String, String)>> => refusals;
    fn all_rejected() -> Result<Vec<RejectedInfo>> => refusals;
    fn rejected_about(employee_id: &str) -> Result<Vec<RejectedInfo>> => refusals;
    fn refused_count(device_id: &str) -> Result<u64> => refusals;
    fn refused_devices(after: Option<&str>, team: Option<&str>, limit: usize) -> Result<Vec<String>> => refusals;
    fn refused_of(device_id: &str, limit: usize) -> Result<Vec<RefusedRow>> => refusals;
});

answered_by!(HeadStatementsTx {} {
    fn head_statement(device_id: &str, seq: u64) -> Result<Option<String>> => chain;
    fn head_statements_many(device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, String>> => chain;
    fn highest_head_statement(device_id: &str) -> Result<Option<(u64, String)>> => chain;
    fn insert_head_statement(device_id: &str, seq: u64, hash: &str, now_ms: i64) -> Result<()> => chain;
});

answered_by!(EvidenceTx {} {
    fn evidence_counter(device_id: &str, day: i64) -> Result<(u64, u64)> => chain;
    fn bump_evidence_counter(device_id: &str, day: i64, stored: u64, dropped: u64) -> Result<()> => chain;
});

answered_by!(PinTx {} {
    fn pin_profile(employee_id: &str) -> Result<Option<PinProfile>> => pin;
    fn upsert_pin_profile(profile: &PinProfile) -> Result<()> => pin;
    fn insert_pin_code(code: &PinCodeRow) -> Result<()> => pin;
    fn supersede_pin_codes(employee_id: &str, now_ms: i64) -> Result<u64> => pin;
    fn prune_pin_codes(before_ms: i64) -> Result<u64> => pin;
    fn pin_code(code_hash: &str) -> Result<Option<PinCodeRow>> => pin;
    fn mark_pin_code_used(code_hash: &str, now_ms: i64) -> Result<bool> => pin;
});

answered_by!(KioskTx {} {
    fn upsert_kiosk_member(site_id: &str, employee_id: &str, verifier: &str) -> Result<()> => pin;
    fn kiosk_members() -> Result<Vec<(String, String, String)>> => pin;
    fn kiosk_site_of(employee_id: &str) -> Result<Option<String>> => pin;
});

answered_by!(LimitsTx {} {
    fn rate_hit(key: &str, window_ms: i64, now_ms: i64) -> Result<(u64, i64)> => limits;
    fn prune_rate_limits(before_ms: i64) -> Result<u64> => limits;
    fn rate_clear(key: &str) -> Result<()> => limits;
    fn rate_clear_prefix(prefix: &str) -> Result<()> => limits;
});

answered_by!(PrivacyTx {} {
    fn record_revelation(revelation: &Revelation) -> Result<()> => privacy;
    fn revelations_of(employee_id: &str) -> Result<Vec<Revelation>> => privacy;
    fn put_data_key(device_id: &str, key_id: &str, key: &[u8], now_ms: i64) -> Result<()> => privacy;
    fn data_key(device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>> => privacy;
    fn purge(kind: PurgeKind, before_ms: i64) -> Result<u64> => privacy;
    fn erase_employee(employee_id: &str, now_ms: i64) -> Result<ErasureReport> => privacy;
    fn stored_values(column: SealableColumn, after: Option<&RowKey>, limit: u32) -> Result<Vec<StoredValue>> => privacy;
    fn replace_value(column: SealableColumn, row: &RowKey, old: &[u8], new: &[u8]) -> Result<bool> => privacy;
});

answered_by!(ChainTx {} {
    fn punch_bytes(device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> => chain;
    fn punch_bytes_many(device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, Vec<u8>>> => chain;
    fn kept_hash(device_id: &str, seq: u64) -> Result<Option<String>> => chain;
    fn chain_rows(device_id: &str) -> Result<Vec<ChainRow>> => chain;
});

answered_by!(EventsTx {
    fn list(&self, filter: &EventFilter<'_>) -> Result<Vec<StoredEvent>> {
        events::events(self, filter)
    }
} {
    fn insert_event(event: &StoredEvent) -> Result<()> => events;
    fn of_employee_and_kiosks(employee_id: &str, event_type: &str) -> Result<Vec<StoredEvent>> => events;
    fn events_by_id(event_id: &str) -> Result<Vec<StoredEvent>> => events;
    fn event_id_holder(event_id: &str) -> Result<Option<(String, u64)>> => events;
    fn decide_event(device_id: &str, seq: u64, decision: &EventDecision<'_>) -> Result<bool> => events;
    fn request_page(query: &RequestQuery) -> Result<Vec<RequestRow>> => events;
    fn insert_attachment(attachment: &AttachmentRow) -> Result<()> => events;
    fn attachment(employee_id: &str, sha256: &str) -> Result<Option<AttachmentRow>> => events;
});
