//! What the policy is made of and what was published: sites as their JSON
//! and every signed policy version, exactly as signed. One trait apart from
//! [`crate::store::StoreTx`] (reached through `StoreTx::policies`).

use crate::error::Result;

/// A published policy version: the exact signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub version: u64,
    pub body: Vec<u8>,
    pub signature: Vec<u8>,
    pub issued_at_ms: i64,
    pub expires_at_ms: Option<i64>,
}

/// This transaction's sites and policy versions.
pub trait PoliciesTx {
    /// Sites as their JSON (`punch_model::rules::policy::Site`), by id.
    fn upsert_site(&self, site_id: &str, json: &str, now_ms: i64) -> Result<()>;
    /// False when there was no such site.
    fn remove_site(&self, site_id: &str) -> Result<bool>;
    /// Every site's JSON, by id.
    fn sites(&self) -> Result<Vec<String>>;
    /// The newest published version, if any.
    fn latest_policy(&self) -> Result<Option<PolicyRow>>;
    /// 0 when nothing was published yet.
    fn latest_policy_version(&self) -> Result<u64>;
    fn policy(&self, version: u64) -> Result<Option<PolicyRow>>;
    /// Publishes a version (the signed bytes as they are).
    fn insert_policy(&self, row: &PolicyRow) -> Result<()>;
}
