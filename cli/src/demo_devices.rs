//! `punch demo`, step 8b: a second device under `settings.max_devices` — two
//! phones enroll freely, a third needs HR's single-use approval — and a
//! shift begun on one phone and ended on the other, read by the server per
//! employee across both (each phone's own verdict is advisory).

use std::sync::Arc;
use std::time::Duration;

use punch_core::{EngineOptions, PunchEngine, PunchError, PunchKind, ServerConfig, SyncError};
use punch_model::rules::device_limit::MaxDevices;
use punch_server::Admin;

use crate::demo_kit::{HQ, PhoneClock, gps, offset, start_server};

const EMPLOYEE: &str = "emp-101";

pub(crate) fn run(
    admin: &Admin,
    server_db: &std::path::Path,
    addr: std::net::SocketAddr,
    dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "\n8b. More than one device per employee ({EMPLOYEE}), under the policy's max_devices:"
    );
    admin.add_employee(EMPLOYEE, "Sam Two-Phones")?;
    let mut settings = admin.settings()?;
    settings.max_devices = MaxDevices::new(2)?;
    // This part shows devices alone (step 8 turned the PIN on).
    settings.pin = None;
    admin.set_settings(settings)?;
    let version = admin.publish_policy(Duration::from_secs(30 * 86_400))?;
    let server = start_server(server_db, addr)?;
    let clock = Arc::new(PhoneClock::new()?);
    let phone = |name: &str| -> Result<PunchEngine, Box<dyn std::error::Error>> {
        let mut config = ServerConfig::new(&server.base_url(), admin.policy_public_key()?);
        config.request_timeout_ms = 3_000;
        Ok(PunchEngine::open_with(
            dir.join(format!("{name}.db")),
            EngineOptions {
                clock: clock.clone(),
                server: Some(config),
                ..Default::default()
            },
        )?)
    };
    let code = || admin.create_enrollment_code(EMPLOYEE, Duration::from_secs(900));
    let (a, b, c) = (phone("phone-a")?, phone("phone-b")?, phone("tablet-c")?);
    a.enroll(&code()?)?;
    b.enroll(&code()?)?;
    println!(
        "   Policy v{version} says max_devices 2: phone A and phone B each enroll with their own code."
    );
    match c.enroll(&code()?) {
        Err(PunchError::Sync(SyncError::Refused { message, .. })) => {
            println!("   - a third device is refused: {message}")
        }
        other => return Err(format!("a third device enrolled without approval: {other:?}").into()),
    }
    let slots = admin.approve_extra_device(EMPLOYEE, "field tablet for the depot")?;
    c.enroll(&code()?)?;
    let after = admin.device_slots(EMPLOYEE)?;
    println!(
        "   - HR approves one more (admin CLI: punch-server admin approve-extra-device {EMPLOYEE} --reason …;\n     audited): the tablet enrolls; approval #{} is used up ({} devices bound).",
        slots.approvals.first().map_or(0, |a| a.id),
        after.bound_devices.len()
    );
    for p in [&a, &b] {
        p.sync()?;
    }
    let at_office = || gps(&clock, offset(HQ, 10.0, 15.0), 8.0, false);
    let clock_in = a.punch(PunchKind::ClockIn, &at_office())?;
    clock.clock.advance_ms(60_000);
    let clock_out = b.punch(PunchKind::ClockOut, &at_office())?;
    a.sync()?;
    b.sync()?;
    let code_of = |a: &Option<punch_model::rules::shift::Attendance>| {
        a.as_ref().map_or("-".to_string(), |a| a.code().to_string())
    };
    let server_reading = |device: &str, seq: u64| {
        admin.punches().map(|all| {
            all.into_iter()
                .find(|p| p.device_id == device && p.seq == seq)
                .map(|p| code_of(&p.attendance))
        })
    };
    let (a_id, b_id) = (a.device()?.device_id, b.device()?.device_id);
    let in_server = server_reading(&a_id, clock_in.seq)?.ok_or("clock-in not on the server")?;
    let out_server = server_reading(&b_id, clock_out.seq)?.ok_or("clock-out not on the server")?;
    println!("   Clock-in on phone A, clock-out on phone B a minute later:");
    println!(
        "   - phone A's own verdict on the clock-in: {}; the server's: {in_server}",
        code_of(&clock_in.evaluation.attendance)
    );
    println!(
        "   - phone B's own verdict on the clock-out: {} (it never saw A's clock-in: advisory);\n     the server's, per employee across both phones: {out_server} (what exports count: one shift)",
        code_of(&clock_out.evaluation.attendance)
    );
    server.stop();
    if out_server == "not_clocked_in" {
        return Err("the server did not read the two phones as one shift".into());
    }
    Ok(())
}
