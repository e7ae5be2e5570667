//! `punch demo`, fault reports: a phone in a basement car park, where GPS
//! finds nothing. The engine records that itself (once, however often the
//! employee punches there); the employee reports it with a photo; the
//! make-up request for the clock-out they could not take cites the report,
//! and the reviewer sees the two together.

use std::time::Duration;

use punch_core::{Clock, MakeUpRequest, PunchKind};
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::fault::FaultSettings;
use punch_model::messages::{self, Locale};
use punch_server::Admin;

use crate::demo_kit::{basement, phone, start_server};

const EMPLOYEE: &str = "emp-044";

pub fn run(
    admin: &Admin,
    server_db: &std::path::Path,
    addr: std::net::SocketAddr,
    dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "\nFault reports, for a third employee ({EMPLOYEE}, team field-ops) parking in a basement:"
    );
    admin.add_employee(EMPLOYEE, "Wang Fang")?;
    admin.set_team(EMPLOYEE, Some("field-ops"))?;
    let mut settings = admin.settings()?;
    settings.faults = Some(FaultSettings::default());
    admin.set_settings(settings)?;
    let version = admin.publish_policy(Duration::from_secs(30 * 86_400))?;
    let server = start_server(server_db, addr)?;
    let (clock, engine) = phone(&dir.join("device-3.db"), admin, &server)?;
    engine.enroll(&admin.create_enrollment_code(EMPLOYEE, Duration::from_secs(900))?)?;
    engine.sync()?;
    println!("   Policy v{version} asks phones to record the faults they see (settings.faults).");

    for kind in [PunchKind::ClockIn, PunchKind::BreakStart] {
        clock.clock.advance_ms(60_000);
        let r = engine.punch(kind, &basement())?;
        println!(
            "   - {kind:?} in the basement by the office Wi-Fi alone: {:?} at {}",
            r.evaluation.decision,
            r.evaluation.site_id.as_deref().unwrap_or("-")
        );
    }
    for f in engine.faults()? {
        println!(
            "   - the engine recorded #{} {} ({} / {}), once for both punches",
            f.seq,
            f.report.kind.name(),
            messages::fault_message(f.report.kind, Locale::English).text,
            messages::fault_message(f.report.kind, Locale::SimplifiedChinese).text
        );
    }
    let photo = engine.attach(
        b"(a screenshot: location searching...)".to_vec(),
        "image/png",
    )?;
    engine.report_fault(
        "location_unavailable",
        "GPS finds nothing in the car park; the clock-out button stayed grey",
        vec![photo],
    )?;
    let report = engine
        .faults()?
        .pop()
        .ok_or("the employee's report was not kept")?;
    println!(
        "   - the employee reports it with a screenshot: fault #{} (signed by the channel key, no prompt)",
        report.seq
    );
    let filed = engine.file_make_up_request(MakeUpRequest {
        kind: PunchKind::ClockOut,
        intended_time_ms: clock.now().wall_time_ms - 30 * 60_000,
        site_id: Some("hq".into()),
        reason: "could not clock out in the car park".into(),
        attachments: vec![],
        refused_attempt: None,
        fault: Some(report.citation()),
    })?;
    println!(
        "   - a make-up request #{} for the missed clock-out cites fault #{}",
        filed.seq, report.seq
    );
    let synced = engine.sync()?;
    println!("   sync(): {} records uploaded.", synced.uploaded);

    println!(
        "   The reviewer's queue (GET /admin/v1/requests shows `cited_fault` beside a request;"
    );
    println!("   the reviewer page, under Requests and Faults):");
    let faults = admin.events(Some(punch_model::ledger::fault::EVENT_TYPE))?;
    let request = admin
        .requests(Some("pending"))?
        .into_iter()
        .find(|r| r.event_id == filed.event_id.to_string())
        .ok_or("the make-up request is not pending on the server")?;
    let Some(ChainEvent::MakeUpRequest(asked)) = serde_json::from_str(&request.body).ok() else {
        return Err("the stored request does not parse".into());
    };
    let cited = asked.fault.ok_or("the request lost its citation")?;
    let fault = faults
        .iter()
        .find(|f| f.device_id == cited.device_id && f.seq == cited.seq)
        .ok_or("the cited fault is not on the server")?;
    let Some(ChainEvent::Fault(body)) = serde_json::from_str(&fault.body).ok() else {
        return Err("the stored fault does not parse".into());
    };
    println!(
        "     request  {} {:?} — \"{}\" (pending)",
        request.employee_id, asked.kind, asked.reason
    );
    println!(
        "     cites    fault {} #{}: {} ({:?}), \"{}\", {} file(s)",
        fault.device_id,
        fault.seq,
        body.kind.name(),
        body.source,
        body.text,
        body.attachments.len()
    );
    println!(
        "     and {} fault event(s) from this phone in all (GET /admin/v1/faults?team=field-ops).",
        faults.iter().filter(|f| f.employee_id == EMPLOYEE).count()
    );
    admin.decide_request(
        &request.event_id,
        true,
        "manager-zhang",
        "seen the fault report",
    )?;
    server.stop();
    Ok(())
}
