//! PIN reset codes and their senders (audit finding 8): no code is ever
//! written to the log, the sender is a configured choice (here the HTTP
//! webhook an SMS gateway takes), and with none configured codes are
//! refused before one is made.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{DAY, Device, test_db};
use punch_model::pin::wire as pin;
use punch_server::{Admin, DbUrl, ServerConfig, ServerHandle};

const CONTACT: &str = "someone.private@example.com";

/// An employee with a bound phone number of contact, a policy, a code.
fn employer(db: &DbUrl) -> String {
    let admin = Admin::connect(db).unwrap();
    admin.add_employee("e-1", "One").unwrap();
    let site = serde_json::from_value(serde_json::json!({
        "id": "hq", "name": "HQ",
        "shape": {"type": "circle", "center": {"lat": 52.52, "lon": 13.40}, "radius_m": 150.0}
    }))
    .unwrap();
    admin.upsert_site(site).unwrap();
    admin.publish_policy(DAY * 30).unwrap();
    admin.set_pin_contact("e-1", "email", CONTACT).unwrap();
    admin.create_enrollment_code("e-1", DAY).unwrap()
}

#[test]
fn with_no_sender_configured_codes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    let code = employer(&db);
    let server = ServerHandle::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::new(db.clone())
    })
    .unwrap();
    let mut device = Device::new();
    assert_eq!(device.enroll(server.addr(), &code).status, 200);
    device.employee_id = "e-1".into();
    let resp = device.signed(server.addr(), "POST", pin::PATH_PIN_CODE, b"{}");
    resp.assert_error(503, "unavailable");
    assert_eq!(resp.json()["reason"], "no_code_sender");
}

/// Accepts one HTTP request within 20 s; answers 200; returns it.
fn webhook() -> (u16, std::thread::JoinHandle<Option<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let started = Instant::now();
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(_) => return None,
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .to_ascii_lowercase()
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("content-length:")
                            .map(|v| v.trim().to_string())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if raw.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        Some(String::from_utf8_lossy(&raw).to_string())
    });
    (port, handle)
}

#[test]
fn codes_go_to_the_configured_webhook_and_never_to_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    let code = employer(&db);
    let (port, hook) = webhook();
    let mut server = Command::new(env!("CARGO_BIN_EXE_punch-server"))
        .args([
            "serve",
            "--db",
            &common::db_arg(&db),
            "--listen",
            "127.0.0.1:0",
        ])
        .env(
            "PUNCH_PIN_SENDER",
            format!("http://127.0.0.1:{port}/sms/send"),
        )
        .env("PUNCH_PIN_WEBHOOK_TOKEN", "gateway-token-42")
        .env("PUNCH_LOG_FORMAT", "text")
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let addr = loop {
        let line = lines.next().expect("server output").unwrap();
        log.push_str(&line);
        log.push('\n');
        if let Some(url) = line.strip_prefix("punch-server listening on http://") {
            break url.parse().unwrap();
        }
    };
    let rest =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    let mut device = Device::new();
    assert_eq!(device.enroll(addr, &code).status, 200);
    device.employee_id = "e-1".into();
    let resp = device.signed(addr, "POST", pin::PATH_PIN_CODE, b"{}");
    let request = hook.join().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    log.push_str(&rest.join().unwrap());
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.json()["masked_to"], "s***@example.com");
    let request = request.expect("the webhook was called");
    assert!(request.starts_with("POST /sms/send HTTP/1.1"), "{request}");
    assert!(
        request.contains("authorization: Bearer gateway-token-42")
            || request.contains("Authorization: Bearer gateway-token-42"),
        "{request}"
    );
    let body: serde_json::Value =
        serde_json::from_str(&request[request.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["to"], CONTACT);
    let sent = body["code"].as_str().unwrap();
    assert_eq!(sent.len(), 6);
    // The log names the sender, never the code, the contact or the token.
    assert!(log.contains("webhook http://127.0.0.1"), "{log}");
    for secret in [sent, CONTACT, "gateway-token-42"] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
}
