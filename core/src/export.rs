//! The employee's export from the phone (GDPR art. 15/20, PIPL art. 45):
//! everything this device holds about them, as JSON plus a human summary —
//! every signed record (punches with their evidence, opened when sealed;
//! refused attempts and requests), the exact evidence kept behind
//! commitments, the acknowledged notice, and what retention purged.

use serde_json::{Value, json};

use punch_model::ledger::event::ChainEntry;
use punch_model::ledger::sealed::unseal;

use crate::error::{PunchError, Result};
use crate::exceptions::open_event;
use crate::privacy::PrivacyService;
use crate::store::Sealing;

/// What [`PunchEngine::export_personal_data`](crate::PunchEngine::export_personal_data) builds.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalExport {
    /// Machine-readable (JSON, UTF-8).
    pub json: Vec<u8>,
    /// A few lines a person can read.
    pub summary: String,
}

impl PrivacyService {
    /// Everything this phone holds about the employee. A sealed record whose
    /// key is lost is listed with what stays in clear, and says so.
    pub(crate) fn export_personal_data(&self) -> Result<PersonalExport> {
        let device = self.device.info()?;
        // One consistent read; the JSON is built after the lock is released.
        let (records, openings, unreadable, purged, notice) =
            self.device.db.with_store(|store| {
                let sealing = store.sealing();
                let mut records = Vec::new();
                let mut openings = 0u64;
                let mut unreadable = 0u64;
                let mut seqs = Vec::new();
                store.for_each_punch(|row| seqs.push((row.seq, row.record, row.upload_state)))?;
                for (seq, bytes, state) in seqs {
                    let mut value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    // Punches and refused attempts alike: shown as judged when their
                    // sealed payload opens here, else in clear part and saying so.
                    let opened = match ChainEntry::from_bytes(&bytes) {
                        Ok(ChainEntry::Punch(record)) if record.sealed.is_some() => {
                            Some(match &sealing {
                                Sealing::Ready(key) => unseal(key, &record)
                                    .map_err(|e| e.to_string())
                                    .and_then(|r| {
                                        serde_json::to_value(&r).map_err(|e| e.to_string())
                                    }),
                                Sealing::Unavailable { reason, .. } => Err(reason.clone()),
                                Sealing::Off => Err("no key wrapper is configured".into()),
                            })
                        }
                        Ok(ChainEntry::Event(event)) if event.sealed().is_some() => {
                            Some(match open_event(&sealing, *event) {
                                (opened, None) => {
                                    serde_json::to_value(&opened).map_err(|e| e.to_string())
                                }
                                (_, Some(why)) => Err(why),
                            })
                        }
                        _ => None,
                    };
                    match opened {
                        Some(Ok(opened)) => value = opened,
                        Some(Err(why)) => {
                            unreadable += 1;
                            value["sealed_payload"] = json!(format!("unreadable here: {why}"));
                        }
                        None => {}
                    }
                    if store.evidence_opening(seq)?.is_some() {
                        openings += 1;
                    }
                    records.push(
                        json!({ "seq": seq, "upload_state": state.as_str(), "record": value }),
                    );
                }
                let mut purged = 0u64;
                store.for_each_purged(|_, _| purged += 1)?;
                let notice = store.notice_ack()?;
                Ok::<_, PunchError>((records, openings, unreadable, purged, notice))
            })?;
        let body = json!({
            "device_id": device.device_id,
            "employee_id": device.employee_id,
            "generated_at_ms": self.device.trusted_now_ms(),
            "notice_acknowledged": notice,
            "records": records,
            "exact_evidence_kept_for_disputes": openings,
            "purged_by_retention": purged,
        });
        let json = serde_json::to_vec_pretty(&body)
            .map_err(|e| PunchError::CorruptState(e.to_string()))?;
        let summary = format!(
            "This phone holds, for employee {}:\n\
             - {} signed record(s) (punches, refused attempts, requests){}\n\
             - exact evidence behind {openings} minimised record(s), for you to reveal in a dispute\n\
             - {purged} older record(s) purged after the server acknowledged them (only hashes kept)\n\
             - privacy notice acknowledged: {}",
            device.employee_id.as_deref().unwrap_or("(not enrolled)"),
            records.len(),
            if unreadable > 0 {
                format!(
                    ", {unreadable} with a payload unreadable here (its data key is lost here; the server holds it)"
                )
            } else {
                String::new()
            },
            notice.map_or_else(|| "none".to_string(), |n| n.version),
        );
        Ok(PersonalExport { json, summary })
    }

    /// The server's export of everything it holds about this employee
    /// (JSON with a `summary` field), fetched with a device-signed request.
    pub(crate) fn fetch_server_export(&self) -> Result<Vec<u8>> {
        self.sync.server_export()
    }
}
