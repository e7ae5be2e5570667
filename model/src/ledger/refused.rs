//! A punch the rules refused, kept in the chain as the employee's own
//! evidence: a make-up request can point at it, and a reviewer sees what
//! the phone saw (minimised as a punch's evidence is).

use serde::{Deserialize, Serialize};

use crate::ledger::record::{RecordCheck, RecordedEvidence, check_judged};
use crate::rules::evaluate::Evaluation;
use crate::rules::punch_kind::PunchKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedPunch {
    /// What the employee pressed.
    pub kind: PunchKind,
    pub evidence: RecordedEvidence,
    /// The refusal, with its reasons.
    pub evaluation: Evaluation,
}

impl RefusedPunch {
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        check_judged(&self.evidence, &self.evaluation)
    }
}
