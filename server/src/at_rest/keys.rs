//! The at-rest keys, from a file the operator keeps outside the database
//! (a mounted secret): one key seals new data, every key listed opens what
//! it once sealed, so keys rotate without a stop.
//!
//! ```toml
//! seal_with = "2026-12"
//! [keys]
//! "2026-12" = "base64 of 32 random bytes"
//! "2026-01" = "…"   # still opens older rows until `admin at-rest-reseal`
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as b64;
use punch_model::ledger::sealed::DataKey;
use serde::Deserialize;

use super::AtRestError;

/// Longest key id (it is written in front of every sealed value).
const MAX_ID_LEN: usize = 32;

/// The configured keys. Debug shows ids only.
#[derive(Clone)]
pub struct AtRestKeys {
    seal_with: String,
    keys: BTreeMap<String, DataKey>,
}

impl std::fmt::Debug for AtRestKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtRestKeys")
            .field("seal_with", &self.seal_with)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PartialEq for AtRestKeys {
    fn eq(&self, other: &AtRestKeys) -> bool {
        self.seal_with == other.seal_with
            && self.keys.len() == other.keys.len()
            && self
                .keys
                .iter()
                .zip(&other.keys)
                .all(|((a, ka), (b, kb))| a == b && ka.as_bytes() == kb.as_bytes())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    seal_with: String,
    keys: BTreeMap<String, String>,
}

impl AtRestKeys {
    /// One key that seals and opens (tests, a first setup).
    pub fn single(id: &str, key: DataKey) -> Result<AtRestKeys, AtRestError> {
        check_id(id)?;
        Ok(AtRestKeys {
            seal_with: id.to_string(),
            keys: BTreeMap::from([(id.to_string(), key)]),
        })
    }

    /// Reads a key file. On Unix it must not be readable by group or
    /// others: a key beside the data it protects protects nothing.
    pub fn load(path: &Path) -> Result<AtRestKeys, AtRestError> {
        let bad = |reason: String| AtRestError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map_err(|e| bad(e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(bad(format!(
                    "readable by others (mode {:o}); chmod 600 it",
                    mode & 0o777
                )));
            }
        }
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        Self::parse(&text).map_err(|e| match e {
            AtRestError::KeyFile { reason, .. } => bad(reason),
            other => other,
        })
    }

    /// The file's text (see the module documentation).
    pub fn parse(text: &str) -> Result<AtRestKeys, AtRestError> {
        let bad = |reason: String| AtRestError::KeyFile {
            path: "(text)".into(),
            reason,
        };
        let file: KeyFile = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
        let mut keys = BTreeMap::new();
        for (id, encoded) in file.keys {
            check_id(&id)?;
            let raw = b64
                .decode(encoded.trim())
                .map_err(|_| bad(format!("key {id:?} is not base64")))?;
            let key = DataKey::from_bytes(&raw)
                .map_err(|_| bad(format!("key {id:?} is {} bytes, not 32", raw.len())))?;
            keys.insert(id, key);
        }
        if !keys.contains_key(&file.seal_with) {
            return Err(bad(format!(
                "seal_with names {:?}, which is not under [keys]",
                file.seal_with
            )));
        }
        Ok(AtRestKeys {
            seal_with: file.seal_with,
            keys,
        })
    }

    /// A new key file's text with one fresh random key.
    pub fn generate_file(id: &str) -> Result<String, AtRestError> {
        check_id(id)?;
        let key = DataKey::generate().map_err(|e| AtRestError::Crypto(e.to_string()))?;
        Ok(format!(
            "# punch-server at-rest keys: keep this file mode 0600, outside the\n\
             # database's backups. `seal_with` seals new data; every key under\n\
             # [keys] opens what it sealed (add the new one, switch seal_with,\n\
             # run `admin at-rest-reseal`, then remove the old one).\n\
             seal_with = \"{id}\"\n\n[keys]\n\"{id}\" = \"{}\"\n",
            b64.encode(key.as_bytes())
        ))
    }

    /// The id and key new values are sealed with.
    pub fn sealing(&self) -> (&str, &DataKey) {
        // `parse` and `single` guarantee the entry exists.
        let key = &self.keys[&self.seal_with];
        (&self.seal_with, key)
    }

    pub fn get(&self, id: &str) -> Option<&DataKey> {
        self.keys.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// Whether `id` may name a key (and so appear in a sealed value).
pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn check_id(id: &str) -> Result<(), AtRestError> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(AtRestError::KeyFile {
            path: "(text)".into(),
            reason: format!("key id {id:?}: 1 to {MAX_ID_LEN} of A-Z a-z 0-9 . _ -"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_file_parses_and_bad_files_say_why() {
        let text = AtRestKeys::generate_file("2026-12").unwrap();
        let keys = AtRestKeys::parse(&text).unwrap();
        assert_eq!(keys.sealing().0, "2026-12");
        assert_eq!(keys.ids().collect::<Vec<_>>(), ["2026-12"]);
        assert!(!format!("{keys:?}").contains(&text[text.rfind('"').unwrap() - 8..]));

        let why = |text: &str| AtRestKeys::parse(text).unwrap_err().to_string();
        assert!(why("seal_with = \"a\"\n[keys]\n").contains("not under [keys]"));
        assert!(why("seal_with = \"a\"\n[keys]\na = \"!!\"\n").contains("not base64"));
        assert!(why("seal_with = \"a\"\n[keys]\na = \"AAAA\"\n").contains("3 bytes, not 32"));
        assert!(why("seal_with = \"a b\"\n[keys]\n\"a b\" = \"AAAA\"\n").contains("key id"));
        assert!(why("nonsense").contains("(text)"));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        std::fs::write(&path, AtRestKeys::generate_file("k1").unwrap()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = AtRestKeys::load(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(AtRestKeys::load(&path).unwrap().sealing().0, "k1");
    }
}
