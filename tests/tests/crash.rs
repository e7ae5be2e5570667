//! The crash suite in CI: the punch-and-sync loop in a child process killed
//! with SIGKILL at random moments (100 times), then the server killed while
//! the device uploads (20 times); nothing acknowledged may be lost or
//! doubled, the chain must verify, and the server must hold each punch once.
//! `scripts/crash.sh` runs the 1,000-round version and prints the table.
//! `PUNCH_CRASH_SEED` replays a seed; `PUNCH_CRASH_DEVICE_KILLS` /
//! `PUNCH_CRASH_SERVER_KILLS` change the bounds.

use punch_tests::crash::{self, CrashConfig};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn sigkill_during_punch_and_sync_and_server_kills_lose_nothing() {
    let config = CrashConfig {
        exe: env!("CARGO_BIN_EXE_punch-crash").into(),
        device_kills: env_or("PUNCH_CRASH_DEVICE_KILLS", 100) as u32,
        server_kills: env_or("PUNCH_CRASH_SERVER_KILLS", 20) as u32,
        seed: env_or("PUNCH_CRASH_SEED", crash::fresh_seed()),
        verbose: false,
    };
    println!("crash seed {} (PUNCH_CRASH_SEED replays it)", config.seed);
    let report = crash::run(&config).unwrap_or_else(|e| panic!("seed {}: {e}", config.seed));
    println!("{}", report.table());
    assert!(
        report.is_clean(),
        "seed {}:\n{}",
        config.seed,
        report.table()
    );
    // The harness really exercised what it claims.
    assert_eq!(report.device_kills, config.device_kills);
    assert_eq!(report.server_kills, config.server_kills);
    assert!(
        report.kills_during_punch > 0 && report.kills_during_sync > 0,
        "{report:?}"
    );
    assert!(
        report.acknowledged >= u64::from(config.device_kills),
        "{report:?}"
    );
    assert_eq!(
        report.records_on_server, report.records_on_device,
        "{report:?}"
    );
}
