//! Published policies, prepared once per process. A published version's
//! body never changes, so nothing here goes stale; preparing one (parsing
//! its JSON, every site's geodesics) costs milliseconds for a few thousand
//! sites, which every upload would otherwise pay again.

use std::sync::{Arc, Mutex, PoisonError};

use punch_model::rules::policy::{PreparedPolicy, Settings};

use crate::error::{Result, ServerError};
use crate::policy_publish;
use crate::store::StoreTx;

/// Versions kept: uploads name the current version, and the few before it
/// while phones catch up.
const KEPT: usize = 4;

#[derive(Default)]
pub struct PolicyCache {
    /// Most recently used last.
    kept: Mutex<Vec<(u64, Arc<PreparedPolicy>)>>,
}

impl PolicyCache {
    /// Published `version`, prepared, or None if it was never published.
    pub fn get(&self, tx: &dyn StoreTx, version: u64) -> Result<Option<Arc<PreparedPolicy>>> {
        if let Some(found) = self.lookup(version) {
            return Ok(Some(found));
        }
        // Prepared outside the lock: two threads may both prepare a new
        // version once, which is cheaper than making everyone wait.
        let Some(policy) = policy_publish::published_policy(tx, version)? else {
            return Ok(None);
        };
        let prepared = Arc::new(
            PreparedPolicy::new(policy)
                .map_err(|e| ServerError::Corrupt(format!("published policy {version}: {e}")))?,
        );
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|(v, _)| *v != version);
        if kept.len() >= KEPT {
            kept.remove(0);
        }
        kept.push((version, prepared.clone()));
        Ok(Some(prepared))
    }

    /// The settings of the latest published policy (defaults before any).
    pub fn current_settings(&self, tx: &dyn StoreTx) -> Result<Settings> {
        let version = tx.policies().latest_policy_version()?;
        Ok(self
            .get(tx, version)?
            .map(|p| p.policy.settings.clone())
            .unwrap_or_default())
    }

    fn lookup(&self, version: u64) -> Option<Arc<PreparedPolicy>> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let at = kept.iter().position(|(v, _)| *v == version)?;
        let entry = kept.remove(at);
        let found = entry.1.clone();
        kept.push(entry);
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::Admin;
    use crate::store::{DbUrl, StoreExt, sqlite::SqliteStore};
    use punch_model::rules::policy::Site;
    use std::time::Duration;

    #[test]
    fn a_version_is_prepared_once_and_few_are_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let admin = Admin::connect(&DbUrl::Sqlite(path.clone())).expect("admin");
        let site: Site = serde_json::from_value(serde_json::json!({
            "id": "hq", "shape": {"type": "circle",
            "center": {"lat": 52.52, "lon": 13.40}, "radius_m": 150.0}
        }))
        .expect("site");
        admin.upsert_site(site).expect("site");
        let versions: Vec<u64> = (0..KEPT + 1)
            .map(|_| {
                admin
                    .publish_policy(Duration::from_secs(3600))
                    .expect("publish")
            })
            .collect();
        let store = SqliteStore::open(&path).expect("store");
        let cache = PolicyCache::default();
        let get = |v: u64| {
            store
                .read(|tx| cache.get(tx, v))
                .expect("read")
                .expect("published")
        };
        let first = get(versions[0]);
        assert!(Arc::ptr_eq(&first, &get(versions[0])), "prepared once");
        assert_eq!(first.policy.version, versions[0]);
        for &v in &versions[1..] {
            get(v);
        }
        // The oldest was dropped for the newest: prepared again.
        assert!(!Arc::ptr_eq(&first, &get(versions[0])));
        assert!(
            store
                .read(|tx| cache.get(tx, 9_999))
                .expect("read")
                .is_none()
        );
        let latest = versions[KEPT];
        let settings = store
            .read(|tx| cache.current_settings(tx))
            .expect("settings");
        assert_eq!(settings, get(latest).policy.settings);
    }
}
