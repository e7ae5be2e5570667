//! The attendance export of a known week, through the real server (punches
//! uploaded by a signing device, a reviewer's rejection over the API),
//! checked against figures computed by hand.
//!
//! Shift: Mon–Fri 09:00–18:00 Asia/Shanghai, 5 minutes' grace either way,
//! an unpaid break 12:00–13:00. The week of Monday 2 November 2026:
//!
//! | day | punches (local)                              | worked                         | late | early | flags |
//! |-----|----------------------------------------------|--------------------------------|------|-------|-------|
//! | Mon | in 08:55, out 18:02                          | 9:07 − 1:00 break = 487 min    | 0    | 0     |       |
//! | Tue | in 09:20, in 13:30 (rejected), out 18:00     | 8:40 − 1:00 = 460              | 20   | 0     | reviewer_rejected:1 |
//! | Wed | in 09:00, break 12:10–12:40, out 17:30       | 8:30 − 0:30 punched = 480      | 0    | 30    |       |
//! | Thu | in 08:50, no clock-out; a make-up request for | 9:10 − 1:00 = 490              | 0    | 0     | (correction: make_up:clock_out@18:00) |
//! |     | out 18:00, approved by the manager           |                                |      |       |       |
//! | Fri | in 09:03 (within grace), out 18:10 (review)  | 9:07 − 1:00 = 487              | 0    | 0     | needs_review |

use crate::common;

use common::TestServer;
use common::staff::{add_staff, ok};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use punch_model::geofence::LatLon;
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::record::PunchKind;
use punch_model::rules::evaluate::Decision;
use punch_model::rules::evidence::ValidFix;
use punch_model::rules::makeup::{MakeUpRequest, MakeUpRules};
use punch_model::rules::shift::{self, OpenShift, PreparedShift, Shift};
use punch_server::Role;
use punch_server::Schedule;

const ZONE: &str = "Asia/Shanghai";

fn at(local: &str) -> i64 {
    let dt: DateTime = local.parse().unwrap();
    TimeZone::get(ZONE)
        .unwrap()
        .to_ambiguous_timestamp(dt)
        .compatible()
        .unwrap()
        .as_millisecond()
}

/// A fix well inside the test site (so the server's re-judging agrees).
fn fix_at_hq(t: i64) -> ValidFix {
    ValidFix {
        point: LatLon {
            lat: 52.520008,
            lon: 13.404954,
        },
        accuracy_m: 10.0,
        fix_time_ms: t,
        provider: "gps".into(),
        is_mock: false,
        speed_mps: None,
        age_ms: None,
        elapsed_realtime_ms: None,
        reduced_accuracy: false,
        external_receiver: false,
    }
}

const EXPECTED: &str = "\u{feff}employee_id,name,team,date,time_zone,first_in,last_out,worked_min,break_min,late_min,early_min,punches,review_flags,corrections\r
wei,王伟,ops,2026-11-02,Asia/Shanghai,08:55,18:02,487,60,0,0,2,,\r
wei,王伟,ops,2026-11-03,Asia/Shanghai,09:20,18:00,460,60,20,0,2,reviewer_rejected:1,\r
wei,王伟,ops,2026-11-04,Asia/Shanghai,09:00,17:30,480,30,0,30,4,,\r
wei,王伟,ops,2026-11-05,Asia/Shanghai,08:50,18:00,490,60,0,0,2,,make_up:clock_out@18:00\r
wei,王伟,ops,2026-11-06,Asia/Shanghai,09:03,18:10,487,60,0,0,2,needs_review,\r
";

#[test]
fn a_known_week_matches_the_hand_computed_figures() {
    let ts = TestServer::start();
    let shift: Shift = serde_json::from_value(serde_json::json!({
        "id": "day", "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00", "end": "18:00",
        "grace_late_min": 5, "grace_early_min": 5,
        "breaks": [{"start": "12:00", "end": "13:00"}]
    }))
    .unwrap();
    ts.admin
        .set_schedule(Schedule {
            time_zone: Some(ZONE.into()),
            shifts: vec![shift.clone()],
            // The week is a month back: let make-up requests reach it.
            make_up: MakeUpRules {
                max_days_back: 90,
                ..MakeUpRules::default()
            },
        })
        .unwrap();
    let version = ts.publish();
    let mut device = ts.enrolled_device("wei");
    ts.admin.add_employee("wei", "王伟").unwrap();
    ts.admin.set_team("wei", Some("ops")).unwrap();
    // Someone in another team, on the same days: not in the ops export.
    let mut other = ts.enrolled_device("lin");
    ts.admin.set_team("lin", Some("field")).unwrap();

    use PunchKind::*;
    let week: &[(&str, PunchKind, Decision)] = &[
        ("2026-11-02T08:55", ClockIn, Decision::Accepted),
        ("2026-11-02T18:02", ClockOut, Decision::Accepted),
        ("2026-11-03T09:20", ClockIn, Decision::Accepted),
        ("2026-11-03T13:30", ClockIn, Decision::Review),
        ("2026-11-03T18:00", ClockOut, Decision::Accepted),
        ("2026-11-04T09:00", ClockIn, Decision::Accepted),
        ("2026-11-04T12:10", BreakStart, Decision::Accepted),
        ("2026-11-04T12:40", BreakEnd, Decision::Accepted),
        ("2026-11-04T17:30", ClockOut, Decision::Accepted),
        ("2026-11-05T08:50", ClockIn, Decision::Accepted),
        ("2026-11-06T09:03", ClockIn, Decision::Accepted),
        ("2026-11-06T18:10", ClockOut, Decision::Review),
    ];
    // The device judges attendance as the app does (so the server's own
    // reading agrees and raises no mismatch flag).
    let prepared = [PreparedShift::new(&shift, Some(ZONE)).unwrap()];
    let mut open: Option<OpenShift> = None;
    let mut ups = Vec::new();
    for (local, kind, decision) in week {
        let t = at(local);
        let attendance = shift::judge(&prepared, Some("hq"), *kind, t, open.as_ref());
        match kind {
            ClockIn => open = attendance.as_ref().and_then(|a| a.occurrence()).or(open),
            ClockOut => open = None,
            _ => {}
        }
        ups.push(device.next(version, |r| {
            r.kind = *kind;
            r.wall_time_ms = t;
            r.evaluation.decision = *decision;
            r.evaluation.attendance = attendance.clone();
            r.evidence.gps = Some(fix_at_hq(t));
        }));
    }
    let resp = device.upload_ok(ts.addr(), ups);
    assert_eq!(resp.head_seq, week.len() as u64);
    let up = other.next(version, |r| {
        r.wall_time_ms = at("2026-11-02T09:00");
        r.evidence.gps = Some(fix_at_hq(r.wall_time_ms));
    });
    other.upload_ok(ts.addr(), vec![up]);

    // HR reviews Tuesday's stray second clock-in (seq 4) and rejects it.
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    ok(hr.post(
        &format!("/admin/v1/punches/{}/4/review", device.id),
        &serde_json::json!({"verdict": "reject", "comment": "pressed twice"}),
    ));

    // Thursday's forgotten clock-out: a make-up request, approved by the
    // team's manager (and before that, its export shows no clock-out, and
    // the server's detection has flagged it).
    let before = ok(hr.get("/admin/v1/attendance?from=2026-11-05&to=2026-11-05&team=ops"));
    assert_eq!(
        before["rows"][0]["review_flags"],
        serde_json::json!(["no_clock_out", "forgotten_clock_out"])
    );
    let make_up = device.next_event(
        version,
        ChainEvent::MakeUpRequest(MakeUpRequest {
            kind: ClockOut,
            intended_time_ms: at("2026-11-05T18:00"),
            site_id: Some("hq".into()),
            reason: "forgot to clock out".into(),
            attachments: Vec::new(),
            refused_attempt: None,
            fault: None,
        }),
    );
    device.upload_ok(ts.addr(), vec![make_up]);
    let pending = ts.admin.requests(Some("pending")).unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let mgr = add_staff(&ts, "mgr.ops", Role::Manager, Some("ops")).sign_in(ts.addr());
    let queue = ok(mgr.get("/admin/v1/requests?status=pending"));
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
    let decided = ok(mgr.post(
        &format!("/admin/v1/requests/{}/decision", pending[0].event_id),
        &serde_json::json!({"decision": "approve", "comment": "seen on the gate log"}),
    ));
    assert_eq!(decided["status"], "approved");

    let csv = hr.get("/admin/v1/attendance?from=2026-11-02&to=2026-11-08&team=ops&format=csv");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(String::from_utf8(csv.body).unwrap(), EXPECTED);

    // The JSON form carries the same figures; a narrower range cuts days.
    let json = ok(hr.get("/admin/v1/attendance?from=2026-11-04&to=2026-11-04&team=ops"));
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{json}");
    assert_eq!(rows[0]["worked_min"], 480);
    assert_eq!(rows[0]["break_min"], 30);
    assert_eq!(rows[0]["early_min"], 30);
    // Without a team filter HR gets both teams.
    let all = ok(hr.get("/admin/v1/attendance?from=2026-11-02&to=2026-11-02"));
    assert_eq!(all["rows"].as_array().unwrap().len(), 2, "{all}");
}
