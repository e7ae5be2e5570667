//! The server trusts nothing it cannot verify: tampered, deleted, reordered,
//! replayed and foreign records, unbound devices, bad policies, moved clocks.

use std::time::Duration;

use punch_core::SyncError;
use punch_core::{PunchError, PunchKind};
use punch_model::wire::RejectReason;
use punch_tests::fault_proxy::{Fault, send_raw};
use punch_tests::world::{EMPLOYEE, World, device};

fn raw_db(w: &World) -> rusqlite::Connection {
    rusqlite::Connection::open(w.dir.path().join("device.db")).unwrap()
}

fn reasons(report: &punch_core::SyncReport) -> Vec<(u64, Option<RejectReason>)> {
    report.rejected.iter().map(|r| (r.seq, r.reason)).collect()
}

fn world_with_three_pending() -> World {
    let w = World::new();
    w.engine.sync().unwrap();
    for _ in 0..3 {
        w.clock.advance_ms(20_000);
        w.punch();
    }
    w
}

#[test]
fn tampered_bytes_are_rejected_counted_and_kept_on_the_phone() {
    let w = world_with_three_pending();
    let db = raw_db(&w);
    let bytes: Vec<u8> = db
        .query_row("SELECT record FROM punches WHERE seq = 2", [], |r| r.get(0))
        .unwrap();
    let edited = String::from_utf8(bytes)
        .unwrap()
        .replace("clock_in", "clock_out");
    db.execute(
        "UPDATE punches SET record = ?1 WHERE seq = 2",
        [edited.as_bytes()],
    )
    .unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1);
    assert_eq!(
        reasons(&report),
        vec![
            (2, Some(RejectReason::BadSignature)),
            (3, Some(RejectReason::Gap))
        ]
    );
    // Bytes the device's key did not sign prove nothing on the server: they
    // are counted, not stored (a device cannot fill the disk with junk);
    // the authentic record after them is kept as evidence of the gap.
    let rejected = w.admin.rejected().unwrap();
    assert!(!rejected.iter().any(|r| r.record == edited.as_bytes()));
    assert!(rejected.iter().any(|r| r.seq == 3 && r.reason == "gap"));
    let device_id = w.engine.device().unwrap().device_id;
    assert_eq!(w.admin.evidence_today(&device_id).unwrap().1, 1);
    // The phone keeps its copy, flagged.
    let kept = w.engine.punches(1, 1).unwrap().remove(0);
    assert_eq!((kept.seq, kept.upload_state.as_str()), (2, "rejected"));
    assert_eq!(kept.record, edited.as_bytes());
    // Rejections are final for those records: kept, surfaced, not retried.
    let status = w.engine.status().unwrap();
    assert_eq!(
        (status.pending, status.rejected, status.uploaded),
        (0, 2, 1)
    );
    let uploads_before = w
        .proxy
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/punches")
        .count();
    let again = w.engine.sync().unwrap();
    let uploads_after = w
        .proxy
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/punches")
        .count();
    assert_eq!(
        uploads_after, uploads_before,
        "rejected records are not re-sent: {again:?}"
    );
    assert_eq!(
        w.engine.punches(0, 10).unwrap().len(),
        3,
        "nothing deleted on the device"
    );
}

#[test]
fn deleted_middle_record_is_a_gap() {
    let w = world_with_three_pending();
    raw_db(&w)
        .execute("DELETE FROM punches WHERE seq = 2", [])
        .unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1);
    assert_eq!(reasons(&report), vec![(3, Some(RejectReason::Gap))]);
    assert_eq!(
        w.admin
            .head(&w.engine.device().unwrap().device_id)
            .unwrap()
            .0,
        1
    );
}

#[test]
fn reordered_records_are_rejected() {
    let w = world_with_three_pending();
    // Swap the stored records (and signatures) of seq 2 and 3.
    let db = raw_db(&w);
    db.execute_batch(
        "UPDATE punches SET seq = -2 WHERE seq = 2;
         UPDATE punches SET seq = 2 WHERE seq = 3;
         UPDATE punches SET seq = 3 WHERE seq = -2;",
    )
    .unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1);
    let r = reasons(&report);
    assert_eq!(r.len(), 2, "{report:?}");
    assert!(
        r.iter()
            .all(|(_, why)| matches!(why, Some(RejectReason::Gap | RejectReason::ChainBreak))),
        "{r:?}"
    );
    assert_eq!(w.admin.punches().unwrap().len(), 1);
}

#[test]
fn replayed_request_is_refused_and_replayed_records_are_duplicates() {
    let w = world_with_three_pending();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 3);
    let upload = w
        .proxy
        .seen()
        .into_iter()
        .find(|s| s.path == "/v1/punches")
        .expect("an upload went through the proxy");
    // The exact same request again (same nonce and signature): refused.
    let answer = String::from_utf8_lossy(&send_raw(w.server.as_ref().unwrap().addr(), &upload.raw))
        .to_string();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("replayed_nonce"), "{answer}");
    // The same records in a fresh, validly signed request: duplicates, stored once.
    raw_db(&w)
        .execute("UPDATE punches SET upload_state = 'pending'", [])
        .unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!((report.uploaded, report.duplicates), (0, 3), "{report:?}");
    assert_eq!(w.admin.punches().unwrap().len(), 3);
}

#[test]
fn another_devices_record_is_rejected() {
    let w = world_with_three_pending();
    w.engine.sync().unwrap();
    // A second employee's device with its own signed record.
    w.admin.add_employee("emp-8", "Zhang Min").unwrap();
    let other = device(
        &w.dir.path().join("other.db"),
        &w.proxy,
        &w.admin,
        &w.clock,
        500,
    );
    other
        .enroll(
            &w.admin
                .create_enrollment_code("emp-8", Duration::from_secs(60))
                .unwrap(),
        )
        .unwrap();
    other.sync().unwrap();
    w.clock.advance_ms(1_000);
    let evidence = {
        let r = w.engine.punches(0, 1).unwrap().remove(0);
        punch_core::PunchRecord::from_bytes(&r.record)
            .unwrap()
            .evidence
    };
    let _ = evidence;
    let theirs = {
        use punch_core::Clock;
        let e = punch_core::Evidence {
            gps: Some(punch_core::GpsFix {
                lat: punch_tests::world::HQ.0,
                lon: punch_tests::world::HQ.1,
                accuracy_m: 5.0,
                fix_time_ms: w.clock.now().wall_time_ms,
                provider: "gps".into(),
                is_mock: false,
                speed_mps: None,
                elapsed_realtime_ms: None,
                reduced_accuracy: false,
                external_receiver: false,
            }),
            ..Default::default()
        };
        other.punch(PunchKind::ClockIn, &e).unwrap();
        other.punches(0, 1).unwrap().remove(0)
    };
    // Smuggle their record into our queue as our next one.
    raw_db(&w)
        .execute(
            "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms, decision, created_ms)
             VALUES (4, ?1, ?2, ?3, ?4, 'clock_in', 0, 'accepted', 0)",
            rusqlite::params![theirs.punch_id, theirs.record, theirs.signature, theirs.hash],
        )
        .unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!(
        reasons(&report),
        vec![(4, Some(RejectReason::WrongDevice))],
        "{report:?}"
    );
}

#[test]
fn unbound_device_is_refused_and_keeps_its_punches() {
    let w = world_with_three_pending();
    let device_id = w.engine.device().unwrap().device_id;
    w.admin.unbind_device(&device_id).unwrap();
    let report = w.engine.sync().unwrap();
    match &report.error {
        Some(SyncError::Refused { code, .. }) => {
            assert_eq!(*code, Some(punch_model::wire::ErrorCode::DeviceUnbound))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(report.error.as_ref().unwrap().is_permanent());
    assert_eq!(report.remaining, 3, "never deleted");
    assert!(w.admin.punches().unwrap().is_empty());
}

#[test]
fn second_device_needs_an_admin_rebind() {
    let w = World::new();
    w.engine.sync().unwrap();
    let phone2 = device(
        &w.dir.path().join("phone2.db"),
        &w.proxy,
        &w.admin,
        &w.clock,
        500,
    );
    let code = w
        .admin
        .create_enrollment_code(EMPLOYEE, Duration::from_secs(60))
        .unwrap();
    match phone2.enroll(&code) {
        Err(PunchError::Sync(SyncError::Refused { code, .. })) => {
            assert_eq!(code, Some(punch_model::wire::ErrorCode::DeviceAlreadyBound))
        }
        other => panic!("expected device_already_bound, got {other:?}"),
    }
    w.admin.approve_rebind(EMPLOYEE).unwrap();
    let code = w
        .admin
        .create_enrollment_code(EMPLOYEE, Duration::from_secs(60))
        .unwrap();
    assert_eq!(phone2.enroll(&code).unwrap(), EMPLOYEE);
    // The old phone's key is no longer accepted.
    w.punch();
    let report = w.engine.sync().unwrap();
    assert!(
        matches!(report.error, Some(SyncError::Refused { .. })),
        "{report:?}"
    );
    assert_eq!(phone2.sync().unwrap().policy_installed, Some(1));
}

/// The raw HTTP answer of the last policy fetch that went through the proxy.
fn last_policy_answer(w: &World) -> Vec<u8> {
    w.proxy
        .seen()
        .into_iter()
        .rev()
        .find(|s| s.path == "/v1/policy")
        .and_then(|s| s.answer)
        .expect("a policy answer")
}

#[test]
fn rolled_back_policy_is_refused() {
    let w = World::new();
    w.engine.sync().unwrap();
    let v1 = last_policy_answer(&w);
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    w.punch();
    assert_eq!(w.engine.sync().unwrap().policy_installed, Some(2));
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    w.punch();
    // An attacker (or a stale cache) answers the v3 fetch with the signed v1.
    w.proxy.script([Fault::Pass, Fault::Respond(v1)]);
    let report = w.engine.sync().unwrap();
    match &report.error {
        Some(SyncError::Policy { message }) => assert!(message.contains("rollback"), "{message}"),
        other => panic!("expected a policy refusal, got {other:?}"),
    }
    assert_eq!(w.engine.policy_version(), Some(2));
}

#[test]
fn forged_policy_is_refused() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    w.punch();
    w.engine.sync().unwrap();
    let answer = String::from_utf8(last_policy_answer(&w)).unwrap();
    w.admin.publish_policy(Duration::from_secs(86_400)).unwrap();
    w.punch();
    // Widen the site in the signed body: the signature no longer matches.
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut json: serde_json::Value = serde_json::from_str(body).unwrap();
    let policy_b64 = json["body"].as_str().unwrap().to_string();
    let mut policy: serde_json::Value =
        serde_json::from_slice(&punch_model::wire::b64::decode(&policy_b64).unwrap()).unwrap();
    policy["version"] = 3.into();
    policy["sites"][0]["shape"]["radius_m"] = 50_000.into();
    json["body"] = punch_model::wire::b64::encode(policy.to_string().as_bytes()).into();
    let new_body = json.to_string();
    let head: String = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let forged = format!(
        "{head}\r\ncontent-length: {}\r\n\r\n{new_body}",
        new_body.len()
    );
    w.proxy
        .script([Fault::Pass, Fault::Respond(forged.into_bytes())]);
    let report = w.engine.sync().unwrap();
    match &report.error {
        Some(SyncError::Policy { message }) => assert!(message.contains("signature"), "{message}"),
        other => panic!("expected a policy refusal, got {other:?}"),
    }
    assert_eq!(w.engine.policy_version(), Some(2));
}

#[test]
fn expired_policy_is_refused_by_anchored_time() {
    let w = World::new();
    w.admin.publish_policy(Duration::from_secs(3_600)).unwrap();
    assert_eq!(w.engine.sync().unwrap().policy_installed, Some(2));
    w.punch();
    // Two hours pass on the monotonic clock; the employee winds the wall clock back.
    w.clock.advance_ms(2 * 3_600_000);
    use punch_core::Clock;
    w.clock
        .set_wall_ms(w.clock.now().wall_time_ms - 3 * 3_600_000);
    match w
        .engine
        .punch(PunchKind::ClockOut, &punch_core::Evidence::default())
    {
        Err(PunchError::Policy(punch_model::rules::policy::PolicyError::Expired { .. })) => {}
        other => panic!("expected an expired policy, got {other:?}"),
    }
}

#[test]
fn clock_moved_and_reboot_are_flagged_by_the_server() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.clock.advance_ms(20_000);
    w.punch();
    // Offline, the employee moves the phone's clock back two hours.
    use punch_core::Clock;
    w.clock.advance_ms(20_000);
    w.clock
        .set_wall_ms(w.clock.now().wall_time_ms - 2 * 3_600_000);
    w.punch_kind(PunchKind::ClockOut);
    // Then reboots: the monotonic clock restarts, the anchor no longer applies.
    w.clock.reboot("boot-2");
    w.punch_kind(PunchKind::ClockIn);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 3, "{report:?}");
    let stored = w.admin.punches().unwrap();
    let status: Vec<&str> = stored.iter().map(|p| p.time_status.as_str()).collect();
    assert_eq!(
        status,
        vec!["anchored", "clock_moved", "unanchored:different_boot"],
        "{stored:?}"
    );
    let moved = &stored[1];
    let skew = moved.skew_ms.unwrap();
    assert!(
        (-2 * 3_600_000 - 1_000..=-2 * 3_600_000 + 1_000).contains(&skew),
        "{skew}"
    );
    assert!(moved.trusted_time_ms.unwrap() > moved.wall_time_ms);
}

#[test]
fn trusted_time_after_receipt_is_flagged() {
    let w = World::new();
    w.engine.sync().unwrap();
    // The device reports an hour more monotonic time than really passed
    // (a tampered clock source): its trusted time lands after the upload.
    w.clock.advance_ms(3_600_000);
    w.punch();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(w.admin.punches().unwrap()[0].time_status, "after_receipt");
}

#[test]
fn a_tampered_app_forging_its_verdict_is_flagged() {
    use punch_core::Decision;
    use punch_model::ledger::review::ReviewFlag;
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    // A modified app with the device key signs a chained record that claims
    // "accepted at hq" for a fix 3 km away.
    append_signed(&w, |forged| {
        assert_eq!(forged.evaluation.decision, Decision::Accepted);
        forged.evidence.gps.as_mut().unwrap().point.lat += 0.027; // ~3 km north
    });
    let report = w.engine.sync().unwrap();
    assert_eq!(
        report.uploaded, 2,
        "authentic records are stored: {report:?}"
    );
    let stored = w.admin.punches().unwrap();
    assert_eq!(stored[0].review_flags, vec![], "the honest punch");
    assert!(
        matches!(
            &stored[1].review_flags[..],
            [ReviewFlag::EvaluationMismatch {
                device: Decision::Accepted,
                evidence: Decision::Rejected,
                ..
            }]
        ),
        "{:?}",
        stored[1].review_flags
    );
}

/// Appends to the device's queue the record a modified app with the device
/// key would write: a copy of the last one, edited, then properly chained
/// (next seq, fresh punch id, previous hash) and signed.
fn append_signed(w: &World, edit: impl FnOnce(&mut punch_core::PunchRecord)) {
    use punch_core::{PunchRecord, Signer, SoftwareSigner};
    let db = raw_db(w);
    let pkcs8: Vec<u8> = db
        .query_row("SELECT key_pkcs8 FROM device", [], |r| r.get(0))
        .unwrap();
    let last = w.engine.punches(0, 1000).unwrap().pop().unwrap();
    let mut record = PunchRecord::from_bytes(&last.record).unwrap();
    edit(&mut record);
    record.seq = last.seq + 1;
    record.punch_id = punch_model::ledger::record::Uuid::new_v4();
    record.prev_hash = punch_model::ledger::signing::sha256(&last.record)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let bytes = record.to_bytes().unwrap();
    let signature = SoftwareSigner::from_pkcs8(&pkcs8)
        .unwrap()
        .sign(&bytes)
        .unwrap();
    db.execute(
        "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms, decision, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, 'clock_in', 0, 'accepted', 0)",
        rusqlite::params![
            record.seq as i64,
            record.punch_id.to_string(),
            bytes,
            signature,
            punch_model::ledger::signing::sha256(&bytes).to_vec()
        ],
    )
    .unwrap();
}

#[test]
fn an_authentic_but_refused_record_does_not_block_later_punches() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    // An authentic, chained record naming a policy version the server never
    // published (a modified app, or a server restored without it).
    append_signed(&w, |odd| odd.policy_version = 99);
    // The honest app punches on, chaining after that record.
    w.punch();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 2, "{report:?}");
    assert_eq!(
        reasons(&report),
        vec![(2, Some(RejectReason::UnknownPolicyVersion))]
    );
    let seqs: Vec<u64> = w.admin.punches().unwrap().iter().map(|p| p.seq).collect();
    assert_eq!(seqs, vec![1, 3]);
    // Sending the refused record again gets the same answer, nothing new stored.
    raw_db(&w)
        .execute(
            "UPDATE punches SET upload_state = 'pending' WHERE seq = 2",
            [],
        )
        .unwrap();
    let again = w.engine.sync().unwrap();
    assert_eq!(
        reasons(&again),
        vec![(2, Some(RejectReason::UnknownPolicyVersion))]
    );
    assert_eq!(w.admin.punches().unwrap().len(), 2);
}

#[test]
fn a_phone_with_a_wrong_clock_still_enrolls_and_syncs() {
    let w = World::new();
    w.admin.add_employee("emp-9", "Chen Jing").unwrap();
    use punch_core::Clock;
    let skewed = std::sync::Arc::new(punch_core::test_support::ManualClock::new(
        punch_core::ClockReading {
            wall_time_ms: w.clock.now().wall_time_ms + 2 * 3_600_000,
            utc_offset_min: 480,
            monotonic_ms: 77_000,
            boot_id: "other-boot".into(),
        },
    ));
    let phone = device(
        &w.dir.path().join("skewed.db"),
        &w.proxy,
        &w.admin,
        &skewed,
        500,
    );
    let code = w
        .admin
        .create_enrollment_code("emp-9", Duration::from_secs(60))
        .unwrap();
    // The first signed attempt is stale; the phone learns the server's time and signs again.
    assert_eq!(phone.enroll(&code).unwrap(), "emp-9");
    let report = phone.sync().unwrap();
    assert_eq!(report.policy_installed, Some(1), "{report:?}");
    assert!(report.error.is_none());
}

/// Found by an outside check: a process that syncs but never punches (a
/// background upload in its own process) must still record the head it
/// uploaded, or deleting the newest records afterwards goes unseen locally.
#[test]
fn a_sync_only_process_records_the_head_it_uploaded() {
    let mut w = world_with_three_pending();
    let db = w.dir.path().join("device.db");
    // The punching process dies without closing: its in-memory head is lost.
    let punching = std::mem::replace(
        &mut w.engine,
        std::sync::Arc::new(device(&db, &w.proxy, &w.admin, &w.clock, 500)),
    );
    std::mem::forget(punching);
    // Another process opens the file and only syncs.
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 3);
    drop(std::mem::replace(
        &mut w.engine,
        std::sync::Arc::new(device(&db, &w.proxy, &w.admin, &w.clock, 500)),
    ));
    // Someone deletes the two newest records, which the server holds.
    raw_db(&w)
        .execute("DELETE FROM punches WHERE seq >= 2", [])
        .unwrap();
    let report = w.engine.verify_chain().unwrap();
    assert_eq!(
        report.breaks.iter().map(|b| &b.problem).collect::<Vec<_>>(),
        vec![&punch_core::ChainProblem::MissingTail {
            recorded: 3,
            found: 1
        }],
        "{report:?}"
    );
}

/// Privacy: records and anchors carry neither the phone's uptime nor its
/// OS boot id, and the server's trusted time is exactly what it was.
#[test]
fn records_carry_no_raw_uptime_or_boot_id_and_time_is_still_trusted() {
    use punch_core::Clock;
    let w = World::new();
    w.engine.sync().unwrap();
    w.clock.advance_ms(20_000);
    let receipt = w.punch();
    let raw = w.clock.now();
    let stored = w.engine.punches(receipt.seq - 1, 1).unwrap().remove(0);
    let record = punch_core::PunchRecord::from_bytes(&stored.record).unwrap();
    let anchor = record.anchor.clone().expect("anchored");
    assert_ne!(record.boot_id, raw.boot_id);
    assert_ne!(record.monotonic_ms, raw.monotonic_ms);
    assert_eq!(anchor.boot_id, record.boot_id);
    assert_eq!(record.monotonic_ms - anchor.monotonic_ms, 20_000);
    let text = String::from_utf8(stored.record.clone()).unwrap();
    assert!(!text.contains(&raw.boot_id), "{text}");
    w.engine.sync().unwrap();
    let device_id = w.engine.device().unwrap().device_id;
    let on_server = w
        .admin
        .punches()
        .unwrap()
        .into_iter()
        .find(|p| p.device_id == device_id && p.seq == receipt.seq)
        .unwrap();
    assert_eq!(on_server.time_status, "anchored");
    assert_eq!(
        on_server.trusted_time_ms,
        Some(anchor.server_time_ms + 20_000)
    );
}
