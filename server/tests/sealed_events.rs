//! A refused attempt sealed at rest, over real HTTP and the real store:
//! accepted as sealed, its payload range-checked once opened with the data
//! key the device escrowed, and kept as it is when the server holds no key.

use crate::common;

use common::{Device, TestServer, outcomes};
use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::record::{PunchKind, RecordedEvidence};
use punch_model::ledger::refused::RefusedPunch;
use punch_model::ledger::sealed::{DataKey, seal_event};
use punch_model::rules::evaluate::{Decision, Evaluation};
use punch_model::wire::{self, UploadRecord, privacy::DataKeyRequest};

fn refused(evidence: RecordedEvidence, version: u64) -> ChainEvent {
    ChainEvent::RefusedPunch(Box::new(RefusedPunch {
        kind: PunchKind::ClockIn,
        evidence,
        evaluation: Evaluation {
            decision: Decision::Rejected,
            site_id: None,
            policy_version: version,
            sites: Vec::new(),
            flags: Vec::new(),
            nearest_site: None,
            reasons: vec!["not at any site: hq is 2900 m away".into()],
            attendance: None,
        },
        sealed: None,
    }))
}

fn escrow(server: &TestServer, device: &Device, key: &DataKey) {
    let body = serde_json::to_vec(&DataKeyRequest {
        key_id: key.id(),
        key: key.as_bytes().to_vec(),
    })
    .unwrap();
    let resp = device.signed(server.addr(), "POST", wire::privacy::PATH_DATA_KEY, &body);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
}

fn sealed_attempt(
    device: &mut Device,
    version: u64,
    key: &DataKey,
    matched: usize,
    seen: usize,
) -> UploadRecord {
    let evidence = RecordedEvidence {
        wifi_matched: (0..matched)
            .map(|i| format!("aa:bb:cc:dd:ee:0{i}"))
            .collect(),
        wifi_seen: seen,
        ..RecordedEvidence::default()
    };
    device.next_event_with(version, refused(evidence, version), |record| {
        seal_event(key, record).unwrap();
    })
}

#[test]
fn a_sealed_attempt_is_range_checked_once_opened_with_the_escrowed_key() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-sealed");
    let key = DataKey::generate().unwrap();
    escrow(&server, &device, &key);

    let honest = sealed_attempt(&mut device, version, &key, 1, 3);
    let resp = device.upload_ok(server.addr(), vec![honest]);
    assert_eq!(outcomes(&resp), vec![(1, "accepted", None)]);
    let stored = server.admin.events(Some("refused_punch")).unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].body.contains("aa:bb:cc"), "{}", stored[0].body);

    // Its clear part is in range (no evidence at all); the sealed payload
    // claims more access points matched than seen: no phone signs that.
    let forged = sealed_attempt(&mut device, version, &key, 2, 1);
    let resp = device.upload_ok(server.addr(), vec![forged]);
    assert_eq!(
        outcomes(&resp),
        vec![(2, "rejected", Some("out_of_range".into()))],
        "{:?}",
        resp.results
    );
    assert_eq!(server.admin.events(Some("refused_punch")).unwrap().len(), 1);
}

#[test]
fn a_sealed_attempt_the_server_cannot_open_is_kept_as_it_is() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-unescrowed");
    // Never escrowed: the payload cannot be checked, and is not lost.
    let key = DataKey::generate().unwrap();
    let attempt = sealed_attempt(&mut device, version, &key, 2, 1);
    let resp = device.upload_ok(server.addr(), vec![attempt]);
    assert_eq!(outcomes(&resp), vec![(1, "accepted", None)]);
    let export = server.admin.export("e-unescrowed", 0).unwrap();
    let refused = export
        .requests
        .iter()
        .find(|e| e["event_type"] == "refused_punch")
        .unwrap();
    assert!(
        refused["sealed_payload"]
            .as_str()
            .is_some_and(|s| s.starts_with("unreadable")),
        "{refused}"
    );
}
