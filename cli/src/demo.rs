//! `punch demo`: the offline punch story on the embedded sample policy.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{
    ClockReading, EngineOptions, Evidence, GpsFix, ManualClock, PunchEngine, PunchError, PunchKind,
    WifiObservation,
};

use crate::CmdResult;

pub const SAMPLE_POLICY: &str = include_str!("sample_policy.json");
const HQ: (f64, f64) = (52.520008, 13.404954);
const HOUR_MS: u64 = 3_600_000;

/// A point `metres` from `from` along `bearing` (degrees), on WGS-84.
fn offset(from: (f64, f64), bearing: f64, metres: f64) -> (f64, f64) {
    Geodesic::wgs84().direct(from.0, from.1, bearing, metres)
}

fn fix(at: (f64, f64), accuracy_m: f64, clock: &ManualClock, mock: bool) -> GpsFix {
    use punch_core::Clock;
    GpsFix {
        lat: at.0,
        lon: at.1,
        accuracy_m,
        fix_time_ms: clock.now().wall_time_ms - 2_000,
        provider: "fused".into(),
        is_mock: mock,
        speed_mps: None,
    }
}

pub fn run() -> CmdResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("device.db");
    let start = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: start,
        utc_offset_min: 60,
        monotonic_ms: 5_000_000,
        boot_id: "demo-boot-1".into(),
    }));
    println!("punch demo: an offline punch story on the embedded sample policy\n");

    let engine = PunchEngine::open_with(
        &db,
        EngineOptions {
            signer: None,
            clock: clock.clone(),
            ..Default::default()
        },
    )?;
    let device = engine.device()?;
    let fingerprint = hex_prefix(&punch_core::signer::sha256(&device.public_key_spki));
    println!("1. New device in {}", db.display());
    println!("   device id {}", device.device_id);
    println!(
        "   P-256 key generated (software key in the database); public key SPKI DER, {} bytes, sha256 {fingerprint}…",
        device.public_key_spki.len()
    );
    engine.set_employee("emp-042")?;
    let version = engine.install_policy_json(SAMPLE_POLICY.as_bytes(), None)?;
    println!("2. Bound to employee emp-042; sample policy v{version} installed:");
    println!(
        "   hq    = circle, 120 m around {:?}, Wi-Fi AP a4:2b:b0:10:20:30, any of GPS/Wi-Fi/IP",
        HQ
    );
    println!("   depot = concave polygon (6 vertices), GPS only\n");

    println!("3. Punching with no network at all:");
    let gps = |at: (f64, f64), acc: f64, mock: bool| Evidence {
        gps: Some(fix(at, acc, &clock, mock)),
        ..Evidence::default()
    };
    let basement = || Evidence {
        gps: None,
        wifi: vec![
            WifiObservation {
                bssid: "A4-2B-B0-10-20-30".into(),
                ssid: Some("ACME-Office".into()),
                rssi_dbm: Some(-61),
            },
            WifiObservation {
                bssid: "5c:11:22:33:44:55".into(),
                ssid: Some("Neighbour".into()),
                rssi_dbm: Some(-80),
            },
        ],
        ip_addresses: vec![],
    };
    // Each evidence is made when the punch happens, after the clock moved.
    type MakeEvidence<'a> = Box<dyn Fn() -> Evidence + 'a>;
    let attempts: Vec<(&str, PunchKind, MakeEvidence)> = vec![
        (
            "at the office, fix ±8 m, 20 m from the centre",
            PunchKind::ClockIn,
            Box::new(|| gps(offset(HQ, 45.0, 20.0), 8.0, false)),
        ),
        (
            "at the depot, fix ±12 m",
            PunchKind::BreakStart,
            Box::new(|| gps((52.5375, 13.3825), 12.0, false)),
        ),
        (
            "near the office fence, fix ±60 m at 100 m from the centre",
            PunchKind::BreakEnd,
            Box::new(|| gps(offset(HQ, 180.0, 100.0), 60.0, false)),
        ),
        (
            "at a café 1.5 km away, fix ±10 m",
            PunchKind::ClockOut,
            Box::new(|| gps(offset(HQ, 90.0, 1500.0), 10.0, false)),
        ),
        (
            "at the office but the OS says the location is mocked",
            PunchKind::ClockOut,
            Box::new(|| gps(offset(HQ, 0.0, 10.0), 5.0, true)),
        ),
        (
            "in the office basement: no GPS fix, Wi-Fi sees the office AP",
            PunchKind::ClockOut,
            Box::new(basement),
        ),
    ];
    for (story, kind, make) in attempts {
        clock.advance_ms(HOUR_MS);
        let evidence = make();
        println!("   - {kind:?} {story}:");
        match engine.punch(kind, &evidence) {
            Ok(r) => {
                println!(
                    "     {:?} → stored as #{} (site {}), durable before punch() returned",
                    r.evaluation.decision,
                    r.seq,
                    r.evaluation.site_id.as_deref().unwrap_or("-")
                );
                for reason in &r.evaluation.reasons {
                    println!("       why: {reason}");
                }
            }
            Err(PunchError::Refused(evaluation)) => {
                println!("     REFUSED (not stored; the employee sees why):");
                for reason in &evaluation.reasons {
                    println!("       why: {reason}");
                }
            }
            Err(e) => return Err(e.into()),
        }
    }

    println!("\n4. The signed offline queue (SQLite, WAL, synchronous=FULL):");
    println!("   seq  kind          decision  upload   record hash");
    for p in engine.punches(0, 100)? {
        println!(
            "   {:<4} {:<13} {:<9} {:<8} {}…",
            p.seq,
            p.kind,
            p.decision,
            p.upload_state,
            hex_prefix(&p.hash)
        );
    }
    let report = engine.verify_chain()?;
    println!(
        "\n5. Chain check: {} records, {} — every signature, sequence number and hash link verified",
        report.records,
        if report.is_intact() {
            "intact"
        } else {
            "BROKEN"
        }
    );
    if !report.is_intact() {
        return Err("the fresh chain should verify".into());
    }

    println!("\n6. Someone edits record #2 in the database file (moves its time back an hour):");
    tamper_wall_time(&db, 2, -3_600_000)?;
    let report = engine.verify_chain()?;
    for b in &report.breaks {
        println!("   chain break at #{}: {}", b.seq, b.problem);
    }
    let first = report.breaks.first().map(|b| b.seq);
    println!(
        "   → the check points at #{} (and the link from the record after it)",
        first.unwrap_or(0)
    );
    if first != Some(2) {
        return Err("the tampered record should be the first break".into());
    }
    println!("\nDone. The database is discarded with its temporary directory.");
    Ok(ExitCode::SUCCESS)
}

/// Rewrites the wall time inside a stored record's bytes, as an attacker
/// with the file would; hash and signature are left as they were.
fn tamper_wall_time(db: &std::path::Path, seq: i64, delta_ms: i64) -> CmdResult {
    let conn = rusqlite::Connection::open(db)?;
    let bytes: Vec<u8> =
        conn.query_row("SELECT record FROM punches WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })?;
    let mut value: serde_json::Value = serde_json::from_slice(&bytes)?;
    let wall = value["wall_time_ms"]
        .as_i64()
        .ok_or("record has no wall time")?;
    value["wall_time_ms"] = (wall + delta_ms).into();
    conn.execute(
        "UPDATE punches SET record = ?1 WHERE seq = ?2",
        rusqlite::params![serde_json::to_vec(&value)?, seq],
    )?;
    Ok(ExitCode::SUCCESS)
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(6).map(|b| format!("{b:02x}")).collect()
}
