//! Configuration for `punch-server serve`, 12-factor style: a TOML file
//! (optional), then `PUNCH_*` environment variables, then command-line
//! flags, each overriding the one before. Secrets (the database password in
//! the URL) are never printed: [`DbUrl`] redacts itself.
//!
//! Environment: `PUNCH_CONFIG` (file), `PUNCH_DB`, `PUNCH_LISTEN`,
//! `PUNCH_LOG_FORMAT` (`json` | `text`), `PUNCH_AT_REST_KEYS` (the key
//! file that seals evidence at rest, `crate::at_rest`), `PUNCH_PIN_SENDER`
//! (how PIN reset codes are sent: `smtp://HOST:PORT?from=ADDRESS`, an
//! `http://` webhook with `PUNCH_PIN_WEBHOOK_TOKEN` as its bearer token, or
//! `file:PATH` for development; `PUNCH_PIN_CODES_FILE=PATH` is the same as
//! `file:PATH`), `PUNCH_PUBLIC_ORIGIN` (the origin of the browser punch
//! page, `crate::browser`), and any limit as
//! `PUNCH_LIMITS__<FIELD>` (`PUNCH_LIMITS__ENROLL_PER_IP__HITS=10`).

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::at_rest::AtRestKeys;
use crate::error::{Result, ServerError};
use crate::limits::Limits;
use crate::store::DbUrl;

/// How logs are written (stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object a line, with the request id: for log pipelines.
    #[default]
    Json,
    Text,
}

/// The file's shape; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    db: Option<String>,
    listen: Option<SocketAddr>,
    log_format: Option<LogFormat>,
    at_rest_keys: Option<std::path::PathBuf>,
    /// See `PUNCH_PIN_SENDER`; the webhook token comes from the environment.
    pin_sender: Option<String>,
    limits: Option<toml::Table>,
}

/// What `serve` runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub db: DbUrl,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub limits: Limits,
    /// Read from the key file named by `--at-rest-keys`, `PUNCH_AT_REST_KEYS`
    /// or the file's `at_rest_keys`.
    pub at_rest: Option<std::sync::Arc<AtRestKeys>>,
    /// How PIN reset codes are sent (none: they are refused).
    pub pin_codes: crate::pin::CodeDelivery,
    /// `PUNCH_METRICS_TOKEN`: the bearer token `/metrics` asks for (none:
    /// metrics are off). From the environment only: it is a secret.
    pub metrics_token: Option<String>,
    /// `PUNCH_PUBLIC_ORIGIN`: where employees' browsers load the punch page
    /// (`https://punch.example.com`); passkeys are bound to it.
    pub public_origin: Option<url::Url>,
}

/// Flags given on the command line (they win).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<std::path::PathBuf>,
    pub db: Option<String>,
    pub listen: Option<SocketAddr>,
    pub at_rest_keys: Option<std::path::PathBuf>,
}

/// Reads file, environment (through `env`, so tests need not touch the
/// process environment) and flags.
pub fn load(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
    let path = flags
        .config
        .clone()
        .or_else(|| env("PUNCH_CONFIG").map(Into::into));
    let file = match &path {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let db = flags
        .db
        .clone()
        .or_else(|| env("PUNCH_DB"))
        .or(file.db)
        .unwrap_or_else(|| "punch-server.db".into());
    let listen = match (flags.listen, env("PUNCH_LISTEN")) {
        (Some(addr), _) => addr,
        (None, Some(text)) => text
            .trim()
            .parse()
            .map_err(|e| ServerError::Config(format!("PUNCH_LISTEN {text:?}: {e}")))?,
        (None, None) => file.listen.unwrap_or(crate::server::DEFAULT_LISTEN),
    };
    let log_format = match env("PUNCH_LOG_FORMAT") {
        Some(text) => match text.trim() {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => {
                return Err(ServerError::Config(format!(
                    "PUNCH_LOG_FORMAT {other:?}: use json or text"
                )));
            }
        },
        None => file.log_format.unwrap_or_default(),
    };
    // Limits: defaults, then the file's table, then PUNCH_LIMITS__* values.
    let mut limits =
        serde_json::to_value(Limits::default()).map_err(|e| ServerError::Config(e.to_string()))?;
    if let Some(table) = file.limits {
        let from_file =
            serde_json::to_value(table).map_err(|e| ServerError::Config(e.to_string()))?;
        merge(&mut limits, from_file);
    }
    override_from_env(&mut limits, "PUNCH_LIMITS", env)?;
    let limits: Limits =
        serde_json::from_value(limits).map_err(|e| ServerError::Config(format!("limits: {e}")))?;
    let at_rest = flags
        .at_rest_keys
        .clone()
        .or_else(|| env("PUNCH_AT_REST_KEYS").map(Into::into))
        .or(file.at_rest_keys)
        .map(|path| AtRestKeys::load(&path).map(std::sync::Arc::new))
        .transpose()?;
    let pin_codes = match env("PUNCH_PIN_SENDER").or(file.pin_sender) {
        Some(text) => crate::pin::CodeDelivery::parse(&text, env("PUNCH_PIN_WEBHOOK_TOKEN"))
            .map_err(ServerError::Config)?,
        None => match env("PUNCH_PIN_CODES_FILE") {
            Some(path) => crate::pin::CodeDelivery::File(path.into()),
            None => crate::pin::CodeDelivery::None,
        },
    };
    Ok(Settings {
        db: DbUrl::parse(&db)?,
        listen,
        log_format,
        limits,
        at_rest,
        pin_codes,
        metrics_token: env("PUNCH_METRICS_TOKEN"),
        public_origin: env("PUNCH_PUBLIC_ORIGIN")
            .map(|text| {
                url::Url::parse(text.trim())
                    .map_err(|e| ServerError::Config(format!("PUNCH_PUBLIC_ORIGIN {text:?}: {e}")))
            })
            .transpose()?,
    })
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(into), serde_json::Value::Object(from)) => {
            for (k, v) in from {
                match into.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    // Unknown keys stay, so deserialising names them.
                    None => {
                        into.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// `PREFIX__FIELD[__SUB]` for every leaf of `value`; numbers parse as such.
fn override_from_env(
    value: &mut serde_json::Value,
    prefix: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    let serde_json::Value::Object(map) = value else {
        return Ok(());
    };
    for (key, slot) in map.iter_mut() {
        let name = format!("{prefix}__{}", key.to_ascii_uppercase());
        if slot.is_object() {
            override_from_env(slot, &name, env)?;
        } else if let Some(text) = env(&name) {
            *slot = serde_json::from_str(text.trim())
                .map_err(|e| ServerError::Config(format!("{name} {text:?}: {e}")))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn flags_beat_environment_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("punch.toml");
        std::fs::write(
            &file,
            "db = \"postgres://punch:s3cret@127.0.0.1/punch\"\nlisten = \"127.0.0.1:9000\"\n\
             [limits]\nmax_connections = 100\nenroll_per_ip = { hits = 3, window_s = 60 }\n",
        )
        .unwrap();
        let env: HashMap<&str, &str> = [
            ("PUNCH_CONFIG", file.to_str().unwrap()),
            ("PUNCH_LISTEN", "127.0.0.1:9001"),
            ("PUNCH_LIMITS__ENROLL_PER_IP__HITS", "7"),
            ("PUNCH_LOG_FORMAT", "text"),
        ]
        .into_iter()
        .collect();
        let get = |k: &str| env.get(k).map(|v| v.to_string());
        let s = load(&Overrides::default(), &get).unwrap();
        assert!(matches!(s.db, DbUrl::Postgres(_)));
        assert!(!format!("{s:?}").contains("s3cret"));
        assert_eq!(s.listen, "127.0.0.1:9001".parse().unwrap());
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.limits.max_connections, 100);
        assert_eq!(s.limits.enroll_per_ip.hits, 7);
        assert_eq!(s.limits.enroll_per_ip.window_s, 60);
        assert_eq!(
            s.limits.upload_body_bytes,
            Limits::default().upload_body_bytes
        );

        let flags = Overrides {
            db: Some("other.db".into()),
            listen: Some("127.0.0.1:9002".parse().unwrap()),
            ..Default::default()
        };
        let s = load(&flags, &get).unwrap();
        assert_eq!(s.db, DbUrl::Sqlite("other.db".into()));
        assert_eq!(s.listen, "127.0.0.1:9002".parse().unwrap());

        std::fs::write(&file, "[limits]\nno_such_limit = 1\n").unwrap();
        assert!(load(&Overrides::default(), &get).is_err());
        let bad = |k: &str| (k == "PUNCH_LIMITS__MAX_CONNECTIONS").then(|| "many".to_string());
        assert!(load(&Overrides::default(), &bad).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn at_rest_keys_come_from_the_file_the_environment_or_the_flag() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, id: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, AtRestKeys::generate_file(id).unwrap()).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            path
        };
        let (from_file, from_env, from_flag) = (write("a", "a"), write("b", "b"), write("c", "c"));
        let config = dir.path().join("punch.toml");
        std::fs::write(&config, format!("at_rest_keys = {:?}\n", from_file)).unwrap();
        let sealing = |flags: &Overrides, env: &dyn Fn(&str) -> Option<String>| {
            load(flags, env)
                .unwrap()
                .at_rest
                .map(|k| k.sealing().0.to_string())
        };
        let config_only = |k: &str| (k == "PUNCH_CONFIG").then(|| config.display().to_string());
        assert_eq!(
            sealing(&Overrides::default(), &config_only).as_deref(),
            Some("a")
        );
        let with_env = |k: &str| match k {
            "PUNCH_AT_REST_KEYS" => Some(from_env.display().to_string()),
            other => config_only(other),
        };
        assert_eq!(
            sealing(&Overrides::default(), &with_env).as_deref(),
            Some("b")
        );
        let flags = Overrides {
            at_rest_keys: Some(from_flag),
            ..Default::default()
        };
        assert_eq!(sealing(&flags, &with_env).as_deref(), Some("c"));
        assert_eq!(sealing(&Overrides::default(), &|_| None), None);
        // A missing file is a configuration error naming it.
        let gone = |k: &str| (k == "PUNCH_AT_REST_KEYS").then(|| "/no/such/keys.toml".to_string());
        let err = load(&Overrides::default(), &gone).unwrap_err().to_string();
        assert!(err.contains("/no/such/keys.toml"), "{err}");
    }
}
