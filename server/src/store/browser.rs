//! What the browser punch keeps (`crate::browser`): passkeys and the
//! ceremonies in progress. One trait apart from [`crate::store::StoreTx`]
//! (reached through `StoreTx::browser`).

use crate::error::Result;

/// A registered passkey: a device of terminal `browser`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    /// Base64url, as WebAuthn names it.
    pub credential_id: String,
    pub device_id: String,
    pub employee_id: String,
    /// webauthn-rs `Passkey` JSON (its public key and signature counter).
    pub passkey: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// A registration or a punch waiting for the browser's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRow {
    /// Hex SHA-256 of the id handed to the browser.
    pub ceremony_id: String,
    /// `register` or `punch`.
    pub kind: String,
    pub employee_id: String,
    /// Registration: the enrollment code it spends (keyed hash).
    pub code_hash: Option<String>,
    /// Punch: the content the challenge commits to.
    pub content: Option<String>,
    /// webauthn-rs ceremony state JSON.
    pub state: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

pub trait BrowserTx {
    fn insert_ceremony(&self, ceremony: &CeremonyRow) -> Result<()>;
    /// The unexpired, unused ceremony `ceremony_id` of `kind`, used up by
    /// this call (None: unknown, expired, of another kind or used).
    fn take_ceremony(
        &self,
        ceremony_id: &str,
        kind: &str,
        now_ms: i64,
    ) -> Result<Option<CeremonyRow>>;
    /// Forgets ceremonies that expired before `before_ms`.
    fn prune_ceremonies(&self, before_ms: i64) -> Result<u64>;
    /// The passkey's device: a `devices` row of platform `browser`, never
    /// holding the phone binding, with its empty chain.
    fn insert_passkey(&self, passkey: &PasskeyRow, public_key: &[u8]) -> Result<()>;
    /// The employee's passkeys not revoked.
    fn passkeys_of(&self, employee_id: &str) -> Result<Vec<PasskeyRow>>;
    fn passkey_of_device(&self, device_id: &str) -> Result<Option<PasskeyRow>>;
    /// Its stored state after an assertion moved its counter.
    fn update_passkey(&self, credential_id: &str, passkey: &str) -> Result<()>;
    /// Every passkey the employee registered, revoked ones too, oldest first.
    fn passkeys_ever(&self, employee_id: &str) -> Result<Vec<PasskeyRow>>;
    /// Revokes the passkey of `device_id`; false when it already was (or is unknown).
    fn revoke_passkey(&self, device_id: &str, now_ms: i64) -> Result<bool>;
}
