//! The everyday exceptions end to end, through the real server on
//! 127.0.0.1 and real SQLite files: a refused punch kept as evidence, a
//! make-up request with a file approved by a manager, the policy's limits
//! judged on the phone, a field-work site approved, used on its day and
//! refused after it.

use std::time::Duration;

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{Clock, Evidence, GpsFix, PunchError, PunchKind};
use punch_model::geofence::LatLon;
use punch_model::rules::field_work::FieldWorkRequest;
use punch_model::rules::makeup::{MakeUpRefusal, MakeUpRequest, MakeUpRules, RequestStatus};
use punch_server::Schedule;
use punch_tests::world::{HQ, World};

const HOUR: i64 = 3_600_000;
const DAY: u64 = 86_400_000;

fn fix_at(world: &World, at: (f64, f64)) -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m: 8.0,
            fix_time_ms: world.clock.now().wall_time_ms,
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

/// A client's office 1.5 km east of HQ: outside every employer site.
fn client_office() -> (f64, f64) {
    Geodesic::wgs84().direct(HQ.0, HQ.1, 90.0, 1_500.0)
}

/// The UTC date of the day after `time_ms`.
fn day_after(time_ms: i64) -> punch_model::rules::field_work::Date {
    let days = time_ms.div_euclid(DAY as i64) + 1;
    punch_model::rules::field_work::Date::constant(1970, 1, 1)
        .checked_add(punch_model::rules::field_work::Span::new().days(days))
        .unwrap()
}

fn make_up(world: &World, back_ms: i64) -> MakeUpRequest {
    MakeUpRequest {
        kind: PunchKind::ClockIn,
        intended_time_ms: world.clock.now().wall_time_ms - back_ms,
        site_id: Some("hq".into()),
        reason: "the phone had no signal in the lift".into(),
        attachments: vec![],
        refused_attempt: None,
        fault: None,
    }
}

#[test]
fn a_make_up_request_with_a_file_is_approved_and_the_decision_flows_back() {
    let w = World::new();
    w.engine.sync().unwrap();
    // A punch from the client's office is refused, and kept as evidence.
    let refused = w
        .engine
        .punch(PunchKind::ClockIn, &fix_at(&w, client_office()));
    assert!(
        matches!(refused, Err(PunchError::Refused(_))),
        "{refused:?}"
    );
    let attempts = w.engine.refused_attempts().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].refused.kind, PunchKind::ClockIn);
    assert!(w.engine.punches(0, 10).unwrap().is_empty());

    let photo = b"\xff\xd8 a photo of the client's reception desk".to_vec();
    let attachment = w.engine.attach(photo.clone(), "image/jpeg").unwrap();
    let mut request = make_up(&w, HOUR);
    request.attachments = vec![attachment.clone()];
    request.refused_attempt = Some(attempts[0].event_id.parse().unwrap());
    let filed = w.engine.file_make_up_request(request).unwrap();
    assert_eq!(
        w.engine.requests().unwrap()[0].status,
        RequestStatus::Pending
    );

    let report = w.engine.sync().unwrap();
    assert_eq!(report.error, None);
    assert_eq!(report.uploaded, 2, "{report:?}");
    // The server holds the request, pending, and the file it names.
    let pending = w.admin.requests(Some("pending")).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event_id, filed.event_id.to_string());
    assert_eq!(
        w.admin
            .attachment(punch_tests::world::EMPLOYEE, &attachment.sha256)
            .unwrap(),
        Some(photo)
    );
    assert_eq!(w.admin.events(Some("refused_punch")).unwrap().len(), 1);

    let id = filed.event_id.to_string();
    w.admin
        .decide_request(&id, true, "manager-zhang", "seen the photo")
        .unwrap();
    // Decided once: a second decision is refused.
    assert!(w.admin.decide_request(&id, false, "x", "no").is_err());
    w.engine.sync().unwrap();
    let mine = w.engine.requests().unwrap();
    assert_eq!(mine[0].status, RequestStatus::Approved);
    assert_eq!(mine[0].comment.as_deref(), Some("seen the photo"));
    assert!(w.engine.verify_chain().unwrap().is_intact());
}

#[test]
fn the_policy_limits_make_up_requests_on_the_phone() {
    let w = World::new();
    w.admin
        .set_schedule(Schedule {
            make_up: MakeUpRules {
                max_per_month: 2,
                max_days_back: 3,
                ..MakeUpRules::default()
            },
            ..Schedule::default()
        })
        .unwrap();
    w.admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .unwrap();
    w.engine.sync().unwrap();
    let queued = w.engine.pending_count().unwrap();
    let too_old = w.engine.file_make_up_request(make_up(&w, 5 * 24 * HOUR));
    assert!(
        matches!(
            too_old,
            Err(PunchError::MakeUp(MakeUpRefusal::TooFarBack {
                days: 5,
                max: 3
            }))
        ),
        "{too_old:?}"
    );
    let future = w.engine.file_make_up_request(make_up(&w, -HOUR));
    assert!(matches!(
        future,
        Err(PunchError::MakeUp(MakeUpRefusal::InFuture))
    ));
    // The same minute twice (never across a month boundary), then the limit.
    for _ in 0..2 {
        w.engine.file_make_up_request(make_up(&w, 60_000)).unwrap();
    }
    let third = w.engine.file_make_up_request(make_up(&w, 60_000));
    assert!(
        matches!(
            third,
            Err(PunchError::MakeUp(MakeUpRefusal::MonthlyLimit {
                used: 2,
                max: 2,
                ..
            }))
        ),
        "{third:?}"
    );
    // A file that was never attached, and a refused attempt that never was.
    let mut unknown = make_up(&w, 60_000);
    unknown.refused_attempt = Some(punch_model::ledger::record::Uuid::new_v4());
    assert!(matches!(
        w.engine.file_make_up_request(unknown),
        Err(PunchError::UnknownReference { .. })
    ));
    // Refusals store nothing.
    assert_eq!(w.engine.pending_count().unwrap(), queued + 2);
    w.engine.sync().unwrap();
    assert_eq!(w.admin.requests(Some("pending")).unwrap().len(), 2);
}

#[test]
fn an_approved_field_site_is_used_on_its_day_and_refused_after_it() {
    let w = World::new();
    w.engine.sync().unwrap();
    let office = client_office();
    // The policy names no zone: days are UTC days.
    let tomorrow = day_after(w.engine.trusted_now_ms());
    let proposal = FieldWorkRequest {
        center: LatLon {
            lat: office.0,
            lon: office.1,
        },
        radius_m: 200.0,
        address: Some("Client Ltd, 8 Shennan Road".into()),
        from_date: tomorrow,
        to_date: tomorrow,
        reason: "quarterly audit at the client".into(),
    };
    // Bad proposals are refused before anything is signed.
    let mut huge = proposal.clone();
    huge.radius_m = 50_000.0;
    assert!(matches!(
        w.engine.propose_field_work(huge),
        Err(PunchError::FieldWork(_))
    ));
    let filed = w.engine.propose_field_work(proposal).unwrap();
    w.engine.sync().unwrap();
    w.admin
        .decide_request(&filed.event_id.to_string(), true, "manager-zhang", "")
        .unwrap();
    w.engine.sync().unwrap();
    assert_eq!(w.engine.field_sites().len(), 1);
    assert_eq!(
        w.engine.requests().unwrap()[0].status,
        RequestStatus::Approved
    );

    // Approved for tomorrow: not today.
    let at_client = || w.engine.punch(PunchKind::ClockIn, &fix_at(&w, office));
    assert!(matches!(at_client(), Err(PunchError::Refused(_))));
    // Tomorrow (by the monotonic clock too: trusted time moves).
    w.clock.advance_ms(DAY);
    let receipt = at_client().unwrap();
    let site = receipt.evaluation.site_id.clone().unwrap();
    assert!(site.starts_with("field:"), "{site}");
    // The day after: refused again, offline.
    w.clock.advance_ms(DAY);
    assert!(matches!(at_client(), Err(PunchError::Refused(_))));

    // The server re-judges the punch against the same field site.
    w.engine.sync().unwrap();
    let stored = w.admin.punches().unwrap();
    let punch = stored.iter().find(|p| p.seq == receipt.seq).unwrap();
    assert_eq!(punch.site_id.as_deref(), Some(site.as_str()));
    assert!(
        !punch.review_flags.iter().any(|f| matches!(
            f,
            punch_model::ledger::review::ReviewFlag::EvaluationMismatch { .. }
        )),
        "{:?}",
        punch.review_flags
    );
}

/// A shift that started ten minutes ago (UTC), every day, 5 minutes' grace.
fn schedule_started_ten_minutes_ago(now_ms: i64) -> Schedule {
    let minute_of_day = (now_ms - 10 * 60_000).rem_euclid(DAY as i64) / 60_000;
    let hhmm = |m: i64| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
    let shift = serde_json::json!({
        "id": "day", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": hhmm(minute_of_day), "end": hhmm(minute_of_day + 8 * 60),
        "grace_late_min": 5, "grace_early_min": 5
    });
    Schedule {
        time_zone: Some("UTC".into()),
        shifts: vec![serde_json::from_value(shift).unwrap()],
        ..Schedule::default()
    }
}

#[test]
fn a_forgotten_clock_out_is_judged_the_same_on_the_phone_and_the_server() {
    let w = World::new();
    w.admin
        .set_schedule(schedule_started_ten_minutes_ago(w.clock.now().wall_time_ms))
        .unwrap();
    w.admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .unwrap();
    w.engine.sync().unwrap();
    let code = |r: &punch_core::PunchReceipt| {
        r.evaluation
            .attendance
            .as_ref()
            .map(|a| a.code().to_string())
    };
    let first = w.punch();
    assert_eq!(
        code(&first).as_deref(),
        Some("late"),
        "{:?}",
        first.evaluation
    );
    // Twelve hours on, the clock-out forgotten: a clock-in outside any window.
    w.clock.advance_ms(DAY / 2);
    let stray = w.punch();
    assert_eq!(code(&stray).as_deref(), Some("outside_window"));
    // The next day: matched to the new occurrence, not "already clocked in",
    // and still a clock-in (punches are never alternated).
    w.clock.advance_ms(DAY / 2);
    let next = w.punch();
    assert_eq!(
        code(&next).as_deref(),
        Some("late"),
        "{:?}",
        next.evaluation
    );
    assert_eq!(next.kind, PunchKind::ClockIn);
    w.engine.sync().unwrap();
    let stored = w.admin.punches().unwrap();
    for receipt in [&first, &stray, &next] {
        let p = stored.iter().find(|p| p.seq == receipt.seq).unwrap();
        assert_eq!(
            p.attendance.as_ref().map(|a| a.code().to_string()),
            code(receipt),
            "seq {}: {:?}",
            p.seq,
            p.review_flags
        );
    }
}
