//! Shared fixtures for punch-core integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{
    ClockReading, EngineOptions, Evidence, GpsFix, PunchEngine, WifiObservation,
    test_support::ManualClock,
};

pub const T0: i64 = 1_790_000_000_000;
pub const HQ: (f64, f64) = (31.230416, 121.473701);

/// A policy with a 100 m circle (Wi-Fi + IP) and a square polygon (GPS only).
pub fn policy_json(version: u64, expires_at_ms: Option<i64>) -> String {
    serde_json::json!({
        "version": version,
        "issued_at_ms": T0,
        "expires_at_ms": expires_at_ms,
        "settings": { "max_accuracy_m": 100, "uncertain": "review", "outside": "reject",
                      "mock_location": "reject", "max_speed_mps": 50, "impossible_travel": "review",
                      "max_fix_age_s": 120, "max_fix_skew_s": 300, "search_radius_m": 5000 },
        "sites": [
            { "id": "hq", "name": "HQ",
              "shape": { "type": "circle", "center": { "lat": HQ.0, "lon": HQ.1 }, "radius_m": 100 },
              "wifi": { "bssids": ["aa:bb:cc:dd:ee:01"], "ssids": ["HQ-Staff"] },
              "cidrs": ["198.51.100.0/24", "2001:db8:10::/48"] },
            { "id": "yard", "name": "Yard",
              "shape": { "type": "polygon", "exterior": [
                  { "lat": 31.2400, "lon": 121.4800 }, { "lat": 31.2400, "lon": 121.4820 },
                  { "lat": 31.2380, "lon": 121.4820 }, { "lat": 31.2380, "lon": 121.4800 } ] },
              "rule": { "mode": "any", "signals": ["gps"] } }
        ]
    })
    .to_string()
}

pub fn offset(from: (f64, f64), bearing: f64, metres: f64) -> (f64, f64) {
    Geodesic::wgs84().direct(from.0, from.1, bearing, metres)
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: T0,
        utc_offset_min: 480,
        monotonic_ms: 1_000_000,
        boot_id: "boot-a".into(),
    }))
}

pub fn engine_at(path: &std::path::Path, clock: Arc<ManualClock>) -> PunchEngine {
    let engine = PunchEngine::open_with(
        path,
        EngineOptions {
            signer: None,
            clock,
            ..Default::default()
        },
    )
    .expect("open engine");
    engine.set_employee("emp-1").expect("bind employee");
    engine
        .install_policy_json(policy_json(1, None).as_bytes(), None)
        .expect("install policy");
    engine
}

pub fn gps(at: (f64, f64), accuracy_m: f64, fix_time_ms: i64) -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m,
            fix_time_ms,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    }
}

pub fn wifi(bssid: &str, ssid: Option<&str>) -> Evidence {
    Evidence {
        wifi: vec![WifiObservation {
            bssid: bssid.into(),
            ssid: ssid.map(str::to_string),
            rssi_dbm: Some(-55),
        }],
        ..Evidence::default()
    }
}
