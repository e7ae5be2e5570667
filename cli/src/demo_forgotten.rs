//! `punch demo`, part 8: a forgotten clock-out. A third employee clocks
//! in and never clocks out; the server's detection finds the occurrence
//! once its clock-out window closed and — as this policy says — closes it
//! at the shift's end with a server-made entry (never a signed punch). The
//! phone hears of it at its next sync, in English and Chinese, and the
//! employee answers with a make-up request that the reviewer sees beside
//! the occurrence.
//!
//! The shift lasts three minutes, so the demo need not wait a working day:
//! detection is run as the server's periodic sweep would run it five
//! minutes from now.

use std::time::Duration;

use punch_core::PunchKind;
use punch_model::messages::Locale;
use punch_model::rules::forgotten::ForgottenClockOutAction;
use punch_model::rules::makeup::MakeUpRules;
use punch_server::{Admin, Schedule};

use crate::demo_kit::{HQ, daily_shift, enrolled_phone, gps, offset, start_server};

const EMPLOYEE: &str = "emp-044";
const ZONE: &str = "Europe/Berlin";
const MINUTE_MS: i64 = 60_000;

fn hhmm(zone: &jiff::tz::TimeZone, at_ms: i64) -> Result<String, Box<dyn std::error::Error>> {
    let t = zone.to_datetime(jiff::Timestamp::from_millisecond(at_ms)?);
    Ok(format!("{:02}:{:02}", t.hour(), t.minute()))
}

pub fn run(
    admin: &Admin,
    server_db: &std::path::Path,
    addr: std::net::SocketAddr,
    dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("\n7b. A forgotten clock-out, for a third employee ({EMPLOYEE}) on their own phone:");
    let zone = jiff::tz::TimeZone::get(ZONE)?;
    let now = jiff::Timestamp::now();
    let start_ms = now.as_millisecond() - now.as_millisecond().rem_euclid(MINUTE_MS);
    let (start, end) = (
        hhmm(&zone, start_ms)?,
        hhmm(&zone, start_ms + 3 * MINUTE_MS)?,
    );
    admin.add_employee(EMPLOYEE, "Wang Fang")?;
    admin.set_schedule(Schedule {
        time_zone: Some(ZONE.into()),
        shifts: vec![daily_shift("short", "Three-minute shift", &start, &end, 1)],
        make_up: MakeUpRules::default(),
    })?;
    let mut settings = admin.settings()?;
    settings.forgotten_clock_out = ForgottenClockOutAction::CloseAtShiftEnd;
    admin.set_settings(settings)?;
    let version = admin.publish_policy(Duration::from_secs(30 * 86_400))?;
    println!(
        "   Policy v{version}: shift \"short\" {start}–{end} {ZONE}, clock-outs until a minute after \
         its end; settings.forgotten_clock_out = close_at_shift_end (the default only flags)."
    );

    let server = start_server(server_db, addr)?;
    let (clock, engine) = enrolled_phone(admin, &server, &dir.join("device-3.db"), EMPLOYEE)?;
    engine.sync()?;
    let clock_in = engine.punch(
        PunchKind::ClockIn,
        &gps(&clock, offset(HQ, 0.0, 20.0), 8.0, false),
    )?;
    engine.sync()?;
    println!(
        "   - ClockIn at the office at {} ({}), uploaded; then the employee goes home without clocking out.",
        hhmm(&zone, engine.trusted_now_ms())?,
        clock_in
            .evaluation
            .attendance
            .as_ref()
            .map_or("-", |a| a.code())
    );

    let later = jiff::Timestamp::now().as_millisecond() + 5 * MINUTE_MS;
    let first = admin.detect_forgotten_clock_outs(later)?;
    let again = admin.detect_forgotten_clock_outs(later)?;
    println!(
        "   - The server's detection (every 5 minutes in each server process, and at each export), \
         run as at {}: {} found; run again: {} more (idempotent, one row per occurrence).",
        hhmm(&zone, later)?,
        first.flagged,
        again.flagged
    );

    engine.sync()?;
    let notices = engine.forgotten_clock_outs(Locale::English)?;
    let notice = notices
        .first()
        .ok_or("the phone was not told of the forgotten clock-out")?;
    let zh = engine.forgotten_clock_outs(Locale::SimplifiedChinese)?;
    println!("   - The phone's next sync brings the notice:");
    println!("       {}", notice.message.text);
    if let Some(n) = zh.first() {
        println!("       {}", n.message.text);
    }
    let left_at = notice.notice.clock_in_at_ms + MINUTE_MS;
    let answer = punch_core::forgotten_make_up(
        &notice.notice,
        left_at,
        "left a minute after clocking in: the client called",
    )
    .ok_or("the answer's time is outside the occurrence's window")?;
    let filed = engine.file_make_up_request(answer)?;
    engine.sync()?;
    println!(
        "   - The employee answers with a make-up ClockOut at {} (#{}, uploaded).",
        hhmm(&zone, left_at)?,
        filed.seq
    );

    let stored = admin.forgotten_clock_outs(EMPLOYEE)?;
    let row = stored
        .first()
        .ok_or("the server holds no forgotten clock-out")?;
    let answers: Vec<String> = admin
        .requests(Some("pending"))?
        .into_iter()
        .filter(|r| r.employee_id == EMPLOYEE)
        .map(|r| r.event_id)
        .collect();
    println!(
        "   The reviewer's queue (GET /admin/v1/forgotten-clock-outs): {EMPLOYEE} shift {} clocked in \
         {}, state {}, server-made ClockOut at {} (never a signed punch: {} punch row(s) for {EMPLOYEE}),\n     \
         answered by make-up request {} (pending); the export flags the day forgotten_clock_out \
         and lists server_made:clock_out@{}.",
        row.shift_id,
        hhmm(&zone, row.clock_in_at_ms)?,
        punch_model::text::serde_name(&row.state),
        row.server_clock_out_ms
            .map(|t| hhmm(&zone, t))
            .transpose()?
            .unwrap_or_default(),
        admin
            .punches()?
            .iter()
            .filter(|p| p.employee_id == EMPLOYEE)
            .count(),
        answers.first().map_or("-", String::as_str),
        end
    );
    for id in &answers {
        admin.decide_request(id, true, "manager-zhang", "OK")?;
    }
    engine.sync()?;
    server.stop();
    if first.flagged != 1 || again.flagged != 0 || answers.len() != 1 {
        return Err("the demo expected one forgotten clock-out answered by one request".into());
    }
    Ok(())
}
