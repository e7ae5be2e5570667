//! The server side of the contract suite (`scripts/contract.sh`): a real
//! punch server on 127.0.0.1 with an employer set up (employee, site,
//! settings, a published policy) and one-time enrollment codes, announced as
//! one JSON line on stdout:
//! `{"base_url": ..., "device_code": ..., "codes": [...], "staff": {...}}`.
//! The Python hook (`tests/contract/hooks.py`) enrolls its own device key
//! with `device_code` and signs every request with it; `codes` are for the
//! enrollments schemathesis generates; `staff` is an HR admin the hook
//! signs in as for the admin API. Serves until stdin closes (or
//! `--max-ms`, default 15 minutes).
//!
//! `punch-contract [--db PATH] [--codes N] [--max-ms MS]`

use std::io::Read;
use std::time::Duration;

use punch_tests::world::{EMPLOYEE, employer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let dir = tempfile::tempdir()?;
    let path: std::path::PathBuf =
        arg("--db").map_or_else(|| dir.path().join("server.db"), Into::into);
    let db = punch_server::DbUrl::Sqlite(path);
    let codes: usize = arg("--codes").map_or(Ok(200), |v| v.parse())?;
    let max_ms: u64 = arg("--max-ms").map_or(Ok(15 * 60 * 1000), |v| v.parse())?;

    let admin = employer(&db);
    let ttl = Duration::from_secs(3_600);
    let device_code = admin.create_enrollment_code(EMPLOYEE, ttl)?;
    let mut more = Vec::with_capacity(codes);
    for i in 0..codes {
        let employee = format!("contract-{i}");
        admin.add_employee(&employee, "Contract Test")?;
        more.push(admin.create_enrollment_code(&employee, ttl)?);
    }
    // Schemathesis sends hundreds of enrollments from one address: the rate
    // limits have their own tests, here they would only hide the contract.
    let mut config = punch_server::ServerConfig::new(db.clone());
    config.listen = "127.0.0.1:0".parse()?;
    let generous = punch_server::RateRule {
        hits: 1_000_000,
        window_s: 60,
    };
    config.limits.enroll_per_ip = generous;
    config.limits.enroll_per_code = generous;
    // A configured code sender, as a deployment has (without one, code
    // requests are refused 503 by design): the development file sender.
    config.pin_codes = punch_server::CodeDelivery::File(dir.path().join("pin-codes.txt"));
    // An HR admin for the admin API operations (the hook signs in with a
    // real TOTP code and sends the session cookie and CSRF token).
    let password = "contract suite password";
    let hr = admin.add_staff(&punch_server::NewStaff {
        username: "contract-hr".into(),
        display_name: "Contract HR".into(),
        role: punch_server::Role::HrAdmin,
        team: None,
        password: password.into(),
    })?;
    let server = punch_server::ServerHandle::start(config)?;
    println!(
        "{}",
        serde_json::json!({
            "base_url": server.base_url(),
            "device_code": device_code,
            "codes": more,
            "staff": {"username": hr.username, "password": password, "totp_secret": hr.totp_secret},
        })
    );
    // Serve until the parent closes stdin (or the time bound).
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = done_tx.send(());
    });
    let _ = done_rx.recv_timeout(Duration::from_millis(max_ms));
    server.stop();
    Ok(())
}
