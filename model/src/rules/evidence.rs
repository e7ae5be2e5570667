//! What the platform observed at punch time (GPS fix, Wi-Fi scan, IP addresses),
//! and its validation. Structural garbage is a typed error; suspicious but
//! well-formed input (null island, Android's placeholder BSSID) becomes a flag.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::geofence::LatLon;

/// Larger than any real GPS/network fix; beyond this the number is garbage.
const MAX_SANE_ACCURACY_M: f64 = 50_000.0;
/// Faster than any airliner: a reported speed above this is garbage.
const MAX_SANE_SPEED_MPS: f64 = 400.0;
/// 2000-01-01 to 2200-01-01: anything else is a platform bug or garbage
/// (e.g. Long.MIN_VALUE), and would overflow time arithmetic.
pub const PLAUSIBLE_TIME_MS: std::ops::Range<i64> = 946_684_800_000..7_258_118_400_000;
/// Android reports this BSSID when the app lacks location permission.
const PLACEHOLDER_BSSID: Bssid = Bssid([0x02, 0, 0, 0, 0, 0]);

/// A location fix as the platform reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy (68% radius) in metres, as Android/iOS report it.
    pub accuracy_m: f64,
    /// When the fix was taken, milliseconds since the Unix epoch (UTC).
    /// Android's `Location.getTime` follows the user-settable wall clock:
    /// pass `elapsed_realtime_ms` too wherever the platform has it.
    pub fix_time_ms: i64,
    /// "gps", "network", "fused"...; informational.
    #[serde(default)]
    pub provider: String,
    /// Android `Location.isMock()`, iOS `isSimulatedBySoftware`.
    #[serde(default)]
    pub is_mock: bool,
    #[serde(default)]
    pub speed_mps: Option<f64>,
    /// When the fix was taken on the platform's monotonic clock — the clock
    /// `ClockReading::monotonic_ms` reads (Android
    /// `Location.getElapsedRealtimeNanos() / 1_000_000`). The fix's age is
    /// then measured on it, which the user cannot set. None where the
    /// platform has no such stamp (iOS): the wall clock is used.
    #[serde(default)]
    pub elapsed_realtime_ms: Option<u64>,
    /// The app only has approximate location (Android's "approximate"
    /// permission, iOS `accuracyAuthorization == .reducedAccuracy`).
    #[serde(default)]
    pub reduced_accuracy: bool,
    /// The fix comes from an external receiver (iOS
    /// `sourceInformation.isProducedByAccessory`).
    #[serde(default)]
    pub external_receiver: bool,
}

/// One access point from a Wi-Fi scan (or the connected network).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WifiObservation {
    pub bssid: String,
    #[serde(default)]
    pub ssid: Option<String>,
    #[serde(default)]
    pub rssi_dbm: Option<i32>,
}

/// Everything the platform passes in for one punch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default)]
    pub gps: Option<GpsFix>,
    #[serde(default)]
    pub wifi: Vec<WifiObservation>,
    /// The device's own IP addresses (textual IPv4/IPv6).
    #[serde(default)]
    pub ip_addresses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    #[error("GPS {field} is not a finite number")]
    NonFinite { field: &'static str },
    #[error("GPS latitude {0} is outside -90..90")]
    LatitudeOutOfRange(f64),
    #[error("GPS longitude {0} is outside -180..180")]
    LongitudeOutOfRange(f64),
    #[error("GPS accuracy {0} m is not a positive radius")]
    AccuracyNotPositive(f64),
    #[error("GPS accuracy {0} m is absurd (over {MAX_SANE_ACCURACY_M} m)")]
    AccuracyAbsurd(f64),
    #[error("GPS speed {0} m/s is negative or absurd")]
    SpeedInvalid(f64),
    #[error("GPS fix time {0} ms is not a plausible time (2000..2200)")]
    FixTimeInvalid(i64),
    #[error("malformed BSSID {0:?}: expected six hex octets like aa:bb:cc:dd:ee:ff")]
    MalformedBssid(String),
    #[error("malformed IP address {0:?}")]
    MalformedIp(String),
    #[error("GPS provider name is longer than 32 characters")]
    ProviderTooLong,
}

/// A normalised 48-bit MAC address (the access point's identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bssid(pub [u8; 6]);

impl Bssid {
    /// Accepts `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF` and `aabb.ccdd.eeff`, any case.
    pub fn parse(text: &str) -> Result<Bssid, EvidenceError> {
        let hex: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.'))
            .collect();
        let bad = || EvidenceError::MalformedBssid(text.to_string());
        if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| bad())?;
        }
        Ok(Bssid(out))
    }
}

impl std::fmt::Display for Bssid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl Serialize for Bssid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Bssid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Bssid::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Suspicious-but-well-formed evidence, recorded with the punch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "flag")]
pub enum EvidenceFlag {
    /// Lat/lon exactly 0,0: a platform default, never a real office.
    NullIsland,
    /// The platform's placeholder BSSID (missing Wi-Fi permission); ignored.
    WifiPlaceholder,
}

/// A fix that passed validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidFix {
    pub point: LatLon,
    pub accuracy_m: f64,
    pub fix_time_ms: i64,
    pub provider: String,
    pub is_mock: bool,
    pub speed_mps: Option<f64>,
    /// The fix's age at the punch on the monotonic clock (see
    /// [`ValidEvidence::aged_at`]); absent: judged on the wall clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<u64>,
    /// The platform's monotonic stamp: only for computing `age_ms` on the
    /// phone, never recorded (it is the phone's raw uptime).
    #[serde(skip)]
    pub elapsed_realtime_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reduced_accuracy: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external_receiver: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidWifi {
    pub bssid: Bssid,
    pub ssid: Option<String>,
    pub rssi_dbm: Option<i32>,
}

/// Evidence after validation: typed values plus flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidEvidence {
    /// None when absent or unusable (see `flags`).
    pub gps: Option<ValidFix>,
    pub wifi: Vec<ValidWifi>,
    pub ips: Vec<IpAddr>,
    pub flags: Vec<EvidenceFlag>,
}

impl ValidEvidence {
    /// The evidence with its fix's age measured at `monotonic_now_ms` (the
    /// punch's reading of the clock the fix's `elapsed_realtime_ms` is on).
    /// A stamp after now (a fix from before a reboot) says nothing: the
    /// age is then left to the wall clock.
    pub fn aged_at(&self, monotonic_now_ms: u64) -> ValidEvidence {
        let mut out = self.clone();
        if let Some(fix) = out.gps.as_mut() {
            fix.age_ms = fix
                .elapsed_realtime_ms
                .and_then(|at| monotonic_now_ms.checked_sub(at));
        }
        out
    }
}

impl Evidence {
    pub fn validate(&self) -> Result<ValidEvidence, EvidenceError> {
        let mut out = ValidEvidence::default();
        if let Some(fix) = &self.gps {
            let valid = validate_fix(fix)?;
            if valid.point.lat == 0.0 && valid.point.lon == 0.0 {
                out.flags.push(EvidenceFlag::NullIsland);
            } else {
                out.gps = Some(valid);
            }
        }
        for obs in &self.wifi {
            let bssid = Bssid::parse(&obs.bssid)?;
            if bssid == PLACEHOLDER_BSSID {
                if !out.flags.contains(&EvidenceFlag::WifiPlaceholder) {
                    out.flags.push(EvidenceFlag::WifiPlaceholder);
                }
                continue;
            }
            // iOS/Android report hidden or unknown SSIDs with these markers.
            let ssid = obs
                .ssid
                .as_deref()
                .map(|s| s.trim_matches('"'))
                .filter(|s| !s.is_empty() && *s != "<unknown ssid>")
                .map(str::to_string);
            out.wifi.push(ValidWifi {
                bssid,
                ssid,
                rssi_dbm: obs.rssi_dbm,
            });
        }
        for text in &self.ip_addresses {
            let ip: IpAddr = text
                .trim()
                .parse()
                .map_err(|_| EvidenceError::MalformedIp(text.clone()))?;
            out.ips.push(ip);
        }
        Ok(out)
    }
}

impl ValidFix {
    /// Re-checks a fix read back from a record, by the same rules the phone
    /// applied when it took it (a server must not trust a modified app).
    pub fn check(&self) -> Result<(), EvidenceError> {
        let again = validate_fix(&GpsFix {
            lat: self.point.lat,
            lon: self.point.lon,
            accuracy_m: self.accuracy_m,
            fix_time_ms: self.fix_time_ms,
            provider: self.provider.clone(),
            is_mock: self.is_mock,
            speed_mps: self.speed_mps,
            elapsed_realtime_ms: None,
            reduced_accuracy: self.reduced_accuracy,
            external_receiver: self.external_receiver,
        })?;
        if again.provider != self.provider {
            return Err(EvidenceError::ProviderTooLong);
        }
        Ok(())
    }
}

fn validate_fix(fix: &GpsFix) -> Result<ValidFix, EvidenceError> {
    for (field, value) in [
        ("latitude", fix.lat),
        ("longitude", fix.lon),
        ("accuracy", fix.accuracy_m),
    ] {
        if !value.is_finite() {
            return Err(EvidenceError::NonFinite { field });
        }
    }
    if !(-90.0..=90.0).contains(&fix.lat) {
        return Err(EvidenceError::LatitudeOutOfRange(fix.lat));
    }
    if !(-180.0..=180.0).contains(&fix.lon) {
        return Err(EvidenceError::LongitudeOutOfRange(fix.lon));
    }
    if fix.accuracy_m <= 0.0 {
        return Err(EvidenceError::AccuracyNotPositive(fix.accuracy_m));
    }
    if fix.accuracy_m > MAX_SANE_ACCURACY_M {
        return Err(EvidenceError::AccuracyAbsurd(fix.accuracy_m));
    }
    if !PLAUSIBLE_TIME_MS.contains(&fix.fix_time_ms) {
        return Err(EvidenceError::FixTimeInvalid(fix.fix_time_ms));
    }
    if let Some(speed) = fix.speed_mps
        && (!speed.is_finite() || !(0.0..=MAX_SANE_SPEED_MPS).contains(&speed))
    {
        return Err(EvidenceError::SpeedInvalid(speed));
    }
    Ok(ValidFix {
        point: LatLon {
            lat: fix.lat,
            lon: fix.lon,
        },
        accuracy_m: fix.accuracy_m,
        fix_time_ms: fix.fix_time_ms,
        // Bounded so a hostile platform string cannot bloat every record.
        provider: fix.provider.chars().take(32).collect(),
        is_mock: fix.is_mock,
        speed_mps: fix.speed_mps,
        age_ms: None,
        elapsed_realtime_ms: fix.elapsed_realtime_ms,
        reduced_accuracy: fix.reduced_accuracy,
        external_receiver: fix.external_receiver,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(lat: f64, lon: f64, acc: f64) -> GpsFix {
        GpsFix {
            lat,
            lon,
            accuracy_m: acc,
            fix_time_ms: 1_790_000_000_000,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }
    }

    fn gps_only(f: GpsFix) -> Evidence {
        Evidence {
            gps: Some(f),
            ..Evidence::default()
        }
    }

    #[test]
    fn bad_coordinates_are_typed_errors() {
        let cases = [
            (fix(f64::NAN, 1.0, 5.0), "latitude"),
            (fix(1.0, f64::INFINITY, 5.0), "longitude"),
            (fix(1.0, 1.0, f64::NAN), "accuracy"),
        ];
        for (f, field) in cases {
            assert_eq!(
                gps_only(f).validate(),
                Err(EvidenceError::NonFinite { field })
            );
        }
        assert_eq!(
            gps_only(fix(90.5, 1.0, 5.0)).validate(),
            Err(EvidenceError::LatitudeOutOfRange(90.5))
        );
        assert_eq!(
            gps_only(fix(1.0, -180.1, 5.0)).validate(),
            Err(EvidenceError::LongitudeOutOfRange(-180.1))
        );
        assert_eq!(
            gps_only(fix(1.0, 1.0, 0.0)).validate(),
            Err(EvidenceError::AccuracyNotPositive(0.0))
        );
        assert_eq!(
            gps_only(fix(1.0, 1.0, -3.0)).validate(),
            Err(EvidenceError::AccuracyNotPositive(-3.0))
        );
        assert_eq!(
            gps_only(fix(1.0, 1.0, 1e7)).validate(),
            Err(EvidenceError::AccuracyAbsurd(1e7))
        );
        // Fix times are platform longs (ms since the epoch): MIN_VALUE and
        // friends are refused, not fed to time arithmetic.
        let mut ancient = fix(1.0, 1.0, 5.0);
        ancient.fix_time_ms = i64::MIN;
        assert_eq!(
            gps_only(ancient).validate(),
            Err(EvidenceError::FixTimeInvalid(i64::MIN))
        );
        let mut fast = fix(1.0, 1.0, 5.0);
        fast.speed_mps = Some(-1.0);
        assert_eq!(
            gps_only(fast).validate(),
            Err(EvidenceError::SpeedInvalid(-1.0))
        );
    }

    #[test]
    fn null_island_is_flagged_and_not_used() {
        let v = gps_only(fix(0.0, 0.0, 5.0)).validate().unwrap();
        assert!(v.gps.is_none());
        assert_eq!(v.flags, vec![EvidenceFlag::NullIsland]);
    }

    #[test]
    fn bssids_are_normalised() {
        let a = Bssid::parse("AA-BB-CC-00-11-22").unwrap();
        let b = Bssid::parse("aa:bb:cc:00:11:22").unwrap();
        let c = Bssid::parse("aabb.cc00.1122").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.to_string(), "aa:bb:cc:00:11:22");
        for bad in [
            "",
            "aa:bb:cc:00:11",
            "zz:bb:cc:00:11:22",
            "aa:bb:cc:00:11:22:33",
        ] {
            assert!(matches!(
                Bssid::parse(bad),
                Err(EvidenceError::MalformedBssid(_))
            ));
        }
    }

    #[test]
    fn wifi_placeholder_is_flagged_and_ip_parsed() {
        let e = Evidence {
            gps: None,
            wifi: vec![
                WifiObservation {
                    bssid: "02:00:00:00:00:00".into(),
                    ssid: Some("<unknown ssid>".into()),
                    rssi_dbm: None,
                },
                WifiObservation {
                    bssid: "AA:BB:CC:DD:EE:FF".into(),
                    ssid: Some("\"Office\"".into()),
                    rssi_dbm: Some(-50),
                },
            ],
            ip_addresses: vec!["10.1.2.3".into(), "2001:db8::1".into()],
        };
        let v = e.validate().unwrap();
        assert_eq!(v.flags, vec![EvidenceFlag::WifiPlaceholder]);
        assert_eq!(v.wifi.len(), 1);
        assert_eq!(v.wifi[0].ssid.as_deref(), Some("Office"));
        assert_eq!(v.ips.len(), 2);
        let bad = Evidence {
            ip_addresses: vec!["10.1.2".into()],
            ..Evidence::default()
        };
        assert_eq!(
            bad.validate(),
            Err(EvidenceError::MalformedIp("10.1.2".into()))
        );
    }
}
