//! The employer's policy: sites (shape + Wi-Fi + IP), how a site's signals
//! combine, and the thresholds used to judge evidence. Parsed from JSON and
//! prepared once (validated, spatially indexed) so each punch is cheap.

use std::collections::HashMap;

use crate::rules::makeup::MakeUpRules;
use serde::{Deserialize, Serialize};

use crate::geofence::{GeofenceError, PreparedShape, Shape, SiteIndex};
use crate::rules::assurance::{AssuranceLevel, BelowMinimum};
use crate::rules::cidr::Cidr;
use crate::rules::evidence::Bssid;
use crate::rules::privacy::{PrivacySettings, PrivacySettingsError};
use crate::rules::shift::{PreparedShift, Shift, ShiftError};
use crate::rules::terminal::Terminals;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("policy is not valid JSON for the policy format: {0}")]
    Malformed(String),
    #[error("site {site:?}: {source}")]
    Shape {
        site: String,
        #[source]
        source: GeofenceError,
    },
    #[error("site id {0:?} appears twice")]
    DuplicateSite(String),
    #[error("site {site:?}: rule requires {signal:?} but the site configures none")]
    RuleWithoutSignal { site: String, signal: Signal },
    #[error("site {0:?}: rule lists no signals")]
    EmptyRule(String),
    #[error("setting {name} = {value} is out of range")]
    Setting { name: &'static str, value: f64 },
    #[error("policy expired at {expires_at_ms} (judged at {now_ms})")]
    Expired { expires_at_ms: i64, now_ms: i64 },
    #[error(transparent)]
    Shift(#[from] ShiftError),
    #[error(transparent)]
    Privacy(#[from] PrivacySettingsError),
}

/// The evidence kinds a site rule combines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Gps,
    Wifi,
    Ip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    /// The punch is at the site when any listed signal passes.
    #[default]
    Any,
    /// Every listed signal must pass.
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SiteRule {
    #[serde(default)]
    pub mode: RuleMode,
    /// Empty means "every signal the site configures".
    #[serde(default)]
    pub signals: Vec<Signal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct WifiRule {
    /// Access points (MACs) that prove presence.
    #[serde(default)]
    pub bssids: Vec<Bssid>,
    /// Network names: anyone can copy an SSID, so a match alone only earns review.
    #[serde(default)]
    pub ssids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub shape: Shape,
    #[serde(default)]
    pub wifi: WifiRule,
    #[serde(default)]
    pub cidrs: Vec<Cidr>,
    #[serde(default)]
    pub rule: SiteRule,
    /// Punches here from a device below this are flagged for review (server side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_assurance: Option<AssuranceLevel>,
    /// The terminals (phone, kiosk, browser) the site takes punches from
    /// (`rules::terminal`); none listed: all of them.
    #[serde(default, skip_serializing_if = "Terminals::accepts_all")]
    pub terminals: Terminals,
}

/// What to do with a doubtful signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    Review,
    Reject,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Fixes less accurate than this are not used as GPS evidence.
    pub max_accuracy_m: f64,
    /// When the accuracy circle straddles a fence.
    pub uncertain: Action,
    /// When no site passes.
    pub outside: Action,
    /// When the platform says the location is mocked.
    pub mock_location: Action,
    /// When the app had only approximate location (the fix is still
    /// judged with its accuracy radius).
    pub reduced_accuracy: Action,
    /// When the fix came from an external receiver (an accessory the phone
    /// cannot vouch for).
    pub external_receiver: Action,
    /// Travel faster than this since the previous punch is "impossible".
    pub max_speed_mps: f64,
    pub impossible_travel: Action,
    /// Older fixes are stale (not used as GPS evidence).
    pub max_fix_age_s: f64,
    /// A fix time this far from the punch time (either way) is suspicious.
    pub max_fix_skew_s: f64,
    /// How far to look for sites to report "nearest site" when outside.
    pub search_radius_m: f64,
    /// Wall clock further than this from trusted time means "device clock moved".
    pub max_clock_skew_s: f64,
    /// The least a device's enrollment must prove about its key (server side).
    pub min_assurance: AssuranceLevel,
    /// What the server does with a device below `min_assurance`.
    pub below_min_assurance: BelowMinimum,
    /// The punch PIN (`crate::pin`); None: no PIN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<crate::pin::PinSettings>,
    /// What is kept about a punch (`rules::privacy`); None: the exact fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy: Option<PrivacySettings>,
    /// A photo at the punch (`rules::photo`); default: never.
    #[serde(skip_serializing_if = "crate::rules::photo::PhotoSettings::is_default")]
    pub photo: crate::rules::photo::PhotoSettings,
    /// What the server does about a forgotten clock-out (`rules::forgotten`).
    #[serde(skip_serializing_if = "crate::rules::forgotten::is_flag")]
    pub forgotten_clock_out: crate::rules::forgotten::ForgottenClockOutAction,
    /// Devices an employee may have bound at once (`rules::device_limit`).
    #[serde(skip_serializing_if = "crate::rules::device_limit::MaxDevices::is_one")]
    pub max_devices: crate::rules::device_limit::MaxDevices,
    /// Silence and upload-failure limits (`ledger::fault`); None: defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<crate::ledger::fault::FaultSettings>,
}

impl Settings {
    /// The fault settings in force (the defaults when the policy names none).
    pub fn faults(&self) -> crate::ledger::fault::FaultSettings {
        self.faults.clone().unwrap_or_default()
    }

    /// The privacy settings in force (the defaults when the policy names none).
    pub fn privacy(&self) -> PrivacySettings {
        self.privacy.clone().unwrap_or_default()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_accuracy_m: 150.0,
            uncertain: Action::Review,
            outside: Action::Reject,
            mock_location: Action::Reject,
            reduced_accuracy: Action::Accept,
            external_receiver: Action::Review,
            max_speed_mps: 80.0,
            impossible_travel: Action::Review,
            max_fix_age_s: 120.0,
            max_fix_skew_s: 600.0,
            search_radius_m: 5_000.0,
            max_clock_skew_s: 120.0,
            min_assurance: AssuranceLevel::Software,
            below_min_assurance: BelowMinimum::Refuse,
            privacy: None,
            pin: None,
            photo: Default::default(),
            forgotten_clock_out: Default::default(),
            max_devices: Default::default(),
            faults: None,
        }
    }
}

/// The policy document (the bytes the server will sign in the sync issue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub version: u64,
    #[serde(default)]
    pub issued_at_ms: i64,
    /// After this instant the policy is frozen out (judged by trusted time).
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    #[serde(default)]
    pub settings: Settings,
    pub sites: Vec<Site>,
    /// The IANA zone shifts are in unless a shift names its own (the site's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Shifts: when punches are on time, late or early (see `rules::shift`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shifts: Vec<Shift>,
    /// Limits on make-up requests (`rules::makeup`).
    #[serde(default)]
    pub make_up: MakeUpRules,
}

impl Policy {
    pub fn from_json(bytes: &[u8]) -> Result<Policy, PolicyError> {
        serde_json::from_slice(bytes).map_err(|e| PolicyError::Malformed(e.to_string()))
    }

    pub fn check_not_expired(&self, now_ms: i64) -> Result<(), PolicyError> {
        match self.expires_at_ms {
            Some(expires_at_ms) if now_ms >= expires_at_ms => Err(PolicyError::Expired {
                expires_at_ms,
                now_ms,
            }),
            _ => Ok(()),
        }
    }
}

/// A site with its rule resolved to the signals it actually uses: a view
/// into [`PreparedPolicy`], which keeps each site once (in `policy.sites`)
/// rather than a second copy of every shape.
#[derive(Debug, Clone, Copy)]
pub struct PreparedSite<'a> {
    pub site: &'a Site,
    pub signals: &'a [Signal],
}

/// A validated policy with its indexes, ready for evaluation.
#[derive(Debug)]
pub struct PreparedPolicy {
    pub policy: Policy,
    /// `policy.sites[i]`'s signals at `i`.
    signals: Vec<Vec<Signal>>,
    pub index: SiteIndex,
    /// BSSID -> sites listing it.
    pub bssid_sites: HashMap<Bssid, Vec<usize>>,
    /// SSID -> sites listing it.
    pub ssid_sites: HashMap<String, Vec<usize>>,
    /// Every (range, site) pair; sites rarely have more than a few ranges.
    pub cidr_sites: Vec<(Cidr, usize)>,
    /// The shifts, with their zones loaded.
    pub shifts: Vec<PreparedShift>,
}

impl PreparedPolicy {
    /// Validates `policy` and prepares every site's shape (the slow part:
    /// geodesics for each vertex) and the indexes.
    pub fn new(policy: Policy) -> Result<PreparedPolicy, PolicyError> {
        let shapes = policy
            .sites
            .iter()
            .map(|site| {
                PreparedShape::new(&site.shape).map_err(|source| PolicyError::Shape {
                    site: site.id.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_unique_ids(&policy.sites)?;
        Self::with_index(policy, SiteIndex::build(shapes))
    }

    /// The policy with `extra` sites added, reusing this policy's prepared
    /// shapes (only the extra sites are prepared).
    pub fn with_extra_sites(&self, extra: Vec<Site>) -> Result<PreparedPolicy, PolicyError> {
        let mut shapes = self.index.shapes().to_vec();
        for site in &extra {
            shapes.push(
                PreparedShape::new(&site.shape).map_err(|source| PolicyError::Shape {
                    site: site.id.clone(),
                    source,
                })?,
            );
        }
        let mut policy = self.policy.clone();
        policy.sites.extend(extra);
        check_unique_ids(&policy.sites)?;
        Self::with_index(policy, SiteIndex::build(shapes))
    }

    /// Everything but the shapes' preparation, their index and the site
    /// ids' uniqueness (checked when the sites were first prepared):
    /// settings, signals, Wi-Fi and IP lookups, shifts. Shape `i` of `index`
    /// must be `policy.sites[i]`'s shape, prepared.
    pub(crate) fn with_index(
        policy: Policy,
        index: SiteIndex,
    ) -> Result<PreparedPolicy, PolicyError> {
        validate_settings(&policy.settings)?;
        let mut signals = Vec::with_capacity(policy.sites.len());
        let mut bssid_sites: HashMap<Bssid, Vec<usize>> = HashMap::new();
        let mut ssid_sites: HashMap<String, Vec<usize>> = HashMap::new();
        let mut cidr_sites = Vec::new();
        for (i, site) in policy.sites.iter().enumerate() {
            signals.push(resolve_signals(site)?);
            for bssid in &site.wifi.bssids {
                bssid_sites.entry(*bssid).or_default().push(i);
            }
            for ssid in &site.wifi.ssids {
                ssid_sites.entry(ssid.clone()).or_default().push(i);
            }
            cidr_sites.extend(site.cidrs.iter().map(|c| (*c, i)));
        }
        let shifts = policy
            .shifts
            .iter()
            .map(|s| PreparedShift::new(s, policy.time_zone.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PreparedPolicy {
            shifts,
            index,
            policy,
            signals,
            bssid_sites,
            ssid_sites,
            cidr_sites,
        })
    }

    /// Site `i` with its signals.
    pub fn site(&self, i: usize) -> Option<PreparedSite<'_>> {
        Some(PreparedSite {
            site: self.policy.sites.get(i)?,
            signals: self.signals.get(i)?,
        })
    }

    /// Every site with its signals, in the policy's order.
    pub fn sites(&self) -> impl ExactSizeIterator<Item = PreparedSite<'_>> + '_ {
        self.policy
            .sites
            .iter()
            .zip(&self.signals)
            .map(|(site, signals)| PreparedSite { site, signals })
    }
}

fn check_unique_ids(sites: &[Site]) -> Result<(), PolicyError> {
    let mut seen = std::collections::HashSet::with_capacity(sites.len());
    match sites.iter().find(|site| !seen.insert(site.id.as_str())) {
        Some(site) => Err(PolicyError::DuplicateSite(site.id.clone())),
        None => Ok(()),
    }
}

fn resolve_signals(site: &Site) -> Result<Vec<Signal>, PolicyError> {
    let configured = |s: Signal| match s {
        Signal::Gps => true,
        Signal::Wifi => !site.wifi.bssids.is_empty() || !site.wifi.ssids.is_empty(),
        Signal::Ip => !site.cidrs.is_empty(),
    };
    if site.rule.signals.is_empty() {
        return Ok([Signal::Gps, Signal::Wifi, Signal::Ip]
            .into_iter()
            .filter(|s| configured(*s))
            .collect());
    }
    let mut out = Vec::new();
    for s in &site.rule.signals {
        if !configured(*s) {
            return Err(PolicyError::RuleWithoutSignal {
                site: site.id.clone(),
                signal: *s,
            });
        }
        if !out.contains(s) {
            out.push(*s);
        }
    }
    if out.is_empty() {
        return Err(PolicyError::EmptyRule(site.id.clone()));
    }
    Ok(out)
}

fn validate_settings(s: &Settings) -> Result<(), PolicyError> {
    let checks: [(&'static str, f64, f64, f64); 6] = [
        ("max_accuracy_m", s.max_accuracy_m, 1.0, 50_000.0),
        ("max_speed_mps", s.max_speed_mps, 1.0, 1_000.0),
        ("max_fix_age_s", s.max_fix_age_s, 1.0, 86_400.0),
        ("max_fix_skew_s", s.max_fix_skew_s, 1.0, 86_400.0),
        ("search_radius_m", s.search_radius_m, 0.0, 1_000_000.0),
        ("max_clock_skew_s", s.max_clock_skew_s, 1.0, 86_400.0),
    ];
    for (name, value, lo, hi) in checks {
        if !value.is_finite() || value < lo || value > hi {
            return Err(PolicyError::Setting { name, value });
        }
    }
    if let Some(privacy) = &s.privacy {
        privacy.validate()?;
    }
    if let Some(pin) = &s.pin {
        pin.check()
            .map_err(|(name, value)| PolicyError::Setting { name, value })?;
    }
    s.photo
        .check()
        .map_err(|(name, value)| PolicyError::Setting { name, value })?;
    Ok(())
}
