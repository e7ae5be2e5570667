//! Kiosk mode, the server's half: a site's kiosks enroll as the account
//! `kiosk:<site>`; the employer assigns employees with a kiosk PIN (kept as
//! a salted slow hash, published in the signed policy for the kiosks to
//! check offline); ingest refuses a kiosk punch for anyone not assigned to
//! that kiosk's site.

use punch_model::pin::kiosk::kiosk_site;
use punch_model::pin::{KioskMember, PinSettings};
use punch_model::rules::policy::Settings;

use crate::error::{Result, ServerError};
use crate::store::StoreTx;

/// The settings to publish, with every kiosk member's verifier (and a PIN
/// section with defaults when there are members but none was configured).
pub fn with_kiosk_members(tx: &dyn StoreTx, mut settings: Settings) -> Result<Settings> {
    let members = tx
        .kiosk()
        .kiosk_members()?
        .into_iter()
        .map(|(site_id, employee_id, json)| {
            Ok(KioskMember {
                site_id,
                employee_id,
                verifier: serde_json::from_str(&json)
                    .map_err(|e| ServerError::Corrupt(format!("kiosk verifier: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if members.is_empty() {
        return Ok(settings);
    }
    let mut pin = settings.pin.take().unwrap_or(PinSettings {
        required: false,
        ..PinSettings::default()
    });
    pin.kiosk = members;
    settings.pin = Some(pin);
    Ok(settings)
}

/// Ingest's check: a record from a kiosk names someone assigned to its site.
/// Err(detail) when not; `bound` is the device's account.
pub fn check_kiosk_record(
    tx: &dyn StoreTx,
    bound: &str,
    record_employee: &str,
) -> Result<std::result::Result<(), String>> {
    let Some(site) = kiosk_site(bound) else {
        return Ok(Err(format!(
            "record names employee {record_employee:?}, the device is bound to {bound:?}"
        )));
    };
    Ok(match tx.kiosk().kiosk_site_of(record_employee)? {
        Some(s) if s == site => Ok(()),
        _ => Err(format!(
            "employee {record_employee:?} is not assigned to site {site:?}, whose kiosk sent this"
        )),
    })
}
