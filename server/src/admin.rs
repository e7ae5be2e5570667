//! The employer's side, in-process: employees, enrollment codes, devices,
//! sites, policy publishing and the punch ledger. Works on the same database
//! as a running server (SQLite serialises the writers; PostgreSQL is shared
//! by design).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use punch_model::rules::policy::{Settings, Site};

use crate::attestation::AttestationConfig;
use crate::audit::{self, AuditEntry};
use crate::clock::now_ms;
use crate::enroll;
use crate::error::{Result, ServerError};
use crate::policy_publish;
use crate::requests;
use crate::staff::account::{self, NewStaff};
use crate::staff::lifecycle;
use crate::store::people::AuditRow;
use crate::store::{
    DbUrl, DeviceInfo, EventFilter, RejectedInfo, ServerStore, StoreExt, StoreTx, StoredEvent,
    StoredPunchInfo,
};

const MAX_EMPLOYEE_ID_LEN: usize = 128;

/// Who the audit log names for actions taken here: whoever runs the CLI on
/// the server's own machine (or a program embedding this API).
pub const OPERATOR: &str = "operator";

fn operator_audit(tx: &dyn StoreTx, action: &str, target: String, now: i64) -> Result<()> {
    operator_audit_with(
        tx,
        action,
        target,
        "",
        serde_json::json!({"via": "admin"}),
        now,
    )
}

pub struct Admin {
    pub(crate) store: Arc<dyn ServerStore>,
}

impl Admin {
    /// Opens (creating and migrating if needed) the server database.
    pub fn open(db_path: impl AsRef<Path>) -> Result<Admin> {
        Self::connect(&DbUrl::Sqlite(db_path.as_ref().to_path_buf()))
    }

    /// Over the database a URL names (`postgres://…`, `sqlite:PATH`, a path).
    pub fn connect(db: &DbUrl) -> Result<Admin> {
        Self::connect_with(db, None)
    }

    /// With the keys that seal its evidence at rest (`crate::at_rest`).
    pub fn connect_with(
        db: &DbUrl,
        at_rest: Option<&Arc<crate::at_rest::AtRestKeys>>,
    ) -> Result<Admin> {
        Ok(Admin {
            store: crate::at_rest::open(db, at_rest)?,
        })
    }

    pub(crate) fn store(&self) -> &Arc<dyn ServerStore> {
        &self.store
    }

    /// Over another backend.
    pub fn with_store(store: Arc<dyn ServerStore>) -> Admin {
        Admin { store }
    }

    /// Seals the evidence columns under `keys`' sealing key (see
    /// `crate::at_rest::reseal`); `apply` false only counts.
    pub fn reseal_at_rest(
        &self,
        keys: &crate::at_rest::AtRestKeys,
        apply: bool,
    ) -> Result<crate::at_rest::reseal::ResealReport> {
        crate::at_rest::reseal::reseal(self.store.as_ref(), keys, apply)
    }

    /// Adds an employee, or renames an existing one.
    pub fn add_employee(&self, employee_id: &str, name: &str) -> Result<()> {
        if employee_id.trim().is_empty()
            || employee_id.len() > MAX_EMPLOYEE_ID_LEN
            || employee_id.chars().any(char::is_control)
        {
            return Err(ServerError::Invalid(
                "employee id must be 1-128 characters without control characters".into(),
            ));
        }
        let now = now_ms();
        self.store
            .write(|tx| tx.enrollment().upsert_employee(employee_id, name, now))
    }

    /// A one-time code (10 characters, A-Z 2-9) valid for `ttl`.
    pub fn create_enrollment_code(&self, employee_id: &str, ttl: Duration) -> Result<String> {
        let now = now_ms();
        self.store
            .write(|tx| enroll::create_code(tx, employee_id, ttl, now))
    }

    pub fn devices(&self) -> Result<Vec<DeviceInfo>> {
        self.store.read(|tx| tx.devices().all_devices())
    }

    /// The device's key stops being accepted (403 device_unbound).
    pub fn unbind_device(&self, device_id: &str) -> Result<()> {
        let now = now_ms();
        self.store.write(|tx| {
            if tx.devices().device(device_id)?.is_none() {
                return Err(ServerError::UnknownDevice(device_id.to_string()));
            }
            tx.devices().mark_unbound(device_id, now)?;
            operator_audit(tx, "device.unbind", format!("device:{device_id}"), now)
        })
    }

    /// Lets the employee's next enrollment replace the bound device (once).
    pub fn approve_rebind(&self, employee_id: &str) -> Result<()> {
        let now = now_ms();
        self.store.write(|tx| {
            if tx.enrollment().employee(employee_id)?.is_none() {
                return Err(ServerError::UnknownEmployee(employee_id.to_string()));
            }
            tx.enrollment()
                .set_rebind_approved(employee_id, Some(now))?;
            operator_audit(
                tx,
                "device.rebind_approve",
                format!("employee:{employee_id}"),
                now,
            )
        })
    }

    /// Creates a staff account (the first HR admin: bootstrap); the TOTP
    /// secret in the answer is shown this once.
    pub fn add_staff(&self, new: &NewStaff) -> Result<account::Created> {
        let now = now_ms();
        let (row, created) = account::prepare(new, account::Enrolment::Now, now)?;
        self.store.write(|tx| {
            account::insert(tx, &row)?;
            operator_audit(tx, "staff.create", format!("staff:{}", row.username), now)
        })?;
        Ok(created)
    }

    /// Changes a staff account (see `staff::lifecycle`), audited with
    /// `reason`; `password` only for a password reset.
    pub fn change_staff(
        &self,
        username: &str,
        change: lifecycle::Change,
        password: Option<&str>,
        reason: &str,
    ) -> Result<lifecycle::Outcome> {
        let now = now_ms();
        let phc = password.map(crate::staff::password::hash).transpose()?;
        self.store.write(|tx| {
            let outcome = lifecycle::apply(tx, username, change, phc.as_deref(), now)?;
            operator_audit_with(
                tx,
                &format!("staff.{}", change.as_str()),
                format!("staff:{username}"),
                reason,
                serde_json::json!({"via": "admin", "outcome": outcome}),
                now,
            )?;
            Ok(outcome)
        })
    }

    /// Revokes one API token by its id (audited); the token as it now is.
    pub fn revoke_token(
        &self,
        token_id: &str,
        reason: &str,
    ) -> Result<crate::store::people::ApiTokenRow> {
        let now = now_ms();
        self.store.write(|tx| {
            let row = crate::staff::token::revoke(tx, token_id, None, now)?
                .ok_or_else(|| ServerError::Invalid(format!("no API token {token_id}")))?;
            operator_audit_with(
                tx,
                "token.revoke",
                format!("token:{token_id}"),
                reason,
                serde_json::json!({"via": "admin", "owner": row.username}),
                now,
            )?;
            Ok(row)
        })
    }

    /// API tokens (never their secrets), of one member or everyone.
    pub fn api_tokens(
        &self,
        username: Option<&str>,
    ) -> Result<Vec<crate::store::people::ApiTokenRow>> {
        self.store.read(|tx| tx.people().api_tokens(username))
    }

    /// Staff accounts, by username.
    pub fn staff(&self) -> Result<Vec<crate::store::people::StaffRow>> {
        self.store.read(|tx| tx.people().staff_list())
    }

    /// Puts an employee in a team (None: in none), which decides which
    /// manager sees their records.
    pub fn set_team(&self, employee_id: &str, team: Option<&str>) -> Result<()> {
        let now = now_ms();
        self.store.write(|tx| {
            if !tx.people().set_team(employee_id, team)? {
                return Err(ServerError::UnknownEmployee(employee_id.to_string()));
            }
            operator_audit(
                tx,
                "employee.set_team",
                format!("employee:{employee_id}"),
                now,
            )
        })
    }

    /// Acknowledges a device's broken chain (audited with `reason`): on its
    /// next sync the device starts a new segment on the accepted head.
    pub fn acknowledge_break(
        &self,
        device_id: &str,
        reason: &str,
    ) -> Result<crate::store::people::ChainAckRow> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ServerError::Invalid("a reason is required".into()));
        }
        let now = now_ms();
        self.store.write(|tx| {
            let device = tx
                .devices()
                .device(device_id)?
                .ok_or_else(|| ServerError::UnknownDevice(device_id.to_string()))?;
            let (ack, refused) =
                crate::chain_reset::acknowledge(tx, &device, OPERATOR, reason, now)?;
            audit::append(
                tx,
                &AuditEntry {
                    actor: OPERATOR.into(),
                    role: OPERATOR.into(),
                    action: "chain.acknowledge_break".into(),
                    target: format!("device:{device_id}"),
                    reason: reason.into(),
                    detail: serde_json::json!({
                        "head_seq": ack.head_seq, "head_hash": ack.head_hash,
                        "refused_records": refused, "via": "admin",
                    }),
                },
                now,
            )?;
            Ok(ack)
        })
    }

    /// Recomputes the audit chain.
    /// [`Admin::verify_audit`] against a head recorded outside the database.
    pub fn verify_audit_anchored(&self, seq: u64, hash: &str) -> Result<audit::AuditVerification> {
        self.store
            .read(|tx| audit::verify_anchored(tx, (seq, hash)))
    }

    pub fn verify_audit(&self) -> Result<audit::AuditVerification> {
        self.store.read(|tx| audit::verify(tx))
    }

    /// Audit rows after `after_seq`, oldest first.
    pub fn audit_rows(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditRow>> {
        self.store
            .read(|tx| tx.people().audit_rows(after_seq, limit))
    }

    /// Adds or replaces a site (validated as a device would); takes effect
    /// with the next `publish_policy`.
    pub fn upsert_site(&self, site: Site) -> Result<()> {
        let now = now_ms();
        self.store
            .write(|tx| policy_publish::upsert_site(tx, &site, now))
    }

    pub fn remove_site(&self, site_id: &str) -> Result<()> {
        self.store.write(|tx| {
            if tx.policies().remove_site(site_id)? {
                Ok(())
            } else {
                Err(ServerError::UnknownSite(site_id.to_string()))
            }
        })
    }

    pub fn sites(&self) -> Result<Vec<Site>> {
        self.store.read(|tx| policy_publish::sites(tx))
    }

    /// Replaces the settings; takes effect with the next `publish_policy`.
    pub fn set_settings(&self, settings: Settings) -> Result<()> {
        self.store
            .write(|tx| policy_publish::set_settings(tx, &settings))
    }

    pub fn settings(&self) -> Result<Settings> {
        self.store.read(|tx| policy_publish::settings(tx))
    }

    /// Publishes sites + settings as the next version (previous + 1), issued
    /// now, expiring after `ttl`; signed with the policy key.
    pub fn publish_policy(&self, ttl: Duration) -> Result<u64> {
        let now = now_ms();
        self.store.write(|tx| {
            let version = policy_publish::publish(tx, ttl, now)?;
            operator_audit(tx, "policy.publish", format!("policy:{version}"), now)?;
            Ok(version)
        })
    }

    /// The latest published version (0: none).
    pub fn policy_version(&self) -> Result<u64> {
        self.store.read(|tx| tx.policies().latest_policy_version())
    }

    /// SPKI DER of the policy signing key (generated on first use): the app pins it.
    pub fn policy_public_key(&self) -> Result<Vec<u8>> {
        self.store.write(|tx| policy_publish::policy_public_key(tx))
    }

    /// Accepted punches, by device and seq.
    /// Replaces the shifts the next published policy carries.
    pub fn set_schedule(&self, schedule: policy_publish::Schedule) -> Result<()> {
        self.store
            .write(|tx| policy_publish::set_schedule(tx, &schedule))
    }

    /// What attestations enrollment accepts (apps, roots, boot state).
    pub fn attestation_config(&self) -> Result<AttestationConfig> {
        self.store.read(|tx| AttestationConfig::load(tx))
    }

    /// Replaces the attestation configuration; every entry is checked first.
    pub fn set_attestation_config(&self, config: AttestationConfig) -> Result<()> {
        self.store.write(|tx| config.save(tx))
    }

    /// Evidence rows stored and unverifiable records counted today (UTC) for a device.
    pub fn evidence_today(&self, device_id: &str) -> Result<(u64, u64)> {
        let day = now_ms().div_euclid(86_400_000);
        self.store
            .read(|tx| tx.evidence().evidence_counter(device_id, day))
    }

    pub fn punches(&self) -> Result<Vec<StoredPunchInfo>> {
        self.store.read(|tx| tx.punches().all_punches())
    }

    /// Looks for forgotten clock-outs as the server's periodic run does
    /// (`crate::forgotten`), judging "now" as `now_ms`.
    pub fn detect_forgotten_clock_outs(
        &self,
        now_ms: i64,
    ) -> Result<crate::forgotten::SweepReport> {
        crate::forgotten::sweep_store(self.store.as_ref(), now_ms)
    }

    /// One employee's recent forgotten clock-outs, as their phone is told.
    pub fn forgotten_clock_outs(
        &self,
        employee_id: &str,
    ) -> Result<Vec<punch_model::rules::forgotten::ForgottenClockOut>> {
        self.store
            .read(|tx| crate::forgotten::notices_for(tx, employee_id, crate::clock::now_ms()))
    }

    /// Make-up and field-work requests, optionally by status (`pending`...).
    pub fn requests(&self, status: Option<&str>) -> Result<Vec<StoredEvent>> {
        self.store.read(|tx| requests::list(tx, None, status))
    }

    /// Every accepted chain event of one type (`refused_punch`...).
    pub fn events(&self, event_type: Option<&str>) -> Result<Vec<StoredEvent>> {
        self.store.read(|tx| {
            tx.events().list(&EventFilter {
                event_type,
                ..EventFilter::default()
            })
        })
    }

    /// Approves or denies a pending request; the device hears of it on its
    /// next sync (an approved field site arrives in its signed addendum).
    pub fn decide_request(
        &self,
        event_id: &str,
        approve: bool,
        decided_by: &str,
        comment: &str,
    ) -> Result<StoredEvent> {
        let now = now_ms();
        self.store.write(|tx| {
            let event = requests::find(tx, requests::RequestRef::id(event_id))?;
            requests::decide(tx, &event, approve, decided_by, comment, now)
        })
    }

    /// Punch-key rotations waiting for HR (see `key_rotation`).
    pub fn pending_key_rotations(&self) -> Result<Vec<StoredEvent>> {
        self.store.read(|tx| {
            tx.events().list(&EventFilter {
                event_type: Some(crate::key_rotation::EVENT_TYPE),
                status: Some(crate::key_rotation::PENDING),
                ..EventFilter::default()
            })
        })
    }

    /// Approves (the new punch key signs the device's later records) or
    /// denies a pending punch-key rotation.
    pub fn decide_key_rotation(
        &self,
        event_id: &str,
        approve: bool,
        decided_by: &str,
        comment: &str,
    ) -> Result<StoredEvent> {
        let now = now_ms();
        self.store.write(|tx| {
            crate::key_rotation::decide(tx, event_id, approve, decided_by, comment, now)
        })
    }

    /// An employee's stored attachment's bytes.
    pub fn attachment(&self, employee_id: &str, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .store
            .read(|tx| tx.events().attachment(employee_id, sha256))?
            .map(|a| a.body))
    }

    /// The evidence table: every refused record.
    pub fn rejected(&self) -> Result<Vec<RejectedInfo>> {
        self.store.read(|tx| tx.refusals().all_rejected())
    }

    /// The database's schema version and the one this server writes.
    pub fn schema_status(&self) -> Result<crate::store::SchemaStatus> {
        self.store.schema_status()
    }

    /// The device's accepted chain head: (seq, hex hash); (0, GENESIS_HASH) before any.
    pub fn head(&self, device_id: &str) -> Result<(u64, String)> {
        self.store.read(|tx| {
            let device = tx
                .devices()
                .device(device_id)?
                .ok_or_else(|| ServerError::UnknownDevice(device_id.to_string()))?;
            Ok((device.head_seq, device.head_hash))
        })
    }
}

/// An audit entry by the operator at the command line (`USER` named).
pub(crate) fn operator_audit_with(
    tx: &dyn StoreTx,
    action: &str,
    target: String,
    reason: &str,
    detail: serde_json::Value,
    now: i64,
) -> Result<()> {
    let entry = AuditEntry {
        detail,
        ..operator_entry(action, target, reason)
    };
    audit::append(tx, &entry, now).map(|_| ())
}

/// An audit entry for an action taken here, by whoever runs the CLI.
pub(crate) fn operator_entry(action: &str, target: String, reason: &str) -> AuditEntry {
    let actor =
        std::env::var("USER").map_or_else(|_| OPERATOR.to_string(), |u| format!("{OPERATOR}:{u}"));
    AuditEntry {
        actor,
        role: OPERATOR.into(),
        action: action.into(),
        target,
        reason: reason.into(),
        detail: serde_json::json!({"via": "admin"}),
    }
}
