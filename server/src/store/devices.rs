//! Devices as the server knows them: binding and unbinding, the accepted
//! chain head, a rotated punch key, the lock ingest holds, one page of the
//! device list, and the request nonces that stop replays. One trait apart
//! from [`crate::store::StoreTx`] (reached through `StoreTx::devices`).

use serde::Serialize;

use super::{b64, b64_opt};
use crate::error::Result;

/// A device as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub employee_id: String,
    /// P-256 SubjectPublicKeyInfo DER.
    #[serde(serialize_with = "b64")]
    pub public_key: Vec<u8>,
    pub key_storage: String,
    pub platform: String,
    pub enrolled_at_ms: i64,
    /// Set when an admin unbound the device or approved its replacement.
    pub unbound_at_ms: Option<i64>,
    /// The last accepted seq (0: none yet) and hex SHA-256 of its bytes.
    pub head_seq: u64,
    pub head_hash: String,
    /// What enrollment proved about the key (`punch_model::rules::assurance`).
    pub assurance: String,
    /// What that rested on (JSON from the attestation check), if attested.
    pub attestation: Option<String>,
    /// The channel key that signs requests; None for a device enrolled
    /// with one key (`public_key` signs everything).
    #[serde(serialize_with = "b64_opt")]
    pub channel_key: Option<Vec<u8>>,
    pub channel_assurance: Option<String>,
    pub channel_attestation: Option<String>,
    /// The punch key in force after a rotation; None: `public_key`.
    #[serde(serialize_with = "b64_opt")]
    pub punch_key: Option<Vec<u8>>,
}

impl DeviceInfo {
    pub fn is_bound(&self) -> bool {
        self.unbound_at_ms.is_none()
    }

    /// The key that signs this device's requests and key rotations.
    pub fn channel_key(&self) -> &[u8] {
        self.channel_key.as_deref().unwrap_or(&self.public_key)
    }

    /// The key that signs this device's records now.
    pub fn current_punch_key(&self) -> &[u8] {
        self.punch_key.as_deref().unwrap_or(&self.public_key)
    }
}

/// What binding a device writes (insert, or re-bind of a known device id).
#[derive(Debug, Clone)]
pub struct BindDevice<'a> {
    pub device_id: &'a str,
    pub employee_id: &'a str,
    pub public_key: &'a [u8],
    pub key_storage: &'a str,
    pub platform: &'a str,
    pub assurance: &'a str,
    pub attestation: Option<&'a str>,
    pub channel_key: Option<&'a [u8]>,
    pub channel_assurance: Option<&'a str>,
    pub channel_attestation: Option<&'a str>,
    pub now_ms: i64,
}

/// This transaction's device operations.
pub trait DevicesTx {
    fn device(&self, device_id: &str) -> Result<Option<DeviceInfo>>;
    /// Every device: for CLI commands only, never a request path.
    fn all_devices(&self) -> Result<Vec<DeviceInfo>>;
    /// One employee's devices, bound or not, oldest first.
    fn devices_of(&self, employee_id: &str) -> Result<Vec<DeviceInfo>>;
    /// Inserts the device, or re-binds a known id (its chain head is kept).
    fn bind_device(&self, device: &BindDevice<'_>) -> Result<()>;
    /// Returns false when the device was not bound.
    fn mark_unbound(&self, device_id: &str, now_ms: i64) -> Result<bool>;
    fn set_head(&self, device_id: &str, seq: u64, hash_hex: &str) -> Result<()>;
    /// Puts a rotated punch key in force, with what it proved.
    fn set_punch_key(&self, device_id: &str, punch_key: &[u8], assurance: &str) -> Result<()>;
    /// The device, locked until the transaction ends: ingest holds this so
    /// two servers taking the same device's batch run one after the other
    /// (PostgreSQL: `SELECT … FOR UPDATE`; SQLite: the one writer already
    /// excludes everyone).
    fn lock_device(&self, device_id: &str) -> Result<Option<DeviceInfo>>;
    /// At most `limit` devices by id after `after`, with their employee's
    /// team, of `team` / `employee` if given: one page of the device list.
    fn devices_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        employee: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(DeviceInfo, Option<String>)>>;
    /// Remembers a request nonce; false when it was already seen.
    fn insert_nonce(&self, device_id: &str, nonce: &str, request_ts_ms: i64) -> Result<bool>;
    /// Forgets nonces of requests stamped more than `max_age_ms` before
    /// the database's clock: every server on the database prunes by the
    /// same clock, so one whose own clock runs ahead cannot forget a nonce
    /// the others would still accept a replay of.
    fn prune_nonces(&self, max_age_ms: i64) -> Result<u64>;
}
