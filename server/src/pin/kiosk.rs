//! Kiosk mode, the server's half: a site's kiosks enroll as the account
//! `kiosk:<site>`; the employer assigns employees with a kiosk PIN (kept as
//! a salted slow hash, published in the signed policy for the kiosks to
//! check offline); ingest refuses a kiosk punch for anyone not assigned to
//! that kiosk's site.

use std::time::Duration;

use punch_model::pin::kiosk::{kiosk_account, kiosk_site};
use punch_model::pin::{KioskMember, PinSettings, Verifier, check_new_pin};
use punch_model::rules::policy::Settings;

use crate::admin::Admin;
use crate::error::{Result, ServerError};
use crate::store::{StoreExt, StoreTx};

/// The settings to publish, with every kiosk member's verifier (and a PIN
/// section with defaults when there are members but none was configured).
pub fn with_kiosk_members(tx: &dyn StoreTx, mut settings: Settings) -> Result<Settings> {
    let members = tx
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
    Ok(match tx.kiosk_site_of(record_employee)? {
        Some(s) if s == site => Ok(()),
        _ => Err(format!(
            "employee {record_employee:?} is not assigned to site {site:?}, whose kiosk sent this"
        )),
    })
}

impl Admin {
    /// Makes `site_id`'s kiosk account (once) and returns a one-time
    /// enrollment code for a kiosk tablet.
    pub fn kiosk_enrollment_code(&self, site_id: &str, ttl: Duration) -> Result<String> {
        let account = kiosk_account(site_id);
        if self.store().read(|tx| tx.employee(&account))?.is_none() {
            self.add_employee(&account, &format!("Kiosk at {site_id}"))?;
        }
        self.create_enrollment_code(&account, ttl)
    }

    /// Assigns an employee to a site's kiosks with a kiosk PIN (checked like
    /// any new PIN; kept as a salted slow hash). Publish for kiosks to see it.
    pub fn set_kiosk_pin(&self, site_id: &str, employee_id: &str, pin: &str) -> Result<()> {
        let pin_settings = self
            .store()
            .read(|tx| crate::policy_publish::settings(tx))?
            .pin
            .unwrap_or_default();
        check_new_pin(pin, pin_settings.min_length, Some(employee_id), None)
            .map_err(|e| ServerError::Invalid(e.to_string()))?;
        // The slow hash before the write lock.
        let v = Verifier::derive(pin, pin_settings.pbkdf2_iterations)
            .map_err(|e| ServerError::Crypto(e.to_string()))?;
        let json = serde_json::to_string(&v).map_err(|e| ServerError::Crypto(e.to_string()))?;
        self.store().write(|tx| {
            if tx.employee(employee_id)?.is_none() || kiosk_site(employee_id).is_some() {
                return Err(ServerError::Invalid(format!("no employee {employee_id:?}")));
            }
            if !tx.sites()?.iter().any(|j| {
                serde_json::from_str::<punch_model::rules::policy::Site>(j)
                    .is_ok_and(|s| s.id == site_id)
            }) {
                return Err(ServerError::Invalid(format!("no site {site_id:?}")));
            }
            tx.upsert_kiosk_member(site_id, employee_id, &json)
        })
    }
}
