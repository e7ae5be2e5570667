//! The exceptions service behind the engine: files make-up requests and
//! field-work proposals under the installed policy, keeps their files, and
//! lists requests and refused attempts.

use std::sync::Arc;

use punch_model::rules::field_work::FieldWorkRequest;
use punch_model::rules::makeup::{Attachment, MakeUpRequest};

use super::{RefusedAttempt, RequestView};
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::installed_policy::InstalledPolicy;
use crate::recorder::EventReceipt;
use crate::sync::syncer::Syncer;

/// Make-up requests and field work of one engine.
pub(crate) struct ExceptionService {
    pub(crate) device: Arc<DeviceContext>,
    pub(crate) policy: Arc<InstalledPolicy>,
    pub(crate) sync: Arc<Syncer>,
}

impl ExceptionService {
    pub(crate) fn file_make_up_request(&self, request: MakeUpRequest) -> Result<EventReceipt> {
        let policy = self.policy.current(&self.device.db)?;
        let receipt = super::file_make_up(&self.device, &policy, request)?;
        self.sync.recorded();
        Ok(receipt)
    }

    pub(crate) fn propose_field_work(&self, proposal: FieldWorkRequest) -> Result<EventReceipt> {
        let version = self.policy.version().ok_or(PunchError::NoPolicy)?;
        let receipt = super::propose_field_work(&self.device, version, proposal)?;
        self.sync.recorded();
        Ok(receipt)
    }

    pub(crate) fn attach(&self, body: Vec<u8>, media_type: &str) -> Result<Attachment> {
        let policy = self.policy.current(&self.device.db)?;
        super::attach(&self.device, &policy.policy.make_up, body, media_type)
    }

    pub(crate) fn requests(&self) -> Result<Vec<RequestView>> {
        super::requests(&self.device)
    }

    pub(crate) fn refused_attempts(&self) -> Result<Vec<RefusedAttempt>> {
        super::refused_attempts(&self.device)
    }

    pub(crate) fn forgotten_clock_outs(
        &self,
        locale: punch_model::messages::Locale,
    ) -> Result<Vec<super::ForgottenNotice>> {
        let policy = self.policy.current(&self.device.db).ok();
        super::forgotten::forgotten_clock_outs(
            &self.device,
            policy.as_ref().map(|p| &p.policy),
            locale,
        )
    }
}
