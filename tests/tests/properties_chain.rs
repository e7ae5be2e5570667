//! Chain properties: any single edit, deletion, insertion or swap inside a
//! chain of stored records is reported at the right record — by the model's
//! `ChainWalk` over the rows, and by `PunchEngine::verify_chain` over a
//! real device file edited with SQL. A truncated tail is reported exactly as
//! README "Integrating safely" says: while the engine runs (it remembers its
//! head in memory) and after a clean close (persisted on drop), not after a
//! kill before the next sync.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use punch_core::{PunchEngine, PunchKind};
use punch_model::ledger::chain::{ChainProblem, ChainReport};
use punch_model::ledger::chain_walk::{ChainWalk, Link, LinkBody};
use punch_tests::decoders::sample_policy;
use punch_tests::world::{EMPLOYEE, HQ, now_ms};

const N: usize = 8;

#[derive(Debug, Clone, PartialEq)]
struct Row {
    seq: u64,
    record: Vec<u8>,
    signature: Vec<u8>,
    hash: Vec<u8>,
}

fn evidence() -> punch_core::Evidence {
    punch_core::Evidence {
        gps: Some(punch_core::GpsFix {
            lat: HQ.0,
            lon: HQ.1 + 0.0002,
            accuracy_m: 10.0,
            fix_time_ms: now_ms(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Default::default()
    }
}

fn new_device(db: &Path, punches: usize) -> PunchEngine {
    let engine = PunchEngine::open(db).expect("engine");
    engine.set_employee(EMPLOYEE).expect("employee");
    engine
        .install_policy_json(&sample_policy(1, now_ms()), None)
        .expect("policy");
    for i in 0..punches {
        let kind = [PunchKind::ClockIn, PunchKind::ClockOut][i % 2];
        engine.punch(kind, &evidence()).expect("punch");
    }
    engine
}

/// A device file with N punches, closed cleanly (head persisted), WAL
/// folded in so the one file can be copied; plus its rows and identity.
struct Base {
    _dir: tempfile::TempDir,
    db: PathBuf,
    rows: Vec<Row>,
    public_key: Vec<u8>,
    device_id: String,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("device.db");
        let engine = new_device(&db, N);
        let info = engine.device().expect("device");
        let rows = engine
            .punches(0, 100)
            .expect("punches")
            .into_iter()
            .map(|p| Row {
                seq: p.seq,
                record: p.record,
                signature: p.signature,
                hash: p.hash,
            })
            .collect();
        drop(engine);
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
        Base {
            _dir: dir,
            db,
            rows,
            public_key: info.public_key_spki,
            device_id: info.device_id,
        }
    })
}

fn walk(rows: &[Row], recorded_head: Option<u64>) -> ChainReport {
    let b = base();
    let mut walk = ChainWalk::new(&b.public_key, &b.device_id);
    for r in rows {
        walk.next(Link {
            seq: r.seq,
            body: LinkBody::Stored {
                bytes: &r.record,
                signature: &r.signature,
                hash: &r.hash,
                copied: None,
            },
        });
    }
    walk.finish(recorded_head)
}

/// One change an attacker with the file can make.
#[derive(Debug, Clone)]
enum Edit {
    /// Flip bits of one byte of the signed record bytes.
    RecordByte {
        at: usize,
        byte: usize,
        xor: u8,
    },
    /// Same, and the stored hash recomputed to match (a careful attacker).
    RecordByteRehashed {
        at: usize,
        byte: usize,
        xor: u8,
    },
    Signature {
        at: usize,
        byte: usize,
        xor: u8,
    },
    StoredHash {
        at: usize,
        byte: usize,
        xor: u8,
    },
    /// Delete a record that is not the newest.
    Delete {
        at: usize,
    },
    /// Insert a copy of record `from` before position `at`, with `at`'s seq.
    Insert {
        at: usize,
        from: usize,
    },
    /// Exchange the contents of two rows (the seq column stays in order).
    Swap {
        a: usize,
        b: usize,
    },
}

fn edits() -> impl Strategy<Value = Edit> {
    let at = 0..N;
    let byte = any::<prop::sample::Index>();
    let xor = 1u8..=255;
    prop_oneof![
        (at.clone(), byte.clone(), xor.clone()).prop_map(|(at, b, xor)| Edit::RecordByte {
            at,
            byte: b.index(usize::MAX),
            xor
        }),
        (at.clone(), byte.clone(), xor.clone()).prop_map(|(at, b, xor)| {
            Edit::RecordByteRehashed {
                at,
                byte: b.index(usize::MAX),
                xor,
            }
        }),
        (at.clone(), byte.clone(), xor.clone()).prop_map(|(at, b, xor)| Edit::Signature {
            at,
            byte: b.index(usize::MAX),
            xor
        }),
        (at.clone(), byte, xor).prop_map(|(at, b, xor)| Edit::StoredHash {
            at,
            byte: b.index(usize::MAX),
            xor
        }),
        (0..N - 1).prop_map(|at| Edit::Delete { at }),
        (0..N, 0..N).prop_map(|(at, from)| Edit::Insert { at, from }),
        (0..N, 0..N)
            .prop_filter("two different rows", |(a, b)| a != b)
            .prop_map(|(a, b)| Edit::Swap {
                a: a.min(b),
                b: a.max(b)
            }),
    ]
}

/// Applies `edit` to the rows; returns the seq of the record that must be
/// reported first.
fn apply(rows: &mut Vec<Row>, edit: &Edit) -> u64 {
    let flip = |v: &mut Vec<u8>, byte: usize, xor: u8| {
        let i = byte % v.len();
        v[i] ^= xor;
    };
    match *edit {
        Edit::RecordByte { at, byte, xor } => {
            flip(&mut rows[at].record, byte, xor);
            rows[at].seq
        }
        Edit::RecordByteRehashed { at, byte, xor } => {
            flip(&mut rows[at].record, byte, xor);
            rows[at].hash = punch_model::ledger::signing::sha256(&rows[at].record).to_vec();
            rows[at].seq
        }
        Edit::Signature { at, byte, xor } => {
            flip(&mut rows[at].signature, byte, xor);
            rows[at].seq
        }
        Edit::StoredHash { at, byte, xor } => {
            flip(&mut rows[at].hash, byte, xor);
            rows[at].seq
        }
        Edit::Delete { at } => {
            rows.remove(at);
            // The hole shows at the record after it.
            rows[at].seq
        }
        Edit::Insert { at, from } => {
            let mut copy = rows[from].clone();
            copy.seq = rows[at].seq;
            rows.insert(at, copy);
            rows[at].seq
        }
        Edit::Swap { a, b } => {
            let (sa, sb) = (rows[a].seq, rows[b].seq);
            rows.swap(a, b);
            rows[a].seq = sa;
            rows[b].seq = sb;
            sa
        }
    }
}

fn first_break(report: &ChainReport) -> Option<u64> {
    report.breaks.first().map(|b| b.seq)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn walker_reports_any_single_tampering_at_its_record(edit in edits()) {
        let mut rows = base().rows.clone();
        prop_assert!(walk(&rows, Some(N as u64)).is_intact());
        let at = apply(&mut rows, &edit);
        let report = walk(&rows, Some(N as u64));
        prop_assert_eq!(first_break(&report), Some(at), "{:?}: {:?}", edit, report.breaks);
        // Nothing is reported before the tampered record.
        prop_assert!(report.breaks.iter().all(|b| b.seq >= at), "{:?}", report.breaks);
    }
}

/// A copy of the base device file to edit with SQL.
fn copy_of_base() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("device.db");
    std::fs::copy(&base().db, &db).expect("copy");
    (dir, db)
}

fn sql_apply(db: &Path, edit: &Edit) -> u64 {
    let rows = base().rows.clone();
    let mut edited = rows.clone();
    let at = apply(&mut edited, edit);
    let conn = rusqlite::Connection::open(db).expect("open");
    let tx = conn.unchecked_transaction().expect("tx");
    match *edit {
        Edit::Delete { at: i } => {
            tx.execute("DELETE FROM punches WHERE seq = ?1", [rows[i].seq as i64])
                .expect("delete");
        }
        Edit::Insert { at: i, from } => {
            // A new row at row i's seq: every later seq moves up by one.
            let s = rows[i].seq as i64;
            tx.execute("UPDATE punches SET seq = -seq - 1 WHERE seq >= ?1", [s])
                .expect("shift");
            tx.execute("UPDATE punches SET seq = -seq WHERE seq < 0", [])
                .expect("shift back");
            // The copy carries its own columns (they match its bytes): only
            // the chain can tell it is out of place.
            let src = &rows[from];
            let src_seq = src.seq as i64 + i64::from(src.seq as i64 >= s);
            tx.execute(
                "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms, \
                 decision, upload_state, created_ms) \
                 SELECT ?1, punch_id, record, signature, hash, kind, wall_time_ms, decision, \
                 upload_state, created_ms FROM punches WHERE seq = ?2",
                rusqlite::params![s, src_seq],
            )
            .expect("insert");
            // A copy of the very record it displaces is valid where it
            // stands: the displaced original, one seq up, is the break.
            if from == i {
                tx.commit().expect("commit");
                return at + 1;
            }
        }
        _ => {
            for (old, new) in rows.iter().zip(&edited) {
                if old != new {
                    tx.execute(
                        "UPDATE punches SET record = ?1, signature = ?2, hash = ?3 WHERE seq = ?4",
                        rusqlite::params![new.record, new.signature, new.hash, new.seq as i64],
                    )
                    .expect("update");
                }
            }
        }
    }
    tx.commit().expect("commit");
    at
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn verify_chain_reports_sql_tampering_of_the_device_file(edit in edits()) {
        let (_dir, db) = copy_of_base();
        let at = sql_apply(&db, &edit);
        let engine = PunchEngine::open(&db).expect("reopen");
        let report = engine.verify_chain().expect("verify");
        prop_assert_eq!(first_break(&report), Some(at), "{:?}: {:?}", edit, report.breaks);
    }
}

fn missing_tail(report: &ChainReport) -> Option<(u64, u64, u64)> {
    report.breaks.iter().find_map(|b| match b.problem {
        ChainProblem::MissingTail { recorded, found } => Some((b.seq, recorded, found)),
        _ => None,
    })
}

fn delete_newest(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute(
        "DELETE FROM punches WHERE seq = (SELECT max(seq) FROM punches)",
        [],
    )
    .expect("delete newest");
}

#[test]
fn walker_sees_a_truncated_tail_only_against_a_remembered_head() {
    let mut rows = base().rows.clone();
    rows.pop();
    let n = N as u64;
    assert_eq!(missing_tail(&walk(&rows, Some(n))), Some((n, n, n - 1)));
    assert_eq!(walk(&rows, Some(n)).breaks.len(), 1);
    // Nothing remembered: a shorter chain is a valid chain.
    assert!(walk(&rows, None).is_intact());
    assert!(walk(&rows, Some(n - 1)).is_intact());
}

#[test]
fn truncated_tail_as_the_readme_says() {
    let n = N as u64;
    // 1. While the engine runs, it remembers its head in memory: the deleted
    //    newest record is reported, and its seq is never reused.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    let engine = new_device(&db, N);
    delete_newest(&db);
    let report = engine.verify_chain().unwrap();
    assert_eq!(
        missing_tail(&report),
        Some((n, n, n - 1)),
        "{:?}",
        report.breaks
    );
    let next = engine.punch(PunchKind::ClockIn, &evidence()).unwrap();
    assert_eq!(next.seq, n + 1, "a deleted record's seq is never reused");

    // 2. Closed cleanly (drop persists the head): seen after reopening.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = dir2.path().join("device.db");
    drop(new_device(&db2, N));
    delete_newest(&db2);
    let reopened = PunchEngine::open(&db2).unwrap();
    let report = reopened.verify_chain().unwrap();
    assert_eq!(
        missing_tail(&report),
        Some((n, n, n - 1)),
        "{:?}",
        report.breaks
    );
    assert_eq!(
        reopened.punch(PunchKind::ClockIn, &evidence()).unwrap().seq,
        n + 1
    );

    // 3. Killed before its next sync (no drop, nothing persisted since the
    //    last sync): the device alone does not see it — the README's limit.
    let dir3 = tempfile::tempdir().unwrap();
    let db3 = dir3.path().join("device.db");
    std::mem::forget(new_device(&db3, N)); // as SIGKILL would: no Drop
    delete_newest(&db3);
    let after_kill = PunchEngine::open(&db3).unwrap();
    let report = after_kill.verify_chain().unwrap();
    assert!(report.is_intact(), "{:?}", report.breaks);
    assert_eq!(report.head_seq, n - 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Columns copied out of the signed bytes are part of the chain too:
    /// editing one must be reported at its record.
    #[test]
    fn verify_chain_reports_an_edited_copied_column(at in 0..N, column in 0usize..3, delta in 1i64..10_000_000) {
        let (_dir, db) = copy_of_base();
        let seq = base().rows[at].seq as i64;
        let conn = rusqlite::Connection::open(&db).unwrap();
        let sql = [
            "UPDATE punches SET kind = CASE kind WHEN 'clock_in' THEN 'clock_out' ELSE 'clock_in' END WHERE seq = ?1",
            "UPDATE punches SET wall_time_ms = wall_time_ms + ?2 WHERE seq = ?1",
            "UPDATE punches SET decision = CASE decision WHEN 'accepted' THEN 'review' ELSE 'accepted' END WHERE seq = ?1",
        ][column];
        let changed = if column == 1 {
            conn.execute(sql, rusqlite::params![seq, delta]).unwrap()
        } else {
            conn.execute(sql, [seq]).unwrap()
        };
        prop_assert_eq!(changed, 1);
        drop(conn);
        let engine = PunchEngine::open(&db).unwrap();
        let report = engine.verify_chain().unwrap();
        prop_assert_eq!(first_break(&report), Some(seq as u64), "{:?}", report.breaks);
    }
}
