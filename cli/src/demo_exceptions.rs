//! `punch demo`, part 7: the everyday exceptions for a second employee —
//! a late clock-in judged offline against the shift in the site's zone, a
//! refused punch turned into a make-up request (补卡) with a photo that a
//! manager approves, and a field-work site (外勤) approved and used.

use std::time::Duration;

use punch_core::{PunchError, PunchKind};
use punch_model::geofence::LatLon;
use punch_model::messages::{self, Locale};
use punch_model::rules::field_work::FieldWorkRequest;
use punch_model::rules::makeup::{MakeUpRequest, MakeUpRules};
use punch_server::Admin;
use punch_server::Schedule;

use crate::demo_kit::{HQ, daily_shift, enrolled_phone, gps, offset, start_server};

const EMPLOYEE: &str = "emp-043";
const ZONE: &str = "Europe/Berlin";
/// How late the demo's employee is.
const LATE_MIN: i64 = 17;

pub fn run(
    admin: &Admin,
    server_db: &std::path::Path,
    addr: std::net::SocketAddr,
    dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "\n7. Exceptions, for a second employee ({EMPLOYEE}) on a new phone (the first one's chain is broken):"
    );
    // A day shift that started LATE_MIN minutes ago in Berlin, 5 minutes' grace.
    let zone = jiff::tz::TimeZone::get(ZONE)?;
    let started = zone.to_datetime(
        jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_mins(LATE_MIN))?,
    );
    let start = format!("{:02}:{:02}", started.hour(), started.minute());
    let end = format!("{:02}:{:02}", (started.hour() + 8) % 24, started.minute());
    admin.add_employee(EMPLOYEE, "Li Wei")?;
    admin.set_schedule(Schedule {
        time_zone: Some(ZONE.into()),
        shifts: vec![daily_shift("day", "Day shift", &start, &end, 240)],
        make_up: MakeUpRules::default(),
    })?;
    let version = admin.publish_policy(Duration::from_secs(30 * 86_400))?;
    let server = start_server(server_db, addr)?;
    let (clock, engine) = enrolled_phone(admin, &server, &dir.join("device-2.db"), EMPLOYEE)?;
    engine.sync()?;
    println!(
        "   Policy v{version} carries the shift \"day\" {start}–{end} {ZONE}, 5 min grace; the phone is enrolled and synced."
    );

    server.stop();
    println!("   Offline again:");
    let late = engine.punch(
        PunchKind::ClockIn,
        &gps(&clock, offset(HQ, 0.0, 20.0), 8.0, false),
    )?;
    if let Some(a) = &late.evaluation.attendance {
        println!(
            "   - ClockIn at the office, judged at once: {} / {}",
            messages::attendance_message(a, Locale::English).text,
            messages::attendance_message(a, Locale::SimplifiedChinese).text
        );
    }
    clock.clock.advance_ms(60_000);
    let client = offset(HQ, 90.0, 1_500.0);
    match engine.punch(PunchKind::BreakStart, &gps(&clock, client, 10.0, false)) {
        Err(PunchError::Refused(_)) => {}
        other => return Err(format!("expected a refusal at the client's, got {other:?}").into()),
    }
    let attempt = engine
        .refused_attempts()?
        .pop()
        .ok_or("the refused punch was not kept")?;
    println!(
        "   - BreakStart at a client's office 1.5 km away: refused, kept as refused attempt #{}",
        attempt.seq
    );
    let photo = engine.attach(b"(a photo of the visitor badge)".to_vec(), "image/jpeg")?;
    let filed = engine.file_make_up_request(MakeUpRequest {
        kind: PunchKind::BreakStart,
        intended_time_ms: attempt.wall_time_ms,
        site_id: None,
        reason: "visiting the client with the sales team".into(),
        attachments: vec![photo],
        refused_attempt: Some(attempt.event_id.parse()?),
        fault: None,
    })?;
    println!(
        "   - make-up request #{} filed for it with a photo (limits judged offline: {} a month, {} days back)",
        filed.seq,
        MakeUpRules::default().max_per_month,
        MakeUpRules::default().max_days_back
    );
    let today = punch_model::rules::field_work::day_of(
        engine.trusted_now_ms(),
        &jiff::tz::TimeZone::get(ZONE)?,
    )
    .ok_or("no date for now")?;
    let proposal = engine.propose_field_work(FieldWorkRequest {
        center: LatLon {
            lat: client.0,
            lon: client.1,
        },
        radius_m: 200.0,
        address: Some("Client GmbH, Friedrichstraße 1".into()),
        from_date: today,
        to_date: today,
        reason: "audit at the client".into(),
    })?;
    println!(
        "   - field work at the client's proposed for today (#{}), 200 m around it",
        proposal.seq
    );

    let server = start_server(server_db, addr)?;
    engine.network_available()?;
    let report = engine.sync()?;
    println!(
        "   Back online, sync(): {} uploaded; the manager's queue:",
        report.uploaded
    );
    for r in admin.requests(Some("pending"))? {
        println!("     {} {} (pending)", r.event_type, r.event_id);
        admin.decide_request(&r.event_id, true, "manager-zhang", "OK, seen the badge")?;
    }
    println!("   The manager approves both (admin CLI: punch-server admin approve <id>).");
    engine.sync()?;
    for r in engine.requests()? {
        println!(
            "   - the phone hears: #{}: {} / {}",
            r.seq,
            messages::request_status_message(
                r.status,
                r.comment.as_deref(),
                r.detail.as_deref(),
                Locale::English
            )
            .text,
            messages::request_status_message(
                r.status,
                r.comment.as_deref(),
                r.detail.as_deref(),
                Locale::SimplifiedChinese
            )
            .text,
        );
    }
    clock.clock.advance_ms(60_000);
    let there = engine.punch(PunchKind::BreakStart, &gps(&clock, client, 10.0, false))?;
    println!(
        "   - BreakStart at the client's again: {:?} at {} (the approved field site, signed for {EMPLOYEE} alone)",
        there.evaluation.decision,
        there.evaluation.site_id.as_deref().unwrap_or("-")
    );
    engine.sync()?;
    let judged = admin
        .punches()?
        .into_iter()
        .find(|p| p.employee_id == EMPLOYEE && p.seq == there.seq)
        .ok_or("the field-work punch did not reach the server")?;
    let late_on_server = admin
        .punches()?
        .into_iter()
        .find(|p| p.employee_id == EMPLOYEE && p.seq == late.seq)
        .and_then(|p| p.attendance)
        .map(|a| a.code().to_string());
    println!(
        "   The server re-judged both: the clock-in {} on its own trusted time; the field-site punch {}.",
        late_on_server.as_deref().unwrap_or("-"),
        if judged.review_flags.is_empty() {
            "agrees with the evidence"
        } else {
            "is flagged for review"
        }
    );
    server.stop();
    if !judged.review_flags.is_empty() || late.evaluation.attendance.is_none() {
        return Err("the demo expected a late clock-in and an agreed field-site punch".into());
    }
    Ok(())
}
