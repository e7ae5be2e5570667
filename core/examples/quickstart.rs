//! The README's "API in short": enroll, fetch the signed policy, judge,
//! punch, upload. CI compiles it, and a test (`tests/tests/quickstart.rs`)
//! runs it against the real server and checks the README shows this code.
//!
//! Run it against a server you started (see server/README.md):
//! `cargo run -p punch-core --example quickstart -- http://127.0.0.1:8787 POLICY_KEY CODE device.db`

use std::error::Error;

use punch_core::{
    EngineOptions, Evidence, GpsFix, PunchEngine, PunchKind, PunchReceipt, ServerConfig, SyncReport,
};
use punch_model::wire::b64;

/// Enrolls a device at `db_path` with `code`, punches in at Berlin's
/// Alexanderplatz (the sample site) and uploads the punch.
pub fn run(
    server_url: &str,
    policy_key_base64: &str,
    code: &str,
    db_path: &str,
) -> Result<(PunchReceipt, SyncReport), Box<dyn Error>> {
    // README:start
    // The key the app pins: `punch-server admin --db server.db policy-key`
    // prints it (base64 SubjectPublicKeyInfo); ship it inside the app.
    let pinned_policy_key = b64::decode(policy_key_base64)?;
    let options = EngineOptions {
        server: Some(ServerConfig::new(server_url, pinned_policy_key)),
        ..Default::default()
    };
    let engine = PunchEngine::open_with(db_path, options)?; // creates the device key on first open
    engine.enroll(code)?; // binds the device, takes a time anchor
    engine.sync()?; // fetches the signed policy
    let evidence = Evidence {
        gps: Some(GpsFix {
            lat: 52.5201,
            lon: 13.4050,
            accuracy_m: 12.0,
            // When the platform took the fix (Location.getTime / CLLocation.timestamp).
            fix_time_ms: engine.estimated_server_time_ms(),
            provider: "fused".into(),
            is_mock: false, // Location.isMock() / isSimulatedBySoftware
            speed_mps: None,
            // Location.getElapsedRealtimeNanos() / 1e6: the fix's age is then
            // measured on the monotonic clock, which the user cannot set.
            elapsed_realtime_ms: None,
            reduced_accuracy: false, // approximate permission / reducedAccuracy
            external_receiver: false, // sourceInformation.isProducedByAccessory
        }),
        ..Evidence::default()
    };
    let preview = engine.evaluate(&evidence)?; // instant feedback, stores nothing
    println!("{:?}: {}", preview.decision, preview.reasons.join("; "));
    let receipt = engine.punch(PunchKind::ClockIn, &evidence)?; // signed and durable when it returns
    let report = engine.sync()?; // from WorkManager / BGTaskScheduler
    assert!(engine.verify_chain()?.is_intact());
    // README:end
    Ok((receipt, report))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, key, code, db] = args.as_slice() else {
        return Err("usage: quickstart SERVER_URL POLICY_KEY_BASE64 ENROLL_CODE DB_PATH".into());
    };
    let (receipt, report) = run(url, key, code, db)?;
    println!(
        "punch #{} stored ({:?}); uploaded {}, {} still pending",
        receipt.seq, receipt.evaluation.decision, report.uploaded, report.remaining
    );
    Ok(())
}
