//! `punch demo`, step 7: the punch PIN — a lockout that a moved clock does
//! not lift, and a reset by a code sent to the employee's e-mail (the
//! development sender writes it to a file; production delivers it).

use std::net::SocketAddr;
use std::path::Path;

use punch_core::{PinError, PunchEngine, PunchError, test_support::ManualClock};
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
    Ok(std::process::ExitCode::SUCCESS)
}
