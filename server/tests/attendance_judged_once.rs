//! Attendance for payroll is judged once: each punch under the policy
//! version in force when it was made (the one its record names), by ingest.
//! Publishing a schedule change must not move last month's late minutes in
//! the export, and a punch made under the new version is judged by it.
//!
//! Shift Mon–Fri 09:00–18:00 Asia/Shanghai, 5 minutes' grace; then the
//! employer moves the start to 09:30 and publishes. A 09:20 clock-in on
//! Monday 2 November 2026 (under the old version) stays 20 minutes late; the
//! same clock-in on Monday 7 December 2026 (under the new one) is on time.

use crate::common;

use common::TestServer;
use common::staff::{add_staff, ok};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use punch_model::ledger::record::PunchKind;
use punch_model::rules::makeup::MakeUpRules;
use punch_model::rules::shift::Shift;
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

fn schedule(start: &str) -> Schedule {
    let shift: Shift = serde_json::from_value(serde_json::json!({
        "id": "day", "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": start, "end": "18:00",
        "grace_late_min": 5, "grace_early_min": 5,
        "breaks": [{"start": "12:00", "end": "13:00"}]
    }))
    .unwrap();
    Schedule {
        time_zone: Some(ZONE.into()),
        shifts: vec![shift],
        make_up: MakeUpRules::default(),
    }
}

#[test]
fn a_published_schedule_change_leaves_past_figures_and_judges_new_punches() {
    let ts = TestServer::start();
    ts.admin.set_schedule(schedule("09:00")).unwrap();
    let old = ts.publish();
    let mut device = ts.enrolled_device("wei");
    let day = |local_in: &str, local_out: &str, version: u64, device: &mut common::Device| {
        [
            (local_in, PunchKind::ClockIn),
            (local_out, PunchKind::ClockOut),
        ]
        .into_iter()
        .map(|(local, kind)| {
            device.next(version, |r| {
                r.kind = kind;
                r.wall_time_ms = at(local);
            })
        })
        .collect::<Vec<_>>()
    };
    let ups = day("2026-11-02T09:20", "2026-11-02T18:00", old, &mut device);
    device.upload_ok(ts.addr(), ups);

    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let export = |from: &str, to: &str| {
        ok(hr.get(&format!(
            "/admin/v1/attendance?from={from}&to={to}&employee=wei"
        )))["rows"]
            .clone()
    };
    let november = export("2026-11-02", "2026-11-02");
    assert_eq!(november[0]["late_min"], 20, "{november}");
    assert_eq!(november[0]["worked_min"], 8 * 60 + 40 - 60, "{november}");

    // The start moves to 09:30: as a draft it changes nothing; published,
    // it is the new version, and the old punches keep the old judgement.
    ts.admin.set_schedule(schedule("09:30")).unwrap();
    assert_eq!(export("2026-11-02", "2026-11-02"), november, "a draft");
    let new = ts.publish();
    assert!(new > old);
    assert_eq!(
        export("2026-11-02", "2026-11-02"),
        november,
        "last month's figures moved with a schedule change"
    );

    // A punch made under the new version is judged by it: 09:20 is early now.
    let ups = day("2026-12-07T09:20", "2026-12-07T18:00", new, &mut device);
    device.upload_ok(ts.addr(), ups);
    let december = export("2026-12-07", "2026-12-07");
    assert_eq!(december[0]["late_min"], 0, "{december}");
    // Both months in one export: each day as its own version judged it.
    let both = export("2026-11-01", "2026-12-31");
    let late: Vec<_> = both
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["date"].clone(), r["late_min"].clone()))
        .collect();
    assert_eq!(
        late,
        vec![
            (serde_json::json!("2026-11-02"), serde_json::json!(20)),
            (serde_json::json!("2026-12-07"), serde_json::json!(0)),
        ]
    );
    // The stored judgements say the same (the export reads them).
    let stored: Vec<_> = ts
        .admin
        .punches()
        .unwrap()
        .into_iter()
        .filter(|p| p.kind == "clock_in")
        .map(|p| p.attendance.map(|a| a.code()))
        .collect();
    assert_eq!(stored, vec![Some("late"), Some("on_time")]);
}
