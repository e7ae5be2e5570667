//! Proposing a field-work site: checked at once, then signed and chained;
//! once a manager approves it, it comes back in the personal addendum.

use punch_model::ledger::event::ChainEvent;
use punch_model::rules::field_work::FieldWorkRequest;

use crate::device::DeviceContext;
use crate::error::Result;
use crate::recorder::{self, EventReceipt};

pub(crate) fn propose_field_work(
    device: &DeviceContext,
    policy_version: u64,
    proposal: FieldWorkRequest,
) -> Result<EventReceipt> {
    proposal.validate()?;
    recorder::record_event(
        device,
        policy_version,
        &ChainEvent::FieldWorkRequest(proposal),
    )
}
