//! Kiosk mode's members: which site's kiosks each employee punches on, with
//! the verifier of their PIN. One trait apart from [`crate::store::StoreTx`]
//! (reached through `StoreTx::kiosk`).

use crate::error::Result;

/// This transaction's kiosk members.
pub trait KioskTx {
    /// Kiosk mode: the employee punches on `site_id`'s kiosks with this PIN
    /// verifier (JSON); one site per employee, a new one replaces the old.
    fn upsert_kiosk_member(&self, site_id: &str, employee_id: &str, verifier: &str) -> Result<()>;
    /// Every kiosk member as (site, employee, verifier JSON), by site then employee.
    fn kiosk_members(&self) -> Result<Vec<(String, String, String)>>;
    /// The site whose kiosks the employee punches on, if any.
    fn kiosk_site_of(&self, employee_id: &str) -> Result<Option<String>>;
}
