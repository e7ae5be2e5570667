//! The PIN service behind the engine: it owns the PIN's turn and grant
//! (`guard`) and is handed the device, the installed policy and the syncer
//! (for the reset requests). Each call names the employee bound to this device;
//! settings come from the installed, signed policy (without a PIN section a
//! PIN may still be set and verified, but punches do not need it); each
//! call needs a policy, as its events are chained under its version.

use punch_model::pin::wire::PinCodeSent;
use punch_model::pin::{PinSettings, ResetToken, SignedResetToken};
use punch_model::rules::policy::PreparedPolicy;

use super::error::PinError;
use super::guard::{PinRules, PinStatus, VerifierSource};
use super::reset;
use std::sync::Arc;

use super::guard::PinGuard;
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::installed_policy::InstalledPolicy;
use crate::sync::syncer::Syncer;

/// The punch PIN of one engine.
pub(crate) struct PinService {
    pub(super) device: Arc<DeviceContext>,
    pub(super) policy: Arc<InstalledPolicy>,
    pub(super) sync: Arc<Syncer>,
    /// The PIN's turn and grant.
    pub(super) guard: PinGuard,
}

impl PinService {
    pub(crate) fn new(
        device: Arc<DeviceContext>,
        policy: Arc<InstalledPolicy>,
        sync: Arc<Syncer>,
    ) -> PinService {
        PinService {
            device,
            policy,
            sync,
            guard: PinGuard::default(),
        }
    }

    /// The installed policy's PIN settings (PIN calls need a policy: their
    /// events are chain records under its version).
    fn pin_settings(&self) -> Result<PinRules> {
        let policy = self.policy.current(&self.device.db)?;
        Ok(rules_of(&policy))
    }

    fn pin_employee(&self) -> Result<String> {
        self.device.employee_id()?.ok_or(PunchError::NoEmployee)
    }

    /// Whether a PIN is set, the tries left and, while locked, when it ends.
    pub(crate) fn pin_status(&self) -> Result<PinStatus> {
        let settings = self.pin_settings()?;
        let employee = self.pin_employee()?;
        self.guard
            .status(&self.device, &settings, &employee, VerifierSource::Stored)
    }

    /// Chooses the first PIN (or the one after a reset). `birthday`
    /// (`YYYY-MM-DD`), when the app knows it, is refused as a PIN.
    pub(crate) fn set_pin(&self, pin: &str, birthday: Option<&str>) -> Result<()> {
        let settings = self.pin_settings()?;
        let employee = self.pin_employee()?;
        self.guard
            .set(&self.device, &settings, &employee, pin, birthday)
    }

    /// Changes the PIN; the current one is checked (and counts toward the lock).
    pub(crate) fn change_pin(
        &self,
        current: &str,
        new: &str,
        birthday: Option<&str>,
    ) -> Result<()> {
        let settings = self.pin_settings()?;
        let employee = self.pin_employee()?;
        self.guard
            .change(&self.device, &settings, &employee, current, new, birthday)
    }

    /// Checks the PIN. Success lets the next punch through (within the
    /// policy's `verified_for_s`); failures lock it after `max_failures`.
    pub(crate) fn verify_pin(&self, pin: &str) -> Result<()> {
        let settings = self.pin_settings()?;
        let employee = self.pin_employee()?;
        self.guard.verify(
            &self.device,
            &settings,
            &employee,
            pin,
            VerifierSource::Stored,
        )
    }

    /// The platform's biometric / device-credential prompt succeeded (a
    /// hardware key that requires user authentication proves it again by
    /// signing): recorded, and the next punch goes through as after a PIN.
    pub(crate) fn accept_user_verified(&self) -> Result<()> {
        let settings = self.pin_settings()?;
        let employee = self.pin_employee()?;
        self.guard.user_verified(&self.device, &settings, &employee)
    }

    /// Asks the server to send a reset code to the employee's bound phone or e-mail.
    pub(crate) fn request_pin_reset_code(&self) -> Result<PinCodeSent> {
        self.pin_employee()?;
        reset::request_code(&self.sync.session()?)
    }

    /// Trades the code for a server-signed reset token.
    pub(crate) fn redeem_pin_reset_code(&self, code: &str) -> Result<SignedResetToken> {
        self.pin_employee()?;
        reset::redeem_code(&self.sync.session()?, code)
    }

    /// Self-service: the employee number and the secret the employer set.
    pub(crate) fn self_service_pin_reset(
        &self,
        employee_number: &str,
        secret: &str,
    ) -> Result<SignedResetToken> {
        self.pin_employee()?;
        reset::self_service(&self.sync.session()?, employee_number, secret)
    }

    /// Fetches the token for a reset an admin ordered on the server.
    pub(crate) fn fetch_admin_pin_reset(&self) -> Result<SignedResetToken> {
        self.pin_employee()?;
        reset::admin_reset(&self.sync.session()?)
    }

    /// Applies a reset token (checked offline with the pinned server key:
    /// signature, device, employee, expiry on trusted time, single use) and
    /// sets `new_pin`. A bad token counts toward the lock.
    pub(crate) fn apply_pin_reset(
        &self,
        token: &SignedResetToken,
        new_pin: &str,
        birthday: Option<&str>,
    ) -> Result<ResetToken> {
        let settings = self.pin_settings()?;
        let employee = self.pin_employee()?;
        let key = self
            .policy
            .pinned_key()
            .ok_or(PunchError::NotConfigured)?
            .to_vec();
        self.guard.apply_reset(
            &self.device,
            &settings,
            &key,
            &employee,
            token,
            new_pin,
            birthday,
        )
    }

    /// Every PIN event in this device's chain, oldest first.
    pub(crate) fn pin_events(&self) -> Result<Vec<punch_model::pin::PinEvent>> {
        use punch_model::ledger::event::{ChainEntry, ChainEvent, kind_column_of, types};
        let rows = self.device.db.events_of_kind(&kind_column_of(types::PIN))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match ChainEntry::from_bytes(&row.record) {
                Ok(ChainEntry::Event(e)) => match e.event {
                    ChainEvent::Pin(p) => Some(p),
                    _ => None,
                },
                _ => None,
            })
            .collect())
    }

    /// Refuses a punch the policy says needs a PIN when none was verified.
    pub(crate) fn check_pin_grant(&self, policy: &PreparedPolicy) -> Result<()> {
        let settings = settings_of(policy);
        if !settings.required {
            return Ok(());
        }
        let employee = self.pin_employee()?;
        if punch_model::pin::kiosk::kiosk_site(&employee).is_some() {
            // A kiosk punches for someone: `kiosk_punch` names them.
            return Err(PinError::NotOnThisKiosk.into());
        }
        if self.guard.take_grant(&employee, &self.device.now()) {
            Ok(())
        } else {
            Err(PinError::Required.into())
        }
    }
}

/// The PIN rules of `policy`, chained under its version.
pub(super) fn rules_of(policy: &PreparedPolicy) -> PinRules {
    PinRules {
        settings: settings_of(policy),
        policy_version: policy.policy.version,
    }
}

pub(super) fn settings_of(policy: &PreparedPolicy) -> PinSettings {
    policy.policy.settings.pin.clone().unwrap_or(PinSettings {
        required: false,
        ..PinSettings::default()
    })
}
