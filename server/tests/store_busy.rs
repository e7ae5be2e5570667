//! A database that stays busy (issue 25, bug 7), through the real server on
//! SQLite: another connection holds the write lock. A write waits its
//! `busy_timeout`, is run again a bounded number of times, and if the lock
//! is still held the answer is 503 with `Retry-After`, not a 500; once the
//! lock is released the same upload succeeds, and a lock released while the
//! server is still retrying costs the client nothing.

use crate::common;

use std::time::{Duration, Instant};

use common::staff::{PASSWORD, add_staff};
use common::{TestServer, outcomes};
use punch_server::Role;
use punch_server::{Admin, DbUrl, ServerConfig, ServerHandle};

/// Short, so a held lock outlasts one attempt quickly.
const BUSY_TIMEOUT: Duration = Duration::from_millis(100);

fn busy_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    // SQLite's own lock: this test is about that back end.
    let db = DbUrl::Sqlite(dir.path().join("server.db"));
    let handle = ServerHandle::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        sqlite_busy_timeout: Some(BUSY_TIMEOUT),
        ..ServerConfig::new(db.clone())
    })
    .unwrap();
    let admin = Admin::connect(&db).unwrap();
    TestServer {
        dir,
        db: db.into(),
        handle: Some(handle),
        admin,
    }
}

/// Another connection that takes the write lock and keeps it.
fn hold_write_lock(db: &DbUrl) -> rusqlite::Connection {
    let DbUrl::Sqlite(path) = db else {
        unreachable!("SQLite only")
    };
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn
}

#[test]
fn a_held_lock_is_a_503_with_retry_after_then_the_upload_succeeds() {
    let ts = busy_server();
    let version = ts.publish();
    let mut device = ts.enrolled_device("e-busy");
    let addr = ts.addr();
    let record = device.next(version, |_| {});

    let lock = hold_write_lock(&ts.db);
    let started = Instant::now();
    let resp = device.upload(addr, vec![record.clone()]);
    resp.assert_error(503, "unavailable");
    assert_eq!(resp.header("retry-after"), Some("1"));
    // Run more than once before giving up: at least two busy timeouts.
    assert!(
        started.elapsed() >= BUSY_TIMEOUT * 2,
        "{:?}",
        started.elapsed()
    );
    drop(lock);

    let resp = device.upload_ok(addr, vec![record]);
    assert_eq!(outcomes(&resp), vec![(1, "accepted", None)]);
}

#[test]
fn a_lock_released_while_the_server_retries_costs_the_client_nothing() {
    let ts = busy_server();
    let version = ts.publish();
    let mut device = ts.enrolled_device("e-brief");
    let addr = ts.addr();
    let record = device.next(version, |_| {});

    // Held for longer than one attempt waits, shorter than all of them.
    let lock = hold_write_lock(&ts.db);
    let release = std::thread::spawn(move || {
        std::thread::sleep(BUSY_TIMEOUT * 5 / 2);
        drop(lock);
    });
    let resp = device.upload_ok(addr, vec![record]);
    assert_eq!(outcomes(&resp), vec![(1, "accepted", None)]);
    release.join().unwrap();
}

#[test]
fn the_admin_api_answers_a_held_lock_with_503_and_retry_after_too() {
    let ts = busy_server();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None);
    let addr = ts.addr();

    let lock = hold_write_lock(&ts.db);
    let resp = hr.try_sign_in(addr, PASSWORD, &hr.code());
    assert_eq!(resp.status, 503, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.json()["error"], "unavailable");
    assert_eq!(resp.header("retry-after"), Some("1"));
    drop(lock);

    hr.sign_in(addr);
}
