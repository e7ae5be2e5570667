//! Kiosk mode end to end against the real server: a tablet enrolled to a
//! site; employees punch with employee number and PIN (verifiers from the
//! signed policy); a lock for one employee leaves the others able to punch;
//! an employee of another site is refused on the kiosk, and the server
//! refuses a kiosk record for an employee no longer assigned to its site.

use std::sync::Arc;
use std::time::Duration;

use punch_core::{ClockReading, PinError, PunchError, PunchKind, test_support::ManualClock};
use punch_model::rules::policy::{Settings, Site};
use punch_model::{geofence::LatLon, geofence::Shape};
use punch_tests::fault_proxy::FaultProxy;
use punch_tests::world::{
    EMPLOYEE, HQ, device, employer, inside_hq, now_ms, server_db, start_server,
};

fn pin_err(r: punch_core::Result<impl std::fmt::Debug>) -> PinError {
    match r {
        Err(PunchError::Pin(e)) => e,
        other => panic!("expected a PIN error, got {other:?}"),
    }
}

#[test]
fn kiosk_punches_by_employee_number_and_pin_with_per_employee_locks() {
    let dir = tempfile::tempdir().unwrap();
    let db = server_db(dir.path());
    let admin = employer(&db);
    admin.add_employee("emp-8", "Zhang Min").unwrap();
    admin.add_employee("emp-9", "Wang Fang").unwrap();
    admin
        .upsert_site(Site {
            id: "depot".into(),
            name: "Depot".into(),
            shape: Shape::Circle {
                center: LatLon {
                    lat: HQ.0 + 0.05,
                    lon: HQ.1,
                },
                radius_m: 100.0,
            },
            wifi: Default::default(),
            cidrs: vec![],
            rule: Default::default(),
            min_assurance: None,
        })
        .unwrap();
    admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            pin: Some(punch_model::pin::PinSettings {
                pbkdf2_iterations: 100_000,
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
    admin.set_kiosk_pin("hq", EMPLOYEE, "4827").unwrap();
    admin.set_kiosk_pin("hq", "emp-8", "5930").unwrap();
    admin.set_kiosk_pin("depot", "emp-9", "6041").unwrap();
    assert!(
        admin.set_kiosk_pin("hq", "emp-8", "1111").is_err(),
        "trivial PIN"
    );
    admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .unwrap();
    let server = start_server(&db);
    let proxy = FaultProxy::start(server.addr());
    let clock = Arc::new(ManualClock::new(ClockReading {
        wall_time_ms: now_ms(),
        utc_offset_min: 480,
        monotonic_ms: 10_000_000,
        boot_id: "boot-1".into(),
    }));
    let kiosk = device(&dir.path().join("kiosk.db"), &proxy, &admin, &clock, 100);
    let code = admin
        .kiosk_enrollment_code("hq", Duration::from_secs(600))
        .unwrap();
    assert_eq!(kiosk.enroll(&code).unwrap(), "kiosk:hq");
    assert!(kiosk.sync().unwrap().error.is_none());
    assert_eq!(kiosk.kiosk_site().unwrap().as_deref(), Some("hq"));

    // A kiosk never punches for itself.
    assert_eq!(
        pin_err(kiosk.punch(PunchKind::ClockIn, &inside_hq(&kiosk))),
        PinError::NotOnThisKiosk
    );
    let mine = kiosk
        .kiosk_punch(EMPLOYEE, "4827", PunchKind::ClockIn, &inside_hq(&kiosk))
        .unwrap();
    // An employee of another site is refused on this kiosk, before any PIN check.
    assert_eq!(
        pin_err(kiosk.kiosk_punch("emp-9", "6041", PunchKind::ClockIn, &inside_hq(&kiosk))),
        PinError::NotOnThisKiosk
    );
    // emp-8 mistypes five times: locked, on this kiosk, for emp-8 only.
    for _ in 0..4 {
        assert!(matches!(
            pin_err(kiosk.kiosk_punch("emp-8", "0815", PunchKind::ClockIn, &inside_hq(&kiosk))),
            PinError::Wrong { .. }
        ));
    }
    assert!(matches!(
        pin_err(kiosk.kiosk_punch("emp-8", "0815", PunchKind::ClockIn, &inside_hq(&kiosk))),
        PinError::Locked { .. }
    ));
    assert!(matches!(
        pin_err(kiosk.kiosk_punch("emp-8", "5930", PunchKind::ClockIn, &inside_hq(&kiosk))),
        PinError::Locked { .. }
    ));
    assert_eq!(kiosk.kiosk_pin_status("emp-8").unwrap().tries_left, 0);
    assert_eq!(kiosk.kiosk_pin_status(EMPLOYEE).unwrap().tries_left, 5);
    kiosk
        .kiosk_punch(EMPLOYEE, "4827", PunchKind::ClockOut, &inside_hq(&kiosk))
        .unwrap();

    let report = kiosk.sync().unwrap();
    assert!(report.error.is_none(), "{report:?}");
    // Two punches and emp-8's PIN events (five failures, a lock).
    assert_eq!(report.uploaded, 8);
    assert!(
        admin
            .pin_lock_state("emp-8")
            .unwrap()
            .locked_until_ms
            .is_some()
    );
    let stored = admin.punches().unwrap();
    let theirs: Vec<_> = stored
        .iter()
        .filter(|p| p.device_id == kiosk.device().unwrap().device_id)
        .collect();
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|p| p.employee_id == EMPLOYEE));
    assert_eq!(theirs[0].hash, mine.record_hash);

    // emp-8's lock ends; meanwhile the employer moves emp-8 to the depot.
    // The kiosk still holds the old policy and takes the punch; the server
    // refuses it: emp-8 is no longer assigned to this kiosk's site.
    clock.advance_ms(31 * 60_000);
    admin.set_kiosk_pin("depot", "emp-8", "5930").unwrap();
    let moved = kiosk
        .kiosk_punch("emp-8", "5930", PunchKind::ClockIn, &inside_hq(&kiosk))
        .unwrap();
    let report = kiosk.sync().unwrap();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].seq, moved.seq);
    assert_eq!(
        report.rejected[0].reason,
        Some(punch_model::wire::RejectReason::EmployeeMismatch)
    );
    let detail = report.rejected[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("not assigned to site \"hq\""), "{detail}");
    server.stop();
}
