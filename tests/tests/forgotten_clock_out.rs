//! A forgotten clock-out end to end, through the real server and a real
//! phone engine: the employee clocks in and goes home; the server's
//! detection closes the occurrence at the shift's end with a server-made
//! entry; the phone's next sync brings the notice (EN/ZH); the employee's
//! make-up request answers it and a manager approves it. Then a second
//! day: the phone clocks out offline, detection flags the day meanwhile,
//! and the late clock-out wins when it arrives.
//!
//! The shift is three minutes long around now (the server's detection is
//! run as at five minutes from now), so no test waits a working day.

use punch_core::{PunchKind, forgotten_make_up};
use punch_model::messages::Locale;
use punch_model::rules::forgotten::{ForgottenClockOutAction, ForgottenState};
use punch_model::rules::shift::Shift;
use punch_server::Schedule;
use punch_tests::world::{World, now_ms};

const MINUTE: i64 = 60_000;
const DAY: i64 = 1_440 * MINUTE;

/// A three-minute shift that started this minute, clock-outs until a
/// minute after its end, under `action`; the phone has it installed.
fn world(action: ForgottenClockOutAction) -> (World, i64) {
    let w = World::new();
    let start_ms = now_ms() - now_ms().rem_euclid(MINUTE);
    // UTC: `HH:MM` is the minute of the day.
    let hhmm = |ms: i64| {
        let m = ms.rem_euclid(DAY) / MINUTE;
        format!("{:02}:{:02}", m / 60, m % 60)
    };
    let shift: Shift = serde_json::from_value(serde_json::json!({
        "id": "short", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": hhmm(start_ms), "end": hhmm(start_ms + 3 * MINUTE),
        "latest_out_min": 1, "grace_late_min": 5, "grace_early_min": 5
    }))
    .unwrap();
    w.admin
        .set_schedule(Schedule {
            time_zone: Some("UTC".into()),
            shifts: vec![shift],
            ..Schedule::default()
        })
        .unwrap();
    let mut settings = w.admin.settings().unwrap();
    settings.forgotten_clock_out = action;
    w.admin.set_settings(settings).unwrap();
    w.admin
        .publish_policy(std::time::Duration::from_secs(30 * 86_400))
        .unwrap();
    assert!(w.engine.sync().unwrap().error.is_none());
    (w, start_ms)
}

#[test]
fn closed_by_the_server_told_at_sync_and_answered_by_a_make_up() {
    let (w, start_ms) = world(ForgottenClockOutAction::CloseAtShiftEnd);
    let clock_in = w.punch();
    assert_eq!(
        clock_in.evaluation.attendance.as_ref().map(|a| a.code()),
        Some("on_time")
    );
    assert!(w.engine.sync().unwrap().error.is_none());
    // Nothing is forgotten while the window is open.
    assert_eq!(
        w.admin
            .detect_forgotten_clock_outs(now_ms())
            .unwrap()
            .flagged,
        0
    );
    let later = now_ms() + 5 * MINUTE;
    assert_eq!(
        w.admin.detect_forgotten_clock_outs(later).unwrap().flagged,
        1
    );
    assert_eq!(
        w.admin.detect_forgotten_clock_outs(later).unwrap().flagged,
        0
    );

    // The phone (still clocked in, as far as it knows) asks and is told.
    assert!(w.engine.sync().unwrap().error.is_none());
    let en = w.engine.forgotten_clock_outs(Locale::English).unwrap();
    assert_eq!(en.len(), 1, "{en:?}");
    let notice = &en[0].notice;
    assert_eq!(notice.state, ForgottenState::ClosedByServer);
    assert_eq!(notice.server_clock_out_ms, Some(start_ms + 3 * MINUTE));
    assert_eq!(en[0].message.code, "forgotten_clock_out_closed");
    assert!(
        en[0].message.text.contains("closed it"),
        "{}",
        en[0].message.text
    );
    let zh = w
        .engine
        .forgotten_clock_outs(Locale::SimplifiedChinese)
        .unwrap();
    assert!(
        zh[0].message.text.contains("自动签退"),
        "{}",
        zh[0].message.text
    );
    assert!(en[0].answered_by.is_empty());

    // The answer: a make-up clock-out inside the window.
    assert!(forgotten_make_up(notice, notice.closes_ms + MINUTE, "late").is_none());
    let left_at = w.engine.trusted_now_ms();
    let request = forgotten_make_up(notice, left_at, "left at once: a client called").unwrap();
    let filed = w.engine.file_make_up_request(request).unwrap();
    assert!(w.engine.sync().unwrap().error.is_none());
    let shown = w.engine.forgotten_clock_outs(Locale::English).unwrap();
    assert_eq!(shown[0].answered_by, [filed.event_id.to_string()]);
    let pending = w.admin.requests(Some("pending")).unwrap();
    assert_eq!(pending.len(), 1);
    w.admin
        .decide_request(&filed.event_id.to_string(), true, "manager", "ok")
        .unwrap();
    assert!(w.engine.sync().unwrap().error.is_none());
    let decided = w.engine.requests().unwrap();
    assert_eq!(
        punch_model::text::serde_name(&decided[0].status),
        "approved"
    );
    // The server-made entry is no punch: the ledger holds the clock-in alone.
    assert_eq!(w.admin.punches().unwrap().len(), 1);
}

#[test]
fn a_clock_out_uploaded_after_detection_wins() {
    let (mut w, _) = world(ForgottenClockOutAction::Flag);
    w.punch();
    assert!(w.engine.sync().unwrap().error.is_none());
    // Offline: the clock-out stays on the phone.
    w.stop_server();
    let out = w.punch_kind(PunchKind::ClockOut);
    let later = now_ms() + 5 * MINUTE;
    assert_eq!(
        w.admin.detect_forgotten_clock_outs(later).unwrap().flagged,
        1
    );
    assert_eq!(
        w.admin
            .forgotten_clock_outs(punch_tests::world::EMPLOYEE)
            .unwrap()[0]
            .state,
        ForgottenState::Flagged
    );
    w.start_server();
    w.engine.network_available().unwrap();
    assert!(w.engine.sync().unwrap().error.is_none());
    let again = w.admin.detect_forgotten_clock_outs(later).unwrap();
    assert_eq!((again.flagged, again.superseded), (0, 1));
    let kept = w
        .admin
        .forgotten_clock_outs(punch_tests::world::EMPLOYEE)
        .unwrap();
    assert_eq!(kept.len(), 1, "the notice stays on record");
    assert_eq!(kept[0].state, ForgottenState::Superseded);
    assert_eq!(
        kept[0].superseded_by.as_deref(),
        Some(out.punch_id.to_string().as_str())
    );
    assert_eq!(w.admin.punches().unwrap().len(), 2);
}
