//! `punch demo`, step 7: the punch PIN — a lockout that a moved clock does
//! not lift, a reset by a code sent to the employee's e-mail (the
//! development sender writes it to a file; production delivers it), and
//! the periodic change (`pin.max_age_days`).

use std::net::SocketAddr;
use std::path::Path;

use punch_core::{PinError, PunchEngine, PunchError, test_support::ManualClock};
use punch_model::pin::PinSettings;
use punch_server::CodeDelivery;
use punch_server::{Admin, ServerHandle};

use crate::CmdResult;

pub(crate) fn run(
    engine: &PunchEngine,
    admin: &Admin,
    clock: &ManualClock,
    server_db: &Path,
    addr: SocketAddr,
    employee: &str,
) -> CmdResult {
    println!(
        "\n8. The punch PIN (salted PBKDF2-HMAC-SHA256, 600,000 iterations; never stored in clear):"
    );
    engine.set_pin("4827", None)?;
    if let Err(PunchError::Pin(e)) = engine.change_pin("4827", "1234", None) {
        println!("   - a new PIN 1234 is refused: {e}");
    }
    for _ in 0..5 {
        match engine.verify_pin("0815") {
            Err(PunchError::Pin(PinError::Wrong { tries_left })) => {
                println!("   - wrong PIN: tries left {tries_left}")
            }
            Err(PunchError::Pin(PinError::Locked { remaining_ms, .. })) => println!(
                "   - wrong PIN again: locked for {} minutes (doubling with each lock, up to 24 h)",
                remaining_ms / 60_000
            ),
            other => return Err(format!("unexpected: {other:?}").into()),
        }
    }
    clock.set_wall_ms(engine.estimated_server_time_ms() + 86_400_000);
    let still = engine.pin_status()?;
    println!(
        "   - the employee moves the phone's clock a day ahead: still locked ({} min left, judged on monotonic time)",
        still.locked_for_ms.unwrap_or(0) / 60_000
    );
    clock.set_wall_ms(engine.estimated_server_time_ms());

    let codes = server_db.with_file_name("pin-codes.jsonl");
    let server = ServerHandle::start(punch_server::ServerConfig {
        listen: addr,
        pin_codes: CodeDelivery::File(codes.clone()),
        ..punch_server::ServerConfig::new(server_db)
    })?;
    admin.set_pin_contact(employee, "email", "alex@example.com")?;
    let sent = engine.request_pin_reset_code()?;
    let text = std::fs::read_to_string(&codes)?;
    let code = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .ok_or("the development sender wrote no code")?;
    println!(
        "   - \"forgot PIN\": the server sends a 6-digit code to {} (good for 10 minutes, once): {code}",
        sent.masked_to
    );
    let token = engine.redeem_pin_reset_code(&code)?;
    server.stop();
    let applied = engine.apply_pin_reset(&token, "5930", None)?;
    engine.verify_pin("5930")?;
    println!(
        "   - the code buys a reset token signed with the server's policy key; checked offline \
         (server already stopped)\n     with the pinned key, it sets the new PIN and lifts the lock \
         (token {}, path {:?}).",
        &applied.token_id[..8],
        applied.path
    );
    if engine.apply_pin_reset(&token, "6041", None).is_ok() {
        return Err("a replayed reset token was accepted".into());
    }
    let kinds: Vec<String> = engine
        .pin_events()?
        .iter()
        .map(|e| punch_model::text::serde_name(&e.kind))
        .collect();
    println!(
        "   - replaying the token is refused. PIN events recorded: {}",
        kinds.join(", ")
    );
    periodic_change(engine, admin, clock, server_db, addr)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `pin.max_age_days`: the PIN's age is judged on trusted time; once too
/// old, the app is told, the right PIN grants no punch until it is
/// changed, and the change reaches the server as a chained event.
fn periodic_change(
    engine: &PunchEngine,
    admin: &Admin,
    clock: &ManualClock,
    server_db: &Path,
    addr: SocketAddr,
) -> Result<(), Box<dyn std::error::Error>> {
    const DAY_MS: u64 = 86_400_000;
    let mut settings = admin.settings()?;
    settings.pin = Some(PinSettings {
        max_age_days: Some(90),
        ..settings.pin.unwrap_or_default()
    });
    admin.set_settings(settings)?;
    let version = admin.publish_policy(std::time::Duration::from_secs(365 * 86_400))?;
    let server = ServerHandle::start(punch_server::ServerConfig {
        listen: addr,
        ..punch_server::ServerConfig::new(server_db)
    })?;
    // This phone's chain broke at step 6: HR acknowledges it, so what the
    // phone records from here on reaches the server (a new segment).
    admin.acknowledge_break(
        &engine.device()?.device_id,
        "the edited record was seen; PIN events must reach us",
    )?;
    for _ in 0..2 {
        engine.sync()?;
    }
    if engine.policy_version() != Some(version) {
        return Err(format!("the phone did not install policy v{version}").into());
    }
    println!(
        "   - policy v{version} asks a new PIN every 90 days (pin.max_age_days). The employee moves the \
         wall clock a year ahead: must change = {} (the age is judged on trusted time).",
        {
            clock.set_wall_ms(engine.estimated_server_time_ms() + 365 * DAY_MS as i64);
            let moved = engine.pin_status()?.must_change;
            clock.set_wall_ms(engine.estimated_server_time_ms());
            moved
        }
    );
    // 91 days pass on the phone's monotonic clock (simulated).
    clock.advance_ms(91 * DAY_MS);
    let status = engine.pin_status()?;
    let refused = engine.verify_pin("5930");
    println!(
        "   - 91 days later: must change = {}; the right PIN now answers {:?}, and no punch is granted",
        status.must_change,
        refused
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    );
    engine.change_pin("5930", "6152", None)?;
    engine.verify_pin("6152")?;
    // Back to the real time, as after a restart: the server judges requests on its clock.
    clock.reboot("phone-boot-2");
    clock.set_wall_ms(punch_server::now_ms());
    engine.sync()?;
    let changed = admin
        .events(Some("pin"))?
        .iter()
        .filter(|e| e.body.contains("\"changed\""))
        .count();
    println!(
        "   - changed to a new PIN (must change = {}); the server holds {changed} `changed` PIN event(s).",
        engine.pin_status()?.must_change
    );
    server.stop();
    if !status.must_change || refused.is_ok() || changed != 1 {
        return Err(
            "the demo expected the old PIN to need a change, and the change on the server".into(),
        );
    }
    Ok(())
}
