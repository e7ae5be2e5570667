//! The storage contract. Business rules (enrollment, ingest, publishing) are
//! written against [`StoreTx`], the primitive operations inside one
//! transaction, run by [`ServerStore`] as a unit of work. Every operation is
//! written once ([`sql`], one module per aggregate) over a small statement
//! layer ([`db`]: SQL in one dialect, neutral values and rows); a backend
//! only runs statements and transactions. SQLite ([`sqlite::SqliteStore`])
//! is the embedded default; PostgreSQL ([`postgres::PostgresStore`]) serves
//! several stateless server processes over one database. [`open`] picks one
//! by URL; both migrate from files under one runner ([`migrations`]).

pub mod browser;
pub mod db;
pub mod employee_devices;
pub mod faults;
pub mod forgotten;
pub mod ingest_batch;
pub mod migrations;
pub mod people;
pub mod photos;
pub mod postgres;
pub mod punch_page;
pub mod request_page;
pub mod sealable;
pub mod sql;
pub mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Result, ServerError};

/// An employee the admin registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmployeeRow {
    pub employee_id: String,
    pub name: String,
    /// Set by `approve_rebind`; consumed by the next enrollment.
    pub rebind_approved_at_ms: Option<i64>,
}

/// A one-time enrollment code, kept only as its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    pub code_hash: String,
    pub employee_id: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
    pub used_by_device: Option<String>,
}

/// What an employee's PIN resets rest on (`crate::pin`): where codes go,
/// the identity secret for self-service (a salted slow hash), and a reset
/// an admin ordered that the device has not fetched yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PinProfile {
    pub employee_id: String,
    /// "email" or "phone".
    pub channel: Option<String>,
    pub address: Option<String>,
    /// JSON `punch_model::pin::Verifier` of the employer-set secret.
    pub identity_verifier: Option<String>,
    pub admin_reset_at_ms: Option<i64>,
}

/// A PIN reset code sent to an employee, kept only as its MAC (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinCodeRow {
    pub code_hash: String,
    pub employee_id: String,
    /// The device that asked for it (only that device may redeem it).
    pub device_id: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
    /// Set when a newer code was sent to the employee: this one no longer works.
    pub superseded_at_ms: Option<i64>,
}

/// A device as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub employee_id: String,
    /// P-256 SubjectPublicKeyInfo DER.
    #[serde(serialize_with = "b64")]
    pub public_key: Vec<u8>,
    pub key_storage: String,
    pub platform: String,
    pub enrolled_at_ms: i64,
    /// Set when an admin unbound the device or approved its replacement.
    pub unbound_at_ms: Option<i64>,
    /// The last accepted seq (0: none yet) and hex SHA-256 of its bytes.
    pub head_seq: u64,
    pub head_hash: String,
    /// What enrollment proved about the key (`punch_model::rules::assurance`).
    pub assurance: String,
    /// What that rested on (JSON from the attestation check), if attested.
    pub attestation: Option<String>,
    /// The channel key that signs requests; None for a device enrolled
    /// with one key (`public_key` signs everything).
    #[serde(serialize_with = "b64_opt")]
    pub channel_key: Option<Vec<u8>>,
    pub channel_assurance: Option<String>,
    pub channel_attestation: Option<String>,
    /// The punch key in force after a rotation; None: `public_key`.
    #[serde(serialize_with = "b64_opt")]
    pub punch_key: Option<Vec<u8>>,
}

impl DeviceInfo {
    pub fn is_bound(&self) -> bool {
        self.unbound_at_ms.is_none()
    }

    /// The key that signs this device's requests and key rotations.
    pub fn channel_key(&self) -> &[u8] {
        self.channel_key.as_deref().unwrap_or(&self.public_key)
    }

    /// The key that signs this device's records now.
    pub fn current_punch_key(&self) -> &[u8] {
        self.punch_key.as_deref().unwrap_or(&self.public_key)
    }
}

/// What binding a device writes (insert, or re-bind of a known device id).
#[derive(Debug, Clone)]
pub struct BindDevice<'a> {
    pub device_id: &'a str,
    pub employee_id: &'a str,
    pub public_key: &'a [u8],
    pub key_storage: &'a str,
    pub platform: &'a str,
    pub assurance: &'a str,
    pub attestation: Option<&'a str>,
    pub channel_key: Option<&'a [u8]>,
    pub channel_assurance: Option<&'a str>,
    pub channel_attestation: Option<&'a str>,
    pub now_ms: i64,
}

/// A single-use attestation challenge handed out for an enrollment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    /// Hex SHA-256 of the challenge bytes.
    pub challenge_hash: String,
    /// The enrollment code it belongs to (hex SHA-256, as codes are kept).
    pub code_hash: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
}

/// A published policy version: the exact signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub version: u64,
    pub body: Vec<u8>,
    pub signature: Vec<u8>,
    pub issued_at_ms: i64,
    pub expires_at_ms: Option<i64>,
}

/// An accepted punch with the server's judgement of its time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPunchInfo {
    pub device_id: String,
    pub seq: u64,
    pub punch_id: String,
    pub employee_id: String,
    pub kind: String,
    /// The device's wall clock at the punch.
    pub wall_time_ms: i64,
    pub utc_offset_min: i32,
    /// Anchor + monotonic elapsed; None when unanchored. Wins over wall time.
    pub trusted_time_ms: Option<i64>,
    /// wall − trusted, when trusted exists.
    pub skew_ms: Option<i64>,
    /// "anchored", "server_clock" (a browser punch, received live),
    /// "clock_moved", "after_receipt" (trusted time later than
    /// the server received it), `unanchored:<why>` or "bad_anchor".
    pub time_status: String,
    pub policy_version: u64,
    /// The device's evaluation: "accepted" or "review".
    pub decision: String,
    pub site_id: Option<String>,
    /// Hex SHA-256 of the record bytes.
    pub hash: String,
    pub received_at_ms: i64,
    /// What the server's own checks found for a manager to look at: the
    /// evidence re-judged under the named policy disagrees with the device,
    /// or the policy had expired (empty: nothing to review).
    pub review_flags: Vec<punch_model::ledger::review::ReviewFlag>,
    /// The sending device's assurance level when the punch was stored.
    pub assurance: String,
    /// The server's own reading of the punch against the shifts, on trusted
    /// time (the device's is inside the signed record).
    pub attendance: Option<punch_model::rules::shift::Attendance>,
}

impl StoredPunchInfo {
    /// The time to believe: trusted where it exists, else the wall clock.
    pub fn effective_time_ms(&self) -> i64 {
        self.trusted_time_ms.unwrap_or(self.wall_time_ms)
    }
}

/// An employee revealed the exact evidence behind a minimised record, and it
/// matched the commitment: what review found on it (the evidence itself is
/// not kept).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revelation {
    pub device_id: String,
    pub seq: u64,
    pub employee_id: String,
    /// JSON list of `ReviewFlag` on the exact evidence.
    pub review_flags: String,
    pub revealed_at_ms: i64,
}

/// What retention removes, kind by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeKind {
    /// Accepted records' signed bytes (exact locations, Wi-Fi, addresses);
    /// the punch row (times, kind, verdict, site) and its hash stay.
    RecordBytes,
    /// Refused records' bytes (raw evidence); the refusal and hash stay.
    RejectedBytes,
    /// Punch rows themselves; (device, seq, hash) stay in `punch_hashes`.
    Punches,
    /// Audit: the heads devices stated, and the outcomes of revealed evidence.
    HeadStatements,
    Revelations,
}

/// What an erasure removed (rows touched per kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub employee_id: String,
    /// Punch records' signed bytes (location, Wi-Fi, addresses) removed;
    /// the rows (times, kind, verdict, site, review flags) kept for payroll.
    pub record_bytes: u64,
    pub refused_records: u64,
    /// Requests' bodies (reasons, proposals) and bytes; decisions kept.
    pub requests: u64,
    pub attachments: u64,
    pub revelations: u64,
    pub head_statements: u64,
    pub data_keys: u64,
    /// Devices unbound and their platform details removed.
    pub devices: u64,
}

/// One link of a device's stored chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainRow {
    pub seq: u64,
    /// Empty once retention purged it.
    pub record: Vec<u8>,
    pub signature: Vec<u8>,
    /// Hex SHA-256 of the record as received.
    pub hash: String,
}

/// A new accepted punch, with its exact bytes.
#[derive(Debug, Clone)]
pub struct NewPunch<'a> {
    pub info: &'a StoredPunchInfo,
    pub record: &'a [u8],
    pub signature: &'a [u8],
}

/// A refused record without its bytes (the chain-break list).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedRow {
    pub seq: u64,
    pub reason: String,
    pub detail: String,
    pub hash: String,
    pub attempts: u64,
    pub first_received_at_ms: i64,
}

/// A record the server refused, kept as evidence (never dropped).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedInfo {
    pub id: i64,
    /// The authenticated device that sent it.
    pub device_id: String,
    pub seq: u64,
    /// Read from the record when it parses.
    pub punch_id: Option<String>,
    /// The employee the sending device is bound to (who the evidence is about).
    pub employee_id: Option<String>,
    /// The employee the record itself names, when it parses (may be a lie).
    pub claimed_employee_id: Option<String>,
    /// A `wire::RejectReason` in snake_case.
    pub reason: String,
    pub detail: String,
    /// Hex SHA-256 of the record bytes.
    pub hash: String,
    #[serde(serialize_with = "b64")]
    pub record: Vec<u8>,
    #[serde(serialize_with = "b64")]
    pub signature: Vec<u8>,
    /// The same bytes refused for the same reason count as one row.
    pub attempts: u64,
    pub first_received_at_ms: i64,
    pub last_received_at_ms: i64,
}

fn b64<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&punch_model::wire::b64::encode(v))
}

fn b64_opt<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    punch_model::wire::b64::opt::serialize(v, s)
}

/// The primitive operations, all inside one transaction.
pub trait StoreTx {
    /// This transaction's staff, review and audit operations.
    fn people(&self) -> &dyn people::PeopleTx;
    /// The browser punch's passkeys and ceremonies (`store::browser`).
    fn browser(&self) -> &dyn browser::BrowserTx;
    /// This transaction's punch-photo operations.
    fn photos(&self) -> &dyn photos::PhotosTx;
    /// This transaction's forgotten clock-outs (`crate::forgotten`).
    fn forgotten(&self) -> &dyn forgotten::ForgottenTx;
    /// This transaction's operations over an employee's several devices.
    fn employee_devices(&self) -> &dyn employee_devices::EmployeeDevicesTx;
    /// This transaction's fault-report operations (last seen, silence).
    fn faults(&self) -> &dyn faults::FaultsTx;
    /// An upload's reads about its device, one statement each.
    fn ingest_batch(&self) -> &dyn ingest_batch::IngestBatchTx;

    // Server-wide values (secrets, settings).
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>>;
    fn set_meta(&self, key: &str, value: &[u8]) -> Result<()>;
    /// Stores `value` unless the key exists; returns the stored value.
    fn meta_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>>;

    fn upsert_employee(&self, employee_id: &str, name: &str, now_ms: i64) -> Result<()>;
    fn employee(&self, employee_id: &str) -> Result<Option<EmployeeRow>>;
    fn set_rebind_approved(&self, employee_id: &str, at_ms: Option<i64>) -> Result<()>;

    fn insert_code(&self, code: &CodeRow) -> Result<()>;
    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>>;
    fn mark_code_used(&self, code_hash: &str, device_id: &str, now_ms: i64) -> Result<()>;

    fn insert_challenge(&self, challenge: &ChallengeRow) -> Result<()>;
    fn challenge(&self, challenge_hash: &str) -> Result<Option<ChallengeRow>>;
    fn mark_challenge_used(&self, challenge_hash: &str, now_ms: i64) -> Result<()>;

    fn device(&self, device_id: &str) -> Result<Option<DeviceInfo>>;
    /// Every device: for CLI commands only, never a request path.
    fn all_devices(&self) -> Result<Vec<DeviceInfo>>;
    /// One employee's devices, bound or not, oldest first.
    fn devices_of(&self, employee_id: &str) -> Result<Vec<DeviceInfo>>;
    /// Inserts the device, or re-binds a known id (its chain head is kept).
    fn bind_device(&self, device: &BindDevice<'_>) -> Result<()>;
    /// Returns false when the device was not bound.
    fn mark_unbound(&self, device_id: &str, now_ms: i64) -> Result<bool>;
    fn set_head(&self, device_id: &str, seq: u64, hash_hex: &str) -> Result<()>;
    /// Puts a rotated punch key in force, with what it proved.
    fn set_punch_key(&self, device_id: &str, punch_key: &[u8], assurance: &str) -> Result<()>;
    /// The device, locked until the transaction ends: ingest holds this so
    /// two servers taking the same device's batch run one after the other
    /// (PostgreSQL: `SELECT … FOR UPDATE`; SQLite: the one writer already
    /// excludes everyone).
    fn lock_device(&self, device_id: &str) -> Result<Option<DeviceInfo>>;

    /// Remembers a request nonce; false when it was already seen.
    fn insert_nonce(&self, device_id: &str, nonce: &str, request_ts_ms: i64) -> Result<bool>;
    /// Forgets nonces of requests stamped more than `max_age_ms` before
    /// the database's clock: every server on the database prunes by the
    /// same clock, so one whose own clock runs ahead cannot forget a nonce
    /// the others would still accept a replay of.
    fn prune_nonces(&self, max_age_ms: i64) -> Result<u64>;

    /// Sites as their JSON (`punch_model::rules::policy::Site`), by id.
    fn upsert_site(&self, site_id: &str, json: &str, now_ms: i64) -> Result<()>;
    fn remove_site(&self, site_id: &str) -> Result<bool>;
    fn sites(&self) -> Result<Vec<String>>;

    fn latest_policy(&self) -> Result<Option<PolicyRow>>;
    /// 0 when nothing was published yet.
    fn latest_policy_version(&self) -> Result<u64>;
    fn policy(&self, version: u64) -> Result<Option<PolicyRow>>;
    fn insert_policy(&self, row: &PolicyRow) -> Result<()>;

    /// The stored bytes of (device, seq), if accepted.
    fn punch_bytes(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>>;
    /// The hash kept for (device, seq) — of an accepted punch or event, or
    /// of a punch row retention removed — even once its bytes are purged.
    fn kept_hash(&self, device_id: &str, seq: u64) -> Result<Option<String>>;
    /// Where a punch id is stored: (device, seq).
    fn punch_location(&self, punch_id: &str) -> Result<Option<(String, u64)>>;
    fn insert_punch(&self, punch: &NewPunch<'_>) -> Result<()>;
    /// Several punches at once (one round trip where the backend can).
    fn insert_punches(&self, punches: &[NewPunch<'_>]) -> Result<()>;
    /// The stored bytes of several seqs of one device (absent: not stored).
    fn punch_bytes_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, Vec<u8>>>;
    /// Where each of these punch ids is stored (absent: nowhere).
    fn punch_locations(&self, punch_ids: &[String]) -> Result<HashMap<String, (String, u64)>>;
    fn record_rejected(&self, rejected: &RejectedInfo) -> Result<()>;
    /// (reason, detail) of every refusal kept with this hash at (device,
    /// seq), newest first: the caller decides which counts
    /// (`RejectReason::is_link`).
    fn refusals_with_hash(
        &self,
        device_id: &str,
        seq: u64,
        hash_hex: &str,
    ) -> Result<Vec<(String, String)>>;

    /// One accepted punch (the admin detail view: one indexed read).
    fn punch_info(&self, device_id: &str, seq: u64) -> Result<Option<StoredPunchInfo>>;
    /// One employee's punches, by (device, seq) (an indexed read: the
    /// employee's own export does not scan everyone's).
    fn punches_of(&self, employee_id: &str) -> Result<Vec<StoredPunchInfo>>;
    /// Every punch: for CLI commands only, never a request path.
    fn all_punches(&self) -> Result<Vec<StoredPunchInfo>>;
    /// One page of the ledger, filtered and newest first, in SQL
    /// ([`punch_page::PunchQuery`]): its work is its own rows.
    fn punch_page(&self, query: &punch_page::PunchQuery) -> Result<Vec<punch_page::PunchListRow>>;
    /// One page of make-up and field-work requests, oldest first, in SQL
    /// ([`request_page::RequestQuery`]).
    fn request_page(
        &self,
        query: &request_page::RequestQuery,
    ) -> Result<Vec<request_page::RequestRow>>;
    /// Every refused record with its bytes: for CLI commands only.
    fn all_rejected(&self) -> Result<Vec<RejectedInfo>>;
    /// The refused records about one employee (the device was theirs), by id.
    fn rejected_about(&self, employee_id: &str) -> Result<Vec<RejectedInfo>>;
    /// How many refused records a device has.
    fn refused_count(&self, device_id: &str) -> Result<u64>;
    /// Devices with refused records, by id after `after`, of `team` if
    /// given: one page of the chain-break list.
    fn refused_devices(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>>;
    /// A device's first `limit` refused records by seq, without their bytes.
    fn refused_of(&self, device_id: &str, limit: usize) -> Result<Vec<RefusedRow>>;
    /// At most `limit` devices by id after `after`, with their employee's
    /// team, of `team` / `employee` if given: one page of the device list.
    fn devices_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        employee: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(DeviceInfo, Option<String>)>>;

    /// The hash the device once stated for its head at `seq`, if it did.
    fn head_statement(&self, device_id: &str, seq: u64) -> Result<Option<String>>;
    /// The statements the device made at several seqs (absent: none).
    fn head_statements_many(&self, device_id: &str, seqs: &[u64]) -> Result<HashMap<u64, String>>;
    /// The highest head the device ever stated.
    fn highest_head_statement(&self, device_id: &str) -> Result<Option<(u64, String)>>;
    /// Remembers a statement (the first one per seq is kept).
    fn insert_head_statement(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        now_ms: i64,
    ) -> Result<()>;

    /// Evidence rows stored and junk records dropped for the device on `day`
    /// (days since the epoch, UTC).
    /// The shift occurrence `employee_id`'s latest clock-in on the device
    /// (per the server's own attendance) left open, if their latest
    /// clock-in/out there is a clock-in. Per employee: a kiosk's punches
    /// name many.
    fn open_shift(
        &self,
        device_id: &str,
        employee_id: &str,
    ) -> Result<Option<punch_model::rules::shift::OpenShift>>;

    fn evidence_counter(&self, device_id: &str, day: i64) -> Result<(u64, u64)>;
    fn bump_evidence_counter(
        &self,
        device_id: &str,
        day: i64,
        stored: u64,
        dropped: u64,
    ) -> Result<()>;

    /// The employee's PIN reset profile (locked in a write transaction).
    fn pin_profile(&self, employee_id: &str) -> Result<Option<PinProfile>>;
    fn upsert_pin_profile(&self, profile: &PinProfile) -> Result<()>;
    fn insert_pin_code(&self, code: &PinCodeRow) -> Result<()>;
    /// Marks the employee's unused, not yet superseded codes as replaced by
    /// a newer one; returns how many.
    fn supersede_pin_codes(&self, employee_id: &str, now_ms: i64) -> Result<u64>;
    /// Deletes every PIN code that expired before `before_ms`.
    fn prune_pin_codes(&self, before_ms: i64) -> Result<u64>;
    /// The code with this MAC (locked in a write transaction).
    fn pin_code(&self, code_hash: &str) -> Result<Option<PinCodeRow>>;
    /// Uses the code up; false when it already was.
    fn mark_pin_code_used(&self, code_hash: &str, now_ms: i64) -> Result<bool>;
    /// Kiosk mode: the employee punches on `site_id`'s kiosks with this PIN
    /// verifier (JSON); one site per employee, a new one replaces the old.
    fn upsert_kiosk_member(&self, site_id: &str, employee_id: &str, verifier: &str) -> Result<()>;
    /// Every kiosk member as (site, employee, verifier JSON), by site then employee.
    fn kiosk_members(&self) -> Result<Vec<(String, String, String)>>;
    /// The site whose kiosks the employee punches on, if any.
    fn kiosk_site_of(&self, employee_id: &str) -> Result<Option<String>>;

    /// Counts one hit on a fixed-window rate counter shared by every server
    /// on this database: returns (hits in the current window including this
    /// one, when the window started). A window older than `window_ms`
    /// starts again at `now_ms`.
    fn rate_hit(&self, key: &str, window_ms: i64, now_ms: i64) -> Result<(u64, i64)>;
    /// Deletes the rate counters whose window started before `before_ms`;
    /// returns how many.
    fn prune_rate_limits(&self, before_ms: i64) -> Result<u64>;
    /// Deletes one rate counter.
    fn rate_clear(&self, key: &str) -> Result<()>;
    /// Deletes every rate counter whose key starts with `prefix`.
    fn rate_clear_prefix(&self, prefix: &str) -> Result<()>;

    // Privacy (`privacy`): the outcome of evidence an employee revealed.
    fn record_revelation(&self, revelation: &Revelation) -> Result<()>;
    fn revelations_of(&self, employee_id: &str) -> Result<Vec<Revelation>>;
    /// A device's data key for sealed payloads (stored as `privacy::keys` seals it).
    fn put_data_key(&self, device_id: &str, key_id: &str, key: &[u8], now_ms: i64) -> Result<()>;
    fn data_key(&self, device_id: &str, key_id: &str) -> Result<Option<Vec<u8>>>;
    /// Retention (`privacy::retention`): removes one kind of data older
    /// than `before_ms`, keeping every hash; answers how many rows.
    fn purge(&self, kind: PurgeKind, before_ms: i64) -> Result<u64>;
    /// A device's chain as stored (punches and events), in seq order:
    /// purged or erased records with empty bytes and only their hash.
    fn chain_rows(&self, device_id: &str) -> Result<Vec<ChainRow>>;
    /// Erasure on leaving (`privacy::erase`): removes the employee's
    /// personal data, keeps punch rows (payroll) and every hash.
    fn erase_employee(&self, employee_id: &str, now_ms: i64) -> Result<ErasureReport>;
    // Chain events (`events` table): see [`StoredEvent`].
    fn insert_event(&self, event: &StoredEvent) -> Result<()>;
    /// Events matching `filter`, oldest first.
    fn events(&self, filter: &EventFilter<'_>) -> Result<Vec<StoredEvent>>;
    /// The rows carrying `event_id`, by (device, seq): one since ingest
    /// refuses a second; older databases may hold a few.
    fn events_by_id(&self, event_id: &str) -> Result<Vec<StoredEvent>>;
    /// Where `event_id` is already stored, if anywhere. In a write
    /// transaction it also serialises ingests of the same id (PostgreSQL
    /// takes a transaction lock on it), so two devices cannot both claim it.
    fn event_id_holder(&self, event_id: &str) -> Result<Option<(String, u64)>>;
    /// Records a decision on the request at (device, seq) if it is still
    /// pending; false if it is not (unknown, or already decided).
    fn decide_event(&self, device_id: &str, seq: u64, decision: &EventDecision<'_>)
    -> Result<bool>;
    /// Stores an attachment once (the same hash again is a no-op).
    fn insert_attachment(&self, attachment: &AttachmentRow) -> Result<()>;
    /// An employee's file by its hash: two employees' identical files are
    /// two rows, so neither reads, owns or erases the other's.
    fn attachment(&self, employee_id: &str, sha256: &str) -> Result<Option<AttachmentRow>>;

    // At rest (`crate::at_rest`): the evidence columns exactly as stored,
    // for sealing old rows and rotating keys.
    /// Up to `limit` values of `column` after the row `after` (None: from
    /// the first), in key order.
    fn stored_values(
        &self,
        column: sealable::SealableColumn,
        after: Option<&sealable::RowKey>,
        limit: u32,
    ) -> Result<Vec<sealable::StoredValue>>;
    /// Replaces one value if it is still `old`; false when it changed
    /// meanwhile (purged, erased) or the row is gone.
    fn replace_value(
        &self,
        column: sealable::SealableColumn,
        row: &sealable::RowKey,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool>;
}

/// An accepted chain event: the signed bytes, what they say (`body`, the
/// event as JSON), and for requests where they stand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub device_id: String,
    pub seq: u64,
    pub event_id: String,
    pub employee_id: String,
    /// `make_up_request`, `field_work_request`, `refused_punch`...
    pub event_type: String,
    pub body: String,
    pub wall_time_ms: i64,
    pub trusted_time_ms: Option<i64>,
    #[serde(skip)]
    pub record: Vec<u8>,
    #[serde(skip)]
    pub signature: Vec<u8>,
    pub hash: String,
    pub received_at_ms: i64,
    /// A `RequestStatus` for requests (None for other events).
    pub status: Option<String>,
    /// Why the server refused it (a refusal code), when it did.
    pub status_detail: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub comment: Option<String>,
}

impl StoredEvent {
    /// The time to believe: trusted where it exists, else the wall clock.
    pub fn effective_time_ms(&self) -> i64 {
        self.trusted_time_ms.unwrap_or(self.wall_time_ms)
    }
}

/// Which events to list (every field narrows).
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFilter<'a> {
    pub employee_id: Option<&'a str>,
    pub device_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// A manager's decision on a request.
#[derive(Debug, Clone, Copy)]
pub struct EventDecision<'a> {
    pub status: &'a str,
    pub decided_by: &'a str,
    pub comment: &'a str,
    pub at_ms: i64,
}

/// A file filed with a make-up request.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentRow {
    pub sha256: String,
    pub employee_id: String,
    pub body: Vec<u8>,
    pub received_at_ms: i64,
}

/// Where the schema stands: `/readyz` is ready only when they match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    pub found: i64,
    pub supported: i64,
}

/// Unit of work for [`ServerStore`]: runs once; an error rolls back.
pub type Work<'w> = dyn FnMut(&dyn StoreTx) -> Result<()> + 'w;

/// A backend: runs work in a read or a write transaction. Writers are
/// serialised by the backend; an `Err` from the work rolls everything back.
pub trait ServerStore: Send + Sync {
    /// Runs `work` in a transaction, the sealed columns passed through
    /// `sealer` when there is one (`crate::at_rest`).
    fn run_tx(
        &self,
        write: bool,
        sealer: Option<&dyn sql::Sealer>,
        work: &mut Work<'_>,
    ) -> Result<()>;
    fn read_tx(&self, work: &mut Work<'_>) -> Result<()> {
        self.run_tx(false, None, work)
    }
    fn write_tx(&self, work: &mut Work<'_>) -> Result<()> {
        self.run_tx(true, None, work)
    }
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Asks the database (a real round trip) for its schema version.
    fn schema_status(&self) -> Result<SchemaStatus>;
    /// After personal data was removed or resealed: makes the files stop
    /// holding the old bytes where the backend can (SQLite: deleted content
    /// is already zeroed, this checkpoints and truncates the write-ahead
    /// log; PostgreSQL: nothing, see README's privacy section).
    fn scrub(&self) -> Result<()> {
        Ok(())
    }
    /// Punch, event and refusal rows this store has read since it was opened: what a
    /// request cost, whatever the tables hold (tests of bounded work).
    fn rows_read(&self) -> u64 {
        0
    }
}

/// Which database, parsed from `--db`: `postgres://…` (or `postgresql://…`),
/// `sqlite:PATH`, or a bare path (SQLite, the default).
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(text: &str) -> Result<DbUrl> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServerError::Config("database location is empty".into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(text.to_string()));
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or(text.strip_prefix("sqlite:"))
        {
            return Ok(DbUrl::Sqlite(path.into()));
        }
        if text.contains("://") {
            return Err(ServerError::Config(format!(
                "unsupported database URL scheme in {:?}; use postgres://… or sqlite:PATH",
                redact_url(text)
            )));
        }
        Ok(DbUrl::Sqlite(text.into()))
    }
}

impl From<&std::path::Path> for DbUrl {
    fn from(path: &std::path::Path) -> DbUrl {
        DbUrl::Sqlite(path.to_path_buf())
    }
}

/// Never prints a password: URLs go to logs and error messages.
impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            DbUrl::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

/// `scheme://user:secret@host/db?password=x` → `scheme://user:***@host/db?password=***`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&");
        out = format!("{head}{query}");
    }
    out
}

/// Opens (creating and migrating if needed) the database `url` names.
pub fn open(url: &DbUrl) -> Result<Arc<dyn ServerStore>> {
    Ok(match url {
        DbUrl::Sqlite(path) => Arc::new(sqlite::SqliteStore::open(path)?),
        DbUrl::Postgres(url) => Arc::new(postgres::PostgresStore::connect(url)?),
    })
}

/// Typed helpers over the object-safe [`ServerStore`].
pub trait StoreExt: ServerStore {
    fn read<T>(&self, f: impl FnOnce(&dyn StoreTx) -> Result<T>) -> Result<T> {
        run_once(|w| self.read_tx(w), f)
    }

    /// A write transaction; run again (a bounded number of times) when the
    /// database aborted it as retryable (`ServerError::is_retryable`): it
    /// rolled back, so `f` must only write through `tx`.
    fn write<T>(&self, mut f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<T> {
        crate::error::retrying(|| run_once(|w| self.write_tx(w), &mut f))
    }
}

impl<S: ServerStore + ?Sized> StoreExt for S {}

fn run_once<T>(
    run: impl FnOnce(&mut Work<'_>) -> Result<()>,
    f: impl FnOnce(&dyn StoreTx) -> Result<T>,
) -> Result<T> {
    let mut f = Some(f);
    let mut out = None;
    run(&mut |tx| {
        let f = f
            .take()
            .ok_or_else(|| ServerError::Corrupt("store ran a unit of work twice".into()))?;
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| ServerError::Corrupt("store did not run the unit of work".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_never_show_secrets() {
        assert_eq!(
            DbUrl::parse("server.db").unwrap(),
            DbUrl::Sqlite("server.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:/tmp/a.db").unwrap(),
            DbUrl::Sqlite("/tmp/a.db".into())
        );
        let pg =
            DbUrl::parse("postgres://punch:s3cret@127.0.0.1:5432/punch?password=x&sslmode=disable")
                .unwrap();
        assert!(matches!(pg, DbUrl::Postgres(_)));
        let shown = format!("{pg} {pg:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("password=x"),
            "{shown}"
        );
        assert!(
            shown
                .contains("postgres://punch:***@127.0.0.1:5432/punch?password=***&sslmode=disable")
        );
        assert!(DbUrl::parse("mysql://x").is_err());
        assert!(DbUrl::parse(" ").is_err());
    }
}
