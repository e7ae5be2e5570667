//! What of a punch's evidence is signed and stored, by the policy's privacy
//! settings (`rules::privacy`). The verdict is made on the exact evidence
//! first; then the fix is kept exact, coarsened to a grid cell, or dropped
//! (verdict + distance only), matched BSSIDs may be replaced by an HMAC, and
//! the evaluation's details are rewritten so they do not leak what was
//! dropped. When anything was dropped, the record carries a commitment
//! (SHA-256 of a salted *opening* of the exact evidence) that the phone keeps
//! and the employee may reveal to settle a dispute.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::geofence::LatLon;
use crate::ledger::record::RecordedEvidence;
use crate::ledger::signing::sha256;
use crate::rules::evaluate::{Evaluation, FlagKind, Outcome, PreviousFix, explain};
use crate::rules::evidence::{Bssid, ValidEvidence, ValidFix};
use crate::rules::policy::{PreparedPolicy, PreparedSite, Signal};
use crate::rules::privacy::{LocationPrecision, PrivacySettings, PrivacySettingsError};

/// Metres per degree of latitude (mean): the grid's scale.
const M_PER_DEG_LAT: f64 = 111_320.0;
/// How far (as a share of the grid) a cell's centre may be from a fix in
/// it: the half-diagonal (0.707) plus margin for the ellipsoid and for the
/// longitude step being taken at the cell's centre latitude.
const CELL_RADIUS_SHARE: f64 = 0.75;
/// The prefix of a BSSID kept as an HMAC.
pub const HMAC_PREFIX: &str = "hmac:";
/// The token kept instead of an access point that matched only by name: a
/// foreign network's MAC is never stored.
pub const WITHHELD_BSSID: &str = "-";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MinimiseError {
    #[error(transparent)]
    Settings(#[from] PrivacySettingsError),
    #[error("no randomness for the commitment salt")]
    Random,
    #[error("opening encoding: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// The exact evidence behind a commitment. Its JSON bytes, as the phone
/// stored them, are what is hashed and what the employee reveals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    /// 16 random bytes, hex: without them the commitment could be tested
    /// against guessed locations.
    pub salt: String,
    pub gps: Option<ValidFix>,
    /// Matched access points as observed, "bssid" or "bssid ssid".
    pub wifi: Vec<String>,
    pub ips: Vec<String>,
}

/// What a punch keeps: the record's evidence and evaluation, and the opening
/// of its commitment (for the phone's own store, never signed or sent).
#[derive(Debug, Clone)]
pub struct Minimised {
    pub evidence: RecordedEvidence,
    pub evaluation: Evaluation,
    pub opening: Option<Vec<u8>>,
}

/// Applies the policy's privacy settings to one judged punch.
pub fn minimise(
    valid: &ValidEvidence,
    policy: &PreparedPolicy,
    evaluation: &Evaluation,
) -> Result<Minimised, MinimiseError> {
    let privacy = policy.policy.settings.privacy();
    let key = privacy
        .wifi_key()?
        .map(|k| hmac::Key::new(hmac::HMAC_SHA256, &k));
    let judged: Vec<PreparedSite<'_>> = evaluation
        .sites
        .iter()
        .filter_map(|r| policy.sites().find(|s| s.site.id == r.site_id))
        .collect();
    let mut wifi_matched = Vec::new();
    let mut wifi_exact = Vec::new();
    for w in &valid.wifi {
        let bssid_matched = judged.iter().any(|s| s.site.wifi.bssids.contains(&w.bssid));
        let ssid = w
            .ssid
            .as_ref()
            .filter(|x| judged.iter().any(|s| s.site.wifi.ssids.contains(x)));
        if !bssid_matched && ssid.is_none() {
            continue;
        }
        let token = match (&key, bssid_matched) {
            (_, false) => WITHHELD_BSSID.to_string(),
            (Some(key), true) => bssid_hmac(key, &w.bssid),
            (None, true) => w.bssid.to_string(),
        };
        wifi_matched.push(with_ssid(token, ssid));
        wifi_exact.push(with_ssid(w.bssid.to_string(), ssid));
    }
    let ip_matched: Vec<String> = valid
        .ips
        .iter()
        .filter(|ip| {
            judged
                .iter()
                .any(|s| s.site.cidrs.iter().any(|c| c.contains(**ip)))
        })
        .map(|ip| ip.to_string())
        .collect();
    let mut evidence = RecordedEvidence {
        gps: valid.gps.clone(),
        wifi_matched,
        wifi_seen: valid.wifi.len(),
        ip_matched: ip_matched.clone(),
        ip_seen: valid.ips.len(),
        ..RecordedEvidence::default()
    };
    let mut evaluation = evaluation.clone();
    let dropped = privacy.location != LocationPrecision::Exact || key.is_some();
    if !dropped {
        return Ok(Minimised {
            evidence,
            evaluation,
            opening: None,
        });
    }
    match privacy.location {
        LocationPrecision::Exact => {}
        LocationPrecision::Coarse { grid_m } => {
            evidence.gps = valid.gps.as_ref().map(|fix| ValidFix {
                point: coarsen(fix.point, grid_m),
                ..fix.clone()
            });
            evidence.precision = Some(privacy.location);
        }
        LocationPrecision::VerdictOnly => {
            evidence.gps = None;
            evidence.distance_m = fence_distance(&evaluation).map(f64::round);
            evidence.precision = Some(privacy.location);
        }
    }
    rewrite_evaluation(&mut evaluation, &privacy, key.is_some());
    let opening = Opening {
        salt: hex::encode(salt()?),
        gps: valid.gps.clone(),
        wifi: wifi_exact,
        ips: ip_matched,
    };
    let bytes = serde_json::to_vec(&opening)?;
    evidence.commitment = Some(hex::encode(sha256(&bytes)));
    Ok(Minimised {
        evidence,
        evaluation,
        opening: Some(bytes),
    })
}

fn with_ssid(token: String, ssid: Option<&String>) -> String {
    match ssid {
        Some(ssid) => format!("{token} {ssid}"),
        None => token,
    }
}

fn salt() -> Result<[u8; 16], MinimiseError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| MinimiseError::Random)?;
    Ok(salt)
}

/// "hmac:" + hex HMAC-SHA256(employer key, the six octets).
pub fn bssid_hmac(key: &hmac::Key, bssid: &Bssid) -> String {
    format!(
        "{HMAC_PREFIX}{}",
        hex::encode(hmac::sign(key, &bssid.0).as_ref())
    )
}

/// The centre of the `grid_m` cell the point lies in (rows of constant
/// latitude height; each row's columns `grid_m` wide at its centre).
pub fn coarsen(point: LatLon, grid_m: f64) -> LatLon {
    let lat_step = grid_m / M_PER_DEG_LAT;
    let lat = (((point.lat + 90.0) / lat_step).floor() + 0.5) * lat_step - 90.0;
    let lat = lat.clamp(-89.999, 89.999);
    let lon_step = (grid_m / (M_PER_DEG_LAT * lat.to_radians().cos())).min(360.0);
    let lon = (((point.lon + 180.0) / lon_step).floor() + 0.5) * lon_step - 180.0;
    LatLon::new(lat, if lon > 180.0 { lon - 360.0 } else { lon })
}

/// The farthest a cell's centre lies from any fix in it, in metres.
pub fn cell_radius_m(grid_m: f64) -> f64 {
    grid_m * CELL_RADIUS_SHARE
}

/// The fix the next punch's travel check starts from: what the record kept
/// (a coarse cell counts with its radius; verdict-only keeps none).
pub fn previous_fix(evidence: &RecordedEvidence) -> Option<PreviousFix> {
    let fix = evidence.gps.as_ref()?;
    let widen = match evidence.precision {
        Some(LocationPrecision::Coarse { grid_m }) => cell_radius_m(grid_m),
        _ => 0.0,
    };
    Some(PreviousFix {
        point: fix.point,
        accuracy_m: fix.accuracy_m + widen,
        fix_time_ms: fix.fix_time_ms,
    })
}

/// The distance to the fence of the attributed site, else of the nearest.
fn fence_distance(evaluation: &Evaluation) -> Option<f64> {
    let attributed = evaluation
        .site_id
        .as_ref()
        .and_then(|id| evaluation.sites.iter().find(|s| &s.site_id == id))
        .and_then(|s| {
            s.checks
                .iter()
                .find(|c| c.signal == Signal::Gps)
                .and_then(|c| c.distance_to_edge_m)
        });
    attributed.or(evaluation.nearest_site.as_ref().map(|n| n.distance_m))
}

/// Drops from the evaluation what the evidence no longer holds: distances
/// to several fences would trilaterate the fix, a BSSID in a detail would
/// undo its HMAC.
fn rewrite_evaluation(evaluation: &mut Evaluation, privacy: &PrivacySettings, hashed: bool) {
    let attributed = evaluation.site_id.clone();
    let round = |d: f64| match privacy.location {
        LocationPrecision::Exact => d.round(),
        LocationPrecision::Coarse { grid_m } => (d / grid_m).round() * grid_m,
        LocationPrecision::VerdictOnly => d.round(),
    };
    for site in &mut evaluation.sites {
        let keep_distance = privacy.location != LocationPrecision::VerdictOnly
            || attributed.as_deref() == Some(site.site_id.as_str());
        for check in &mut site.checks {
            match check.signal {
                Signal::Gps if privacy.location != LocationPrecision::Exact => {
                    check.distance_to_edge_m = check
                        .distance_to_edge_m
                        .filter(|_| keep_distance)
                        .map(round);
                    check.detail = gps_detail(check);
                }
                Signal::Wifi if hashed && check.outcome == Outcome::Pass => {
                    check.detail = "an access point on the site's list".into();
                }
                _ => {}
            }
        }
    }
    if privacy.location != LocationPrecision::Exact {
        if let Some(n) = &mut evaluation.nearest_site {
            n.distance_m = round(n.distance_m);
        }
        for flag in &mut evaluation.flags {
            if flag.kind == FlagKind::ImpossibleTravel {
                flag.detail = "faster than the limit since the previous punch".into();
            }
        }
    }
    evaluation.reasons = explain(evaluation);
}

fn gps_detail(check: &crate::rules::evaluate::SignalCheck) -> String {
    let word = match check.containment {
        Some(c) => crate::text::serde_name(&c),
        None => match check.outcome {
            Outcome::Unavailable => "unavailable".into(),
            _ => "judged".into(),
        },
    };
    match check.distance_to_edge_m {
        Some(d) => format!("{word}: about {d:.0} m from the fence"),
        None => word,
    }
}

/// Whether `opening` (the bytes the employee revealed) is the one `record`
/// committed to, and parses.
pub fn verify_opening(
    evidence: &RecordedEvidence,
    opening: &[u8],
) -> Result<Opening, OpeningError> {
    let committed = evidence
        .commitment
        .as_ref()
        .ok_or(OpeningError::NoCommitment)?;
    if hex::encode(sha256(opening)) != *committed {
        return Err(OpeningError::Mismatch);
    }
    serde_json::from_slice(opening).map_err(|e| OpeningError::Malformed(e.to_string()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpeningError {
    #[error("the record commits to no hidden evidence (it keeps it all)")]
    NoCommitment,
    #[error("the revealed evidence is not what the record committed to")]
    Mismatch,
    #[error("the revealed evidence does not parse: {0}")]
    Malformed(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geofence::distance_m;

    #[test]
    fn a_cell_centre_is_within_the_cell_radius_of_every_fix_in_it() {
        for grid in [10.0, 100.0, 1000.0, 100_000.0] {
            for (lat, lon) in [
                (52.52, 13.405),
                (-33.9, 151.2),
                (0.0001, -179.9999),
                (70.1, 25.7),
            ] {
                for step in 0..50 {
                    let p = LatLon::new(lat + step as f64 * 0.00037, lon + step as f64 * 0.00053);
                    let c = coarsen(p, grid);
                    assert!(
                        distance_m(p, c) <= cell_radius_m(grid),
                        "{p:?} -> {c:?} at {grid}"
                    );
                }
            }
        }
    }

    #[test]
    fn nearby_fixes_share_a_cell() {
        let a = coarsen(LatLon::new(52.520_01, 13.404_95), 1000.0);
        let b = coarsen(LatLon::new(52.520_05, 13.405_02), 1000.0);
        assert_eq!(a, b);
    }
}
