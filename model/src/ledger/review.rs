//! What a server checks beyond signatures: the device's verdict is a claim;
//! the signed evidence, judged again under the policy the record names,
//! decides. A tampered app that signs "accepted" for a fix outside every site
//! is caught here, without rejecting the (authentic) record.

use serde::{Deserialize, Serialize};

use crate::ledger::record::PunchRecord;
use crate::rules::assurance::AssuranceLevel;
use crate::rules::evaluate::{Decision, evaluate};
use crate::rules::evidence::{Bssid, ValidEvidence, ValidWifi};
use crate::rules::policy::PreparedPolicy;

/// Something about an authentic record a manager should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "flag")]
pub enum ReviewFlag {
    /// The recorded evidence does not support the verdict the device signed.
    EvaluationMismatch {
        device: Decision,
        device_site: Option<String>,
        evidence: Decision,
        evidence_site: Option<String>,
    },
    /// The record says it was judged by another policy version than it names.
    PolicyVersionMismatch { named: u64, evaluated: u64 },
    /// The device's enrollment proved less about its key than the policy
    /// (or the punch's site) requires.
    AssuranceBelowMinimum {
        device: AssuranceLevel,
        required: AssuranceLevel,
    },
    /// The server, on trusted time, reads the punch's attendance otherwise
    /// than the device did (codes from `rules::shift::Attendance::code`).
    AttendanceMismatch {
        device: Option<String>,
        server: Option<String>,
    },
    /// The policy had expired when the punch was taken.
    PolicyExpired {
        expires_at_ms: i64,
        punch_time_ms: i64,
    },
}

/// Re-judges `record` under `policy` (the version it names); `punch_time_ms`
/// is the best time known for the punch (trusted where it exists).
pub fn review(
    policy: &PreparedPolicy,
    record: &PunchRecord,
    punch_time_ms: i64,
) -> Vec<ReviewFlag> {
    let mut flags = Vec::new();
    let device = &record.evaluation;
    if device.policy_version != record.policy_version {
        flags.push(ReviewFlag::PolicyVersionMismatch {
            named: record.policy_version,
            evaluated: device.policy_version,
        });
    }
    if let Some(expires_at_ms) = policy.policy.expires_at_ms
        && punch_time_ms >= expires_at_ms
    {
        flags.push(ReviewFlag::PolicyExpired {
            expires_at_ms,
            punch_time_ms,
        });
    }
    // The same evaluation the device ran, on the evidence it kept, at the
    // time it used. Travel history is not replayed: it can only have made
    // the device stricter, so only a *stricter* result here is a mismatch.
    let judged = evaluate(
        policy,
        &recorded_evidence(record),
        record.wall_time_ms,
        None,
    );
    let stricter = judged.decision > device.decision;
    let other_site = judged.decision != Decision::Rejected
        && device.site_id.is_some()
        && judged.site_id != device.site_id;
    if stricter || other_site {
        flags.push(ReviewFlag::EvaluationMismatch {
            device: device.decision,
            device_site: device.site_id.clone(),
            evidence: judged.decision,
            evidence_site: judged.site_id,
        });
    }
    flags
}

/// The evidence as the record kept it (matched networks only; see privacy).
fn recorded_evidence(record: &PunchRecord) -> ValidEvidence {
    let e = &record.evidence;
    let wifi = e
        .wifi_matched
        .iter()
        .filter_map(|text| {
            let (bssid, ssid) = match text.split_once(' ') {
                Some((b, s)) => (b, Some(s.to_string())),
                None => (text.as_str(), None),
            };
            Some(ValidWifi {
                bssid: Bssid::parse(bssid).ok()?,
                ssid,
                rssi_dbm: None,
            })
        })
        .collect();
    let ips = e.ip_matched.iter().filter_map(|t| t.parse().ok()).collect();
    ValidEvidence {
        gps: e.gps.clone(),
        wifi,
        ips,
        flags: Vec::new(),
    }
}
