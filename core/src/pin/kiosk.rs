//! Kiosk mode on the device: a tablet enrolled to a site (`kiosk:<site>`)
//! where employees punch with their employee number and PIN. The verifiers
//! come in the signed policy; the lock is kept per employee on this device;
//! each punch record names the employee (and, as always, the device).

use punch_model::pin::KioskMember;
use punch_model::pin::kiosk::kiosk_site;
use punch_model::rules::evidence::Evidence;
use punch_model::rules::policy::PreparedPolicy;

use super::api::PinService;
use super::api::{rules_of, settings_of};
use super::error::PinError;
use super::guard::{PinStatus, VerifierSource};
use crate::error::{PunchError, Result};
use crate::recorder::{self, PunchReceipt};
use punch_model::ledger::record::PunchKind;

impl PinService {
    /// The site this device is a kiosk for (None: an employee's own device).
    pub(crate) fn kiosk_site(&self) -> Result<Option<String>> {
        let bound = self.device.employee_id()?.ok_or(PunchError::NoEmployee)?;
        Ok(kiosk_site(&bound).map(str::to_string))
    }

    fn kiosk_member(&self, policy: &PreparedPolicy, employee_id: &str) -> Result<KioskMember> {
        let site = self.kiosk_site()?.ok_or(PinError::NotOnThisKiosk)?;
        settings_of(policy)
            .kiosk
            .into_iter()
            .find(|m| m.site_id == site && m.employee_id == employee_id.trim())
            .ok_or_else(|| PinError::NotOnThisKiosk.into())
    }

    /// An employee's PIN on this kiosk: tries left, lock end.
    pub(crate) fn kiosk_pin_status(&self, employee_id: &str) -> Result<PinStatus> {
        let policy = self.policy.current(&self.device.db)?;
        let member = self.kiosk_member(&policy, employee_id)?;
        self.guard.status(
            &self.device,
            &rules_of(&policy),
            &member.employee_id,
            VerifierSource::Given(&member.verifier),
        )
    }

    /// A punch on the kiosk: the employee number and PIN are checked against
    /// the signed policy's verifiers (failures lock that employee only, on
    /// this device), then the record is signed by the kiosk and names the
    /// employee. The server refuses employees not assigned to the site.
    pub(crate) fn kiosk_punch(
        &self,
        employee_id: &str,
        pin: &str,
        kind: PunchKind,
        evidence: &Evidence,
    ) -> Result<PunchReceipt> {
        let valid = evidence.validate()?;
        let policy = self.policy.current(&self.device.db)?;
        let member = self.kiosk_member(&policy, employee_id)?;
        self.guard.verify(
            &self.device,
            &rules_of(&policy),
            &member.employee_id,
            pin,
            VerifierSource::Given(&member.verifier),
        )?;
        // The grant is for this punch, taken now.
        self.guard
            .take_grant(&member.employee_id, &self.device.now());
        let receipt = recorder::record_punch(
            &self.device,
            &policy,
            kind,
            &valid,
            Some(&member.employee_id),
            &crate::photo::PhotoStep::none(),
        )?;
        self.sync.wakeup.wake();
        self.sync.notify_status();
        Ok(receipt)
    }
}
