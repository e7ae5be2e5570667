//! `PunchEngine`: the one object an app holds. Opened on a database path,
//! shared between threads; every punch is on disk before `punch` returns.
//! Each method delegates to the room of its concern: `recorder` (punch),
//! `installed_policy`, `store`, `sync`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use punch_model::ledger::chain::ChainReport;
use punch_model::ledger::record::PunchKind;
use punch_model::ledger::signing::{Signer, point_from_public_key};
use punch_model::messages::Locale;
use punch_model::pin::wire::PinCodeSent;
use punch_model::pin::{PinEvent, ResetToken, SignedResetToken};
use punch_model::rules::evaluate::Evaluation;
use punch_model::rules::evidence::Evidence;
use punch_model::rules::field_work::{FieldSite, FieldWorkRequest};
use punch_model::rules::makeup::{Attachment, MakeUpRequest};
use punch_model::rules::photo::PhotoReason;
use punch_model::wire::privacy::RevealResponse;

use crate::clock::{Clock, SystemClock};
use crate::clock_mask::ClockMask;
use crate::data_key::DataKeyStatus;
use crate::data_key::{self, KeyWrapper};
use crate::device::{DeviceContext, DeviceInfo};
use crate::error::{PunchError, Result};
use crate::exceptions::{ExceptionService, ForgottenNotice, RefusedAttempt, RequestView};
use crate::export::PersonalExport;
use crate::faults::FaultEvent;
use crate::history;
use crate::installed_policy::InstalledPolicy;
use crate::keys::{self, KeyProvider, RotationReason};
use crate::net::transport::Transport;
use crate::net::url_policy::check_url_allowed;
use crate::photo::{PhotoStep, PunchExtras};
use crate::pin::{PinService, PinStatus};
use crate::privacy::{PrivacyService, PurgeReport};
use crate::recorder::{self, EventReceipt, PunchReceipt};
use crate::rotation;
use crate::standing::{self, Standing};
use crate::store::{Db, Store, StoredPunch, UploadState};
use crate::sync::background::{self, BackgroundSync};
use crate::sync::syncer::Syncer;
use crate::sync::{ServerConfig, SyncListener, SyncReport, SyncStatus};

/// How to open an engine; the defaults suit a plain Rust host.
pub struct EngineOptions {
    /// The punch key held by the platform (Keystore / Secure Enclave; it
    /// may need the user's presence); None keeps a software key in the
    /// database. After a rotation, the rotated key.
    pub signer: Option<Arc<dyn Signer>>,
    /// The channel key held by the platform (signs requests; must never need
    /// the user); None keeps a software key in the database. A device
    /// created before the two keys uses its one key (`signer`) here.
    pub channel_signer: Option<Arc<dyn Signer>>,
    /// The platform's clocks (default: the host's).
    pub clock: Arc<dyn Clock>,
    /// The server to enroll with and sync to; None for a local-only engine.
    pub server: Option<ServerConfig>,
    /// HTTP for sync; None uses the built-in reqwest transport.
    pub transport: Option<Arc<dyn Transport>>,
    /// Seal record payloads at rest under a data key this wraps (Keystore /
    /// Keychain; `SoftwareKeyWrapper` on a host); None stores them in clear.
    pub key_wrapper: Option<Arc<dyn KeyWrapper>>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            signer: None,
            channel_signer: None,
            clock: Arc::new(SystemClock::default()),
            server: None,
            transport: None,
            key_wrapper: None,
        }
    }
}

/// The punch engine of one device database: shared between threads
/// (`Send + Sync`); every method is a short, durable step.
pub struct PunchEngine {
    /// Who the device is and what it holds (database, keys, clocks).
    device: Arc<DeviceContext>,
    /// The installed, signed policy.
    policy: Arc<InstalledPolicy>,
    /// Enrollment, upload and the status: the sync service.
    sync: Arc<Syncer>,
    /// The notice, openings, the data key, retention, the export.
    privacy: PrivacyService,
    /// Make-up requests and field work.
    exceptions: ExceptionService,
    /// The punch PIN and kiosk mode.
    pin: PinService,
}

impl PunchEngine {
    /// Opens (or creates) the device database at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<PunchEngine> {
        Self::open_with(path, EngineOptions::default())
    }

    /// Opens (or creates) the device database at `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: EngineOptions) -> Result<PunchEngine> {
        if let Some(server) = &options.server {
            check_url_allowed(&server.base_url)?;
            point_from_public_key(&server.policy_public_key)?;
        }
        let mut store = Store::open(path.as_ref())?;
        if let Some(wrapper) = &options.key_wrapper {
            // Foreign code before any lock exists.
            let sealing = data_key::load(&store, wrapper)?;
            store.set_sealing(sealing);
        }
        let now = options.clock.now().wall_time_ms;
        let (device_id, keys) = keys::open_keys(
            &store,
            keys::PlatformSigners {
                punch: options.signer.as_ref(),
                channel: options.channel_signer.as_ref(),
            },
            now,
        )?;
        let pinned = options.server.as_ref().map(|s| s.policy_public_key.clone());
        let policy = Arc::new(InstalledPolicy::load(&store, pinned)?);
        let mask = ClockMask::new(&store.clock_mask_secret()?);
        let device = Arc::new(DeviceContext::new(
            Arc::new(Db::new(store)),
            mask,
            keys,
            options.clock,
            device_id,
        ));
        let sync = Arc::new(Syncer::new(
            device.clone(),
            policy.clone(),
            options.server,
            options.transport,
        ));
        let pin = PinService::new(device.clone(), policy.clone(), sync.clone());
        let privacy = PrivacyService {
            device: device.clone(),
            policy: policy.clone(),
            sync: sync.clone(),
            key_wrapper: options.key_wrapper,
        };
        let exceptions = ExceptionService {
            device: device.clone(),
            policy: policy.clone(),
            sync: sync.clone(),
        };
        Ok(PunchEngine {
            device,
            policy,
            sync,
            pin,
            privacy,
            exceptions,
        })
    }

    /// Who this device is: its id, its keys, its employee.
    pub fn device(&self) -> Result<DeviceInfo> {
        self.device.info()
    }

    /// True when a platform signer (Keystore / Secure Enclave) holds the punch key.
    pub fn has_platform_key(&self) -> bool {
        !self.device.keys().punch.software
    }

    /// Replaces the punch key (lost, or invalidated by the OS: a new
    /// fingerprint on Android, a removed passcode on iOS) with one from
    /// `provider` — None: a software key in the database. The rotation is a
    /// chain event signed by the channel key, so it never needs the old
    /// key: records signed before keep uploading, records after are signed
    /// by the new key. The server takes it at once when the new key is
    /// attested at the level the employer requires, else after HR approves
    /// (until then, `SyncReport::key_rotation_pending` and later records wait).
    pub fn rotate_punch_key(
        &self,
        provider: Option<&dyn KeyProvider>,
        reason: RotationReason,
    ) -> Result<EventReceipt> {
        let version = self.policy.version().ok_or(PunchError::NoPolicy)?;
        let receipt = rotation::rotate_punch_key(&self.device, version, provider, reason)?;
        self.sync.recorded();
        Ok(receipt)
    }

    /// Binds this device to an employee; once bound, only the same id is accepted.
    pub fn set_employee(&self, employee_id: &str) -> Result<()> {
        self.device.bind_employee(employee_id)
    }

    /// Installs a policy. With a server configured, `signature` must verify
    /// with the pinned policy key. Refused: a lower version than the installed
    /// one (rollback), and an expired one (freeze), judged by trusted time.
    pub fn install_policy_json(&self, body: &[u8], signature: Option<&[u8]>) -> Result<u64> {
        self.policy.install(&self.device, body, signature)
    }

    /// Now, by the best clock available: anchored server time within this
    /// boot, else the device's wall clock — but never earlier than the last
    /// server time seen, so winding the clock back cannot revive an expired
    /// policy.
    pub fn trusted_now_ms(&self) -> i64 {
        self.device.trusted_now_ms()
    }

    /// The installed policy's version (None: none installed yet).
    pub fn policy_version(&self) -> Option<u64> {
        self.policy.version()
    }

    /// Prepares the installed policy now (opening defers it to the first
    /// evaluate or punch). Call it off the main thread after open to keep the
    /// first punch fast; a no-op once prepared or without a policy.
    pub fn prepare_policy(&self) -> Result<()> {
        match self.policy.current(&self.device.db) {
            Ok(_) | Err(PunchError::NoPolicy) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Judges evidence without recording anything: instant feedback for the
    /// UI. Attendance is judged for the punch the employee would press next
    /// (a clock-out while clocked in, else a clock-in); see
    /// [`evaluate_kind`](Self::evaluate_kind) for another.
    pub fn evaluate(&self, evidence: &Evidence) -> Result<Evaluation> {
        self.evaluate_as(None, evidence)
    }

    /// Like [`evaluate`](Self::evaluate), for a punch of `kind`.
    pub fn evaluate_kind(&self, kind: PunchKind, evidence: &Evidence) -> Result<Evaluation> {
        self.evaluate_as(Some(kind), evidence)
    }

    fn evaluate_as(&self, kind: Option<PunchKind>, evidence: &Evidence) -> Result<Evaluation> {
        let valid = evidence.validate()?;
        let policy = self.policy.current_for(&self.device)?;
        let now = self.device.now();
        let ctx = self.device.db.punch_context()?;
        let kind = kind.unwrap_or_else(|| recorder::natural_kind(&ctx));
        // Before enrollment nobody is clocked in.
        let employee_id = ctx.employee_id.clone().unwrap_or_default();
        recorder::judge(
            &ctx,
            &policy,
            &self.device.aged(&valid),
            &now,
            kind,
            &employee_id,
        )
    }

    /// Takes a punch: validates and judges the evidence, then signs and
    /// durably stores the record. A rejected punch is stored as a
    /// `refused_punch` event (evidence for a make-up request, see
    /// [`refused_attempts`](Self::refused_attempts)); the error carries the
    /// full evaluation so the employee sees why.
    pub fn punch(&self, kind: PunchKind, evidence: &Evidence) -> Result<PunchReceipt> {
        self.punch_with(kind, evidence, PunchExtras::default())
    }

    /// Like [`punch`](Self::punch), with a photo and the platform's
    /// biometric result (`extras`). When the policy requires a photo and
    /// none is given, nothing is stored and the error is
    /// [`PunchError::PhotoRequired`]: take one and call again with it.
    pub fn punch_with(
        &self,
        kind: PunchKind,
        evidence: &Evidence,
        extras: PunchExtras,
    ) -> Result<PunchReceipt> {
        let valid = evidence.validate()?;
        let policy = self.policy.current_for(&self.device)?;
        self.pin.check_pin_grant(&policy)?;
        let photo = PhotoStep::prepare(&self.device, &policy, extras)?;
        let punched = recorder::record_punch(&self.device, &policy, kind, &valid, None, &photo);
        photo.settle(&self.device, punched.as_ref().ok().map(|r| r.seq))?;
        // What the punch showed of the device (never changes its outcome).
        let fault = self.sync.faults.after_punch(&policy, &valid, &punched);
        // A refusal is stored too (as evidence): it goes up like a punch.
        if fault || matches!(punched, Ok(_) | Err(PunchError::Refused(_))) {
            self.sync.recorded();
        }
        punched
    }

    /// Why the policy would require a photo for a punch of `kind` with
    /// `evidence` now (empty: none): lets the app open the camera before
    /// [`punch_with`](Self::punch_with). Stores nothing.
    pub fn photo_required(&self, kind: PunchKind, evidence: &Evidence) -> Result<Vec<PhotoReason>> {
        let evaluation = self.evaluate_kind(kind, evidence)?;
        let policy = self.policy.current_for(&self.device)?;
        crate::photo::reasons_for(&self.device, &policy, &evaluation)
    }

    /// Files a make-up request (补卡) for a missed or refused punch. The
    /// policy's limits (how far back, how many a month) are judged now, on
    /// trusted time; the request is then signed, chained and queued like a
    /// punch, and [`requests`](Self::requests) shows the manager's decision
    /// after a later sync. Attachments must be added with
    /// [`attach`](Self::attach) first; `refused_attempt` must name one of
    /// [`refused_attempts`](Self::refused_attempts).
    pub fn file_make_up_request(&self, request: MakeUpRequest) -> Result<EventReceipt> {
        self.exceptions.file_make_up_request(request)
    }

    /// Proposes a field-work site (外勤报备) for a manager to approve; once
    /// approved it arrives on sync and punches there are judged against it
    /// on its days.
    pub fn propose_field_work(&self, proposal: FieldWorkRequest) -> Result<EventReceipt> {
        self.exceptions.propose_field_work(proposal)
    }

    /// Keeps a file (a photo, a note from the client) for a make-up
    /// request; returns the attachment to name in the request. The file is
    /// uploaded on sync after the request, then dropped from the device.
    pub fn attach(&self, body: Vec<u8>, media_type: &str) -> Result<Attachment> {
        self.exceptions.attach(body, media_type)
    }

    /// Reports a fault the employee describes: `kind` by its wire name
    /// (`location_unavailable`, `clock_moved`... `other`), `text` up to
    /// 1,000 characters, files kept with [`attach`](Self::attach) first.
    /// Signed by the channel key, chained and uploaded like a punch; a
    /// make-up request can then cite it ([`FaultEvent::citation`]). The
    /// engine records the faults it sees itself on its own.
    pub fn report_fault(
        &self,
        kind: &str,
        text: &str,
        attachments: Vec<Attachment>,
    ) -> Result<EventReceipt> {
        let receipt = self.sync.faults.report(kind, text, attachments)?;
        self.sync.recorded();
        Ok(receipt)
    }

    /// The fault events this device recorded (seen or reported), oldest first.
    pub fn faults(&self) -> Result<Vec<FaultEvent>> {
        self.sync.faults.faults()
    }

    /// The requests this device filed, with where each stands.
    pub fn requests(&self) -> Result<Vec<RequestView>> {
        self.exceptions.requests()
    }

    /// The forgotten clock-outs the server found (learned at sync), each
    /// with a message in `locale` and the make-up requests answering it
    /// (`exceptions::make_up_for` fills one in).
    pub fn forgotten_clock_outs(&self, locale: Locale) -> Result<Vec<ForgottenNotice>> {
        self.exceptions.forgotten_clock_outs(locale)
    }

    /// The punches the rules refused, kept as the employee's evidence.
    pub fn refused_attempts(&self) -> Result<Vec<RefusedAttempt>> {
        self.exceptions.refused_attempts()
    }

    /// The field sites approved for this employee (from the signed addendum).
    pub fn field_sites(&self) -> Vec<FieldSite> {
        self.policy.field_sites()
    }

    /// Stored punches after `after_seq`, oldest first (history and queue);
    /// events (refused attempts, requests) are listed by their own methods.
    /// What they say comes from the signed bytes, checked here; a row that
    /// fails the check keeps its raw columns with `verified: false`.
    pub fn punches(&self, after_seq: u64, limit: u32) -> Result<Vec<StoredPunch>> {
        history::punches_after(&self.device, after_seq, limit)
    }

    /// Stored punches before `before_seq` (from the newest when None),
    /// newest first: the history screen's pages, checked like
    /// [`punches`](Self::punches).
    pub fn punches_newest_first(
        &self,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<Vec<StoredPunch>> {
        history::punches_before(&self.device, before_seq, limit)
    }

    /// Where the employee stands now: clocked in or not and since when, the
    /// shift that matters, the next punch, what waits to upload.
    pub fn standing(&self) -> Result<Standing> {
        let (rows, open_shift) = self.device.db.with_store(|store| {
            let rows = store.punches_before(None, standing::LOOKBACK)?;
            let ctx = store.punch_context()?;
            Ok::<_, PunchError>((rows, ctx.own_open_shift().cloned()))
        })?;
        // No policy (or an expired one) has no shifts to show; the rest stands.
        let policy = self.policy.current_for(&self.device).ok();
        let shifts = policy.as_ref().map_or(&[][..], |p| &p.shifts[..]);
        Ok(standing::standing(
            rows.into_iter()
                .map(|row| history::verified(&self.device, row)),
            shifts,
            open_shift.as_ref(),
            self.trusted_now_ms(),
            self.status()?,
        ))
    }

    /// How many records wait for upload.
    pub fn pending_count(&self) -> Result<u64> {
        self.device.db.count_by_state(UploadState::Pending)
    }

    /// Re-checks every stored record: hash, signature, sequence, links.
    pub fn verify_chain(&self) -> Result<ChainReport> {
        history::verify_chain(&self.device)
    }

    /// Enrolls this device with a one-time code from the employer; binds the
    /// device to the code's employee and takes a first time anchor.
    /// With a platform signer, the server's attestation challenge is fetched
    /// and the signer's [`attestation`](Signer::attestation) sent along.
    pub fn enroll(&self, code: &str) -> Result<String> {
        self.sync.enroll(code, None)
    }

    /// Like [`enroll`](Self::enroll), answering a challenge the app fetched
    /// before it generated its key ([`crate::sync::fetch_enrollment_challenge`]):
    /// Android Keystore attests a key only when it is generated.
    pub fn enroll_with_challenge(&self, code: &str, challenge: Vec<u8>) -> Result<String> {
        self.sync.enroll(code, Some(challenge))
    }

    /// Enrolls with keys the platform creates now, answering the server's
    /// challenge: `provider` is asked for a punch key and a channel key, each
    /// attested where the platform can. When the employer's policy needs an
    /// attested punch key and the platform gave no attestation, nothing is
    /// sent: [`EnrollError::AttestationRequired`](crate::error::EnrollError).
    /// Only before the device has signed anything (its keys are replaced).
    pub fn enroll_with_keys(&self, code: &str, provider: &dyn KeyProvider) -> Result<String> {
        self.sync.enroll_with_keys(code, provider)
    }

    /// Uploads pending punches and refreshes time and policy. Network and
    /// server trouble is reported in the returned report (with when to
    /// retry); only local failures (the database, missing set-up) are errors.
    pub fn sync(&self) -> Result<SyncReport> {
        let report = self.sync.sync(false)?;
        if report.error.is_none() {
            // Retention rides on a good sync; a failure here leaves the data
            // (never less safe) and shows on the explicit `purge_expired`.
            let _ = self.privacy.purge_expired();
        }
        Ok(report)
    }

    /// Like [`sync`](Self::sync) but ignores a running backoff (a user's
    /// explicit "sync now"); a server's Retry-After is still honoured.
    pub fn sync_now(&self) -> Result<SyncReport> {
        self.sync.sync(true)
    }

    /// Tells the engine the network is back: a backoff caused by network
    /// failures ends now (a server's Retry-After still stands).
    pub fn network_available(&self) -> Result<()> {
        self.sync.network_available()
    }

    /// How the upload queue and the last sync stand.
    pub fn status(&self) -> Result<SyncStatus> {
        self.sync.status()
    }

    /// Called whenever the status may have changed (after a punch, a sync).
    pub fn set_listener(&self, listener: Option<Arc<dyn SyncListener>>) {
        self.sync.set_listener(listener);
    }

    /// Best estimate of the server's clock now: anchored time within the
    /// same boot, else the wall clock corrected by the last known offset.
    pub fn estimated_server_time_ms(&self) -> i64 {
        crate::sync::estimated_server_time_ms(&self.device)
            .unwrap_or_else(|_| self.device.now().wall_time_ms)
    }

    /// Starts a thread that syncs at once when punches are pending, every
    /// `idle` otherwise, and backs off after failures. `stop()` waits for a
    /// request in flight (at most the request timeout): call it off the
    /// main thread.
    pub fn start_background_sync(self: &Arc<Self>, idle: Duration) -> BackgroundSync {
        background::start(self.sync.clone(), idle)
    }
}

/// The punch PIN and kiosk mode: the PIN service (`pin`) does the work.
impl PunchEngine {
    /// Whether a PIN is set, the tries left and, while locked, when it ends.
    pub fn pin_status(&self) -> Result<PinStatus> {
        self.pin.pin_status()
    }

    /// Chooses the first PIN (or the one after a reset). `birthday`
    /// (`YYYY-MM-DD`), when the app knows it, is refused as a PIN.
    pub fn set_pin(&self, pin: &str, birthday: Option<&str>) -> Result<()> {
        self.pin.set_pin(pin, birthday)
    }

    /// Changes the PIN; the current one is checked (and counts toward the lock).
    pub fn change_pin(&self, current: &str, new: &str, birthday: Option<&str>) -> Result<()> {
        self.pin.change_pin(current, new, birthday)
    }

    /// Checks the PIN. Success lets the next punch through (within the
    /// policy's `verified_for_s`); failures lock it after `max_failures`.
    pub fn verify_pin(&self, pin: &str) -> Result<()> {
        self.pin.verify_pin(pin)
    }

    /// The platform's biometric / device-credential prompt succeeded (a
    /// hardware key that requires user authentication proves it again by
    /// signing): recorded, and the next punch goes through as after a PIN.
    pub fn accept_user_verified(&self) -> Result<()> {
        self.pin.accept_user_verified()
    }

    /// Asks the server to send a reset code to the employee's bound phone or e-mail.
    pub fn request_pin_reset_code(&self) -> Result<PinCodeSent> {
        self.pin.request_pin_reset_code()
    }

    /// Trades the code for a server-signed reset token.
    pub fn redeem_pin_reset_code(&self, code: &str) -> Result<SignedResetToken> {
        self.pin.redeem_pin_reset_code(code)
    }

    /// Self-service: the employee number and the secret the employer set.
    pub fn self_service_pin_reset(
        &self,
        employee_number: &str,
        secret: &str,
    ) -> Result<SignedResetToken> {
        self.pin.self_service_pin_reset(employee_number, secret)
    }

    /// Fetches the token for a reset an admin ordered on the server.
    pub fn fetch_admin_pin_reset(&self) -> Result<SignedResetToken> {
        self.pin.fetch_admin_pin_reset()
    }

    /// Applies a reset token (checked offline with the pinned server key:
    /// signature, device, employee, expiry on trusted time, single use) and
    /// sets `new_pin`. A bad token counts toward the lock.
    pub fn apply_pin_reset(
        &self,
        token: &SignedResetToken,
        new_pin: &str,
        birthday: Option<&str>,
    ) -> Result<ResetToken> {
        self.pin.apply_pin_reset(token, new_pin, birthday)
    }

    /// Every PIN event in this device's chain, oldest first.
    pub fn pin_events(&self) -> Result<Vec<PinEvent>> {
        self.pin.pin_events()
    }

    /// The site this device is a kiosk for (None: an employee's own device).
    pub fn kiosk_site(&self) -> Result<Option<String>> {
        self.pin.kiosk_site()
    }

    /// An employee's PIN on this kiosk: tries left, lock end.
    pub fn kiosk_pin_status(&self, employee_id: &str) -> Result<PinStatus> {
        self.pin.kiosk_pin_status(employee_id)
    }

    /// A punch on the kiosk: the employee number and PIN are checked against
    /// the signed policy's verifiers (failures lock that employee only, on
    /// this device), then the record is signed by the kiosk and names the
    /// employee. The server refuses employees not assigned to the site.
    pub fn kiosk_punch(
        &self,
        employee_id: &str,
        pin: &str,
        kind: PunchKind,
        evidence: &Evidence,
    ) -> Result<PunchReceipt> {
        self.pin.kiosk_punch(employee_id, pin, kind, evidence)
    }
}

/// The employee's privacy: the privacy service (`privacy`, `export`) does the work.
impl PunchEngine {
    /// The notice version the installed policy asks the employee to see,
    /// while it is not acknowledged (None: nothing to show).
    pub fn notice_required(&self) -> Result<Option<String>> {
        self.privacy.notice_required()
    }

    /// Records that the employee saw notice `version` (the app showed it);
    /// the next punch under a policy naming it carries the acknowledgement.
    pub fn acknowledge_notice(&self, version: &str) -> Result<()> {
        self.privacy.acknowledge_notice(version)
    }

    /// The opening of the evidence commitment of the record at `seq`: the
    /// exact evidence the policy kept off the record, for the employee to
    /// reveal (None: the record keeps all of it, or it was purged).
    pub fn evidence_opening(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        self.privacy.evidence_opening(seq)
    }

    /// Reveals the exact evidence of the record at `seq` to the server (the
    /// employee's choice, to settle a dispute): the server checks it against
    /// the signed commitment and answers what review finds on it.
    pub fn reveal_evidence(&self, seq: u64) -> Result<RevealResponse> {
        self.privacy.reveal_evidence(seq)
    }

    /// Whether records are sealed at rest, and whether the data key is usable here.
    pub fn data_key_status(&self) -> DataKeyStatus {
        self.privacy.data_key_status()
    }

    /// After the platform lost its key: a new data key for new records.
    /// Records sealed under the lost key stay stored, verified and uploaded
    /// (the server holds that key); only this phone can no longer read them.
    pub fn rotate_data_key(&self) -> Result<String> {
        self.privacy.rotate_data_key()
    }

    /// Purges records the server acknowledged more than the policy's
    /// `privacy.phone_retention_days` ago (by trusted time), keeping their
    /// hashes so the chain still verifies. Never a pending record, never the
    /// newest. Runs after every successful sync; a no-op without the setting.
    pub fn purge_expired(&self) -> Result<PurgeReport> {
        self.privacy.purge_expired()
    }

    /// Everything this phone holds about the employee (GDPR art. 15/20,
    /// PIPL art. 45). A sealed record whose key is lost is listed with what
    /// stays in clear, and says so.
    pub fn export_personal_data(&self) -> Result<PersonalExport> {
        self.privacy.export_personal_data()
    }

    /// The server's export of everything it holds about this employee
    /// (JSON with a `summary` field), fetched with a device-signed request.
    pub fn fetch_server_export(&self) -> Result<Vec<u8>> {
        self.privacy.fetch_server_export()
    }
}
