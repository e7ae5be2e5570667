//! An acknowledged chain break seen through the FFI objects, against the
//! real server on 127.0.0.1: the sync that applies HR's acknowledgement
//! says so in `SyncReport.chain_reset` (the number of refused records set
//! aside), once, and the next punch is accepted.

use base64::Engine as _;
use punch_tests::world::{EMPLOYEE, HQ, employer, server_db, start_server};
use punchcore::{ClientOptions, Evidence, GpsFix, PunchClient, PunchKind, SyncReport};

/// A fresh, accurate fix at the employer's site.
fn at_hq() -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: HQ.0,
            lon: HQ.1,
            accuracy_m: 10.0,
            fix_time: std::time::SystemTime::now(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        wifi: vec![],
        ip_addresses: vec![],
    }
}

fn sync(client: &PunchClient) -> SyncReport {
    let report = wait(client.sync_now()).expect("sync");
    assert!(report.error.is_none(), "{report:?}");
    report
}

/// Runs one async call to its end, as an app's coroutine or Task would.
fn wait<F: std::future::Future>(call: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(call)
}

#[test]
fn the_sync_that_applies_an_acknowledged_break_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = server_db(dir.path());
    let admin = employer(&db);
    let server = start_server(&db);
    let key = base64::engine::general_purpose::STANDARD
        .encode(admin.policy_public_key().expect("policy key"));
    let phone = dir.path().join("phone");
    std::fs::create_dir_all(&phone).expect("phone dir");
    let client = wait(PunchClient::open(
        phone.display().to_string(),
        ClientOptions {
            server_url: Some(format!("http://{}", server.addr())),
            policy_key_base64: Some(key),
            batch_size: None,
            request_timeout: None,
            signer: None,
            channel_signer: None,
            signer_timeout: None,
            transport: None,
            clock: None,
            key_wrapper: None,
        },
    ))
    .expect("open");
    let code = admin
        .create_enrollment_code(EMPLOYEE, std::time::Duration::from_secs(600))
        .expect("code");
    wait(client.enroll(code)).expect("enroll");
    wait(client.refresh_policy()).expect("policy");
    let device_id = wait(client.device_info()).expect("device").device_id;

    for _ in 0..3 {
        wait(client.punch(PunchKind::ClockIn, at_hq())).expect("punch");
    }
    // Record 2 edited behind the library's back: 2 and 3 are refused.
    let raw = rusqlite::Connection::open(client.database_path()).expect("raw db");
    let bytes: Vec<u8> = raw
        .query_row("SELECT record FROM punches WHERE seq = 2", [], |r| r.get(0))
        .expect("record 2");
    let edited = String::from_utf8(bytes)
        .expect("utf-8 record")
        .replace("clock_in", "clock_out");
    raw.execute(
        "UPDATE punches SET record = ?1 WHERE seq = 2",
        [edited.as_bytes()],
    )
    .expect("edit");
    let report = sync(&client);
    assert_eq!(report.rejected.len(), 2, "{report:?}");
    assert_eq!(report.chain_reset, None);
    wait(client.punch(PunchKind::ClockIn, at_hq())).expect("punch 4");
    let report = sync(&client);
    assert_eq!(
        (report.uploaded, report.rejected.len()),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(report.chain_reset, None);

    admin
        .acknowledge_break(&device_id, "storage corrupted; ticket HR-9")
        .expect("acknowledge");
    let report = sync(&client);
    assert_eq!(report.chain_reset, Some(3), "{report:?}");
    assert_eq!(sync(&client).chain_reset, None, "applied once");

    let receipt = wait(client.punch(PunchKind::ClockIn, at_hq())).expect("punch 5");
    assert_eq!(receipt.seq, 5);
    let report = sync(&client);
    assert_eq!(
        (report.uploaded, report.rejected.len()),
        (1, 0),
        "{report:?}"
    );
    assert_eq!(admin.head(&device_id).expect("head").0, 5);
    server.stop();
}
