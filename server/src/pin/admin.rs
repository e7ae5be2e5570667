//! The employer's PIN commands: where reset codes go, the self-service
//! secret, an admin-ordered reset; kiosk codes and kiosk PINs.

use std::time::Duration;

use punch_model::pin::kiosk::{kiosk_account, kiosk_site};
use punch_model::pin::{Verifier, check_new_pin};

use super::reset::IDENTITY_ITERATIONS;
use crate::admin::Admin;
use crate::clock::now_ms;
use crate::error::{Result, ServerError};
use crate::store::{PinProfile, StoreExt, StoreTx};

/// Orders a PIN reset inside the caller's transaction (the CLI and the
/// admin API share it; the API audits it in the same transaction).
pub fn order_pin_reset_in(tx: &dyn StoreTx, employee_id: &str, now_ms: i64) -> Result<()> {
    if tx.enrollment().employee(employee_id)?.is_none() {
        return Err(ServerError::UnknownEmployee(employee_id.into()));
    }
    let mut p = tx.pin().pin_profile(employee_id)?.unwrap_or(PinProfile {
        employee_id: employee_id.into(),
        ..PinProfile::default()
    });
    p.admin_reset_at_ms = Some(now_ms);
    tx.pin().upsert_pin_profile(&p)
}

impl Admin {
    fn edit_pin_profile(&self, employee_id: &str, edit: impl Fn(&mut PinProfile)) -> Result<()> {
        self.store().write(|tx| {
            if tx.enrollment().employee(employee_id)?.is_none() {
                return Err(ServerError::Invalid(format!("no employee {employee_id:?}")));
            }
            let mut p = tx.pin().pin_profile(employee_id)?.unwrap_or(PinProfile {
                employee_id: employee_id.into(),
                ..PinProfile::default()
            });
            edit(&mut p);
            tx.pin().upsert_pin_profile(&p)
        })
    }

    /// Binds the phone number or e-mail address reset codes go to.
    pub fn set_pin_contact(&self, employee_id: &str, channel: &str, address: &str) -> Result<()> {
        let ok = match channel {
            "email" => address.contains('@'),
            "phone" => address.chars().filter(char::is_ascii_digit).count() >= 6,
            _ => false,
        };
        if !ok || address.len() > 254 || address.chars().any(char::is_control) {
            return Err(ServerError::Invalid(
                "contact must be --email with an address or --phone with a number".into(),
            ));
        }
        self.edit_pin_profile(employee_id, |p| {
            p.channel = Some(channel.into());
            p.address = Some(address.into());
        })
    }

    /// Sets the secret for self-service resets (e.g. the last digits of an
    /// ID number), kept only as a salted slow hash.
    pub fn set_pin_identity_secret(&self, employee_id: &str, secret: &str) -> Result<()> {
        if secret.trim().chars().count() < 4 {
            return Err(ServerError::Invalid(
                "the secret needs 4 characters or more".into(),
            ));
        }
        let v = Verifier::derive(secret.trim(), IDENTITY_ITERATIONS)
            .map_err(|e| ServerError::Crypto(e.to_string()))?;
        let json = serde_json::to_string(&v).map_err(|e| ServerError::Crypto(e.to_string()))?;
        self.edit_pin_profile(employee_id, |p| p.identity_verifier = Some(json.clone()))
    }

    /// Orders a PIN reset: the employee's device fetches its token at the
    /// next `fetch_admin_pin_reset` (within 7 days).
    pub fn order_pin_reset(&self, employee_id: &str) -> Result<()> {
        let now = now_ms();
        self.store()
            .write(|tx| order_pin_reset_in(tx, employee_id, now))
    }
}

impl Admin {
    /// Makes `site_id`'s kiosk account (once) and returns a one-time
    /// enrollment code for a kiosk tablet.
    pub fn kiosk_enrollment_code(&self, site_id: &str, ttl: Duration) -> Result<String> {
        let account = kiosk_account(site_id);
        if self
            .store()
            .read(|tx| tx.enrollment().employee(&account))?
            .is_none()
        {
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
            if tx.enrollment().employee(employee_id)?.is_none() || kiosk_site(employee_id).is_some()
            {
                return Err(ServerError::Invalid(format!("no employee {employee_id:?}")));
            }
            if !tx.policies().sites()?.iter().any(|j| {
                serde_json::from_str::<punch_model::rules::policy::Site>(j)
                    .is_ok_and(|s| s.id == site_id)
            }) {
                return Err(ServerError::Invalid(format!("no site {site_id:?}")));
            }
            tx.kiosk().upsert_kiosk_member(site_id, employee_id, &json)
        })
    }

    /// The lock an employee's PIN is under by the server's replay of the
    /// uploaded PIN events (every device of theirs).
    pub fn pin_lock_state(&self, employee_id: &str) -> Result<super::audit::DerivedLock> {
        self.store()
            .read(|tx| super::audit::lock_of(tx, employee_id))
    }
}
