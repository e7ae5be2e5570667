//! `PunchClient`: the one object an app holds, over the core's `PunchEngine`.
//! Every method blocks (call it off the main thread; the Kotlin layer's
//! suspend functions do) and runs inside the panic guard. The only lock
//! here guards the background-sync handle and is never held across a call
//! into the engine or foreign code.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use punch_core::wire::b64;
use punch_core::{BackgroundSync, EngineOptions, PunchEngine, ServerConfig, SystemClock};

use crate::error::{PunchError, from_sync_error, guard};
use crate::platform::{
    DeviceSigner, ForeignClock, ForeignListener, ForeignSigner, ForeignTransport, HttpTransport,
    PlatformClock, StatusListener,
};
use crate::types::{
    ChainReport, DeviceInfo, Evaluation, Evidence, HistoryEntry, HistoryPage, PunchKind,
    PunchReceipt, SyncReport, SyncStatus,
};

/// The database file inside the directory the app passes to `open`.
const DB_FILE: &str = "punch.db";
/// Longest history page.
const MAX_PAGE: u32 = 1_000;
/// How long a platform signer may take (a biometric prompt included).
const DEFAULT_SIGNER_TIMEOUT_MS: u64 = 120_000;

/// How to open a client. Everything is optional: a client without a server
/// is local-only (tests, kiosks that install a policy by hand).
#[derive(uniffi::Record)]
pub struct ClientOptions {
    /// e.g. `https://punch.example.com` (plain http only to loopback).
    #[uniffi(default = None)]
    pub server_url: Option<String>,
    /// The server's policy key, base64 SPKI (`punch-server admin policy-key`),
    /// shipped inside the app. Required with `server_url`.
    #[uniffi(default = None)]
    pub policy_key_base64: Option<String>,
    /// Records per upload request (default 500).
    #[uniffi(default = None)]
    pub batch_size: Option<u32>,
    /// Per HTTP request (default 30 s).
    #[uniffi(default = None)]
    pub request_timeout_ms: Option<u64>,
    /// A hardware key; None keeps a software key inside the database.
    #[uniffi(default = None)]
    pub signer: Option<Arc<dyn DeviceSigner>>,
    /// How long `signer` may take per call (default 120 s, for a prompt).
    #[uniffi(default = None)]
    pub signer_timeout_ms: Option<u64>,
    /// The app's HTTP stack; None uses the built-in client (rustls, OS trust store).
    #[uniffi(default = None)]
    pub transport: Option<Arc<dyn HttpTransport>>,
    /// The platform's monotonic clock and boot id; None reads the host's.
    #[uniffi(default = None)]
    pub clock: Option<Arc<dyn PlatformClock>>,
    /// Seal record payloads at rest under a data key the platform wraps
    /// (Keystore / Keychain); None stores them in clear.
    #[uniffi(default = None)]
    pub key_wrapper: Option<Arc<dyn crate::key_wrapper::DataKeyWrapper>>,
}

/// The punch engine for one device database. Thread-safe: share one per
/// directory across the app (opening the same directory twice works, but
/// costs a second connection).
#[derive(uniffi::Object)]
pub struct PunchClient {
    pub(crate) engine: Arc<PunchEngine>,
    directory: PathBuf,
    background: Mutex<Option<BackgroundSync>>,
}

fn server_config(options: &ClientOptions) -> Result<Option<ServerConfig>, PunchError> {
    let (url, key) = match (&options.server_url, &options.policy_key_base64) {
        (None, None) => return Ok(None),
        (Some(url), Some(key)) => (url, key),
        _ => {
            return Err(PunchError::invalid(
                "server_url and policy_key_base64 go together: give both or neither",
            ));
        }
    };
    // Checked here so a bad URL is the app's input error, not a network one.
    punch_core::net::url_policy::check_url_allowed(url)
        .map_err(|e| PunchError::invalid(format!("server_url: {e}")))?;
    let key = b64::decode(key.trim())
        .map_err(|e| PunchError::invalid(format!("policy_key_base64 is not base64: {e}")))?;
    let mut config = ServerConfig::new(url, key);
    if let Some(n) = options.batch_size {
        if n == 0 {
            return Err(PunchError::invalid("batch_size must be at least 1"));
        }
        config.batch_size = n;
    }
    if let Some(ms) = options.request_timeout_ms {
        if ms == 0 {
            return Err(PunchError::invalid("request_timeout_ms must be above 0"));
        }
        config.request_timeout_ms = ms;
    }
    Ok(Some(config))
}

#[uniffi::export]
impl PunchClient {
    /// Opens (creating if needed) the punch database in `directory`. The
    /// first open creates the device key (or takes the signer's).
    #[uniffi::constructor]
    pub fn open(directory: String, options: ClientOptions) -> Result<Arc<PunchClient>, PunchError> {
        guard(|| {
            let directory = PathBuf::from(directory);
            std::fs::create_dir_all(&directory).map_err(|e| PunchError::Storage {
                detail: format!("cannot create {}: {e}", directory.display()),
            })?;
            let server = server_config(&options)?;
            let timeout = Duration::from_millis(
                options
                    .signer_timeout_ms
                    .unwrap_or(DEFAULT_SIGNER_TIMEOUT_MS),
            );
            let mut engine_options = EngineOptions {
                server,
                ..EngineOptions::default()
            };
            if let Some(signer) = options.signer {
                engine_options.signer = Some(Arc::new(ForeignSigner {
                    inner: signer,
                    timeout,
                }));
            }
            if let Some(transport) = options.transport {
                engine_options.transport = Some(Arc::new(ForeignTransport { inner: transport }));
            }
            if let Some(clock) = options.clock {
                engine_options.clock = Arc::new(ForeignClock {
                    inner: clock,
                    fallback: SystemClock::default(),
                });
            }
            if let Some(wrapper) = options.key_wrapper {
                engine_options.key_wrapper =
                    Some(Arc::new(crate::key_wrapper::ForeignKeyWrapper {
                        inner: wrapper,
                    }));
            }
            let engine = PunchEngine::open_with(directory.join(DB_FILE), engine_options)?;
            log::info!(target: "punchcore", "opened {}", directory.display());
            Ok(Arc::new(PunchClient {
                engine: Arc::new(engine),
                directory,
                background: Mutex::new(None),
            }))
        })
    }

    /// The database file's path (exclude its directory from backups).
    pub fn database_path(&self) -> String {
        self.directory.join(DB_FILE).display().to_string()
    }

    /// Enrolls this device with a one-time code from the employer; returns
    /// the employee id it is now bound to.
    pub fn enroll(&self, code: String) -> Result<String, PunchError> {
        guard(|| {
            if code.trim().is_empty() {
                return Err(PunchError::invalid("the enrollment code is empty"));
            }
            Ok(self.engine.enroll(code.trim())?)
        })
    }

    /// Like `enroll`, answering an attestation challenge the app fetched with
    /// `fetch_enrollment_challenge` before it generated its key (Android
    /// Keystore attests a key only when generating it).
    pub fn enroll_with_challenge(
        &self,
        code: String,
        challenge: Vec<u8>,
    ) -> Result<String, PunchError> {
        guard(|| {
            if code.trim().is_empty() {
                return Err(PunchError::invalid("the enrollment code is empty"));
            }
            Ok(self.engine.enroll_with_challenge(code.trim(), challenge)?)
        })
    }

    /// Syncs now (ignoring a running backoff) and returns the policy version
    /// in force. Fails when the server could not be reached or refused, or
    /// has published no policy.
    pub fn refresh_policy(&self) -> Result<u64, PunchError> {
        guard(|| {
            let report = self.engine.sync_now()?;
            if let Some(e) = &report.error {
                return Err(from_sync_error(e));
            }
            self.engine
                .policy_version()
                .ok_or(PunchError::PolicyMissing {
                    detail: "the server has published no policy yet".into(),
                })
        })
    }

    /// Installs a policy by hand and returns its version. With a server
    /// configured the signature must verify with the pinned key; a
    /// local-only client (no server) accepts an unsigned policy.
    pub fn install_policy(
        &self,
        body: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<u64, PunchError> {
        guard(|| {
            Ok(self
                .engine
                .install_policy_json(&body, signature.as_deref())?)
        })
    }

    /// Binds a local-only client to an employee (a server-backed client is
    /// bound by `enroll`). Once bound, only the same id is accepted.
    pub fn bind_employee(&self, employee_id: String) -> Result<(), PunchError> {
        guard(|| {
            if employee_id.trim().is_empty() {
                return Err(PunchError::invalid("the employee id is empty"));
            }
            Ok(self.engine.set_employee(&employee_id)?)
        })
    }

    /// Prepares the installed policy now (open defers it to the first
    /// evaluate or punch); call it off the main thread after open.
    pub fn prepare_policy(&self) -> Result<(), PunchError> {
        guard(|| Ok(self.engine.prepare_policy()?))
    }

    /// Judges evidence without storing anything: for the UI's live verdict.
    pub fn evaluate(&self, evidence: Evidence) -> Result<Evaluation, PunchError> {
        guard(|| Ok(self.engine.evaluate(&evidence.into())?.into()))
    }

    /// Like `evaluate`, for a punch of `kind` (`evaluate` assumes the punch
    /// the employee would press next: clock-out while clocked in, else in).
    pub fn evaluate_kind(
        &self,
        kind: PunchKind,
        evidence: Evidence,
    ) -> Result<Evaluation, PunchError> {
        guard(|| {
            Ok(self
                .engine
                .evaluate_kind(kind.into(), &evidence.into())?
                .into())
        })
    }

    /// Takes a punch: judged, signed and durable on disk when this returns.
    /// A rejected punch is not stored: `PunchError.Refused` carries why.
    pub fn punch(&self, kind: PunchKind, evidence: Evidence) -> Result<PunchReceipt, PunchError> {
        guard(|| Ok(self.engine.punch(kind.into(), &evidence.into())?.into()))
    }

    /// Uploads pending punches, refreshes time and policy. Network trouble
    /// is in the report (`error`, `next_retry_ms`), not thrown.
    pub fn sync(&self) -> Result<SyncReport, PunchError> {
        guard(|| Ok(self.engine.sync()?.into()))
    }

    /// Like `sync`, ignoring a running backoff (a user's "sync now").
    pub fn sync_now(&self) -> Result<SyncReport, PunchError> {
        guard(|| Ok(self.engine.sync_now()?.into()))
    }

    pub fn status(&self) -> Result<SyncStatus, PunchError> {
        guard(|| Ok(self.engine.status()?.into()))
    }

    /// Stored punches after `after_seq` (0 for the first page), oldest first.
    pub fn history(&self, after_seq: u64, limit: u32) -> Result<HistoryPage, PunchError> {
        guard(|| {
            if limit == 0 || limit > MAX_PAGE {
                return Err(PunchError::invalid(format!(
                    "limit must be 1..={MAX_PAGE}, not {limit}"
                )));
            }
            let entries: Vec<HistoryEntry> = self
                .engine
                .punches(after_seq, limit)?
                .into_iter()
                .map(HistoryEntry::from)
                .collect();
            let next_after_seq = (entries.len() == limit as usize)
                .then(|| entries.last().map(|e| e.seq))
                .flatten();
            Ok(HistoryPage {
                entries,
                next_after_seq,
            })
        })
    }

    /// Re-checks every stored record (hash, signature, sequence, links).
    pub fn verify_chain(&self) -> Result<ChainReport, PunchError> {
        guard(|| Ok(self.engine.verify_chain()?.into()))
    }

    pub fn device_info(&self) -> Result<DeviceInfo, PunchError> {
        guard(|| {
            let d = self.engine.device()?;
            Ok(DeviceInfo {
                device_id: d.device_id,
                public_key_spki: d.public_key_spki,
                employee_id: d.employee_id,
                policy_version: self.engine.policy_version(),
                platform_key: self.engine.has_platform_key(),
            })
        })
    }

    /// Best estimate of the server's clock now, epoch ms (for `GpsFix.fix_time_ms` in tests).
    pub fn estimated_server_time_ms(&self) -> i64 {
        guard(|| Ok(self.engine.estimated_server_time_ms())).unwrap_or(0)
    }

    /// The network is back (a ConnectivityManager / NWPathMonitor callback):
    /// a backoff caused by network failures ends and the background sync wakes.
    pub fn network_available(&self) -> Result<(), PunchError> {
        guard(|| Ok(self.engine.network_available()?))
    }

    /// Hears of every status change; None removes the listener.
    pub fn set_listener(&self, listener: Option<Arc<dyn StatusListener>>) {
        let listener = listener
            .map(|l| Arc::new(ForeignListener { inner: l }) as Arc<dyn punch_core::SyncListener>);
        // Cannot fail; the guard only keeps the panic promise.
        let _ = guard(|| {
            self.engine.set_listener(listener);
            Ok(())
        });
    }

    /// Starts a thread that syncs while punches are pending and every
    /// `idle_ms` otherwise, backing off after failures (for processes that
    /// live long; phones schedule `sync` with WorkManager / BGTaskScheduler).
    /// A second call restarts it with the new interval.
    pub fn start_background_sync(&self, idle_ms: u64) -> Result<(), PunchError> {
        guard(|| {
            if idle_ms < 100 {
                return Err(PunchError::invalid("idle_ms must be at least 100"));
            }
            let started = self
                .engine
                .start_background_sync(Duration::from_millis(idle_ms));
            let previous = self.slot().replace(started);
            // Stopped outside the lock: stopping waits for a request in flight.
            stop_off_sync_thread(previous);
            Ok(())
        })
    }

    /// Stops the background thread, waiting for a request in flight (at most
    /// the request timeout). Call it off the main thread.
    pub fn stop_background_sync(&self) -> Result<(), PunchError> {
        guard(|| {
            let running = self.slot().take();
            stop_off_sync_thread(running);
            Ok(())
        })
    }

    /// Whether the background thread is running.
    pub fn background_sync_running(&self) -> bool {
        self.slot().is_some()
    }
}

/// Asks the server for a single-use attestation challenge for an enrollment
/// `code`, before any key exists: generate the Keystore key with
/// `setAttestationChallenge(challenge)`, open the client with it, then call
/// `enroll_with_challenge`. None when the server offers no attestation.
#[uniffi::export]
pub fn fetch_enrollment_challenge(
    options: ClientOptions,
    code: String,
) -> Result<Option<Vec<u8>>, PunchError> {
    guard(|| {
        let server = server_config(&options)?
            .ok_or_else(|| PunchError::invalid("server_url and policy_key_base64 are required"))?;
        let transport: Arc<dyn punch_core::Transport> = match options.transport {
            Some(t) => Arc::new(ForeignTransport { inner: t }),
            None => Arc::new(
                punch_core::net::http_client::ReqwestTransport::new()
                    .map_err(punch_core::PunchError::from)?,
            ),
        };
        Ok(punch_core::sync::fetch_enrollment_challenge(
            &server,
            transport.as_ref(),
            &code,
        )?)
    })
}

impl PunchClient {
    /// The engine, for the benchmark's Rust side.
    pub(crate) fn engine(&self) -> Arc<PunchEngine> {
        self.engine.clone()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<BackgroundSync>> {
        self.background.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stops a background sync. From the sync thread itself (a listener that
/// stops it) the join would wait for itself: hand the stop to a new thread.
fn stop_off_sync_thread(running: Option<BackgroundSync>) {
    let Some(running) = running else { return };
    if std::thread::current().name() == Some("punch-sync") {
        let _ = std::thread::Builder::new()
            .name("punch-sync-stop".into())
            .spawn(move || running.stop());
    } else {
        running.stop();
    }
}
