//! The employee's export, from the phone and from the server API: exactly
//! their data. Another employee's punches and device are planted beside it
//! and must be absent.

use std::sync::Arc;
use std::time::Duration;

use punch_core::{Clock, Evidence, GpsFix, PunchKind};
use punch_tests::world::{HQ, World, device};

const OTHER: &str = "emp-other";

#[test]
fn the_export_holds_exactly_the_employees_data() {
    let w = World::new();
    // Planted: emp-7 (the world's device) punches twice.
    w.engine.sync().expect("policy");
    w.punch_kind(PunchKind::ClockIn);
    w.punch_kind(PunchKind::ClockOut);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 2);
    let planted_device = w.engine.device().expect("device").device_id;
    let planted_punches: Vec<String> = w
        .admin
        .punches()
        .expect("punches")
        .into_iter()
        .map(|p| p.punch_id)
        .collect();
    // The employee who asks: another phone.
    w.admin.add_employee(OTHER, "Other").expect("employee");
    let engine = Arc::new(device(
        &w.dir.path().join("other.db"),
        &w.proxy,
        &w.admin,
        &w.clock,
        500,
    ));
    let code = w
        .admin
        .create_enrollment_code(OTHER, Duration::from_secs(600))
        .expect("code");
    engine.enroll(&code).expect("enroll");
    engine.sync().expect("policy");
    let evidence = Evidence {
        gps: Some(GpsFix {
            lat: HQ.0,
            lon: HQ.1,
            accuracy_m: 8.0,
            fix_time_ms: w.clock.now().wall_time_ms,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    };
    let mine = engine.punch(PunchKind::ClockIn, &evidence).expect("punch");
    assert_eq!(engine.sync().expect("sync").uploaded, 1);
    let my_device = engine.device().expect("device").device_id;

    // From the server API.
    let bytes = engine.fetch_server_export().expect("server export");
    let text = String::from_utf8_lossy(&bytes).to_string();
    let export: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(export["employee_id"], OTHER);
    let devices = export["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["device_id"], my_device.as_str());
    let punches = export["punches"].as_array().expect("punches");
    assert_eq!(punches.len(), 1);
    assert_eq!(punches[0]["punch_id"], mine.punch_id.to_string());
    assert!(
        punches[0]["evidence"]["gps"].is_object(),
        "its evidence is in it"
    );
    assert!(
        export["summary"]
            .as_str()
            .expect("summary")
            .contains("1 punch")
    );
    for planted in planted_punches.iter().chain([&planted_device]) {
        assert!(
            !text.contains(planted.as_str()),
            "{planted} leaked into the export"
        );
    }
    assert!(!text.contains("emp-7"), "another employee's id leaked");

    // From the phone.
    let local = engine.export_personal_data().expect("local export");
    let local_text = String::from_utf8_lossy(&local.json).to_string();
    assert!(local_text.contains(&mine.punch_id.to_string()));
    assert!(!local_text.contains(&planted_device) && !local_text.contains("emp-7"));
    assert!(
        local.summary.contains("1 signed record"),
        "{}",
        local.summary
    );
}

#[test]
fn erasure_keeps_payroll_rows_and_hashes_and_removes_the_rest() {
    let w = World::new();
    w.engine.sync().expect("policy");
    w.punch_kind(PunchKind::ClockIn);
    w.punch_kind(PunchKind::ClockOut);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 2);
    let device_id = w.engine.device().expect("device").device_id;
    let before = w.admin.punches().expect("punches");
    let report = w
        .admin
        .erase_employee("emp-7", punch_tests::world::now_ms())
        .expect("erase");
    assert_eq!((report.record_bytes, report.devices), (2, 1), "{report:?}");
    // Payroll keeps the rows: times, kind, verdict, site.
    let after = w.admin.punches().expect("punches");
    assert_eq!(after.len(), 2);
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(
            (a.wall_time_ms, &a.kind, &a.decision, &a.site_id),
            (b.wall_time_ms, &b.kind, &b.decision, &b.site_id)
        );
    }
    assert_eq!(
        w.admin.punch_record(&device_id, 1).expect("read"),
        Some(vec![])
    );
    assert!(
        w.admin
            .verify_chain(&device_id)
            .expect("verify")
            .is_intact()
    );
    let export = w
        .admin
        .export("emp-7", punch_tests::world::now_ms())
        .expect("export");
    assert!(export.punches.iter().all(|p| p.evidence.is_none()));
    assert!(export.devices.iter().all(|d| d.unbound_at_ms.is_some()));
    // The device's key is no longer accepted.
    assert!(w.engine.sync().is_err() || w.engine.sync().expect("sync").error.is_some());
}
