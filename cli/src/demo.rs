//! `punch demo`: the whole story on the embedded sample policy — a real
//! reference server on 127.0.0.1, enrollment, a signed policy, punches while
//! offline, sync when the server is back, and tampering / a moved clock
//! caught by the server; then the punch PIN's lockout and a reset by code
//! (`demo_pin`), and a fault report cited by a make-up request
//! (`demo_faults`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use punch_core::{Clock, EngineOptions, Evidence, PunchEngine, PunchError, PunchKind};
use punch_core::{RetryConfig, ServerConfig};
use punch_model::rules::policy::Policy;
use punch_server::Admin;

use crate::CmdResult;
use crate::demo_kit::{HQ, PhoneClock, basement, gps, offset, start_server};

pub const SAMPLE_POLICY: &str = include_str!("sample_policy.json");
const EMPLOYEE: &str = "emp-042";

pub fn run() -> CmdResult {
    let dir = tempfile::tempdir()?;
    let server_db = dir.path().join("server.db");
    let device_db = dir.path().join("device.db");
    println!(
        "punch demo: offline punches a server can trust (sample policy embedded in the binary)\n"
    );

    // 1. The employer's side.
    let admin = Admin::open(&server_db)?;
    admin.add_employee(EMPLOYEE, "Alex Example")?;
    let sample = Policy::from_json(SAMPLE_POLICY.as_bytes())?;
    for site in sample.sites {
        admin.upsert_site(site)?;
    }
    admin.set_settings(sample.settings)?;
    let version = admin.publish_policy(Duration::from_secs(30 * 86_400))?;
    let code = admin.create_enrollment_code(EMPLOYEE, Duration::from_secs(15 * 60))?;
    let server = start_server(&server_db, "127.0.0.1:0".parse()?)?;
    let addr = server.addr();
    println!(
        "1. Reference server on {} (SQLite in a temporary directory).",
        server.base_url()
    );
    println!(
        "   Admin: employee {EMPLOYEE}, sites hq (circle + Wi-Fi AP) and depot (concave polygon),"
    );
    println!(
        "   policy v{version} signed with the server's P-256 policy key; one-time enrollment code {code}.\n"
    );

    // 2. The phone.
    let clock = Arc::new(PhoneClock::new()?);
    let mut config = ServerConfig::new(&server.base_url(), admin.policy_public_key()?);
    config.retry = RetryConfig {
        base_delay_ms: 200,
        max_delay_ms: 60_000,
        max_attempts_per_sync: 2,
        max_inline_wait_ms: 1_000,
    };
    config.request_timeout_ms = 3_000;
    let engine = PunchEngine::open_with(
        &device_db,
        EngineOptions {
            clock: clock.clone(),
            server: Some(config),
            ..Default::default()
        },
    )?;
    let device = engine.device()?;
    println!(
        "2. The phone: P-256 device key generated (SPKI DER, {} bytes), device id {}.",
        device.public_key_spki.len(),
        device.device_id
    );
    let employee = engine.enroll(&code)?;
    println!(
        "   Enrolled with the code: bound to {employee}; the server pinned this device's key."
    );
    let first = engine.sync()?;
    println!(
        "   First sync: policy v{} fetched, signature checked against the pinned server key; time anchor taken.\n",
        first.policy_installed.unwrap_or(0)
    );

    println!("3. Instant feedback (evaluate() stores nothing): at the depot, fix ±12 m:");
    let preview = engine.evaluate(&gps(&clock, (52.5375, 13.3825), 12.0, false))?;
    println!(
        "   {:?}: {}\n",
        preview.decision,
        preview.reasons.join("; ")
    );

    // 4. Offline.
    server.stop();
    println!("4. The network is gone (server stopped). Punching anyway:");
    type MakeEvidence = fn(&PhoneClock) -> Evidence;
    let attempts: Vec<(&str, PunchKind, MakeEvidence)> = vec![
        (
            "at the office, fix ±8 m, 20 m from the centre",
            PunchKind::ClockIn,
            |c| gps(c, offset(HQ, 45.0, 20.0), 8.0, false),
        ),
        (
            "near the office fence, fix ±60 m, 100 m from the centre",
            PunchKind::BreakStart,
            |c| gps(c, offset(HQ, 180.0, 100.0), 60.0, false),
        ),
        (
            "at a café 1.5 km away, fix ±10 m",
            PunchKind::BreakEnd,
            |c| gps(c, offset(HQ, 90.0, 1500.0), 10.0, false),
        ),
        (
            "at the office, but the OS says the location is mocked",
            PunchKind::BreakEnd,
            |c| gps(c, offset(HQ, 0.0, 10.0), 5.0, true),
        ),
        (
            "in the basement: no GPS, Wi-Fi sees the office AP",
            PunchKind::BreakEnd,
            |_| basement(),
        ),
    ];
    for (story, kind, make) in attempts {
        // Story time: 15 s between punches (under the server's 2-minute
        // tolerance in total, so no punch claims a time after it arrives).
        clock.clock.advance_ms(15_000);
        let evidence = make(&clock);
        println!("   - {kind:?} {story}:");
        match engine.punch(kind, &evidence) {
            Ok(r) => println!(
                "     {:?}, stored as #{} (site {}), signed and on disk before punch() returned\n       why: {}",
                r.evaluation.decision,
                r.seq,
                r.evaluation.site_id.as_deref().unwrap_or("-"),
                r.evaluation.reasons.join("; ")
            ),
            Err(PunchError::Refused(evaluation)) => println!(
                "     REFUSED, kept as a refused attempt (evidence for a make-up request); the employee sees why:\n       why: {}",
                evaluation.reasons.join("; ")
            ),
            Err(e) => return Err(e.into()),
        }
    }
    let report = engine.sync()?;
    println!(
        "   sync(): {} — {} records wait in the queue; next attempt in {} ms (backoff with full jitter).\n",
        report
            .error
            .as_ref()
            .map_or("ok".to_string(), |e| e.to_string()),
        report.remaining,
        report
            .next_retry_ms
            .map_or(0, |t| t - clock.now().wall_time_ms)
            .max(0)
    );

    // 5. Back online.
    let server = start_server(&server_db, addr)?;
    engine.network_available()?;
    let report = engine.sync()?;
    println!(
        "5. Server back; network_available() ends the backoff. sync(): {} uploaded, {} duplicates, {} rejected, {} left, in {} request(s).",
        report.uploaded,
        report.duplicates,
        report.rejected.len(),
        report.remaining,
        report.requests
    );
    print_server_records(&admin)?;
    println!(
        "   Beside them, {} refused attempt(s), signed and chained like punches: the employee's evidence.",
        admin.events(Some("refused_punch"))?.len()
    );

    // 6. Tampering and a moved clock.
    println!("\n6. Trouble while offline again:");
    server.stop();
    clock
        .clock
        .set_wall_ms(engine.estimated_server_time_ms() - 2 * 3_600_000);
    let moved = engine.punch(PunchKind::ClockOut, &basement())?;
    println!(
        "   - the employee sets the phone's clock back 2 hours, then punches #{} (clock_out)",
        moved.seq
    );
    clock.clock.set_wall_ms(engine.estimated_server_time_ms());
    let victim = engine.punch(PunchKind::ClockIn, &basement())?;
    engine.punch(PunchKind::ClockOut, &basement())?;
    tamper_kind(&device_db, victim.seq, "clock_in", "clock_out")?;
    println!(
        "   - someone with the database file turns #{}'s clock_in into a clock_out",
        victim.seq
    );
    let chain = engine.verify_chain()?;
    for b in &chain.breaks {
        println!("     local chain check: #{}: {}", b.seq, b.problem);
    }
    let server = start_server(&server_db, addr)?;
    engine.network_available()?;
    let report = engine.sync()?;
    println!(
        "   Back online, sync(): {} uploaded, {} rejected:",
        report.uploaded,
        report.rejected.len()
    );
    for r in &report.rejected {
        println!(
            "     #{} rejected: {} ({})",
            r.seq,
            r.reason
                .and_then(|x| serde_json::to_value(x).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            r.detail.as_deref().unwrap_or("")
        );
    }
    print_server_records(&admin)?;
    let kept = admin.rejected()?;
    let (_, counted) = admin.evidence_today(&engine.device()?.device_id)?;
    println!(
        "   The server keeps {} authentic refused record(s) as evidence and counts {counted} that the \
         device's key never signed;\n   nothing is deleted on the phone ({} punches).",
        kept.len(),
        engine.punches(0, 1000)?.len()
    );
    server.stop();

    let caught_clock = admin
        .punches()?
        .iter()
        .any(|p| p.seq == moved.seq && p.time_status == "clock_moved");
    let caught_tamper = report.rejected.iter().any(|r| r.seq == victim.seq);
    if !(caught_clock && caught_tamper) {
        return Err(
            "the demo expected the moved clock and the tampered record to be caught".into(),
        );
    }
    crate::demo_exceptions::run(&admin, &server_db, addr, dir.path())?;
    crate::demo_forgotten::run(&admin, &server_db, addr, dir.path())?;
    crate::demo_pin::run(&engine, &admin, &clock.clock, &server_db, addr, EMPLOYEE)?;
    crate::demo_photo::run(&admin, &server_db, addr, dir.path())?;
    crate::demo_devices::run(&admin, &server_db, addr, dir.path())?;
    crate::demo_faults::run(&admin, &server_db, addr, dir.path())?;
    crate::demo_browser::run(&admin, addr, EMPLOYEE)?;
    drop(admin);
    crate::demo_at_rest::run(&server_db, EMPLOYEE)?;
    println!(
        "\nDone: the moved clock and the edited record were both caught; the exceptions were \
         judged offline and decided by a manager; the PIN locked and was reset by code; a \
         fault report was cited by a make-up request; the server's evidence was sealed at \
         rest. Temporary files removed."
    );
    Ok(ExitCode::SUCCESS)
}

fn print_server_records(admin: &Admin) -> CmdResult {
    println!("   The server's verified records (signature, chain and time checked):");
    println!(
        "     seq  kind          decision  site    time status                 skew        server review"
    );
    for p in admin.punches()? {
        println!(
            "     {:<4} {:<13} {:<9} {:<7} {:<27} {:<11} {}",
            p.seq,
            p.kind,
            p.decision,
            p.site_id.as_deref().unwrap_or("-"),
            p.time_status,
            p.skew_ms.map_or("-".to_string(), |s| format!(
                "{:+.1} s",
                (s as f64 / 100.0).round() / 10.0 + 0.0
            )),
            if p.review_flags.is_empty() {
                "evidence agrees".to_string()
            } else {
                format!("{:?}", p.review_flags)
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Edits a stored record's bytes as an attacker with the file would;
/// hash and signature are left as they were.
fn tamper_kind(db: &std::path::Path, seq: u64, from: &str, to: &str) -> CmdResult {
    let conn = rusqlite::Connection::open(db)?;
    let bytes: Vec<u8> = conn.query_row(
        "SELECT record FROM punches WHERE seq = ?1",
        [seq as i64],
        |r| r.get(0),
    )?;
    let edited =
        String::from_utf8(bytes)?.replacen(&format!("\"{from}\""), &format!("\"{to}\""), 1);
    conn.execute(
        "UPDATE punches SET record = ?1 WHERE seq = ?2",
        rusqlite::params![edited.as_bytes(), seq as i64],
    )?;
    Ok(ExitCode::SUCCESS)
}
