//! `PunchClient`: the one object an app holds, over the core's `PunchEngine`.
//! Every call that can wait is async (Kotlin `suspend`, Swift `async`): its
//! body runs on a worker of this library inside the panic guard
//! (`runtime`), so no caller thread blocks, and cancelling the caller ends
//! a wait on the platform signer or transport. The only lock here guards
//! the background-sync handle and is never held across a call into the
//! engine or foreign code.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use punch_core::{BackgroundSync, EngineOptions, PunchEngine, ServerConfig, SystemClock};
use punch_model::wire::b64;

use crate::error::unsigned;
use crate::error::{PunchError, from_sync_error, guard};
use crate::platform::{
    DeviceSigner, ForeignClock, ForeignSigner, ForeignTransport, HttpTransport, PlatformClock,
    StandingListener, signing_for_user,
};
use crate::runtime::{off_thread, on_this_thread};
use crate::subscriptions::{Subscribers, Subscription};
use crate::types::Signed;
use crate::types::{
    ChainReport, DeviceInfo, Evaluation, Evidence, PunchKind, PunchReceipt, SyncReport, SyncStatus,
};

/// The database file inside the directory the app passes to `open`.
const DB_FILE: &str = "punch.db";
/// How long a platform signer may take (a biometric prompt included).
const DEFAULT_SIGNER_TIMEOUT: Duration = Duration::from_secs(120);

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
    pub batch_size: Option<i32>,
    /// Per HTTP request (default 30 s).
    #[uniffi(default = None)]
    pub request_timeout: Option<Duration>,
    /// The punch key held by the platform (it signs records and may need
    /// the user); None keeps a software key inside the database. After
    /// `enroll_with_keys` or `rotate_punch_key`, the signer of the punch key
    /// the provider made last.
    #[uniffi(default = None)]
    pub signer: Option<Arc<dyn DeviceSigner>>,
    /// The channel key held by the platform (it signs requests and must
    /// never need the user, so background upload works while nobody is
    /// there); None keeps a software channel key inside the database.
    /// After `enroll_with_keys`, the signer of the channel key it made.
    #[uniffi(default = None)]
    pub channel_signer: Option<Arc<dyn DeviceSigner>>,
    /// How long a signer or key provider may take per call (default 120 s, for a prompt).
    #[uniffi(default = None)]
    pub signer_timeout: Option<Duration>,
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
    /// Signatures for a user's call the platform signer is working on.
    pub(crate) signing: Arc<AtomicUsize>,
    /// How long a platform signer or key provider may take per call.
    pub(crate) signer_timeout: Duration,
    /// Everyone `subscribe`d; the engine's one listener.
    subscribers: Arc<Subscribers>,
}

fn server_config(options: &ClientOptions) -> Result<Option<ServerConfig>, PunchError> {
    let (url, key) = match (&options.server_url, &options.policy_key_base64) {
        (None, None) => return Ok(None),
        (Some(url), Some(key)) => (url, key),
        _ => {
            return Err(PunchError::invalid(
                "serverUrl and policyKeyBase64 go together: give both or neither.",
            ));
        }
    };
    // Checked here so a bad URL is the app's input error, not a network one.
    punch_core::check_url_allowed(url)
        .map_err(|e| PunchError::invalid(format!("serverUrl is not allowed: {e}.")))?;
    let key = b64::decode(key.trim())
        .map_err(|_| PunchError::invalid("policyKeyBase64 is not base64."))?;
    let mut config = ServerConfig::new(url, key);
    if let Some(n) = options.batch_size {
        if n < 1 {
            return Err(PunchError::invalid("batchSize must be at least 1."));
        }
        config.batch_size = unsigned(i64::from(n), "batch_size")?;
    }
    if let Some(timeout) = options.request_timeout {
        if timeout < Duration::from_millis(1) {
            return Err(PunchError::invalid("requestTimeout must be 1 ms or more."));
        }
        config.request_timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    }
    Ok(Some(config))
}

#[uniffi::export]
impl PunchClient {
    /// Opens (creating if needed) the punch database in `directory`. The
    /// first open creates the device key (or takes the signer's).
    #[uniffi::constructor]
    pub async fn open(
        directory: String,
        options: ClientOptions,
    ) -> Result<Arc<PunchClient>, PunchError> {
        off_thread(move || {
            let directory = PathBuf::from(directory);
            std::fs::create_dir_all(&directory).map_err(|e| PunchError::Storage {
                detail: format!("The database directory cannot be created ({}).", e.kind()),
            })?;
            let server = server_config(&options)?;
            let timeout = options.signer_timeout.unwrap_or(DEFAULT_SIGNER_TIMEOUT);
            let mut engine_options = EngineOptions {
                server,
                ..EngineOptions::default()
            };
            let signing = Arc::new(AtomicUsize::new(0));
            let foreign = |inner| -> Arc<dyn punch_core::Signer> {
                Arc::new(ForeignSigner {
                    inner,
                    timeout,
                    signing: signing.clone(),
                    public_key: None,
                })
            };
            engine_options.signer = options.signer.map(foreign);
            engine_options.channel_signer = options.channel_signer.map(foreign);
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
            let engine = Arc::new(engine);
            let subscribers = Arc::new(Subscribers::new(Arc::downgrade(&engine)));
            engine.set_listener(Some(subscribers.clone()));
            Ok(Arc::new(PunchClient {
                engine,
                directory,
                background: Mutex::new(None),
                signing,
                signer_timeout: timeout,
                subscribers,
            }))
        })
        .await
    }

    /// The database file's path (exclude its directory from backups).
    pub fn database_path(&self) -> String {
        self.directory.join(DB_FILE).display().to_string()
    }

    /// Enrolls this device with a one-time code from the employer, with the
    /// keys it was opened with; returns the employee id it is now bound to.
    /// `enroll_with_keys` creates both keys for the server's challenge instead.
    pub async fn enroll(&self, code: String) -> Result<String, PunchError> {
        self.run_for_user(move |engine| {
            if code.trim().is_empty() {
                return Err(PunchError::invalid("The enrollment code is empty."));
            }
            Ok(engine.enroll(code.trim())?)
        })
        .await
    }

    /// Like `enroll`, answering an attestation challenge the app fetched with
    /// `fetch_enrollment_challenge` before it generated its key (Android
    /// Keystore attests a key only when generating it).
    pub async fn enroll_with_challenge(
        &self,
        code: String,
        challenge: Vec<u8>,
    ) -> Result<String, PunchError> {
        self.run_for_user(move |engine| {
            if code.trim().is_empty() {
                return Err(PunchError::invalid("The enrollment code is empty."));
            }
            Ok(engine.enroll_with_challenge(code.trim(), challenge)?)
        })
        .await
    }

    /// Syncs now (ignoring a running backoff) and returns the policy version
    /// in force. Fails when the server could not be reached or refused, or
    /// has published no policy.
    pub async fn refresh_policy(&self) -> Result<i64, PunchError> {
        self.run(move |engine| {
            let report = engine.sync_now()?;
            if let Some(e) = &report.error {
                return Err(from_sync_error(e));
            }
            engine
                .policy_version()
                .map(Signed::signed)
                .ok_or(PunchError::PolicyMissing {
                    detail: "The server has published no policy yet.".into(),
                })
        })
        .await
    }

    /// Installs a policy by hand and returns its version. With a server
    /// configured the signature must verify with the pinned key; a
    /// local-only client (no server) accepts an unsigned policy.
    pub async fn install_policy(
        &self,
        body: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<i64, PunchError> {
        self.run(move |engine| {
            Ok(engine
                .install_policy_json(&body, signature.as_deref())?
                .signed())
        })
        .await
    }

    /// Binds a local-only client to an employee (a server-backed client is
    /// bound by `enroll`). Once bound, only the same id is accepted.
    pub async fn bind_employee(&self, employee_id: String) -> Result<(), PunchError> {
        self.run(move |engine| {
            if employee_id.trim().is_empty() {
                return Err(PunchError::invalid("The employee id is empty."));
            }
            Ok(engine.set_employee(&employee_id)?)
        })
        .await
    }

    /// Prepares the installed policy now (open defers it to the first
    /// evaluate or punch); call it off the main thread after open.
    pub async fn prepare_policy(&self) -> Result<(), PunchError> {
        self.run(move |engine| Ok(engine.prepare_policy()?)).await
    }

    /// Judges evidence without storing anything: for the UI's live verdict.
    pub async fn evaluate(&self, evidence: Evidence) -> Result<Evaluation, PunchError> {
        self.run(move |engine| evaluate_body(engine, evidence))
            .await
    }

    /// Like `evaluate`, for a punch of `kind` (`evaluate` assumes the punch
    /// the employee would press next: clock-out while clocked in, else in).
    pub async fn evaluate_kind(
        &self,
        kind: PunchKind,
        evidence: Evidence,
    ) -> Result<Evaluation, PunchError> {
        self.run(move |engine| evaluate_kind_body(engine, kind, evidence))
            .await
    }

    /// Takes a punch: judged, signed and durable on disk when this returns.
    /// A rejected punch is no punch: it is kept as a signed refused attempt
    /// (`refused_attempts`), and `PunchError.Refused` carries why.
    pub async fn punch(
        &self,
        kind: PunchKind,
        evidence: Evidence,
    ) -> Result<PunchReceipt, PunchError> {
        self.run_for_user(move |engine| punch_body(engine, kind, evidence))
            .await
    }

    /// Uploads pending punches, refreshes time and policy. Network trouble
    /// is in the report (`error`, `next_retry_ms`), not thrown.
    pub async fn sync(&self) -> Result<SyncReport, PunchError> {
        self.run(move |engine| Ok(engine.sync()?.into())).await
    }

    /// Like `sync`, ignoring a running backoff (a user's "sync now").
    pub async fn sync_now(&self) -> Result<SyncReport, PunchError> {
        self.run(move |engine| Ok(engine.sync_now()?.into())).await
    }

    pub async fn status(&self) -> Result<SyncStatus, PunchError> {
        self.run(move |engine| Ok(engine.status()?.into())).await
    }

    /// Re-checks every stored record (hash, signature, sequence, links).
    pub async fn verify_chain(&self) -> Result<ChainReport, PunchError> {
        self.run(move |engine| Ok(engine.verify_chain()?.into()))
            .await
    }

    pub async fn device_info(&self) -> Result<DeviceInfo, PunchError> {
        self.run(move |engine| {
            let d = engine.device()?;
            Ok(DeviceInfo {
                device_id: d.device_id,
                public_key_spki: d.public_key_spki,
                channel_key_spki: d.channel_key_spki,
                employee_id: d.employee_id,
                policy_version: engine.policy_version().signed(),
                platform_key: engine.has_platform_key(),
            })
        })
        .await
    }

    /// Best estimate of the server's clock now (for `GpsFix.fix_time` in tests).
    pub fn estimated_server_time(&self) -> std::time::SystemTime {
        let ms = guard(|| Ok(self.engine.estimated_server_time_ms())).unwrap_or(0);
        crate::types::instant(ms)
    }

    /// The network is back (a ConnectivityManager / NWPathMonitor callback):
    /// a backoff caused by network failures ends and the background sync wakes.
    pub async fn network_available(&self) -> Result<(), PunchError> {
        self.run(move |engine| Ok(engine.network_available()?))
            .await
    }

    /// `listener` hears where the employee stands after every change (a
    /// punch, a sync, an enrollment) until the returned handle is cancelled
    /// or closed. Any number may listen at once, each with its own handle.
    pub fn subscribe(&self, listener: Arc<dyn StandingListener>) -> Arc<Subscription> {
        Arc::new(self.subscribers.add(listener))
    }

    /// Starts a thread that syncs while punches are pending and every
    /// `idle` otherwise, backing off after failures (for processes that
    /// live long; phones schedule `sync` with WorkManager / BGTaskScheduler).
    /// A second call restarts it with the new interval. Returns at once.
    pub fn start_background_sync(&self, idle: Duration) -> Result<(), PunchError> {
        guard(|| {
            if idle < Duration::from_millis(100) {
                return Err(PunchError::invalid(
                    "The idle interval must be at least 100 ms.",
                ));
            }
            let started = self.engine.start_background_sync(idle);
            let previous = self.slot().replace(started);
            stop_in_background(previous);
            Ok(())
        })
    }

    /// Stops the background thread; returns once a request in flight has
    /// ended (at most the request timeout), without blocking the caller.
    pub async fn stop_background_sync(&self) -> Result<(), PunchError> {
        let running = self.slot().take();
        off_thread(move || {
            if let Some(running) = running {
                running.stop();
            }
            Ok(())
        })
        .await
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
pub async fn fetch_enrollment_challenge(
    options: ClientOptions,
    code: String,
) -> Result<Option<Vec<u8>>, PunchError> {
    off_thread(move || {
        let server = server_config(&options)?
            .ok_or_else(|| PunchError::invalid("serverUrl and policyKeyBase64 are required."))?;
        let transport: Arc<dyn punch_core::Transport> = match options.transport {
            Some(t) => Arc::new(ForeignTransport { inner: t }),
            None => built_in_transport()?,
        };
        Ok(punch_core::fetch_enrollment_challenge(
            &server,
            transport.as_ref(),
            &code,
        )?)
    })
    .await
}

/// The library's own reqwest/rustls transport (desktop, tests, the CLI).
#[cfg(feature = "http-client")]
fn built_in_transport() -> Result<Arc<dyn punch_core::Transport>, PunchError> {
    Ok(Arc::new(
        punch_core::ReqwestTransport::new().map_err(punch_core::PunchError::from)?,
    ))
}

/// Mobile builds leave reqwest and rustls out: the app's transport is required.
#[cfg(not(feature = "http-client"))]
fn built_in_transport() -> Result<Arc<dyn punch_core::Transport>, PunchError> {
    Err(PunchError::invalid(
        "This build has no built-in HTTP transport: set ClientOptions.transport (OkHttpTransport on Android, URLSession on iOS).",
    ))
}

impl PunchClient {
    /// The engine, for the benchmark's Rust side.
    pub(crate) fn engine(&self) -> Arc<PunchEngine> {
        self.engine.clone()
    }

    /// Runs `body` on a worker with this client's engine (see `runtime`).
    pub(crate) fn run<T: Send + 'static>(
        &self,
        body: impl FnOnce(&PunchEngine) -> Result<T, PunchError> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T, PunchError>> + Send + 'static {
        let engine = self.engine.clone();
        off_thread(move || body(&engine))
    }

    /// Like `run`, for a call that may prompt the user through the platform
    /// signer (a punch, a request, enrollment). One prompt at a time: while
    /// such a call waits for the signer, another gets `Busy` (so a signer
    /// that calls back into the client gets `Busy` instead of prompting from
    /// inside its own prompt). Syncs never count: they sign without the user.
    pub(crate) fn run_for_user<T: Send + 'static>(
        &self,
        body: impl FnOnce(&PunchEngine) -> Result<T, PunchError> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T, PunchError>> + Send + 'static {
        let not_prompting = self.not_prompting();
        let call = self.run(move |engine| signing_for_user(|| body(engine)));
        async move {
            not_prompting?;
            call.await
        }
    }

    /// Like `run_for_user`, on the calling thread (see `runtime::on_this_thread`).
    pub(crate) fn on_this_thread_for_user<T>(
        &self,
        call: i64,
        body: impl FnOnce(&PunchEngine) -> Result<T, PunchError>,
    ) -> Result<T, PunchError> {
        self.not_prompting()?;
        on_this_thread(call, || signing_for_user(|| body(&self.engine)))
    }

    /// `Busy` while a user's call waits for the platform signer.
    fn not_prompting(&self) -> Result<(), PunchError> {
        if self.signing.load(Ordering::SeqCst) > 0 {
            return Err(PunchError::Busy {
                detail: "Another call is waiting for the device key (a prompt may be open); \
                         try again once it has finished."
                    .into(),
            });
        }
        Ok(())
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<BackgroundSync>> {
        self.background.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stops a background sync on a thread of its own: stopping waits for a
/// request in flight, which neither a caller nor the sync thread itself
/// (a listener that restarts it) may wait for.
fn stop_in_background(running: Option<BackgroundSync>) {
    if let Some(running) = running {
        let _ = std::thread::Builder::new()
            .name("punch-sync-stop".into())
            .spawn(move || running.stop());
    }
}

impl Drop for PunchClient {
    /// Closing never waits: a background sync still running is stopped on
    /// a thread of its own (stopping waits for a request in flight).
    fn drop(&mut self) {
        let running = self
            .background
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        stop_in_background(running);
    }
}

/// The bodies of the hot calls, run by the async methods above and by
/// their blocking twins (`blocking`).
pub(crate) fn evaluate_body(
    engine: &PunchEngine,
    evidence: Evidence,
) -> Result<Evaluation, PunchError> {
    Ok(engine.evaluate(&evidence.into())?.into())
}

pub(crate) fn evaluate_kind_body(
    engine: &PunchEngine,
    kind: PunchKind,
    evidence: Evidence,
) -> Result<Evaluation, PunchError> {
    Ok(engine.evaluate_kind(kind.into(), &evidence.into())?.into())
}

pub(crate) fn punch_body(
    engine: &PunchEngine,
    kind: PunchKind,
    evidence: Evidence,
) -> Result<PunchReceipt, PunchError> {
    Ok(engine.punch(kind.into(), &evidence.into())?.into())
}
