//! The employer's privacy tools on [`Admin`]: what is stored of a record,
//! and what employees revealed.

use crate::admin::Admin;
use crate::error::Result;
use punch_model::ledger::chain::ChainReport;

use crate::privacy::export::{self, Export};
use crate::privacy::retention::{self, Retention, RetentionReport};
use crate::store::{ErasureReport, Revelation, StoreExt};

impl Admin {
    /// The exact bytes stored for a device's record (what the phone signed).
    pub fn punch_record(&self, device_id: &str, seq: u64) -> Result<Option<Vec<u8>>> {
        self.store.read(|tx| tx.chain().punch_bytes(device_id, seq))
    }

    /// Evidence the employee revealed to settle disputes, with its outcome.
    pub fn revelations(&self, employee_id: &str) -> Result<Vec<Revelation>> {
        self.store
            .read(|tx| tx.privacy().revelations_of(employee_id))
    }

    /// The employer's retention, per kind of data.
    pub fn retention(&self) -> Result<Retention> {
        self.store.read(|tx| retention::load(tx))
    }

    pub fn set_retention(&self, r: &Retention) -> Result<()> {
        self.store.write(|tx| retention::save(tx, r))
    }

    /// Runs the purge job at `now_ms` under the stored retention.
    pub fn purge_expired(&self, now_ms: i64) -> Result<RetentionReport> {
        let report = self.store.write(|tx| {
            let r = retention::load(tx)?;
            retention::purge(tx, &r, now_ms)
        })?;
        self.store.scrub()?;
        Ok(report)
    }

    /// A device's stored chain, re-verified (purged links by their hashes).
    pub fn verify_chain(&self, device_id: &str) -> Result<ChainReport> {
        self.store.read(|tx| retention::verify_chain(tx, device_id))
    }

    /// Everything held about one employee (what the export route answers).
    pub fn export(&self, employee_id: &str, now_ms: i64) -> Result<Export> {
        self.store
            .read(|tx| export::export(tx, employee_id, now_ms))
    }

    /// Erasure when an employee leaves (where law allows and retention
    /// rules end): removes their personal data — records' evidence bytes,
    /// refused records, request bodies and files, revealed outcomes, stated
    /// heads, data keys, device details (devices unbound) — and keeps the
    /// punch rows (times, kind, verdict, site, review flags) payroll must keep,
    /// with every hash.
    pub fn erase_employee(&self, employee_id: &str, now_ms: i64) -> Result<ErasureReport> {
        self.store
            .write(|tx| {
                tx.enrollment().employee(employee_id)?.ok_or_else(|| {
                    crate::error::ServerError::UnknownEmployee(employee_id.to_string())
                })?;
                tx.privacy().erase_employee(employee_id, now_ms)
            })
            .and_then(|report| {
                self.store.scrub()?;
                Ok(report)
            })
    }
}
