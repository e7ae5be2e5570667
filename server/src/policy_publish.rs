//! The employer's policy: sites and settings edited by the admin, published
//! as numbered versions whose exact JSON bytes are signed with the server's
//! P-256 policy key (which the app pins).

use std::time::Duration;

use punch_model::ledger::signing::{Signer, SoftwareSigner};
use punch_model::rules::makeup::MakeUpRules;
use punch_model::rules::policy::{Policy, PreparedPolicy, Settings, Site};
use punch_model::rules::shift::Shift;

use crate::error::{Result, ServerError};
use crate::store::{PolicyRow, StoreTx};

const META_POLICY_KEY: &str = "policy_key_pkcs8";
const META_SETTINGS: &str = "policy_settings";
const META_SCHEDULE: &str = "policy_schedule";

/// The shifts and their default zone, edited as one JSON document.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub shifts: Vec<Shift>,
    /// Limits on make-up requests.
    #[serde(default)]
    pub make_up: MakeUpRules,
}

/// The policy signing key, generated (and kept as PKCS#8) on first use.
pub fn policy_signer(tx: &dyn StoreTx) -> Result<SoftwareSigner> {
    let pkcs8 = match tx.meta().get(META_POLICY_KEY)? {
        Some(pkcs8) => pkcs8,
        None => {
            let (_, pkcs8) =
                SoftwareSigner::generate().map_err(|e| ServerError::Crypto(e.to_string()))?;
            tx.meta().get_or_insert(META_POLICY_KEY, &pkcs8)?
        }
    };
    SoftwareSigner::from_pkcs8(&pkcs8).map_err(|e| ServerError::Corrupt(format!("policy key: {e}")))
}

/// SPKI DER of the policy key.
pub fn policy_public_key(tx: &dyn StoreTx) -> Result<Vec<u8>> {
    policy_signer(tx)?
        .public_key_spki()
        .map_err(|e| ServerError::Crypto(e.to_string()))
}

/// The settings the next version will carry (defaults until set).
pub fn settings(tx: &dyn StoreTx) -> Result<Settings> {
    match tx.meta().get(META_SETTINGS)? {
        Some(json) => serde_json::from_slice(&json)
            .map_err(|e| ServerError::Corrupt(format!("stored settings: {e}"))),
        None => Ok(Settings::default()),
    }
}

/// Checks a policy the way a device will, so nothing unusable is published.
fn validate(policy: &Policy) -> Result<()> {
    PreparedPolicy::new(policy.clone())?;
    Ok(())
}

fn draft(settings: Settings, sites: Vec<Site>) -> Policy {
    Policy {
        version: 0,
        issued_at_ms: 0,
        expires_at_ms: None,
        settings,
        sites,
        time_zone: None,
        shifts: Vec::new(),
        make_up: MakeUpRules::default(),
    }
}

/// The shifts the next version will carry.
pub fn schedule(tx: &dyn StoreTx) -> Result<Schedule> {
    match tx.meta().get(META_SCHEDULE)? {
        Some(json) => serde_json::from_slice(&json)
            .map_err(|e| ServerError::Corrupt(format!("stored schedule: {e}"))),
        None => Ok(Schedule::default()),
    }
}

/// Replaces the shifts; each is checked (zone known, times valid) first.
pub fn set_schedule(tx: &dyn StoreTx, schedule: &Schedule) -> Result<()> {
    let mut policy = draft(Settings::default(), Vec::new());
    policy.time_zone = schedule.time_zone.clone();
    policy.shifts = schedule.shifts.clone();
    validate(&policy)?;
    let json = serde_json::to_vec(schedule).map_err(|e| ServerError::Invalid(e.to_string()))?;
    tx.meta().set(META_SCHEDULE, &json)
}

pub fn set_settings(tx: &dyn StoreTx, settings: &Settings) -> Result<()> {
    validate(&draft(settings.clone(), Vec::new()))?;
    let json = serde_json::to_vec(settings).map_err(|e| ServerError::Invalid(e.to_string()))?;
    tx.meta().set(META_SETTINGS, &json)
}

pub fn upsert_site(tx: &dyn StoreTx, site: &Site, now_ms: i64) -> Result<()> {
    if site.id.trim().is_empty() {
        return Err(ServerError::Invalid("site id is empty".into()));
    }
    validate(&draft(Settings::default(), vec![site.clone()]))?;
    let json = serde_json::to_string(site).map_err(|e| ServerError::Invalid(e.to_string()))?;
    tx.policies().upsert_site(&site.id, &json, now_ms)
}

pub fn sites(tx: &dyn StoreTx) -> Result<Vec<Site>> {
    tx.policies()
        .sites()?
        .iter()
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| ServerError::Corrupt(format!("stored site: {e}")))
        })
        .collect()
}

/// Publishes the current sites and settings as version latest+1, valid from
/// now for `ttl`. Runs inside the caller's write transaction, so two
/// publishers cannot take the same version.
pub fn publish(tx: &dyn StoreTx, ttl: Duration, now_ms: i64) -> Result<u64> {
    let version = tx.policies().latest_policy_version()? + 1;
    let expires_at_ms = crate::clock::after_ms(now_ms, ttl);
    let Schedule {
        time_zone,
        shifts,
        make_up,
    } = schedule(tx)?;
    let policy = Policy {
        version,
        issued_at_ms: now_ms,
        expires_at_ms: Some(expires_at_ms),
        settings: crate::pin::kiosk::with_kiosk_members(tx, settings(tx)?)?,
        sites: sites(tx)?,
        time_zone,
        shifts,
        make_up,
    };
    validate(&policy)?;
    // These bytes are what devices verify and store; never re-serialised.
    let body = serde_json::to_vec(&policy).map_err(|e| ServerError::Invalid(e.to_string()))?;
    let signature = policy_signer(tx)?
        .sign(&body)
        .map_err(|e| ServerError::Crypto(e.to_string()))?;
    tx.policies().insert_policy(&PolicyRow {
        version,
        body,
        signature,
        issued_at_ms: now_ms,
        expires_at_ms: Some(expires_at_ms),
    })?;
    Ok(version)
}

/// The settings in force: the latest published version's (defaults before
/// the first publish), so an enrollment is judged by what devices received.
pub fn current_settings(tx: &dyn StoreTx) -> Result<Settings> {
    let version = tx.policies().latest_policy_version()?;
    Ok(published_policy(tx, version)?
        .map(|p| p.settings)
        .unwrap_or_default())
}

/// A published policy version as the devices received it.
pub fn published_policy(tx: &dyn StoreTx, version: u64) -> Result<Option<Policy>> {
    let Some(row) = tx.policies().policy(version)? else {
        return Ok(None);
    };
    let policy = Policy::from_json(&row.body)
        .map_err(|e| ServerError::Corrupt(format!("published policy {version}: {e}")))?;
    Ok(Some(policy))
}
