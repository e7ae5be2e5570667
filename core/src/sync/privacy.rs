//! The employee's own requests to the server (reveal evidence): one
//! device-signed call each, retried within the call's budget like any other.

use punch_model::wire::privacy::{
    PATH_EVIDENCE_REVEAL, PATH_EXPORT, RevealRequest, RevealResponse,
};

use super::report::SyncReport;
use super::requests::{CallFailure, parse_answer};
use super::syncer::Syncer;
use crate::error::{PunchError, Result};

impl Syncer {
    /// Sends the opening of the record at `seq` for the server to check and
    /// re-judge; answers what it found.
    pub(crate) fn reveal(&self, seq: u64, opening: Vec<u8>) -> Result<RevealResponse> {
        let body = serde_json::to_vec(&RevealRequest { seq, opening })
            .map_err(|e| PunchError::CorruptState(e.to_string()))?;
        let session = self.session()?;
        let mut report = SyncReport::default();
        let response = session
            .call("POST", PATH_EVIDENCE_REVEAL, body, &mut report)
            .map_err(failure)?;
        parse_answer(&response).map_err(failure)
    }
}

impl Syncer {
    /// The server's export of everything it holds about this employee (JSON).
    pub(crate) fn server_export(&self) -> Result<Vec<u8>> {
        let session = self.session()?;
        let mut report = SyncReport::default();
        let response = session
            .call("GET", PATH_EXPORT, Vec::new(), &mut report)
            .map_err(failure)?;
        Ok(response.body)
    }
}

fn failure(f: CallFailure) -> PunchError {
    match f {
        CallFailure::Transient { error, .. } | CallFailure::Permanent(error) => {
            PunchError::Sync(error)
        }
        CallFailure::Local(e) => e,
    }
}
