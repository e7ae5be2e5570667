//! Fetching the server-signed policy and installing it.

use punch_model::wire::{self, PolicyResponse};

use super::anchor::save_anchor;
use super::error::SyncError;
use super::report::SyncReport;
use super::requests::{CallFailure, Session, check_server_time, parse_answer};
use crate::error::PunchError;
use crate::installed_policy::InstalledPolicy;

/// Fetches the policy; a bad signature, a rollback or an expired bundle
/// keeps the last good policy and is reported (transient: the server may fix it).
pub(crate) fn refresh_policy(
    session: &Session<'_>,
    policy: &InstalledPolicy,
    report: &mut SyncReport,
) -> Result<(), CallFailure> {
    let response = session.call("GET", wire::PATH_POLICY, Vec::new(), report)?;
    let answer: PolicyResponse = parse_answer(&response)?;
    check_server_time(answer.server_time_ms)?;
    save_anchor(session.device, answer.server_time_ms, &answer.time_token)?;
    let installed = policy.version();
    match policy.install(session.device, &answer.body, Some(&answer.signature)) {
        Ok(v) => {
            if installed != Some(v) {
                report.policy_installed = Some(v);
            }
            Ok(())
        }
        Err(
            e @ (PunchError::Policy(_)
            | PunchError::PolicyRollback { .. }
            | PunchError::PolicySignature),
        ) => Err(CallFailure::Transient {
            error: SyncError::Policy {
                message: e.to_string(),
            },
            after_ms: None,
        }),
        Err(e) => Err(CallFailure::Local(e)),
    }
}
