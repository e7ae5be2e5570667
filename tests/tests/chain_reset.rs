//! The acknowledged chain break, end to end with the real engine: a record
//! edited on the phone breaks the chain and every later punch is refused;
//! HR acknowledges the break (audited); on its next sync the phone sets the
//! refused records aside as evidence and its next punch starts a new
//! segment linked to the acknowledged head, which the server accepts. Both
//! sides keep the refused records.

use punch_model::wire::RejectReason;
use punch_tests::world::World;

fn raw_db(w: &World) -> rusqlite::Connection {
    rusqlite::Connection::open(w.dir.path().join("device.db")).unwrap()
}

#[test]
fn an_acknowledged_break_lets_the_phone_start_a_new_segment() {
    let w = World::new();
    w.engine.sync().unwrap();
    for _ in 0..3 {
        w.clock.advance_ms(20_000);
        w.punch();
    }
    // Record 2 edited behind the library's back.
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
    let refused: Vec<_> = report.rejected.iter().map(|r| (r.seq, r.reason)).collect();
    assert_eq!(
        refused,
        [
            (2, Some(RejectReason::BadSignature)),
            (3, Some(RejectReason::Gap))
        ]
    );
    // Stuck: the next punch does not link to anything the server holds.
    w.clock.advance_ms(20_000);
    w.punch();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.chain_reset, None);
    let device_id = w.engine.device().unwrap().device_id;
    assert_eq!(w.admin.head(&device_id).unwrap().0, 1);

    // HR acknowledges, with a reason.
    assert!(w.admin.acknowledge_break(&device_id, " ").is_err());
    let ack = w
        .admin
        .acknowledge_break(&device_id, "phone storage corrupted; ticket HR-77")
        .unwrap();
    assert_eq!(ack.head_seq, 1);

    // The next sync hears of it: the refused records are set aside.
    w.clock.advance_ms(20_000);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.chain_reset, Some(3), "{report:?}");
    // A second sync does not apply it again.
    assert_eq!(w.engine.sync().unwrap().chain_reset, None);

    // The next punch starts the new segment: seq 5, accepted.
    w.clock.advance_ms(20_000);
    let receipt = w.punch();
    assert_eq!(receipt.seq, 5);
    w.clock.advance_ms(20_000);
    w.punch();
    let report = w.engine.sync().unwrap();
    assert_eq!(
        (report.uploaded, report.rejected.len()),
        (2, 0),
        "{report:?}"
    );
    assert_eq!(w.admin.head(&device_id).unwrap().0, 6);

    // The phone's own check accepts the segment start; the edited record is
    // still reported (it is evidence, not repaired).
    let chain = w.engine.verify_chain().unwrap();
    let broken: Vec<u64> = chain.breaks.iter().map(|b| b.seq).collect();
    assert!(broken.contains(&2), "{chain:?}");
    assert!(
        !broken.contains(&5),
        "the segment start is no break: {chain:?}"
    );
    // Both sides keep the refused records.
    let kept = w.engine.punches(0, 10).unwrap();
    let states: Vec<(u64, &str)> = kept
        .iter()
        .map(|p| (p.seq, p.upload_state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            (1, "uploaded"),
            (2, "rejected"),
            (3, "rejected"),
            (4, "rejected"),
            (5, "uploaded"),
            (6, "uploaded")
        ]
    );
    assert!(w.admin.rejected().unwrap().iter().any(|r| r.seq == 3));
    let seqs: Vec<u64> = w.admin.punches().unwrap().iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [1, 5, 6]);
    let audit = w.admin.audit_rows(0, 100).unwrap();
    assert!(audit.iter().any(|r| r.action == "chain.acknowledge_break"
        && r.reason == "phone storage corrupted; ticket HR-77"));
    assert!(w.admin.verify_audit().unwrap().broken.is_none());
    // The segment row is no blank cheque: point it at another hash and the
    // segment start is a break again.
    raw_db(&w)
        .execute("UPDATE chain_resets SET anchored_hash = zeroblob(32)", [])
        .unwrap();
    let chain = w.engine.verify_chain().unwrap();
    assert!(chain.breaks.iter().any(|b| b.seq == 5), "{chain:?}");
}
