//! The sync loop's owner: one upload at a time, persisted backoff, the
//! status for the UI and its listener. It reaches the database only through
//! the store's functions.
//!
//! Contract for WorkManager / BGTaskScheduler: `sync()` blocks, is safe to
//! call from several threads (one upload runs at a time; others wait), and is
//! safe to kill at any point: a record is marked uploaded only after the
//! server's answer is committed locally, and re-sending it yields "duplicate".

use std::sync::{Arc, Mutex};

use super::anchor::{refresh_time, usable_anchor};
use super::config::{MAX_RETRY_AFTER_MS, ServerConfig};
use super::enroll::{default_transport, enroll, enroll_with_keys};
use super::error::SyncError;
use super::escrow::escrow_data_key;
use super::head::reconcile;
use super::policy_fetch::refresh_policy;
use super::report::{SyncListener, SyncReport, SyncStatus};
use super::requests::{CallFailure, Session};
use super::requests_fetch::refresh_requests;
use super::state::SyncState;
use super::upload::upload_pending;
use super::wakeup::Wakeup;
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::faults::FaultLog;
use crate::installed_policy::InstalledPolicy;
use crate::keys::KeyProvider;
use crate::net::transport::Transport;
use crate::store::UploadState;

pub(crate) struct Syncer {
    pub device: Arc<DeviceContext>,
    pub policy: Arc<InstalledPolicy>,
    server: Option<ServerConfig>,
    transport: Mutex<Option<Arc<dyn Transport>>>,
    /// One upload at a time.
    sync_lock: Mutex<()>,
    /// Serialises read-modify-write of the persisted sync state.
    state_lock: Mutex<()>,
    listener: Mutex<Option<Arc<dyn SyncListener>>>,
    /// The newest policy version the server mentioned.
    policy_hint: Mutex<Option<u64>>,
    pub wakeup: Wakeup,
    /// The faults sync and the engine see (`crate::faults`).
    pub faults: FaultLog,
}

impl Syncer {
    pub fn new(
        device: Arc<DeviceContext>,
        policy: Arc<InstalledPolicy>,
        server: Option<ServerConfig>,
        transport: Option<Arc<dyn Transport>>,
    ) -> Syncer {
        Syncer {
            device: device.clone(),
            policy: policy.clone(),
            server,
            transport: Mutex::new(transport),
            sync_lock: Mutex::new(()),
            state_lock: Mutex::new(()),
            listener: Mutex::new(None),
            policy_hint: Mutex::new(None),
            wakeup: Wakeup::default(),
            faults: FaultLog::new(device.clone(), policy.clone()),
        }
    }

    fn transport(&self) -> Result<Arc<dyn Transport>> {
        let mut slot = self.transport.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        let t = default_transport()?;
        *slot = Some(t.clone());
        Ok(t)
    }

    pub(crate) fn session(&self) -> Result<Session<'_>> {
        Ok(Session {
            device: &self.device,
            server: self.server.as_ref().ok_or(PunchError::NotConfigured)?,
            transport: self.transport()?,
            policy_hint: &self.policy_hint,
        })
    }

    pub fn enroll(&self, code: &str, challenge: Option<Vec<u8>>) -> Result<String> {
        let session = self.session()?;
        let employee = enroll(&session, code, challenge);
        self.faults.after_enroll(&employee);
        let employee = employee?;
        // Best effort now (a failure is retried before the first upload).
        let _ = escrow_data_key(&session, &mut SyncReport::default());
        self.notify_status();
        Ok(employee)
    }

    pub fn enroll_with_keys(&self, code: &str, provider: &dyn KeyProvider) -> Result<String> {
        let session = self.session()?;
        let employee = enroll_with_keys(&session, code, provider);
        self.faults.after_enroll(&employee);
        let employee = employee?;
        let _ = escrow_data_key(&session, &mut SyncReport::default());
        self.notify_status();
        Ok(employee)
    }

    pub fn sync(&self, force: bool) -> Result<SyncReport> {
        let report = {
            let _one_at_a_time = self.sync_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.sync_locked(force)
        };
        // After the lock (a fault is a record: it takes a punch turn).
        if self.faults.after_sync(&report) {
            self.wakeup.wake();
        }
        // After the lock: a listener may call sync() itself.
        self.notify_status();
        report
    }

    fn load_state(&self) -> Result<SyncState> {
        self.device.db.sync_state()
    }

    fn pending(&self) -> Result<u64> {
        self.device.db.count_by_state(UploadState::Pending)
    }

    fn sync_locked(&self, force: bool) -> Result<SyncReport> {
        let session = self.session()?;
        let retry = &session.server.retry;
        let state = self.load_state()?;
        let now = self.device.now().wall_time_ms;
        let mut report = SyncReport::default();
        let rate_limited = matches!(state.last_error, Some(SyncError::RateLimited));
        // A deadline further away than any we set means the clock moved: ignore it.
        let longest = i64::try_from(MAX_RETRY_AFTER_MS.max(retry.max_delay_ms)).unwrap_or(i64::MAX);
        if let Some(next) = state.next_attempt_ms
            && next > now
            && next.saturating_sub(now) <= longest
            && (!force || rate_limited)
        {
            report.deferred = true;
            report.next_retry_ms = Some(next);
            report.error = state.last_error.clone();
            report.remaining = self.pending()?;
            return Ok(report);
        }
        if self.device.employee_id()?.is_none() {
            return Err(PunchError::NoEmployee);
        }
        let outcome = self.run(&session, &mut report);
        // Re-read under the state lock: network_available() may have changed it.
        let _state = self.state_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = self.load_state()?;
        let now = self.device.now().wall_time_ms;
        state.server_head_mismatch = report.server_head_mismatch;
        match outcome {
            Ok(()) => state.succeeded(now),
            Err(CallFailure::Local(e)) => return Err(e),
            Err(CallFailure::Transient { error, after_ms }) => {
                state.failed(retry, &mut report, error, after_ms, now)
            }
            // Permanent: back off to the maximum instead of hammering.
            Err(CallFailure::Permanent(error)) => {
                state.failed(retry, &mut report, error, Some(retry.max_delay_ms), now)
            }
        }
        self.device.db.save_sync_state(&state)?;
        report.remaining = self.pending()?;
        Ok(report)
    }

    fn run(
        &self,
        session: &Session<'_>,
        report: &mut SyncReport,
    ) -> std::result::Result<(), CallFailure> {
        if self.policy.version().is_none() {
            refresh_policy(session, &self.policy, report)?;
        }
        // The server must hold the data key before it gets records sealed with it.
        escrow_data_key(session, report)?;
        let uploaded_any = upload_pending(session, report)?;
        // Nothing to upload (or the anchor is from another boot): still
        // refresh the anchor and learn of a newer policy, so an idle phone
        // is never locked out by an expired policy or left unanchored.
        if !uploaded_any || usable_anchor(&self.device)?.is_none() {
            let server_head = refresh_time(session, report)?;
            if let Some((seq, hash)) = server_head
                && reconcile(session, seq, &hash, report)? > 0
            {
                // Records the local flags hid from the server: send them now.
                upload_pending(session, report)?;
            }
        }
        let installed = self.policy.version().unwrap_or(0);
        let hint = *self.policy_hint.lock().unwrap_or_else(|e| e.into_inner());
        if hint.is_some_and(|v| v > installed) {
            refresh_policy(session, &self.policy, report)?;
        }
        crate::photo::upload::upload_photos(session, report)?;
        refresh_requests(session, &self.policy, report)?;
        Ok(())
    }

    /// The network is back: a backoff caused by network failures ends now
    /// (a server's Retry-After still stands). So does one caused by TLS: a
    /// captive portal or an intercepting proxy belongs to the old network.
    pub fn network_available(&self) -> Result<()> {
        {
            let _state = self.state_lock.lock().unwrap_or_else(|e| e.into_inner());
            let mut state = self.load_state()?;
            if matches!(
                state.last_error,
                Some(SyncError::Network { .. } | SyncError::Tls { .. })
            ) {
                state.next_attempt_ms = None;
                self.device.db.save_sync_state(&state)?;
            }
        }
        self.wakeup.wake();
        Ok(())
    }

    pub fn status(&self) -> Result<SyncStatus> {
        let state = self.load_state()?;
        let (pending, uploaded, rejected) = self.device.db.with_store(|store| {
            Ok::<_, PunchError>((
                store.count_by_state(UploadState::Pending)?,
                store.count_by_state(UploadState::Uploaded)?,
                store.count_by_state(UploadState::Rejected)?,
            ))
        })?;
        Ok(SyncStatus {
            pending,
            uploaded,
            rejected,
            last_success_ms: state.last_success_ms,
            last_error: state.last_error,
            next_attempt_ms: state.next_attempt_ms,
            consecutive_failures: state.consecutive_failures,
            policy_version: self.policy.version(),
            anchored: usable_anchor(&self.device)?.is_some(),
            server_head_mismatch: state.server_head_mismatch,
        })
    }

    pub fn set_listener(&self, listener: Option<Arc<dyn SyncListener>>) {
        *self.listener.lock().unwrap_or_else(|e| e.into_inner()) = listener;
    }

    /// A record was stored (a punch, a refusal, an event): the background
    /// sync wakes for it, and the listener hears of the new status.
    pub fn recorded(&self) {
        self.wakeup.wake();
        self.notify_status();
    }

    /// Tells the listener (outside every lock) that the status may have changed.
    pub fn notify_status(&self) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(l) = listener
            && let Ok(status) = self.status()
        {
            l.on_status(&status);
        }
    }
}
