//! What a server checks beyond signatures: the device's verdict is a claim;
//! the signed evidence, judged again under the policy the record names,
//! decides. A tampered app that signs "accepted" for a fix outside every site
//! is caught here, without rejecting the (authentic) record.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use ring::hmac;

use crate::geofence::Containment;
use crate::ledger::minimise::{
    HMAC_PREFIX, OpeningError, WITHHELD_BSSID, bssid_hmac, cell_radius_m, verify_opening,
};
use crate::ledger::record::PunchRecord;
use crate::rules::assurance::AssuranceLevel;
use crate::rules::evaluate::{Decision, Evaluation, Outcome, evaluate};
use crate::rules::evidence::{Bssid, ValidEvidence, ValidWifi};
use crate::rules::policy::{PreparedPolicy, Signal};
use crate::rules::privacy::LocationPrecision;

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
    /// The server, on trusted time and from the device's own punches (the
    /// employee's other devices are not held against it), reads the punch's
    /// attendance otherwise than the device did (codes from
    /// `rules::shift::Attendance::code`).
    AttendanceMismatch {
        device: Option<String>,
        server: Option<String>,
    },
    /// The record's payload is sealed with a data key the server does not
    /// hold: its evidence could not be re-judged.
    PayloadUnreadable { key_id: String },
    /// The policy had expired when the punch was taken.
    PolicyExpired {
        expires_at_ms: i64,
        punch_time_ms: i64,
    },
    /// The punch's site does not take punches from its terminal, or not
    /// from a key this weak (`rules::terminal`).
    TerminalNotAccepted {
        terminal: crate::rules::terminal::Terminal,
        site_id: String,
        detail: String,
    },
    /// The policy required a photo for this punch (`rules::photo`) and the
    /// record names none.
    PhotoMissing {
        reasons: Vec<crate::rules::photo::PhotoReason>,
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
    let evidence = recorded_evidence(policy, record);
    let check = match record.evidence.precision {
        None | Some(LocationPrecision::Exact) => Check::Exact,
        Some(LocationPrecision::Coarse { grid_m }) => Check::WithinCell {
            cell_radius_m: cell_radius_m(grid_m),
        },
        // The fix is gone: a verdict that rested on it cannot be re-judged
        // (only the committed opening, if revealed, can settle it).
        Some(LocationPrecision::VerdictOnly) if rests_on_gps(&record.evaluation) => return flags,
        Some(LocationPrecision::VerdictOnly) => Check::Exact,
    };
    flags.extend(compare(policy, record, &evidence, check));
    flags
}

/// How far a re-judgement on minimised evidence can be trusted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Check {
    /// The evidence is what the device judged: any stricter result counts.
    Exact,
    /// The fix is a grid cell's centre: only a claimed site whose fence
    /// lies beyond the cell (and the fix's accuracy) contradicts the device.
    WithinCell { cell_radius_m: f64 },
}

fn compare(
    policy: &PreparedPolicy,
    record: &PunchRecord,
    evidence: &ValidEvidence,
    check: Check,
) -> Option<ReviewFlag> {
    let device = &record.evaluation;
    let judged = evaluate(policy, evidence, record.wall_time_ms, None);
    let mismatch = match check {
        Check::Exact => {
            let stricter = judged.decision > device.decision;
            let other_site = judged.decision != Decision::Rejected
                && device.site_id.is_some()
                && judged.site_id != device.site_id;
            stricter || other_site
        }
        Check::WithinCell { cell_radius_m } => {
            let accuracy = evidence.gps.as_ref().map_or(0.0, |f| f.accuracy_m);
            let reachable = device.site_id.as_ref().is_some_and(|id| {
                judged
                    .sites
                    .iter()
                    .filter(|s| &s.site_id == id)
                    .flat_map(|s| &s.checks)
                    .filter(|c| c.signal == Signal::Gps)
                    .any(|c| match (c.containment, c.distance_to_edge_m) {
                        (Some(Containment::Outside), Some(d)) => d <= cell_radius_m + accuracy,
                        _ => true,
                    })
            });
            judged.decision == Decision::Rejected
                && device.decision != Decision::Rejected
                && !reachable
        }
    };
    mismatch.then(|| ReviewFlag::EvaluationMismatch {
        device: device.decision,
        device_site: device.site_id.clone(),
        evidence: judged.decision,
        evidence_site: judged.site_id,
    })
}

/// Whether the device's attributed site passed on its GPS check.
fn rests_on_gps(evaluation: &Evaluation) -> bool {
    let Some(site) = evaluation
        .site_id
        .as_ref()
        .and_then(|id| evaluation.sites.iter().find(|s| &s.site_id == id))
    else {
        // No site passed: the verdict came from `outside`, not from a fix.
        return false;
    };
    site.checks
        .iter()
        .any(|c| c.signal == Signal::Gps && matches!(c.outcome, Outcome::Pass | Outcome::Weak))
}

/// Re-judges `record` on the exact evidence the employee revealed (its
/// opening, checked against the record's commitment): the flags an exact
/// record would have had. Settles a dispute over a minimised record.
pub fn review_opening(
    policy: &PreparedPolicy,
    record: &PunchRecord,
    opening: &[u8],
) -> Result<Vec<ReviewFlag>, OpeningError> {
    let opened = verify_opening(&record.evidence, opening)?;
    let evidence = ValidEvidence {
        gps: opened.gps,
        wifi: opened
            .wifi
            .iter()
            .filter_map(|t| parse_wifi(t, &HashMap::new()))
            .collect(),
        ips: opened.ips.iter().filter_map(|t| t.parse().ok()).collect(),
        flags: Vec::new(),
    };
    Ok(compare(policy, record, &evidence, Check::Exact)
        .into_iter()
        .collect())
}

/// The evidence as the record kept it (matched networks only; see privacy):
/// HMAC'd BSSIDs are recognised by hashing the policy's own.
fn recorded_evidence(policy: &PreparedPolicy, record: &PunchRecord) -> ValidEvidence {
    let e = &record.evidence;
    let hashed = hashed_bssids(policy);
    let wifi = e
        .wifi_matched
        .iter()
        .filter_map(|text| parse_wifi(text, &hashed))
        .collect();
    let ips = e.ip_matched.iter().filter_map(|t| t.parse().ok()).collect();
    let gps = match e.precision {
        Some(LocationPrecision::VerdictOnly) => None,
        _ => e.gps.clone(),
    };
    ValidEvidence {
        gps,
        wifi,
        ips,
        flags: Vec::new(),
    }
}

/// The HMAC of every BSSID the policy lists, under its Wi-Fi key.
fn hashed_bssids(policy: &PreparedPolicy) -> HashMap<String, Bssid> {
    let Ok(Some(key)) = policy.policy.settings.privacy().wifi_key() else {
        return HashMap::new();
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    policy
        .bssid_sites
        .keys()
        .map(|b| (bssid_hmac(&key, b), *b))
        .collect()
}

/// One kept access point: "bssid", "hmac:…" or "-" (withheld), then the
/// SSID if it matched. A withheld or unknown one stands as the broadcast
/// address, which no site lists, so only its name can match.
fn parse_wifi(text: &str, hashed: &HashMap<String, Bssid>) -> Option<ValidWifi> {
    let (token, ssid) = match text.split_once(' ') {
        Some((b, s)) => (b, Some(s.to_string())),
        None => (text, None),
    };
    let bssid = if token == WITHHELD_BSSID || token.starts_with(HMAC_PREFIX) {
        hashed.get(token).copied().unwrap_or(Bssid([0xff; 6]))
    } else {
        Bssid::parse(token).ok()?
    };
    Some(ValidWifi {
        bssid,
        ssid,
        rssi_dbm: None,
    })
}
