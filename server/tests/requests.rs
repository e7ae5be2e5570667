//! Make-up requests and field-work proposals on the server, from a device
//! that skips the phone's own checks (a modified app): the server judges
//! the policy's limits again, keeps refused requests out of a manager's
//! queue, and stores only the files a request names, at their size.

use crate::common;

use common::{Device, TestServer, now_ms, outcomes};
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::signing::sha256;
use punch_model::rules::makeup::{Attachment, MakeUpRequest};
use punch_model::rules::punch_kind::PunchKind;
use punch_model::wire;

const DAY_MS: i64 = 86_400_000;

fn request(back_ms: i64, attachments: Vec<Attachment>) -> ChainEvent {
    ChainEvent::MakeUpRequest(MakeUpRequest {
        kind: PunchKind::ClockOut,
        intended_time_ms: now_ms() - back_ms,
        site_id: None,
        reason: "forgot to clock out".into(),
        attachments,
        refused_attempt: None,
        fault: None,
    })
}

fn statuses(server: &TestServer) -> Vec<(String, Option<String>)> {
    server
        .admin
        .requests(None)
        .unwrap()
        .into_iter()
        .map(|r| (r.status.unwrap_or_default(), r.status_detail))
        .collect()
}

#[test]
fn the_server_judges_the_limits_again() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device: Device = server.enrolled_device("e-1");
    // Default limits: 7 days back, 3 a month. The same minute each time, so
    // a month boundary cannot split them.
    let mut records = vec![device.next_event(version, request(10 * DAY_MS, vec![]))];
    for _ in 0..4 {
        records.push(device.next_event(version, request(60_000, vec![])));
    }
    let resp = device.upload_ok(server.addr(), records);
    assert!(
        outcomes(&resp).iter().all(|o| o.1 == "accepted"),
        "{resp:?}"
    );
    let refused = |code: &str| ("refused".to_string(), Some(code.to_string()));
    let pending = ("pending".to_string(), None);
    assert_eq!(
        statuses(&server),
        vec![
            refused("make_up_too_far_back"),
            pending.clone(),
            pending.clone(),
            pending,
            refused("make_up_monthly_limit"),
        ]
    );
    // Refused requests never reach a manager's decision.
    let first = server.admin.requests(Some("refused")).unwrap()[0]
        .event_id
        .clone();
    assert!(server.admin.decide_request(&first, true, "m", "").is_err());
    // The device hears of each.
    let answer: wire::RequestsResponse = device
        .signed(server.addr(), "GET", wire::PATH_REQUESTS, b"")
        .parse();
    assert_eq!(answer.decisions.len(), 5);
    assert_eq!(
        answer.decisions[0].detail.as_deref(),
        Some("make_up_too_far_back")
    );
    assert_eq!(answer.addendum, None);
}

#[test]
fn only_named_files_are_stored_at_their_size() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let other = server.enrolled_device("e-2");
    let file = vec![7u8; 4096];
    let sha = hex::encode(sha256(&file));
    let named = Attachment {
        sha256: sha.clone(),
        size_bytes: file.len() as u64,
        media_type: "image/png".into(),
    };
    let up = device.next_event(version, request(60_000, vec![named]));
    device.upload_ok(server.addr(), vec![up]);
    let put = |d: &Device, name: &str, body: &[u8]| {
        d.signed(
            server.addr(),
            "PUT",
            &format!("{}/{name}", wire::PATH_ATTACHMENTS),
            body,
        )
    };
    // Bytes that are not what the name says.
    put(&device, &sha, b"something else").assert_error(422, "attachment_refused");
    // Another employee's device cannot store it under this request.
    put(&other, &sha, &file).assert_error(422, "attachment_refused");
    // A file no request names.
    let stray = b"stray".to_vec();
    put(&device, &hex::encode(sha256(&stray)), &stray).assert_error(422, "attachment_refused");
    assert_eq!(server.admin.attachment("e-1", &sha).unwrap(), None);
    let ok = put(&device, &sha, &file);
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(
        server.admin.attachment("e-1", &sha).unwrap(),
        Some(file.clone())
    );
    // Again: the same answer, stored once.
    assert_eq!(put(&device, &sha, &file).status, 200);
}

/// Two employees attach the same bytes (the same form, scanned twice): each
/// keeps a file of their own, so erasing one leaves the other's evidence,
/// and each is read back under its own employee only.
#[test]
fn the_same_file_from_two_employees_is_two_files() {
    let server = TestServer::start();
    let version = server.publish();
    let file = b"the same signed form".repeat(64);
    let sha = hex::encode(sha256(&file));
    let named = Attachment {
        sha256: sha.clone(),
        size_bytes: file.len() as u64,
        media_type: "application/pdf".into(),
    };
    let mut devices = Vec::new();
    for employee in ["e-1", "e-2"] {
        let mut device = server.enrolled_device(employee);
        let up = device.next_event(version, request(60_000, vec![named.clone()]));
        device.upload_ok(server.addr(), vec![up]);
        let put = device.signed(
            server.addr(),
            "PUT",
            &format!("{}/{sha}", wire::PATH_ATTACHMENTS),
            &file,
        );
        assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
        devices.push(device);
    }
    assert_eq!(
        server.admin.attachment("e-1", &sha).unwrap(),
        Some(file.clone())
    );
    assert_eq!(
        server.admin.attachment("e-2", &sha).unwrap(),
        Some(file.clone())
    );
    // Nobody else's: an employee who attached nothing has no such file.
    server.admin.add_employee("e-3", "Third").unwrap();
    assert_eq!(server.admin.attachment("e-3", &sha).unwrap(), None);

    let report = server.admin.erase_employee("e-1", now_ms()).unwrap();
    assert_eq!(report.attachments, 1);
    assert_eq!(server.admin.attachment("e-1", &sha).unwrap(), None);
    assert_eq!(server.admin.attachment("e-2", &sha).unwrap(), Some(file));
}
