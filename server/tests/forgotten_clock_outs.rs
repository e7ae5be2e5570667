//! Forgotten clock-outs through the real server: a clock-in with no
//! clock-out by the end of its window is found once however often
//! detection runs, shown in the review queue, the export and the phone's
//! `GET /v1/requests`; a policy may close it at the shift's end with a
//! server-made entry (never a punch row); a make-up request answers it;
//! a clock-out uploaded late by an offline phone wins without either
//! record being lost.
//!
//! Shift every day 09:00–18:00 Asia/Shanghai, clock-outs until 22:00
//! (`latest_out_min` 240); the day is two days before today.

use crate::common;

use common::staff::{add_staff, ok};
use common::{Device, TestServer, now_ms};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::record::PunchKind;
use punch_model::rules::forgotten::{ForgottenClockOutAction, ForgottenState};
use punch_model::rules::makeup::MakeUpRequest;
use punch_model::rules::policy::Settings;
use punch_model::rules::shift::Shift;
use punch_model::wire::{self, RequestsResponse};
use punch_server::{Admin, Role, Schedule};
use serde_json::Value;

const ZONE: &str = "Asia/Shanghai";

fn day() -> Date {
    let zone = TimeZone::get(ZONE).unwrap();
    let today = zone
        .to_datetime(jiff::Timestamp::from_millisecond(now_ms()).unwrap())
        .date();
    today.checked_sub(jiff::Span::new().days(2)).unwrap()
}

fn at(hour: i8, minute: i8) -> i64 {
    TimeZone::get(ZONE)
        .unwrap()
        .to_ambiguous_timestamp(DateTime::from_parts(
            day(),
            Time::new(hour, minute, 0, 0).unwrap(),
        ))
        .compatible()
        .unwrap()
        .as_millisecond()
}

struct Setup {
    ts: TestServer,
    phone: Device,
    version: u64,
}

fn setup(action: ForgottenClockOutAction) -> Setup {
    let ts = TestServer::start();
    let shift: Shift = serde_json::from_value(serde_json::json!({
        "id": "day", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": "09:00", "end": "18:00", "grace_late_min": 5, "grace_early_min": 5
    }))
    .unwrap();
    ts.admin
        .set_schedule(Schedule {
            time_zone: Some(ZONE.into()),
            shifts: vec![shift],
            ..Schedule::default()
        })
        .unwrap();
    ts.admin
        .set_settings(Settings {
            forgotten_clock_out: action,
            ..Settings::default()
        })
        .unwrap();
    let version = ts.publish();
    let phone = ts.enrolled_device("li");
    Setup { ts, phone, version }
}

impl Setup {
    fn punch(&mut self, kind: PunchKind, at_ms: i64) -> String {
        let up = self.phone.next(self.version, |r| {
            r.kind = kind;
            r.wall_time_ms = at_ms;
        });
        let id = serde_json::from_slice::<Value>(&up.record).unwrap()["punch_id"]
            .as_str()
            .unwrap()
            .to_string();
        self.phone.upload_ok(self.ts.addr(), vec![up]);
        id
    }

    fn detect(&self) -> punch_server::SweepReport {
        self.ts.admin.detect_forgotten_clock_outs(now_ms()).unwrap()
    }

    fn phone_told(&self) -> RequestsResponse {
        let resp = self
            .phone
            .signed(self.ts.addr(), "GET", wire::PATH_REQUESTS, b"");
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        resp.parse()
    }

    fn queue(&self, hr: &common::staff::Session) -> Vec<Value> {
        ok(hr.get("/admin/v1/forgotten-clock-outs"))["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn export_day(&self, hr: &common::staff::Session) -> Value {
        let d = day();
        let rows = ok(hr.get(&format!("/admin/v1/attendance?from={d}&to={d}")))["rows"].clone();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
        rows[0].clone()
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

#[test]
fn flagged_once_then_a_late_clock_out_wins() {
    let mut s = setup(ForgottenClockOutAction::Flag);
    let clock_in = s.punch(PunchKind::ClockIn, at(8, 58));
    // Idempotent: the second run (and a third) stores nothing more.
    assert_eq!(s.detect().flagged, 1);
    assert_eq!(s.detect().flagged, 0);
    assert_eq!(s.detect().flagged, 0);

    let hr = add_staff(&s.ts, "hr", Role::HrAdmin, None).sign_in(s.ts.addr());
    let queue = s.queue(&hr);
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["employee_id"], "li");
    assert_eq!(queue[0]["state"], "flagged");
    assert_eq!(queue[0]["clock_in_punch_id"], clock_in.as_str());
    assert_eq!(queue[0]["end_ms"], at(18, 0));
    assert!(queue[0]["server_made_entry"].is_null());

    let told = s.phone_told();
    assert_eq!(told.forgotten.len(), 1);
    assert_eq!(told.forgotten[0].state, ForgottenState::Flagged);
    assert_eq!(told.forgotten[0].clock_in_punch_id, clock_in);

    let row = s.export_day(&hr);
    let flags = strings(&row["review_flags"]);
    assert!(flags.contains(&"forgotten_clock_out"), "{row}");
    assert!(flags.contains(&"no_clock_out"), "{row}");
    // The export ran detection too: still one row.
    assert_eq!(s.queue(&hr).len(), 1);

    // The phone was offline at 18:05; its clock-out arrives now.
    let clock_out = s.punch(PunchKind::ClockOut, at(18, 5));
    let report = s.detect();
    assert_eq!((report.flagged, report.superseded), (0, 1));
    assert_eq!(s.detect().superseded, 0);
    let queue = s.queue(&hr);
    assert_eq!(queue.len(), 1, "the notice stays on record");
    assert_eq!(queue[0]["state"], "superseded");
    assert_eq!(queue[0]["superseded_by"], clock_out.as_str());
    let row = s.export_day(&hr);
    assert!(
        !strings(&row["review_flags"]).contains(&"forgotten_clock_out"),
        "{row}"
    );
    assert_eq!(row["last_out"], "18:05");
    assert_eq!(s.ts.admin.punches().unwrap().len(), 2);
    assert_eq!(
        s.phone_told().forgotten[0].state,
        ForgottenState::Superseded
    );
}

#[test]
fn closed_at_the_shift_end_by_the_server_and_answered_by_a_make_up() {
    let mut s = setup(ForgottenClockOutAction::CloseAtShiftEnd);
    s.punch(PunchKind::ClockIn, at(9, 0));
    let hr = add_staff(&s.ts, "hr", Role::HrAdmin, None).sign_in(s.ts.addr());
    // Detection at export time alone closes it.
    let row = s.export_day(&hr);
    assert_eq!(row["last_out"], "18:00", "{row}");
    assert_eq!(row["worked_min"], 9 * 60, "{row}");
    assert!(
        strings(&row["review_flags"]).contains(&"forgotten_clock_out"),
        "{row}"
    );
    assert!(
        !strings(&row["review_flags"]).contains(&"no_clock_out"),
        "{row}"
    );
    assert_eq!(
        strings(&row["corrections"]),
        ["server_made:clock_out@18:00"]
    );
    assert_eq!(s.detect().flagged, 0, "the export stored it already");
    // Never a punch: the ledger holds the one clock-in.
    assert_eq!(s.ts.admin.punches().unwrap().len(), 1);

    let told = s.phone_told();
    assert_eq!(told.forgotten[0].state, ForgottenState::ClosedByServer);
    assert_eq!(told.forgotten[0].server_clock_out_ms, Some(at(18, 0)));

    // The employee left at 17:30 and says so.
    let answer = s.phone.next_event(
        s.version,
        ChainEvent::MakeUpRequest(MakeUpRequest {
            kind: PunchKind::ClockOut,
            intended_time_ms: at(17, 30),
            site_id: None,
            reason: "left at 17:30, forgot to clock out".into(),
            attachments: Vec::new(),
            refused_attempt: None,
            fault: None,
        }),
    );
    s.phone.upload_ok(s.ts.addr(), vec![answer]);
    let queue = s.queue(&hr);
    assert_eq!(queue[0]["state"], "closed_by_server");
    assert_eq!(queue[0]["server_made_entry"]["made_by"], "server_made");
    assert_eq!(queue[0]["server_made_entry"]["at_ms"], at(18, 0));
    let answers = queue[0]["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "{queue:?}");
    assert_eq!(answers[0]["intended_time_ms"], at(17, 30));
    assert_eq!(answers[0]["status"], "pending");

    // Approved, the answer counts instead of the server's entry.
    let id = answers[0]["event_id"].as_str().unwrap().to_string();
    s.ts.admin
        .decide_request(&id, true, "manager", "ok")
        .unwrap();
    let row = s.export_day(&hr);
    assert_eq!(row["last_out"], "17:30", "{row}");
    assert_eq!(strings(&row["corrections"]), ["make_up:clock_out@17:30"]);
    assert!(
        !strings(&row["review_flags"]).contains(&"forgotten_clock_out"),
        "{row}"
    );
    assert_eq!(s.queue(&hr)[0]["answers"][0]["status"], "approved");

    // A late real clock-out still wins over the server's entry.
    s.punch(PunchKind::ClockOut, at(18, 20));
    let row = s.export_day(&hr);
    assert_eq!(row["last_out"], "18:20", "{row}");
    assert!(
        !strings(&row["corrections"])
            .iter()
            .any(|c| c.starts_with("server_made")),
        "{row}"
    );
    let queue = s.queue(&hr);
    assert_eq!(queue[0]["state"], "superseded");
    assert_eq!(queue[0]["server_made_entry"]["at_ms"], at(18, 0), "kept");
}

#[test]
fn two_servers_detecting_at_once_store_one_row() {
    let mut s = setup(ForgottenClockOutAction::CloseAtShiftEnd);
    s.punch(PunchKind::ClockIn, at(9, 0));
    // Four processes' connections to one database.
    let admins: Vec<Admin> = (0..4).map(|_| Admin::connect(&s.ts.db).unwrap()).collect();
    let flagged: u64 = std::thread::scope(|scope| {
        let runs: Vec<_> = admins
            .iter()
            .map(|a| scope.spawn(move || a.detect_forgotten_clock_outs(now_ms()).unwrap().flagged))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).sum()
    });
    assert_eq!(flagged, 1);
    let hr = add_staff(&s.ts, "hr", Role::HrAdmin, None).sign_in(s.ts.addr());
    assert_eq!(s.queue(&hr).len(), 1);
}

/// What a periodic run reads: after a first run over the look-back, only
/// employees whose clock punches changed since the last run, or whose
/// clock-in's window may have closed since, and only from there on. It
/// finds what a full run finds: an employee clocked in now whose shift
/// closes in an hour is flagged by the first run after it closes, though
/// nothing new arrived; a month of an employee's closed days is not read
/// again.
#[test]
fn a_run_reads_only_what_changed_or_may_have_closed() {
    const MIN: i64 = 60_000;
    const DAY_MS: i64 = 86_400_000;
    let ts = TestServer::start();
    let now = now_ms();
    // A shift starting in half an hour (UTC), an hour long, no late clock-outs.
    let start = (now / MIN + 30) * MIN;
    let hhmm = |ms: i64| {
        let t = TimeZone::UTC.to_datetime(jiff::Timestamp::from_millisecond(ms).unwrap());
        format!("{:02}:{:02}", t.hour(), t.minute())
    };
    let shift: Shift = serde_json::from_value(serde_json::json!({
        "id": "soon", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": hhmm(start), "end": hhmm(start + 60 * MIN), "latest_out_min": 0
    }))
    .unwrap();
    ts.admin
        .set_schedule(Schedule {
            time_zone: Some("UTC".into()),
            shifts: vec![shift],
            ..Schedule::default()
        })
        .unwrap();
    let version = ts.publish();
    // Twenty closed days of another employee, and li clocking in now.
    let mut old = ts.enrolled_device("old");
    for days in (10..30).collect::<Vec<i64>>().chunks(5) {
        let mut batch = Vec::new();
        for d in days {
            for (kind, at) in [
                (PunchKind::ClockIn, now - d * DAY_MS),
                (PunchKind::ClockOut, now - d * DAY_MS + 40 * MIN),
            ] {
                batch.push(old.next(version, |r| {
                    r.kind = kind;
                    r.wall_time_ms = at;
                }));
            }
        }
        old.upload_ok(ts.addr(), batch);
    }
    let mut li = ts.enrolled_device("li");
    let up = li.next(version, |r| {
        r.kind = PunchKind::ClockIn;
        r.wall_time_ms = now;
    });
    li.upload_ok(ts.addr(), vec![up]);
    // Its own store, to count the punch rows each run reads.
    let store = punch_server::internal::store::open(&ts.db).unwrap();
    let admin = Admin::with_store(store.clone());
    let run = |at: i64| {
        let before = store.rows_read();
        let report = admin.detect_forgotten_clock_outs(at).unwrap();
        (store.rows_read() - before, report)
    };
    // The first run reads the look-back: every clock punch.
    let (read, first) = run(now);
    assert_eq!((read, first.flagged), (41, 0));
    // Runs while the punches are new re-read them (they changed since).
    run(start + 30 * MIN);
    // Nothing changed since: only li's clock-in, whose window is open.
    let (read, report) = run(start + 50 * MIN);
    assert_eq!((read, report.employees, report.flagged), (1, 1, 0));
    // Its window closed with nothing new: flagged, reading that one punch.
    let (read, report) = run(start + 61 * MIN);
    assert_eq!((read, report.employees, report.flagged), (1, 1, 1));
    let (_, report) = run(start + 62 * MIN);
    assert_eq!(report.flagged, 0, "stored once");
    let found = ts.admin.forgotten_clock_outs("li").unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].start_ms, found[0].end_ms),
        (start, start + 60 * MIN)
    );
    assert!(ts.admin.forgotten_clock_outs("old").unwrap().is_empty());
    // A clock-out arriving late (made inside the window) still wins.
    let up = li.next(version, |r| {
        r.kind = PunchKind::ClockOut;
        r.wall_time_ms = start + 59 * MIN;
    });
    li.upload_ok(ts.addr(), vec![up]);
    let (read, report) = run(start + 63 * MIN);
    assert_eq!((read, report.superseded), (2, 1));
}
