//! Limits as an attacker meets them, with no credentials: bodies refused at
//! their route's limit while being read, slow clients timed out while
//! others keep being served, a connection cap answered in the contract's
//! error shape; and the operations routes (/healthz, /readyz, /metrics).

use crate::common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TestServer, connect, read_response, request};
use punch_model::wire;
use punch_server::Limits;

#[test]
fn bodies_over_the_route_limit_are_refused_while_reading() {
    let limits = Limits {
        upload_body_bytes: 64 << 10,
        enroll_body_bytes: 4 << 10,
        ..Limits::default()
    };
    let server = TestServer::with_limits(limits);
    let addr = server.addr();
    // A declared 16 MiB body is refused before a byte of it is read.
    let mut s = connect(addr);
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\n\r\n",
        wire::PATH_PUNCHES
    )
    .unwrap();
    let started = Instant::now();
    let resp = read_response(&mut s).expect("an answer");
    resp.assert_error(413, "batch_too_large");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A chunked body without a length stops at the limit, whatever follows.
    let mut s = connect(addr);
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        wire::PATH_ENROLL
    )
    .unwrap();
    let chunk = vec![b'a'; 1024];
    for _ in 0..8 {
        if write!(s, "400\r\n").is_err() || s.write_all(&chunk).is_err() {
            break;
        }
        let _ = write!(s, "\r\n");
    }
    let resp = read_response(&mut s).expect("an answer");
    resp.assert_error(413, "payload_too_large");
    // Within the limit, the same route works as before.
    let small = request(addr, "POST", wire::PATH_ENROLL, &[], b"[]");
    small.assert_error(400, "bad_request");
}

#[test]
fn slow_clients_time_out_and_others_keep_being_served() {
    let limits = Limits {
        header_read_timeout_s: 1,
        body_read_timeout_s: 1,
        ..Limits::default()
    };
    let server = TestServer::with_limits(limits);
    let device = server.enrolled_device("e-1");
    let addr = server.addr();
    // 100 slow-loris connections: half stuck in their headers, half in a body.
    let mut slow = Vec::new();
    for i in 0..100 {
        let mut s = connect(addr);
        if i % 2 == 0 {
            s.write_all(b"POST /v1/punches HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
        } else {
            s.write_all(b"POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
                .unwrap();
        }
        slow.push((i, s));
    }
    // Meanwhile a device is served promptly, again and again.
    for _ in 0..20 {
        let started = Instant::now();
        assert_eq!(device.time(addr).status, 200);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
    }
    // The slow ones are cut off: a stalled body gets the contract's 408;
    // stalled headers are closed (there is no request to answer yet).
    let started = Instant::now();
    for (i, mut s) in slow {
        let resp = read_response(&mut s);
        if i % 2 == 0 {
            assert!(resp.is_none(), "headers never finished: {resp:?}");
        } else {
            resp.expect("an answer").assert_error(408, "timeout");
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn over_the_connection_cap_a_client_gets_a_json_503() {
    let limits = Limits {
        max_connections: 8,
        header_read_timeout_s: 2,
        ..Limits::default()
    };
    let server = TestServer::with_limits(limits);
    let addr = server.addr();
    let idle: Vec<TcpStream> = (0..8).map(|_| connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = connect(addr);
    let resp = read_response(&mut extra).expect("an answer");
    resp.assert_error(503, "unavailable");
    assert_eq!(resp.header("retry-after"), Some("1"));
    // Idle connections are closed by the header timeout; service resumes.
    std::thread::sleep(Duration::from_millis(2_500));
    drop(idle);
    let ok = request(addr, "GET", punch_server::routes::PATH_HEALTHZ, &[], b"");
    assert_eq!(ok.status, 200);
}

#[test]
fn health_readiness_and_metrics() {
    let server = TestServer::start();
    let version = server.publish();
    let addr = server.addr();
    let health = request(addr, "GET", punch_server::routes::PATH_HEALTHZ, &[], b"");
    assert_eq!(health.status, 200);
    health.assert_stamped();
    assert!(health.header("x-request-id").is_some());
    let ready = request(addr, "GET", punch_server::routes::PATH_READYZ, &[], b"");
    assert_eq!(ready.status, 200);
    let ready_json = ready.json();
    let backend = if matches!(*server.db, punch_server::DbUrl::Postgres(_)) {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(ready_json["backend"], backend);
    let schema = server.admin.schema_status().unwrap();
    assert_eq!(schema.found, schema.supported);
    assert_eq!(ready_json["schema_version"], schema.found);

    // A request id the client chose comes back.
    let mine = request(
        addr,
        "GET",
        punch_server::routes::PATH_HEALTHZ,
        &[("x-request-id", "trace-42".into())],
        b"",
    );
    assert_eq!(mine.header("x-request-id"), Some("trace-42"));

    let mut device = server.enrolled_device("e-1");
    let good = device.next(version, |_| {});
    let gap = device.sign(&device.record(9, "00", version));
    device.upload_ok(addr, vec![good.clone(), gap]);
    device.upload_ok(addr, vec![good]);
    let text = String::from_utf8(
        request(
            addr,
            "GET",
            punch_server::routes::PATH_METRICS,
            &common::metrics_auth(),
            b"",
        )
        .body,
    )
    .unwrap();
    for needle in [
        "punch_http_requests_total{route=\"/v1/punches\",status=\"200\"}",
        "punch_ingest_seconds_bucket",
        "punch_records_total{outcome=\"accepted\"}",
        "punch_records_total{outcome=\"duplicate\"}",
        "punch_records_total{outcome=\"rejected\",reason=\"gap\"}",
        "punch_signature_verifications_total{kind=\"record\",result=\"ok\"}",
        "punch_db_time_microseconds_total{backend=",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    // Unknown paths share one label: an attacker cannot grow the series.
    request(addr, "GET", "/no/such/route/12345", &[], b"");
    let text = String::from_utf8(
        request(
            addr,
            "GET",
            punch_server::routes::PATH_METRICS,
            &common::metrics_auth(),
            b"",
        )
        .body,
    )
    .unwrap();
    assert!(!text.contains("12345"));
    assert!(text.contains("route=\"other\""));
}

#[test]
fn a_newer_schema_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::test_db(dir.path());
    drop(punch_server::Admin::connect(&db).unwrap());
    match &*db {
        punch_server::DbUrl::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        punch_server::DbUrl::Postgres(url) => {
            let out = std::process::Command::new("psql")
                .args([
                    url.as_str(),
                    "-c",
                    "INSERT INTO punch_schema (version) VALUES (99)",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(matches!(
        punch_server::Admin::connect(&db),
        Err(punch_server::ServerError::SchemaTooNew { found: 99, .. })
    ));
    assert!(
        punch_server::ServerHandle::start(punch_server::ServerConfig::new(db.clone())).is_err()
    );
}

#[test]
fn ended_rate_windows_are_pruned_and_running_ones_kept() {
    use punch_server::StoreExt;
    use punch_server::internal::limits::rate;
    use punch_server::internal::limits::rate::{Bucket, longest_window_ms};
    let dir = tempfile::tempdir().unwrap();
    let db = common::test_db(dir.path());
    let store = punch_server::internal::store::open(&db).unwrap();
    let limits = Limits::default();
    let longest = longest_window_ms(&limits);
    assert_eq!(
        longest, 3_600_000,
        "the own-data export window is the longest"
    );
    let t0 = 1_800_000_000_000_i64;
    let hit = |subject: &str, now: i64| {
        store
            .write(|tx| rate::hit(tx, &limits, &[(Bucket::EnrollCode, subject)], now))
            .unwrap()
    };
    // Fifty codes tried once, long ago; one code tried a moment ago, twice.
    for i in 0..50 {
        hit(&format!("old-{i}"), t0);
    }
    let recent = t0 + longest + 60_000;
    hit("recent", recent - 1_000);
    hit("recent", recent - 500);
    // A hit that starts a new window prunes: the fifty old rows go.
    hit("fresh", recent);
    // The running window kept its count: ten hits a code, this is the 11th.
    for _ in 0..8 {
        assert_eq!(hit("recent", recent), None);
    }
    let refused = hit("recent", recent).expect("the 11th hit is refused");
    assert_eq!(refused.bucket, Bucket::EnrollCode);
    // What is left: exactly the two live counters (deleted now to count them).
    let left = store
        .write(|tx| tx.limits().prune_rate_limits(i64::MAX))
        .unwrap();
    assert_eq!(left, 2);
}
