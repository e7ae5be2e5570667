//! A punch the rules refused, kept in the chain as the employee's own
//! evidence: a make-up request can point at it, and a reviewer sees what
//! the phone saw (minimised as a punch's evidence is, and sealed as a
//! punch's payload is when the device has a data key: `ledger::sealed`).

use serde::{Deserialize, Serialize};

use crate::ledger::record::{
    RecordCheck, RecordedEvidence, SealedPayload, check_judged, check_sealed,
};
use crate::rules::evaluate::Evaluation;
use crate::rules::punch_kind::PunchKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedPunch {
    /// What the employee pressed.
    pub kind: PunchKind,
    pub evidence: RecordedEvidence,
    /// The refusal, with its reasons.
    pub evaluation: Evaluation,
    /// The evidence and the evaluation's details, encrypted: when present,
    /// `evidence` is empty and `evaluation` keeps only its verdict. Absent
    /// in attempts recorded before sealing (or with it off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedPayload>,
}

impl RefusedPunch {
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        check_judged(&self.evidence, &self.evaluation)?;
        self.sealed.as_ref().map_or(Ok(()), check_sealed)
    }
}
