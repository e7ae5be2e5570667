//! Kiosk mode: a shared tablet enrolled to a site instead of an employee.
//! Its enrollment account is `kiosk:<site id>`; employees punch on it with
//! their employee number and a PIN whose verifier (a salted slow hash, never
//! the PIN) reaches the kiosk in the signed policy. Every device that holds
//! the policy holds these verifiers: keep kiosk PINs long (min_length).

use serde::{Deserialize, Serialize};

use super::verifier::Verifier;

/// The enrollment account of a site's kiosks.
pub const KIOSK_PREFIX: &str = "kiosk:";

/// `kiosk:hq` → `hq`; None for an employee's own device.
pub fn kiosk_site(account: &str) -> Option<&str> {
    account.strip_prefix(KIOSK_PREFIX).filter(|s| !s.is_empty())
}

pub fn kiosk_account(site_id: &str) -> String {
    format!("{KIOSK_PREFIX}{site_id}")
}

/// One employee who punches on a site's kiosks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskMember {
    pub site_id: String,
    pub employee_id: String,
    pub verifier: Verifier,
}
