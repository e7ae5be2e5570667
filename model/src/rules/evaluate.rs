//! Judges validated evidence against a prepared policy: per-site signal checks,
//! the site rule, anti-spoofing flags, and one decision with its reasons.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::geofence::{Containment, GpsVerdict, LatLon};
use crate::rules::evidence::{EvidenceFlag, ValidEvidence, ValidFix};
use crate::rules::policy::{Action, PreparedPolicy, PreparedSite, RuleMode, Signal};
use crate::rules::shift::Attendance;

/// The overall outcome of a punch attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    /// Recorded, but a manager should look at it.
    Review,
    Rejected,
}

impl Decision {
    fn from_action(a: Action) -> Decision {
        match a {
            Action::Accept => Decision::Accepted,
            Action::Review => Decision::Review,
            Action::Reject => Decision::Rejected,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    /// Counts as a pass, but only earns review (SSID-only, uncertain GPS).
    Weak,
    Fail,
    /// The platform gave no usable evidence of this kind.
    Unavailable,
}

/// One signal checked against one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalCheck {
    pub signal: Signal,
    pub outcome: Outcome,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub containment: Option<Containment>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub distance_to_edge_m: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteResult {
    pub site_id: String,
    pub passed: bool,
    pub review: bool,
    pub checks: Vec<SignalCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    MockLocation,
    ImpossibleTravel,
    StaleFix,
    FixTimeSkew,
    AccuracyTooLow,
    NullIsland,
    WifiPlaceholder,
    /// The app had only approximate location (`settings.reduced_accuracy`).
    ReducedAccuracy,
    /// The fix came from an external receiver (`settings.external_receiver`).
    ExternalReceiver,
    /// A site the punch was at does not take this terminal's punches
    /// (`rules::terminal`).
    TerminalRefused,
}

impl std::fmt::Display for FlagKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FlagKind::MockLocation => "mock location",
            FlagKind::ImpossibleTravel => "impossible travel",
            FlagKind::StaleFix => "stale fix",
            FlagKind::FixTimeSkew => "fix time skew",
            FlagKind::AccuracyTooLow => "accuracy too low",
            FlagKind::NullIsland => "null island",
            FlagKind::WifiPlaceholder => "Wi-Fi placeholder",
            FlagKind::ReducedAccuracy => "reduced accuracy",
            FlagKind::ExternalReceiver => "external receiver",
            FlagKind::TerminalRefused => "terminal refused",
        })
    }
}

/// An anti-spoofing or evidence-quality signal, with what policy made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub action: Action,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearestSite {
    pub site_id: String,
    pub distance_m: f64,
}

/// Everything a punch was judged on, recorded with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// The site the punch is attributed to, if any passed.
    pub site_id: Option<String>,
    pub policy_version: u64,
    pub sites: Vec<SiteResult>,
    pub flags: Vec<Flag>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nearest_site: Option<NearestSite>,
    /// Human-readable, most important first.
    pub reasons: Vec<String>,
    /// What the punch means for the shift (None: no shifts at this site).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attendance: Option<Attendance>,
}

/// The last punch's fix, for the impossible-travel check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PreviousFix {
    pub point: LatLon,
    pub accuracy_m: f64,
    pub fix_time_ms: i64,
}

/// Geodesic distance in metres on WGS-84 (the geofence's one solver).
pub fn geodesic_distance_m(a: LatLon, b: LatLon) -> f64 {
    crate::geofence::distance_m(a, b)
}

/// Judges `evidence` for a punch at `punch_time_ms` against `policy`.
pub fn evaluate(
    policy: &PreparedPolicy,
    evidence: &ValidEvidence,
    punch_time_ms: i64,
    previous: Option<&PreviousFix>,
) -> Evaluation {
    let settings = &policy.policy.settings;
    let mut flags = evidence_flags(evidence);
    let gps = usable_fix(evidence.gps.as_ref(), punch_time_ms, policy, &mut flags);
    if let (Some(fix), Some(prev)) = (evidence.gps.as_ref(), previous) {
        flags.extend(travel_flag(
            fix,
            prev,
            settings.max_speed_mps,
            settings.impossible_travel,
        ));
    }

    // Candidate sites: near the fix, or named by a Wi-Fi/IP match.
    let mut candidates: BTreeSet<usize> = BTreeSet::new();
    let mut near: Vec<(usize, GpsVerdict)> = Vec::new();
    if let Some(fix) = gps {
        near = policy
            .index
            .query(fix.point, fix.accuracy_m, settings.search_radius_m);
        candidates.extend(near.iter().map(|(i, _)| *i));
    }
    for w in &evidence.wifi {
        if let Some(sites) = policy.bssid_sites.get(&w.bssid) {
            candidates.extend(sites);
        }
        if let Some(sites) = w.ssid.as_ref().and_then(|s| policy.ssid_sites.get(s)) {
            candidates.extend(sites);
        }
    }
    for (cidr, site) in &policy.cidr_sites {
        if evidence.ips.iter().any(|ip| cidr.contains(*ip)) {
            candidates.insert(*site);
        }
    }

    let sites: Vec<SiteResult> = candidates
        .iter()
        .filter_map(|&i| {
            let site = policy.site(i)?;
            let verdict = near
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, v)| *v)
                .or_else(|| {
                    let fix = gps?;
                    Some(policy.index.shape(i)?.locate(fix.point, fix.accuracy_m))
                });
            Some(judge_site(site, gps, verdict, evidence, settings.uncertain))
        })
        .collect();

    let nearest_site = near
        .iter()
        .filter(|(_, v)| !v.point_inside)
        .min_by(|a, b| a.1.distance_to_edge_m.total_cmp(&b.1.distance_to_edge_m))
        .and_then(|(i, v)| {
            Some(NearestSite {
                site_id: policy.site(*i)?.site.id.clone(),
                distance_m: v.distance_to_edge_m,
            })
        });

    decide(policy, sites, flags, nearest_site)
}

fn evidence_flags(evidence: &ValidEvidence) -> Vec<Flag> {
    evidence
        .flags
        .iter()
        .map(|f| match f {
            EvidenceFlag::NullIsland => Flag {
                kind: FlagKind::NullIsland,
                action: Action::Accept,
                detail: "fix at 0,0 (a platform default) ignored".into(),
            },
            EvidenceFlag::WifiPlaceholder => Flag {
                kind: FlagKind::WifiPlaceholder,
                action: Action::Accept,
                detail: "placeholder BSSID 02:00:00:00:00:00 ignored (Wi-Fi permission missing?)"
                    .into(),
            },
        })
        .collect()
}

/// The fix if it may serve as GPS evidence; records why not otherwise.
fn usable_fix<'a>(
    fix: Option<&'a ValidFix>,
    punch_time_ms: i64,
    policy: &PreparedPolicy,
    flags: &mut Vec<Flag>,
) -> Option<&'a ValidFix> {
    let s = &policy.policy.settings;
    let fix = fix?;
    let mut usable = true;
    if fix.is_mock {
        flags.push(Flag {
            kind: FlagKind::MockLocation,
            action: s.mock_location,
            detail: "the platform reports a mock/simulated location".into(),
        });
        usable &= s.mock_location == Action::Accept;
    }
    if fix.reduced_accuracy {
        flags.push(Flag {
            kind: FlagKind::ReducedAccuracy,
            action: s.reduced_accuracy,
            detail: "the app has only approximate location".into(),
        });
    }
    if fix.external_receiver {
        flags.push(Flag {
            kind: FlagKind::ExternalReceiver,
            action: s.external_receiver,
            detail: "the fix comes from an external receiver".into(),
        });
    }
    // The monotonic age when the platform stamped the fix on that clock
    // (the user cannot set it); else the wall clocks' difference.
    let age_s = match fix.age_ms {
        Some(age) => age as f64 / 1000.0,
        None => punch_time_ms.saturating_sub(fix.fix_time_ms) as f64 / 1000.0,
    };
    if age_s > s.max_fix_age_s {
        flags.push(Flag {
            kind: FlagKind::StaleFix,
            action: Action::Accept,
            detail: format!(
                "fix is {age_s:.0} s old (limit {:.0} s); not used",
                s.max_fix_age_s
            ),
        });
        usable = false;
    } else if -age_s > s.max_fix_skew_s {
        flags.push(Flag {
            kind: FlagKind::FixTimeSkew,
            action: Action::Review,
            detail: format!(
                "fix time is {:.0} s after the punch time (limit {:.0} s)",
                -age_s, s.max_fix_skew_s
            ),
        });
    }
    if fix.accuracy_m > s.max_accuracy_m {
        flags.push(Flag {
            kind: FlagKind::AccuracyTooLow,
            action: Action::Accept,
            detail: format!(
                "accuracy {:.0} m is worse than the {:.0} m limit; not used",
                fix.accuracy_m, s.max_accuracy_m
            ),
        });
        usable = false;
    }
    usable.then_some(fix)
}

fn travel_flag(fix: &ValidFix, prev: &PreviousFix, max_mps: f64, action: Action) -> Option<Flag> {
    let distance = geodesic_distance_m(prev.point, fix.point);
    // Only the part of the distance both accuracy circles cannot explain.
    let unexplained = (distance - prev.accuracy_m - fix.accuracy_m).max(0.0);
    if unexplained == 0.0 {
        return None;
    }
    let dt_s = fix.fix_time_ms.saturating_sub(prev.fix_time_ms) as f64 / 1000.0;
    let speed = if dt_s > 0.0 {
        unexplained / dt_s
    } else {
        f64::INFINITY
    };
    (speed > max_mps).then(|| Flag {
        kind: FlagKind::ImpossibleTravel,
        action,
        detail: format!(
            "{distance:.0} m from the previous punch's fix in {dt_s:.0} s \
             (at least {speed:.0} m/s; limit {max_mps:.0} m/s)"
        ),
    })
}

fn judge_site(
    site: PreparedSite<'_>,
    gps: Option<&ValidFix>,
    verdict: Option<GpsVerdict>,
    evidence: &ValidEvidence,
    uncertain: Action,
) -> SiteResult {
    let checks: Vec<SignalCheck> = site
        .signals
        .iter()
        .map(|signal| match signal {
            Signal::Gps => gps_check(gps, verdict, uncertain),
            Signal::Wifi => wifi_check(site, evidence),
            Signal::Ip => ip_check(site, evidence),
        })
        .collect();
    let ok = |c: &SignalCheck| matches!(c.outcome, Outcome::Pass | Outcome::Weak);
    let passed = match site.site.rule.mode {
        RuleMode::Any => checks.iter().any(ok),
        RuleMode::All => !checks.is_empty() && checks.iter().all(ok),
    };
    let review = passed
        && match site.site.rule.mode {
            RuleMode::Any => !checks.iter().any(|c| c.outcome == Outcome::Pass),
            RuleMode::All => checks.iter().any(|c| c.outcome == Outcome::Weak),
        };
    SiteResult {
        site_id: site.site.id.clone(),
        passed,
        review,
        checks,
    }
}

fn gps_check(
    gps: Option<&ValidFix>,
    verdict: Option<GpsVerdict>,
    uncertain: Action,
) -> SignalCheck {
    let (Some(fix), Some(v)) = (gps, verdict) else {
        return SignalCheck {
            signal: Signal::Gps,
            outcome: Outcome::Unavailable,
            detail: "no usable location fix".into(),
            containment: None,
            distance_to_edge_m: None,
        };
    };
    let d = v.distance_to_edge_m;
    let (outcome, detail) = match v.containment {
        Containment::Inside => (
            Outcome::Pass,
            format!(
                "inside: {d:.0} m within the fence, more than the ±{:.0} m accuracy",
                fix.accuracy_m
            ),
        ),
        Containment::Outside => (
            Outcome::Fail,
            format!(
                "outside: {d:.0} m beyond the fence, more than the ±{:.0} m accuracy",
                fix.accuracy_m
            ),
        ),
        Containment::Uncertain => (
            match uncertain {
                Action::Accept => Outcome::Pass,
                Action::Review => Outcome::Weak,
                Action::Reject => Outcome::Fail,
            },
            format!(
                "uncertain: the ±{:.0} m accuracy circle straddles the fence (fix {d:.0} m {} it)",
                fix.accuracy_m,
                if v.point_inside { "inside" } else { "outside" }
            ),
        ),
    };
    SignalCheck {
        signal: Signal::Gps,
        outcome,
        detail,
        containment: Some(v.containment),
        distance_to_edge_m: Some(d),
    }
}

fn wifi_check(site: PreparedSite<'_>, evidence: &ValidEvidence) -> SignalCheck {
    let wifi = &site.site.wifi;
    let (outcome, detail) = if evidence.wifi.is_empty() {
        (Outcome::Unavailable, "no Wi-Fi scan".to_string())
    } else if let Some(w) = evidence
        .wifi
        .iter()
        .find(|w| wifi.bssids.contains(&w.bssid))
    {
        (
            Outcome::Pass,
            format!("access point {} is on the site's list", w.bssid),
        )
    } else if let Some(ssid) = evidence
        .wifi
        .iter()
        .filter_map(|w| w.ssid.as_ref())
        .find(|s| wifi.ssids.contains(s))
    {
        (
            Outcome::Weak,
            format!(
                "network name {ssid:?} matches, but no known access point (SSIDs can be copied)"
            ),
        )
    } else {
        (
            Outcome::Fail,
            format!(
                "none of {} access points seen is the site's",
                evidence.wifi.len()
            ),
        )
    };
    SignalCheck {
        signal: Signal::Wifi,
        outcome,
        detail,
        containment: None,
        distance_to_edge_m: None,
    }
}

fn ip_check(site: PreparedSite<'_>, evidence: &ValidEvidence) -> SignalCheck {
    let hit = evidence.ips.iter().find_map(|ip| {
        site.site
            .cidrs
            .iter()
            .find(|c| c.contains(*ip))
            .map(|c| (ip, c))
    });
    let (outcome, detail) = match hit {
        Some((ip, cidr)) => (Outcome::Pass, format!("address {ip} is in {cidr}")),
        None if evidence.ips.is_empty() => (Outcome::Unavailable, "no IP address given".into()),
        None => (
            Outcome::Fail,
            "no device address is in the site's ranges".into(),
        ),
    };
    SignalCheck {
        signal: Signal::Ip,
        outcome,
        detail,
        containment: None,
        distance_to_edge_m: None,
    }
}

/// The verdict from judged sites and flags (also after `rules::terminal`
/// took sites away).
pub(crate) fn decide(
    policy: &PreparedPolicy,
    sites: Vec<SiteResult>,
    flags: Vec<Flag>,
    nearest_site: Option<NearestSite>,
) -> Evaluation {
    let settings = &policy.policy.settings;
    let best = sites
        .iter()
        .filter(|s| s.passed)
        .min_by_key(|s| s.review)
        .cloned();
    let mut decision = match &best {
        Some(s) if s.review => Decision::Review,
        Some(_) => Decision::Accepted,
        None => Decision::from_action(settings.outside),
    };
    for f in &flags {
        decision = decision.max(Decision::from_action(f.action));
    }
    let reasons = reasons(best.as_ref(), &sites, &flags, nearest_site.as_ref());
    // The "nearest site" hint is for a refusal; beside a pass it only confuses.
    let nearest_site = nearest_site.filter(|_| best.is_none());
    Evaluation {
        decision,
        site_id: best.map(|s| s.site_id),
        policy_version: policy.policy.version,
        sites,
        flags,
        nearest_site,
        reasons,
        attendance: None,
    }
}

/// The reasons of an evaluation, rebuilt from its parts (after
/// `ledger::minimise` rewrote details, so no reason keeps what they dropped).
pub fn explain(evaluation: &Evaluation) -> Vec<String> {
    let best = evaluation
        .site_id
        .as_ref()
        .and_then(|id| evaluation.sites.iter().find(|s| &s.site_id == id));
    reasons(
        best,
        &evaluation.sites,
        &evaluation.flags,
        evaluation.nearest_site.as_ref(),
    )
}

fn reasons(
    best: Option<&SiteResult>,
    sites: &[SiteResult],
    flags: &[Flag],
    nearest_site: Option<&NearestSite>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    match best {
        Some(s) => {
            let basis: Vec<&str> = s
                .checks
                .iter()
                .filter(|c| matches!(c.outcome, Outcome::Pass | Outcome::Weak))
                .map(|c| c.detail.as_str())
                .collect();
            let verdict = if s.review { "needs review at" } else { "at" };
            reasons.push(format!(
                "{verdict} site {}: {}",
                s.site_id,
                basis.join("; ")
            ));
        }
        None => {
            let mut why = "not at any site".to_string();
            if let Some(n) = nearest_site {
                why.push_str(&format!(
                    "; nearest is {} at {:.0} m from its fence",
                    n.site_id, n.distance_m
                ));
            }
            for s in sites {
                let fails: Vec<&str> = s.checks.iter().map(|c| c.detail.as_str()).collect();
                why.push_str(&format!("; {}: {}", s.site_id, fails.join(", ")));
            }
            reasons.push(why);
        }
    }
    for f in flags {
        reasons.push(format!("{}: {}", f.kind, f.detail));
    }
    reasons
}
