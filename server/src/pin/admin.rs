//! The employer's PIN commands: where reset codes go, the self-service
//! secret, and an admin-ordered reset.

use punch_model::pin::Verifier;

use super::reset::IDENTITY_ITERATIONS;
use crate::admin::Admin;
use crate::clock::now_ms;
use crate::error::{Result, ServerError};
use crate::store::{PinProfile, StoreExt};

impl Admin {
    fn edit_pin_profile(
        &self,
        employee_id: &str,
        edit: impl FnOnce(&mut PinProfile),
    ) -> Result<()> {
        self.store().write(|tx| {
            if tx.employee(employee_id)?.is_none() {
                return Err(ServerError::Invalid(format!("no employee {employee_id:?}")));
            }
            let mut p = tx.pin_profile(employee_id)?.unwrap_or(PinProfile {
                employee_id: employee_id.into(),
                ..PinProfile::default()
            });
            edit(&mut p);
            tx.upsert_pin_profile(&p)
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
        self.edit_pin_profile(employee_id, |p| p.identity_verifier = Some(json))
    }

    /// Orders a PIN reset: the employee's device fetches its token at the
    /// next `fetch_admin_pin_reset` (within 7 days).
    pub fn order_pin_reset(&self, employee_id: &str) -> Result<()> {
        let now = now_ms();
        self.edit_pin_profile(employee_id, |p| p.admin_reset_at_ms = Some(now))
    }
}
