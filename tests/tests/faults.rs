//! Fault reports end to end, phone engine and real server: the faults the
//! phone sees (its clock moved against the anchor, uploads failing for
//! longer than the policy allows) are recorded once each and uploaded like
//! punches; the employee reports one with a photo; a make-up request cites
//! it and the server checks the citation; the punches stand throughout.

use std::time::Duration;

use punch_core::{Clock, FaultCitation, FaultKind, MakeUpRequest, PunchKind};
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::fault::{FaultSettings, FaultSource};
use punch_model::rules::makeup::RequestStatus;
use punch_model::rules::policy::Settings;
use punch_tests::world::{EMPLOYEE, World};

/// Fault recording on, uploads failing for a minute make a fault.
fn with_faults(w: &World) {
    w.admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            faults: Some(FaultSettings {
                upload_failing_after_min: 1,
                ..FaultSettings::default()
            }),
            ..Settings::default()
        })
        .unwrap();
    w.admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .unwrap();
}

/// The fault events the server holds: (kind, source, text).
fn server_faults(w: &World) -> Vec<(FaultKind, FaultSource, String)> {
    w.admin
        .events(Some("fault"))
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.employee_id, EMPLOYEE);
            match serde_json::from_str(&e.body).unwrap() {
                ChainEvent::Fault(f) => (f.kind, f.source, f.text),
                other => panic!("not a fault: {other:?}"),
            }
        })
        .collect()
}

#[test]
fn the_phone_records_what_it_sees_once_and_the_server_keeps_it() {
    let mut w = World::new();
    with_faults(&w);
    assert_eq!(w.engine.sync().unwrap().error, None);
    w.punch();

    // The employee moves the phone's clock 10 minutes ahead: punches still
    // work (the server judges them on trusted time), one fault is recorded.
    let wall = w.clock.now().wall_time_ms;
    w.clock.set_wall_ms(wall + 600_000);
    w.clock.advance_ms(60_000);
    w.punch_kind(PunchKind::BreakStart);
    w.clock.advance_ms(60_000);
    w.punch_kind(PunchKind::BreakEnd);
    w.clock.set_wall_ms(w.clock.now().wall_time_ms - 600_000);
    let kinds = |w: &World| -> Vec<FaultKind> {
        w.engine
            .faults()
            .unwrap()
            .into_iter()
            .map(|f| f.report.kind)
            .collect()
    };
    assert_eq!(kinds(&w), [FaultKind::ClockMoved]);

    // The server goes away: a failed sync, 30 s later another (under the
    // minute: no fault yet), then past the minute one fault, once.
    w.stop_server();
    for step in [0, 30_000, 31_000, 30_000] {
        w.clock.advance_ms(step);
        let report = w.engine.sync_now().unwrap();
        assert!(report.error.is_some(), "{report:?}");
    }
    assert_eq!(kinds(&w), [FaultKind::ClockMoved, FaultKind::UploadFailing]);
    let failing = w.engine.faults().unwrap().pop().unwrap();
    assert!(
        failing.report.text.starts_with("failing for 1 min"),
        "{failing:?}"
    );

    // Back: everything goes up, punches and faults, in one chain.
    w.start_server();
    w.engine.network_available().unwrap();
    let report = w.engine.sync_now().unwrap();
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(w.engine.pending_count().unwrap(), 0);
    assert_eq!(w.admin.punches().unwrap().len(), 3, "every punch stood");
    let seen = server_faults(&w);
    assert_eq!(
        seen.iter().map(|f| (f.0, f.1)).collect::<Vec<_>>(),
        [
            (FaultKind::ClockMoved, FaultSource::Engine),
            (FaultKind::UploadFailing, FaultSource::Engine)
        ]
    );
    assert!(seen[0].2.starts_with("wall clock off by"), "{seen:?}");
    assert!(w.engine.verify_chain().unwrap().is_intact());
    // Uploads work again: the episode closed; a later failure is a new one.
    w.engine.sync_now().unwrap();
    assert_eq!(kinds(&w).len(), 2);
}

#[test]
fn a_reported_fault_with_a_photo_is_cited_by_a_make_up_request() {
    let w = World::new();
    with_faults(&w);
    w.engine.sync().unwrap();
    let photo = b"\xff\xd8 the phone's location settings, greyed out".to_vec();
    let attachment = w.engine.attach(photo.clone(), "image/jpeg").unwrap();
    w.engine
        .report_fault(
            "location_unavailable",
            "GPS shows nothing inside the warehouse",
            vec![attachment.clone()],
        )
        .unwrap();
    let fault = w.engine.faults().unwrap().pop().unwrap();
    let request = |fault: Option<FaultCitation>| MakeUpRequest {
        kind: PunchKind::ClockIn,
        intended_time_ms: w.clock.now().wall_time_ms - 3_600_000,
        site_id: Some("hq".into()),
        reason: "could not punch in the warehouse".into(),
        attachments: vec![],
        refused_attempt: None,
        fault,
    };
    let cited = w
        .engine
        .file_make_up_request(request(Some(fault.citation())))
        .unwrap();
    // A citation of another device's seq passes the phone (it cannot see
    // other devices) and is refused by the server with a reason.
    let foreign = w
        .engine
        .file_make_up_request(request(Some(FaultCitation {
            device_id: "someone-elses-phone".into(),
            seq: 1,
        })))
        .unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.error, None);
    assert_eq!(report.uploaded, 3, "{report:?}");

    // The server holds the fault, its photo, and the request beside it.
    assert_eq!(
        server_faults(&w),
        [(
            FaultKind::LocationUnavailable,
            FaultSource::Employee,
            "GPS shows nothing inside the warehouse".to_string()
        )]
    );
    assert_eq!(
        w.admin.attachment(EMPLOYEE, &attachment.sha256).unwrap(),
        Some(photo)
    );
    let pending = w.admin.requests(Some("pending")).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event_id, cited.event_id.to_string());

    w.engine.sync().unwrap();
    let mine = w.engine.requests().unwrap();
    let foreign_view = mine
        .iter()
        .find(|r| r.event_id == foreign.event_id.to_string())
        .unwrap();
    assert_eq!(foreign_view.status, RequestStatus::Refused);
    assert_eq!(
        foreign_view.detail.as_deref(),
        Some("fault_cited_not_found")
    );
}
