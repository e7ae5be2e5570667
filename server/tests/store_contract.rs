//! The store's contract, run on every back end: SQLite (always, clear and
//! behind the at-rest layer) and PostgreSQL when `PUNCH_TEST_DB` names one
//! (CI's PostgreSQL lane runs this same binary so). Each case is written
//! once and handed each store by [`on_every_backend`].

use std::sync::Arc;

use crate::common;

use punch_model::rules::forgotten::{ForgottenClockOut, ForgottenState};
use punch_server::internal::at_rest;
use punch_server::internal::forgotten::{ForgottenFilter, ForgottenRow};
use punch_server::internal::store::employee_devices::NewDeviceApproval;
use punch_server::internal::store::people::{
    ApiTokenRow, AuditRow, ChainAckRow, PunchReviewRow, SessionRow, StaffRow,
};
use punch_server::internal::store::punch_page::PunchQuery;
use punch_server::internal::store::sealable::SealableColumn;
use punch_server::internal::store::{
    self, AttachmentRow, BindDevice, ChallengeRow, CodeRow, EventDecision, EventFilter, NewPunch,
    PinCodeRow, PinProfile, PolicyRow, PurgeKind, Revelation, StoredEvent,
};
use punch_server::{
    AtRestKeys, DbUrl, RejectedInfo, ServerError, ServerStore, StoreExt, StoredPunchInfo,
};

/// Runs `case` on a fresh store of every back end under test.
fn on_every_backend(case: impl Fn(&dyn ServerStore)) {
    let dir = tempfile::tempdir().unwrap();
    // Scratch databases, dropped after the stores on them (declared first).
    let mut scratch = Vec::new();
    let mut stores: Vec<(String, Arc<dyn ServerStore>)> = Vec::new();
    let sqlite = |name: &str| DbUrl::Sqlite(dir.path().join(name));
    stores.push(("sqlite".into(), store::open(&sqlite("a.db")).unwrap()));
    let keys = Arc::new(AtRestKeys::parse(&AtRestKeys::generate_file("k1").unwrap()).unwrap());
    stores.push((
        "sqlite, sealed at rest".into(),
        at_rest::open(&sqlite("b.db"), Some(&keys)).unwrap(),
    ));
    if let Ok(url) = std::env::var("PUNCH_TEST_DB")
        && url.starts_with("postgres")
    {
        for sealed in [false, true] {
            let db = common::TestDb::scratch(&url, "punch_c");
            let store = at_rest::open(&db, sealed.then_some(&keys)).unwrap();
            stores.push((format!("postgres, sealed {sealed}"), store));
            scratch.push(db);
        }
    }
    for (name, store) in stores {
        eprintln!("store contract on {name}");
        case(&*store);
    }
}

const T: i64 = 1_700_000_000_000;

/// Refusals about one employee have their index on PostgreSQL too (step
/// 21; SQLite's plan is checked in `store::sqlite`'s tests).
#[test]
fn refusals_are_indexed_by_employee() {
    let Ok(url) = std::env::var("PUNCH_TEST_DB") else {
        return;
    };
    if !url.starts_with("postgres") {
        return;
    }
    let db = common::TestDb::scratch(&url, "punch_c");
    drop(store::open(&db).unwrap());
    let DbUrl::Postgres(db_url) = &*db else {
        unreachable!("a PostgreSQL scratch database")
    };
    let out = std::process::Command::new("psql")
        .args([
            "-At",
            db_url.as_str(),
            "-c",
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'rejected_by_employee'",
        ])
        .output()
        .expect("psql runs");
    let def = String::from_utf8_lossy(&out.stdout);
    assert!(
        def.contains("rejected USING btree (employee_id, id)"),
        "{def}"
    );
}

fn employee(s: &dyn ServerStore, id: &str) {
    s.write(|tx| {
        tx.enrollment()
            .upsert_employee(id, &format!("Name {id}"), T)
    })
    .unwrap();
}

fn device(s: &dyn ServerStore, device_id: &str, employee_id: &str) {
    employee(s, employee_id);
    s.write(|tx| {
        tx.devices().bind_device(&BindDevice {
            device_id,
            employee_id,
            public_key: b"pk",
            key_storage: "tee",
            platform: "android",
            assurance: "software",
            attestation: None,
            channel_key: Some(b"ck"),
            channel_assurance: Some("software"),
            channel_attestation: None,
            now_ms: T,
        })
    })
    .unwrap();
}

fn punch_info(device_id: &str, seq: u64, employee_id: &str) -> StoredPunchInfo {
    StoredPunchInfo {
        device_id: device_id.into(),
        seq,
        punch_id: format!("{device_id}-p{seq}"),
        employee_id: employee_id.into(),
        kind: if seq % 2 == 1 {
            "clock_in"
        } else {
            "clock_out"
        }
        .into(),
        wall_time_ms: T + seq as i64 * 1000,
        utc_offset_min: -300,
        trusted_time_ms: Some(T + seq as i64 * 1000 + 5),
        skew_ms: Some(-5),
        time_status: "anchored".into(),
        policy_version: 1,
        decision: "accepted".into(),
        site_id: Some("hq".into()),
        hash: format!("h-{device_id}-{seq}"),
        received_at_ms: T + seq as i64,
        review_flags: Vec::new(),
        assurance: "software".into(),
        attendance: None,
    }
}

fn punches(s: &dyn ServerStore, device_id: &str, employee_id: &str, seqs: std::ops::Range<u64>) {
    let infos: Vec<StoredPunchInfo> = seqs
        .map(|q| punch_info(device_id, q, employee_id))
        .collect();
    let records: Vec<Vec<u8>> = infos
        .iter()
        .map(|i| format!("rec {}", i.seq).into_bytes())
        .collect();
    let rows: Vec<NewPunch<'_>> = infos
        .iter()
        .zip(&records)
        .map(|(info, record)| NewPunch {
            info,
            record,
            signature: b"sig",
        })
        .collect();
    s.write(|tx| tx.punches().insert_punches(&rows)).unwrap();
}

#[test]
fn meta_round_trips_and_secrets_come_back_clear() {
    on_every_backend(|s| {
        assert_eq!(s.read(|tx| tx.meta().get("x")).unwrap(), None);
        s.write(|tx| tx.meta().set("x", b"1")).unwrap();
        s.write(|tx| tx.meta().set("x", b"2")).unwrap();
        assert_eq!(
            s.read(|tx| tx.meta().get("x")).unwrap(),
            Some(b"2".to_vec())
        );
        let kept = s
            .write(|tx| tx.meta().get_or_insert("time_token_secret", b"first"))
            .unwrap();
        assert_eq!(kept, b"first");
        let again = s
            .write(|tx| tx.meta().get_or_insert("time_token_secret", b"second"))
            .unwrap();
        assert_eq!(again, b"first");
    });
}

#[test]
fn enrollment_rows_round_trip_and_codes_are_used_once() {
    on_every_backend(|s| {
        employee(s, "e1");
        let e = s
            .read(|tx| tx.enrollment().employee("e1"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (e.name.as_str(), e.rebind_approved_at_ms),
            ("Name e1", None)
        );
        s.write(|tx| tx.enrollment().set_rebind_approved("e1", Some(9)))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.enrollment().employee("e1"))
                .unwrap()
                .unwrap()
                .rebind_approved_at_ms,
            Some(9)
        );
        let code = CodeRow {
            code_hash: "c1".into(),
            employee_id: "e1".into(),
            created_at_ms: T,
            expires_at_ms: T + 10,
            used_at_ms: None,
            used_by_device: None,
        };
        s.write(|tx| tx.enrollment().insert_code(&code)).unwrap();
        assert_eq!(
            s.write(|tx| tx.enrollment().code("c1")).unwrap(),
            Some(code.clone())
        );
        s.write(|tx| tx.enrollment().mark_code_used("c1", "d1", T + 1))
            .unwrap();
        s.write(|tx| tx.enrollment().mark_code_used("c1", "d2", T + 2))
            .unwrap();
        let used = s.read(|tx| tx.enrollment().code("c1")).unwrap().unwrap();
        assert_eq!(
            (used.used_at_ms, used.used_by_device.as_deref()),
            (Some(T + 1), Some("d1"))
        );
        let ch = ChallengeRow {
            challenge_hash: "ch".into(),
            code_hash: "c1".into(),
            created_at_ms: T,
            expires_at_ms: T + 5,
            used_at_ms: None,
        };
        s.write(|tx| tx.enrollment().insert_challenge(&ch)).unwrap();
        s.write(|tx| tx.enrollment().mark_challenge_used("ch", T + 1))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.enrollment().challenge("ch"))
                .unwrap()
                .unwrap()
                .used_at_ms,
            Some(T + 1)
        );
        // A later challenge sweeps the expired one.
        let later = ChallengeRow {
            challenge_hash: "ch2".into(),
            created_at_ms: T + 100,
            expires_at_ms: T + 200,
            ..ch
        };
        s.write(|tx| tx.enrollment().insert_challenge(&later))
            .unwrap();
        assert_eq!(s.read(|tx| tx.enrollment().challenge("ch")).unwrap(), None);
    });
}

#[test]
fn devices_bind_page_and_refuse_a_head_beyond_i64() {
    on_every_backend(|s| {
        for (d, e) in [("d1", "e1"), ("d2", "e2"), ("d3", "e3")] {
            device(s, d, e);
        }
        s.write(|tx| tx.people().set_team("e2", Some("t"))).unwrap();
        let d = s.read(|tx| tx.devices().device("d1")).unwrap().unwrap();
        assert_eq!(
            (d.head_seq, d.channel_key(), d.is_bound()),
            (0, &b"ck"[..], true)
        );
        assert!(s.read(|tx| tx.devices().devices_of("e2")).unwrap()[0].is_bound());
        let page = s
            .read(|tx| tx.devices().devices_page(Some("d1"), None, None, 1))
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].0.device_id, "d2");
        assert_eq!(page[0].1.as_deref(), Some("t"));
        let team = s
            .read(|tx| tx.devices().devices_page(None, Some("t"), None, 10))
            .unwrap();
        assert_eq!(team.len(), 1);
        let of = s
            .read(|tx| tx.devices().devices_page(None, None, Some("e3"), 10))
            .unwrap();
        assert_eq!(of[0].0.device_id, "d3");
        assert_eq!(s.read(|tx| tx.devices().all_devices()).unwrap().len(), 3);
        assert_eq!(
            s.read(|tx| tx.devices().devices_of("e2")).unwrap()[0].device_id,
            "d2"
        );

        s.write(|tx| tx.devices().set_head("d1", 7, "hh")).unwrap();
        s.write(|tx| tx.devices().set_punch_key("d1", b"pk2", "hardware"))
            .unwrap();
        let d = s
            .write(|tx| tx.devices().lock_device("d1"))
            .unwrap()
            .unwrap();
        assert_eq!((d.head_seq, d.head_hash.as_str()), (7, "hh"));
        assert_eq!(
            (d.current_punch_key(), d.assurance.as_str()),
            (&b"pk2"[..], "hardware")
        );
        // A device-stated seq the store cannot keep is a typed refusal, not
        // a wrapped negative.
        let beyond = s.write(|tx| tx.devices().set_head("d1", u64::MAX, "x"));
        assert!(matches!(beyond, Err(ServerError::Invalid(_))), "{beyond:?}");
        assert_eq!(
            s.read(|tx| tx.devices().device("d1"))
                .unwrap()
                .unwrap()
                .head_seq,
            7
        );
        assert_eq!(
            s.read(|tx| tx.chain().punch_bytes("d1", u64::MAX)).unwrap(),
            None
        );

        assert!(s.write(|tx| tx.devices().mark_unbound("d1", T)).unwrap());
        assert!(!s.write(|tx| tx.devices().mark_unbound("d1", T)).unwrap());
        assert!(!s.read(|tx| tx.devices().devices_of("e1")).unwrap()[0].is_bound());
    });
}

#[test]
fn device_approvals_are_listed_and_used_once() {
    on_every_backend(|s| {
        employee(s, "e1");
        employee(s, "e2");
        let approve = |employee_id: &str, at: i64| {
            s.write(|tx| {
                tx.employee_devices().lock_employee(employee_id)?;
                tx.employee_devices()
                    .insert_device_approval(&NewDeviceApproval {
                        employee_id,
                        approved_by: "hr",
                        reason: "depot tablet",
                        approved_at_ms: at,
                    })
            })
            .unwrap()
        };
        let first = approve("e1", T);
        let second = approve("e1", T + 1);
        approve("e2", T + 2);
        let unused = |e: &str| {
            s.write(|tx| tx.employee_devices().unused_device_approval(e))
                .unwrap()
                .map(|a| a.id)
        };
        assert_eq!(unused("e1"), Some(first), "the oldest first");
        assert!(
            s.write(|tx| tx
                .employee_devices()
                .use_device_approval(first, "d9", T + 5))
                .unwrap()
        );
        assert!(
            !s.write(|tx| tx
                .employee_devices()
                .use_device_approval(first, "d8", T + 6))
                .unwrap(),
            "an approval is good for one device"
        );
        assert_eq!(unused("e1"), Some(second));
        let listed = s
            .read(|tx| tx.employee_devices().device_approvals("e1"))
            .unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|a| (a.id, a.used_by_device.as_deref(), a.used_at_ms))
                .collect::<Vec<_>>(),
            vec![(second, None, None), (first, Some("d9"), Some(T + 5))],
            "newest first"
        );
        assert_eq!(
            (listed[1].approved_by.as_str(), listed[1].reason.as_str()),
            ("hr", "depot tablet")
        );
        assert_eq!(unused("nobody"), None);
    });
}

#[test]
fn an_employees_latest_clock_punch_is_read_across_devices_in_time_order() {
    on_every_backend(|s| {
        device(s, "dA", "e1");
        device(s, "dB", "e1");
        device(s, "dC", "e2");
        // (device, seq, kind, the server's time for it)
        let rows = [
            ("dA", 1, "clock_in", T + 100),
            ("dB", 1, "break_start", T + 150),
            ("dB", 2, "clock_out", T + 200),
            // Same millisecond on two devices: dA before dB.
            ("dA", 2, "clock_in", T + 300),
            ("dB", 3, "clock_out", T + 300),
            ("dC", 1, "clock_in", T + 250),
        ];
        let infos: Vec<StoredPunchInfo> = rows
            .iter()
            .map(|&(d, seq, kind, at)| StoredPunchInfo {
                kind: kind.into(),
                trusted_time_ms: Some(at),
                employee_id: if d == "dC" { "e2" } else { "e1" }.into(),
                ..punch_info(d, seq, "e1")
            })
            .collect();
        let rows: Vec<NewPunch<'_>> = infos
            .iter()
            .map(|info| NewPunch {
                info,
                record: b"r",
                signature: b"s",
            })
            .collect();
        s.write(|tx| tx.punches().insert_punches(&rows)).unwrap();
        let latest = |at: i64, device: &str, seq: u64| {
            s.write(|tx| {
                tx.employee_devices().lock_employee("e1")?;
                tx.employee_devices()
                    .latest_clock_punch("e1", at, device, seq)
            })
            .unwrap()
            .map(|p| (p.device_id, p.seq, p.kind, p.at_ms))
        };
        assert_eq!(latest(T + 100, "dA", 1), None, "strictly before");
        let a1 = Some(("dA".to_string(), 1, "clock_in".to_string(), T + 100));
        assert_eq!(latest(T + 199, "zz", 9), a1, "breaks do not count");
        let b2 = Some(("dB".to_string(), 2, "clock_out".to_string(), T + 200));
        assert_eq!(
            latest(T + 260, "dA", 1),
            b2,
            "another employee's do not count"
        );
        let a2 = Some(("dA".to_string(), 2, "clock_in".to_string(), T + 300));
        assert_eq!(latest(T + 300, "dB", 3), a2, "a tie goes by device");
        assert_eq!(latest(T + 300, "dA", 2), b2);
        let b3 = Some(("dB".to_string(), 3, "clock_out".to_string(), T + 300));
        assert_eq!(latest(T + 301, "", 0), b3);
        // From a time on, in the same order: the tie again dA before dB.
        let since = s
            .read(|tx| tx.employee_devices().clock_punches_since("e1", T + 200))
            .unwrap()
            .into_iter()
            .map(|p| (p.device_id, p.seq))
            .collect::<Vec<_>>();
        assert_eq!(
            since,
            vec![("dB".into(), 2), ("dA".into(), 2), ("dB".into(), 3)]
        );
    });
}

#[test]
fn nonces_are_single_use_until_pruned() {
    on_every_backend(|s| {
        let now = punch_server::now_ms();
        assert!(
            s.write(|tx| tx.devices().insert_nonce("d1", "n", now - 600_000))
                .unwrap()
        );
        assert!(
            !s.write(|tx| tx.devices().insert_nonce("d1", "n", now))
                .unwrap()
        );
        assert!(
            s.write(|tx| tx.devices().insert_nonce("d2", "n", now))
                .unwrap()
        );
        assert_eq!(s.write(|tx| tx.devices().prune_nonces(60_000)).unwrap(), 1);
        assert!(
            s.write(|tx| tx.devices().insert_nonce("d1", "n", now))
                .unwrap()
        );
    });
}

#[test]
fn sites_and_policies_round_trip() {
    on_every_backend(|s| {
        s.write(|tx| tx.policies().upsert_site("b", "{\"b\":1}", T))
            .unwrap();
        s.write(|tx| tx.policies().upsert_site("a", "{\"a\":1}", T))
            .unwrap();
        s.write(|tx| tx.policies().upsert_site("a", "{\"a\":2}", T))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.policies().sites()).unwrap(),
            ["{\"a\":2}", "{\"b\":1}"]
        );
        assert!(s.write(|tx| tx.policies().remove_site("b")).unwrap());
        assert!(!s.write(|tx| tx.policies().remove_site("b")).unwrap());
        assert_eq!(
            s.read(|tx| tx.policies().latest_policy_version()).unwrap(),
            0
        );
        for version in [1, 2] {
            s.write(|tx| {
                tx.policies().insert_policy(&PolicyRow {
                    version,
                    body: vec![version as u8],
                    signature: b"s".to_vec(),
                    issued_at_ms: T,
                    expires_at_ms: (version == 2).then_some(T + 1),
                })
            })
            .unwrap();
        }
        assert_eq!(
            s.read(|tx| tx.policies().latest_policy_version()).unwrap(),
            2
        );
        let latest = s.read(|tx| tx.policies().latest_policy()).unwrap().unwrap();
        assert_eq!((latest.body, latest.expires_at_ms), (vec![2], Some(T + 1)));
        assert_eq!(
            s.read(|tx| tx.policies().policy(1)).unwrap().unwrap().body,
            vec![1]
        );
        assert_eq!(s.read(|tx| tx.policies().policy(u64::MAX)).unwrap(), None);
    });
}

#[test]
fn punches_round_trip_in_batches_and_page_newest_first() {
    on_every_backend(|s| {
        device(s, "d1", "e1");
        device(s, "d2", "e2");
        // More than one INSERT's worth.
        punches(s, "d1", "e1", 1..121);
        punches(s, "d2", "e2", 1..3);
        assert_eq!(s.read(|tx| tx.punches().all_punches()).unwrap().len(), 122);
        assert_eq!(s.read(|tx| tx.punches().punches_of("e2")).unwrap().len(), 2);
        let one = s
            .read(|tx| tx.punches().punch_info("d1", 60))
            .unwrap()
            .unwrap();
        assert_eq!(one, punch_info("d1", 60, "e1"));
        assert_eq!(
            s.read(|tx| tx.chain().punch_bytes("d1", 60)).unwrap(),
            Some(b"rec 60".to_vec())
        );
        let many = s
            .read(|tx| {
                tx.chain()
                    .punch_bytes_many("d1", &(1..=150).collect::<Vec<_>>())
            })
            .unwrap();
        assert_eq!((many.len(), many[&120].as_slice()), (120, &b"rec 120"[..]));
        assert_eq!(
            s.read(|tx| tx.chain().kept_hash("d1", 5))
                .unwrap()
                .as_deref(),
            Some("h-d1-5")
        );
        assert_eq!(
            s.read(|tx| tx.punches().punch_location("d2-p2")).unwrap(),
            Some(("d2".into(), 2))
        );
        let ids = vec!["d1-p1".to_string(), "d2-p1".into(), "nope".into()];
        assert_eq!(
            s.read(|tx| tx.punches().punch_locations(&ids))
                .unwrap()
                .len(),
            2
        );
        let first = s
            .read(|tx| {
                tx.punches().punch_page(&PunchQuery {
                    employee: Some("e1".into()),
                    limit: 50,
                    ..PunchQuery::default()
                })
            })
            .unwrap();
        assert_eq!(first.len(), 50);
        assert_eq!(first[0].punch.seq, 120);
        let open = s.read(|tx| tx.punches().open_shift("d1", "e1")).unwrap();
        assert_eq!(open, None, "no attendance reading, nothing open");
        // A second copy of a stored (device, seq) is refused by the database.
        let info = punch_info("d1", 5, "e1");
        let again = s.write(|tx| {
            tx.punches().insert_punch(&NewPunch {
                info: &info,
                record: b"x",
                signature: b"s",
            })
        });
        assert!(
            matches!(again, Err(ServerError::Storage { .. })),
            "{again:?}"
        );
    });
}

fn refusal(device_id: &str, seq: u64, reason: &str, at: i64) -> RejectedInfo {
    RejectedInfo {
        id: 0,
        device_id: device_id.into(),
        seq,
        punch_id: Some("p".into()),
        employee_id: Some("e1".into()),
        claimed_employee_id: Some("e9".into()),
        reason: reason.into(),
        detail: "why".into(),
        hash: format!("rh{seq}"),
        record: b"refused bytes".to_vec(),
        signature: b"sig".to_vec(),
        attempts: 1,
        first_received_at_ms: at,
        last_received_at_ms: at,
    }
}

#[test]
fn refusals_count_attempts_and_list_per_device() {
    on_every_backend(|s| {
        device(s, "d1", "e1");
        s.write(|tx| {
            tx.refusals()
                .record_rejected(&refusal("d1", 3, "conflicting_duplicate", T))
        })
        .unwrap();
        s.write(|tx| {
            tx.refusals()
                .record_rejected(&refusal("d1", 3, "conflicting_duplicate", T + 5))
        })
        .unwrap();
        s.write(|tx| {
            tx.refusals()
                .record_rejected(&refusal("d1", 4, "bad_signature", T))
        })
        .unwrap();
        s.write(|tx| {
            tx.refusals()
                .record_rejected(&refusal("d2", 1, "bad_signature", T))
        })
        .unwrap();
        let all = s.read(|tx| tx.refusals().all_rejected()).unwrap();
        assert_eq!(
            s.read(|tx| tx.refusals().rejected_about("e1")).unwrap(),
            all
        );
        assert_eq!(s.read(|tx| tx.refusals().refused_count("d1")).unwrap(), 2);
        assert_eq!(all.len(), 3);
        assert_eq!((all[0].attempts, all[0].last_received_at_ms), (2, T + 5));
        assert_eq!(all[0].record, b"refused bytes");
        assert_eq!(
            s.read(|tx| tx.refusals().refusals_with_hash("d1", 3, "rh3"))
                .unwrap(),
            [("conflicting_duplicate".to_string(), "why".to_string())]
        );
        assert_eq!(
            s.read(|tx| tx.refusals().refusals_with_hash("d1", 4, "rh4"))
                .unwrap(),
            [("bad_signature".to_string(), "why".to_string())]
        );
        assert!(
            s.read(|tx| tx.refusals().refusals_with_hash("d1", 3, "other"))
                .unwrap()
                .is_empty()
        );
        let of = s.read(|tx| tx.refusals().refused_of("d1", 10)).unwrap();
        assert_eq!(of.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(
            s.read(|tx| tx.refusals().refused_devices(None, None, 1))
                .unwrap(),
            ["d1"]
        );
        assert_eq!(
            s.read(|tx| tx.refusals().refused_devices(Some("d1"), None, 5))
                .unwrap(),
            ["d2"]
        );
    });
}

#[test]
fn head_statements_keep_the_first_and_counters_add_up() {
    on_every_backend(|s| {
        s.write(|tx| tx.head_statements().insert_head_statement("d1", 5, "a", T))
            .unwrap();
        s.write(|tx| tx.head_statements().insert_head_statement("d1", 5, "b", T))
            .unwrap();
        s.write(|tx| tx.head_statements().insert_head_statement("d1", 9, "c", T))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.head_statements().head_statement("d1", 5))
                .unwrap()
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            s.read(|tx| tx.head_statements().highest_head_statement("d1"))
                .unwrap(),
            Some((9, "c".into()))
        );
        assert_eq!(
            s.read(|tx| tx
                .head_statements()
                .head_statements_many("d1", &[5, 6, 9, u64::MAX]))
                .unwrap()
                .len(),
            2
        );
        assert!(
            s.write(|tx| tx
                .head_statements()
                .insert_head_statement("d1", u64::MAX, "x", T))
                .is_err()
        );
        assert_eq!(
            s.read(|tx| tx.evidence().evidence_counter("d1", 3))
                .unwrap(),
            (0, 0)
        );
        s.write(|tx| tx.evidence().bump_evidence_counter("d1", 3, 2, 1))
            .unwrap();
        s.write(|tx| tx.evidence().bump_evidence_counter("d1", 3, 1, 0))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.evidence().evidence_counter("d1", 3))
                .unwrap(),
            (3, 1)
        );
    });
}

#[test]
fn pin_codes_supersede_expire_and_redeem_once() {
    on_every_backend(|s| {
        let profile = PinProfile {
            employee_id: "e1".into(),
            channel: Some("email".into()),
            address: Some("a@b".into()),
            identity_verifier: None,
            admin_reset_at_ms: Some(T),
        };
        s.write(|tx| tx.pin().upsert_pin_profile(&profile)).unwrap();
        assert_eq!(
            s.write(|tx| tx.pin().pin_profile("e1")).unwrap(),
            Some(profile)
        );
        let code = |hash: &str, expires: i64| PinCodeRow {
            code_hash: hash.into(),
            employee_id: "e1".into(),
            device_id: "d1".into(),
            created_at_ms: T,
            expires_at_ms: expires,
            used_at_ms: None,
            superseded_at_ms: None,
        };
        s.write(|tx| tx.pin().insert_pin_code(&code("c1", T + 10)))
            .unwrap();
        assert_eq!(
            s.write(|tx| tx.pin().supersede_pin_codes("e1", T + 1))
                .unwrap(),
            1
        );
        s.write(|tx| tx.pin().insert_pin_code(&code("c2", T + 100)))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.pin().pin_code("c1"))
                .unwrap()
                .unwrap()
                .superseded_at_ms,
            Some(T + 1)
        );
        assert!(
            s.write(|tx| tx.pin().mark_pin_code_used("c2", T + 2))
                .unwrap()
        );
        assert!(
            !s.write(|tx| tx.pin().mark_pin_code_used("c2", T + 3))
                .unwrap()
        );
        assert_eq!(s.write(|tx| tx.pin().prune_pin_codes(T + 50)).unwrap(), 1);
        assert_eq!(s.read(|tx| tx.pin().pin_code("c1")).unwrap(), None);

        s.write(|tx| tx.kiosk().upsert_kiosk_member("s1", "e1", "v1"))
            .unwrap();
        s.write(|tx| tx.kiosk().upsert_kiosk_member("s2", "e1", "v2"))
            .unwrap();
        s.write(|tx| tx.kiosk().upsert_kiosk_member("s1", "e2", "v3"))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.kiosk().kiosk_members()).unwrap(),
            [
                ("s1".to_string(), "e2".to_string(), "v3".to_string()),
                ("s2".into(), "e1".into(), "v2".into())
            ]
        );
        assert_eq!(
            s.read(|tx| tx.kiosk().kiosk_site_of("e1"))
                .unwrap()
                .as_deref(),
            Some("s2")
        );
    });
}

#[test]
fn rate_counters_window_clear_and_prune() {
    on_every_backend(|s| {
        assert_eq!(
            s.write(|tx| tx.limits().rate_hit("ip:1", 1000, T)).unwrap(),
            (1, T)
        );
        assert_eq!(
            s.write(|tx| tx.limits().rate_hit("ip:1", 1000, T + 10))
                .unwrap(),
            (2, T)
        );
        assert_eq!(
            s.write(|tx| tx.limits().rate_hit("ip:1", 1000, T + 1000))
                .unwrap(),
            (1, T + 1000)
        );
        s.write(|tx| tx.limits().rate_hit("ip:2", 1000, T)).unwrap();
        s.write(|tx| tx.limits().rate_hit("user:1", 1000, T))
            .unwrap();
        s.write(|tx| tx.limits().rate_clear_prefix("ip:")).unwrap();
        assert_eq!(
            s.write(|tx| tx.limits().rate_hit("ip:1", 1000, T + 1001))
                .unwrap()
                .0,
            1
        );
        s.write(|tx| tx.limits().rate_clear("ip:1")).unwrap();
        assert_eq!(
            s.write(|tx| tx.limits().prune_rate_limits(T + 1)).unwrap(),
            1
        );
    });
}

fn event(device_id: &str, seq: u64, event_id: &str) -> StoredEvent {
    StoredEvent {
        device_id: device_id.into(),
        seq,
        event_id: event_id.into(),
        employee_id: "e1".into(),
        event_type: "make_up_request".into(),
        body: "{\"reason\":\"forgot\"}".into(),
        wall_time_ms: T,
        trusted_time_ms: None,
        record: b"event bytes".to_vec(),
        signature: b"sig".to_vec(),
        hash: format!("eh{seq}"),
        received_at_ms: T + seq as i64,
        status: Some("pending".into()),
        status_detail: None,
        decided_by: None,
        decided_at_ms: None,
        comment: None,
    }
}

#[test]
fn one_employees_events_of_a_kind_come_with_the_kiosks_and_no_one_elses() {
    on_every_backend(|s| {
        device(s, "d1", "e1");
        device(s, "d2", "e2");
        device(s, "k1", "kiosk:hq");
        let pin = |device_id: &str, seq: u64, account: &str| StoredEvent {
            employee_id: account.into(),
            event_type: "pin".into(),
            status: None,
            ..event(device_id, seq, &format!("{device_id}-pin-{seq}"))
        };
        s.write(|tx| {
            tx.events().insert_event(&pin("d1", 1, "e1"))?;
            tx.events().insert_event(&event("d1", 2, "not-a-pin"))?;
            tx.events().insert_event(&pin("k1", 1, "kiosk:hq"))?;
            for seq in 1..=20 {
                tx.events().insert_event(&pin("d2", seq, "e2"))?;
            }
            Ok(())
        })
        .unwrap();
        let before = s.rows_read();
        let found = s
            .read(|tx| tx.events().of_employee_and_kiosks("e1", "pin"))
            .unwrap();
        let at: Vec<(&str, u64)> = found
            .iter()
            .map(|e| (e.device_id.as_str(), e.seq))
            .collect();
        assert_eq!(at, [("d1", 1), ("k1", 1)]);
        assert_eq!(s.rows_read() - before, 2);
    });
}

#[test]
fn events_filter_decide_and_attachments_stay_per_employee() {
    on_every_backend(|s| {
        s.write(|tx| tx.events().insert_event(&event("d1", 2, "ev1")))
            .unwrap();
        s.write(|tx| tx.events().insert_event(&event("d1", 3, "ev2")))
            .unwrap();
        let mine = s
            .read(|tx| {
                tx.events().list(&EventFilter {
                    employee_id: Some("e1"),
                    status: Some("pending"),
                    ..EventFilter::default()
                })
            })
            .unwrap();
        assert_eq!(mine, [event("d1", 2, "ev1"), event("d1", 3, "ev2")]);
        assert_eq!(
            s.write(|tx| tx.events().event_id_holder("ev2")).unwrap(),
            Some(("d1".into(), 3))
        );
        assert_eq!(
            s.read(|tx| tx.events().events_by_id("ev1")).unwrap().len(),
            1
        );
        let decision = EventDecision {
            status: "approved",
            decided_by: "boss",
            comment: "ok",
            at_ms: T + 9,
        };
        assert!(
            s.write(|tx| tx.events().decide_event("d1", 2, &decision))
                .unwrap()
        );
        assert!(
            !s.write(|tx| tx.events().decide_event("d1", 2, &decision))
                .unwrap()
        );
        let decided = &s.read(|tx| tx.events().events_by_id("ev1")).unwrap()[0];
        assert_eq!(
            (decided.status.as_deref(), decided.comment.as_deref()),
            (Some("approved"), Some("ok"))
        );
        assert_eq!(
            s.read(|tx| tx.chain().punch_bytes("d1", 3)).unwrap(),
            Some(b"event bytes".to_vec())
        );

        let file = AttachmentRow {
            sha256: "f".into(),
            employee_id: "e1".into(),
            body: b"pdf".to_vec(),
            received_at_ms: T,
        };
        s.write(|tx| tx.events().insert_attachment(&file)).unwrap();
        s.write(|tx| tx.events().insert_attachment(&file)).unwrap();
        assert_eq!(
            s.read(|tx| tx.events().attachment("e1", "f")).unwrap(),
            Some(file)
        );
        assert_eq!(
            s.read(|tx| tx.events().attachment("e2", "f")).unwrap(),
            None
        );
    });
}

#[test]
fn retention_and_erasure_keep_every_hash() {
    on_every_backend(|s| {
        device(s, "d1", "e1");
        punches(s, "d1", "e1", 1..5);
        s.write(|tx| tx.events().insert_event(&event("d1", 5, "ev")))
            .unwrap();
        s.write(|tx| {
            tx.refusals()
                .record_rejected(&refusal("d1", 6, "bad_signature", T))
        })
        .unwrap();
        s.write(|tx| tx.head_statements().insert_head_statement("d1", 4, "h", T))
            .unwrap();
        s.write(|tx| tx.privacy().put_data_key("d1", "k", b"key", T))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.privacy().data_key("d1", "k")).unwrap(),
            Some(b"key".to_vec())
        );
        let revealed = Revelation {
            device_id: "d1".into(),
            seq: 1,
            employee_id: "e1".into(),
            review_flags: "[]".into(),
            revealed_at_ms: T,
        };
        s.write(|tx| tx.privacy().record_revelation(&revealed))
            .unwrap();
        assert_eq!(
            s.read(|tx| tx.privacy().revelations_of("e1")).unwrap(),
            [revealed]
        );

        // Record bytes older than seq 3's arrival go; rows and hashes stay.
        assert_eq!(
            s.write(|tx| tx.privacy().purge(PurgeKind::RecordBytes, T + 3))
                .unwrap(),
            2
        );
        assert_eq!(
            s.read(|tx| tx.chain().punch_bytes("d1", 1)).unwrap(),
            Some(Vec::new())
        );
        // Punch rows go, their hashes stay in the chain.
        assert_eq!(
            s.write(|tx| tx.privacy().purge(PurgeKind::Punches, T + 2))
                .unwrap(),
            1
        );
        let chain = s.read(|tx| tx.chain().chain_rows("d1")).unwrap();
        assert_eq!(
            chain.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(
            (chain[0].record.len(), chain[0].hash.as_str()),
            (0, "h-d1-1")
        );
        assert_eq!(chain[3].record, b"rec 4");
        assert_eq!(
            s.read(|tx| tx.chain().kept_hash("d1", 1))
                .unwrap()
                .as_deref(),
            Some("h-d1-1")
        );
        assert_eq!(
            s.write(|tx| tx.privacy().purge(PurgeKind::RejectedBytes, T + 1))
                .unwrap(),
            1
        );
        assert_eq!(
            s.write(|tx| tx.privacy().purge(PurgeKind::HeadStatements, T + 1))
                .unwrap(),
            1
        );
        assert_eq!(
            s.write(|tx| tx.privacy().purge(PurgeKind::Revelations, T + 1))
                .unwrap(),
            1
        );

        let report = s
            .write(|tx| tx.privacy().erase_employee("e1", T + 50))
            .unwrap();
        assert_eq!(
            (
                report.record_bytes,
                report.requests,
                report.devices,
                report.data_keys
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(
            s.read(|tx| tx.enrollment().employee("e1"))
                .unwrap()
                .unwrap()
                .name,
            "erased"
        );
        let d = s.read(|tx| tx.devices().device("d1")).unwrap().unwrap();
        assert_eq!(
            (d.platform.as_str(), d.unbound_at_ms),
            ("erased", Some(T + 50))
        );
        let chain = s.read(|tx| tx.chain().chain_rows("d1")).unwrap();
        assert!(
            chain
                .iter()
                .all(|r| r.record.is_empty() && !r.hash.is_empty())
        );
        assert_eq!(
            s.read(|tx| tx.events().events_by_id("ev")).unwrap()[0].body,
            "{}"
        );
    });
}

#[test]
fn people_rows_round_trip() {
    on_every_backend(|s| {
        let staff = StaffRow {
            username: "ann".into(),
            display_name: "Ann".into(),
            role: "manager".into(),
            team: Some("t".into()),
            password_hash: "phc".into(),
            totp_secret: b"seed".to_vec(),
            totp_last_step: 3,
            failed_signins: 1,
            locked_until_ms: None,
            created_at_ms: T,
            disabled: true,
        };
        s.write(|tx| tx.people().upsert_staff(&staff)).unwrap();
        assert_eq!(
            s.write(|tx| tx.people().staff("ann")).unwrap(),
            Some(staff.clone())
        );
        s.write(|tx| tx.people().set_signin_state("ann", 4, Some(T), 7))
            .unwrap();
        let after = s.read(|tx| tx.people().staff_list()).unwrap();
        assert_eq!((after[0].failed_signins, after[0].totp_last_step), (4, 7));
        assert_eq!(after[0].totp_secret, b"seed");

        let session = SessionRow {
            id_hash: "s".into(),
            username: "ann".into(),
            csrf_token: "c".into(),
            created_at_ms: T,
            expires_at_ms: T + 1,
        };
        s.write(|tx| tx.people().insert_session(&session)).unwrap();
        assert_eq!(
            s.read(|tx| tx.people().session("s")).unwrap(),
            Some(session)
        );
        assert_eq!(
            s.write(|tx| tx.people().delete_sessions_of("ann")).unwrap(),
            1
        );

        let token = ApiTokenRow {
            token_hash: "th".into(),
            token_id: "tid".into(),
            username: "ann".into(),
            name: "ci".into(),
            scopes: vec!["read_punches".into()],
            created_at_ms: T,
            expires_at_ms: T + 1,
            revoked_at_ms: None,
        };
        s.write(|tx| tx.people().insert_api_token(&token)).unwrap();
        assert_eq!(
            s.read(|tx| tx.people().api_token("th")).unwrap(),
            Some(token)
        );
        assert_eq!(s.read(|tx| tx.people().api_tokens(None)).unwrap().len(), 1);
        assert_eq!(
            s.write(|tx| tx.people().revoke_api_tokens("ann", Some("tid"), T))
                .unwrap(),
            1
        );

        for e in ["e1", "e2", "e3"] {
            employee(s, e);
        }
        assert!(s.write(|tx| tx.people().set_team("e2", Some("t"))).unwrap());
        assert!(
            !s.write(|tx| tx.people().set_team("nobody", Some("t")))
                .unwrap()
        );
        let page = s
            .read(|tx| tx.people().people_page(Some("e1"), None, 1))
            .unwrap();
        assert_eq!(page[0].employee_id, "e2");
        assert_eq!(
            s.read(|tx| tx.people().people_page(None, Some("t"), 9))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            s.read(|tx| tx.people().team_of("e2")).unwrap().as_deref(),
            Some("t")
        );
        s.write(|tx| tx.people().set_team("e2", None)).unwrap();
        assert_eq!(s.read(|tx| tx.people().team_of("e2")).unwrap(), None);

        let review = PunchReviewRow {
            device_id: "d1".into(),
            seq: 2,
            verdict: "approved".into(),
            comment: "".into(),
            reviewer: "ann".into(),
            at_ms: T,
        };
        s.write(|tx| tx.people().set_punch_review(&review)).unwrap();
        assert_eq!(
            s.read(|tx| tx.people().punch_review("d1", 2)).unwrap(),
            Some(review)
        );
        assert_eq!(s.read(|tx| tx.people().punch_reviews()).unwrap().len(), 1);

        let ack = ChainAckRow {
            id: 0,
            device_id: "d1".into(),
            head_seq: 4,
            head_hash: "h".into(),
            reason: "lost phone".into(),
            acknowledged_by: "ann".into(),
            at_ms: T,
            applied_at_ms: None,
        };
        let id = s.write(|tx| tx.people().insert_chain_ack(&ack)).unwrap();
        let id2 = s.write(|tx| tx.people().insert_chain_ack(&ack)).unwrap();
        assert!(id2 > id);
        s.write(|tx| tx.people().mark_chain_ack_applied(id2, T + 1))
            .unwrap();
        let latest = s
            .read(|tx| tx.people().latest_chain_ack("d1"))
            .unwrap()
            .unwrap();
        assert_eq!((latest.id, latest.applied_at_ms), (id2, Some(T + 1)));
        let acks = s.read(|tx| tx.people().chain_acks("d1")).unwrap();
        assert_eq!(acks.iter().map(|a| a.id).collect::<Vec<_>>(), [id, id2]);

        assert_eq!(s.write(|tx| tx.people().lock_audit_head()).unwrap(), None);
        for seq in 1..=3 {
            s.write(|tx| {
                tx.people().append_audit(&AuditRow {
                    seq,
                    at_ms: T,
                    actor: "ann".into(),
                    role: "admin".into(),
                    action: "x".into(),
                    target: "y".into(),
                    reason: "".into(),
                    detail: "{}".into(),
                    prev_hash: "p".into(),
                    hash: format!("a{seq}"),
                })
            })
            .unwrap();
        }
        assert_eq!(
            s.write(|tx| tx.people().lock_audit_head()).unwrap(),
            Some((3, "a3".into()))
        );
        let rows = s.read(|tx| tx.people().audit_rows(1, 1)).unwrap();
        assert_eq!(rows[0].seq, 2);
        assert!(
            s.read(|tx| tx.people().audit_rows(u64::MAX, 5))
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn stored_values_page_and_replace_only_what_is_unchanged() {
    on_every_backend(|s| {
        device(s, "d1", "e1");
        punches(s, "d1", "e1", 1..4);
        let first = s
            .read(|tx| {
                tx.privacy()
                    .stored_values(SealableColumn::PunchRecord, None, 2)
            })
            .unwrap();
        assert_eq!(first.len(), 2);
        let rest = s
            .read(|tx| {
                tx.privacy()
                    .stored_values(SealableColumn::PunchRecord, Some(&first[1].row), 5)
            })
            .unwrap();
        assert_eq!(rest.len(), 1);
        let v = &rest[0];
        assert!(
            s.write(|tx| tx.privacy().replace_value(
                SealableColumn::PunchRecord,
                &v.row,
                &v.value,
                b"new"
            ))
            .unwrap()
        );
        assert!(
            !s.write(|tx| tx.privacy().replace_value(
                SealableColumn::PunchRecord,
                &v.row,
                &v.value,
                b"x"
            ))
            .unwrap()
        );
    });
}

#[test]
fn fault_reports_last_seen_silent_terminals_and_the_event_at_a_seq() {
    use punch_server::internal::store::faults::SilentQuery;
    on_every_backend(|s| {
        device(s, "dk", "kiosk:hq");
        device(s, "dp", "ep");
        device(s, "dq", "eq");
        s.write(|tx| tx.people().set_team("ep", Some("A"))).unwrap();
        let seen = |d: &str| s.read(|tx| tx.faults().last_seen(d)).unwrap();
        let touch = |d: &str, at: i64| s.write(|tx| tx.faults().touch_seen(d, at)).unwrap();
        assert_eq!(seen("dp"), None);
        touch("dp", T + 100_000);
        // Within the minute, or older: not written again.
        touch("dp", T + 130_000);
        assert_eq!(seen("dp"), Some(T + 100_000));
        touch("dp", T + 200_000);
        touch("dp", T + 150_000);
        assert_eq!(seen("dp"), Some(T + 200_000));
        touch("dq", T + 36_000_000);
        let silent = |phone: i64, kiosk: i64, team: Option<&str>, after: Option<&str>, limit| {
            s.read(|tx| {
                tx.faults().silent_terminals(&SilentQuery {
                    phone_before_ms: phone,
                    kiosk_before_ms: kiosk,
                    team: team.map(str::to_string),
                    after: after.map(str::to_string),
                    limit,
                })
            })
            .unwrap()
            .into_iter()
            .map(|t| (t.device_id, t.terminal, t.last_seen_ms, t.team))
            .collect::<Vec<_>>()
        };
        let dp = (
            "dp".to_string(),
            "phone".to_string(),
            T + 200_000,
            Some("A".to_string()),
        );
        // The kiosk never heard from since its enrollment at T.
        let dk = ("dk".to_string(), "kiosk".to_string(), T, None);
        assert_eq!(
            silent(T + 300_000, T, None, None, 10),
            std::slice::from_ref(&dp)
        );
        assert_eq!(
            silent(T + 300_000, T + 1, None, None, 10),
            [dk.clone(), dp.clone()]
        );
        assert_eq!(
            silent(T + 300_000, T + 1, Some("A"), None, 10),
            std::slice::from_ref(&dp)
        );
        assert_eq!(
            silent(T + 300_000, T + 1, None, Some("dk"), 10),
            std::slice::from_ref(&dp)
        );
        assert_eq!(silent(T + 300_000, T + 1, None, None, 1), [dk]);
        // Unbound devices are no terminals any more.
        s.write(|tx| tx.devices().mark_unbound("dp", T + 400_000))
            .unwrap();
        assert!(silent(T + 300_000, T, None, None, 10).is_empty());

        let mut fault = event("dp", 2, "evf");
        fault.event_type = "fault".into();
        s.write(|tx| tx.events().insert_event(&fault)).unwrap();
        assert_eq!(
            s.read(|tx| tx.faults().event_at("dp", 2)).unwrap(),
            Some(fault)
        );
        assert_eq!(s.read(|tx| tx.faults().event_at("dp", 3)).unwrap(), None);
        assert_eq!(
            s.read(|tx| tx.faults().event_at("dp", u64::MAX)).unwrap(),
            None
        );
    });
}

// ---- No request path reads a whole table ----------------------------------

mod bounded {
    use crate::common::staff::{add_staff, ok};
    use crate::common::{Device, TestServer, outcomes};
    use punch_model::wire::privacy::PATH_EXPORT;
    use punch_server::Role;
    use serde_json::json;

    /// A device with one accepted punch and `refused` refused records.
    fn device_with_refusals(ts: &TestServer, version: u64, employee: &str, refused: u64) -> Device {
        let mut device = ts.enrolled_device(employee);
        let first = device.next(version, |_| {});
        device.upload_ok(ts.addr(), vec![first]);
        let records = (0..refused)
            .map(|i| {
                device.sign(&device.record(device.head_seq + 1 + i, &"ee".repeat(32), version))
            })
            .collect();
        let resp = device.upload_ok(ts.addr(), records);
        assert!(outcomes(&resp).iter().all(|o| o.1 == "rejected"));
        device
    }

    /// Punch, event and refusal rows the store read for acknowledging a
    /// device's break and for its employee's own export, with `others`
    /// other devices' refusals in the tables.
    fn cost(others: usize) -> (u64, u64) {
        let ts = TestServer::start();
        let version = ts.publish();
        for i in 0..others {
            device_with_refusals(&ts, version, &format!("other-{i}"), 5);
        }
        let device = device_with_refusals(&ts, version, "ann", 2);
        let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
        let handle = ts.handle.as_ref().expect("server running");
        let before = handle.rows_read();
        ok(hr.post(
            &format!("/admin/v1/devices/{}/acknowledge-break", device.id),
            &json!({"reason": "phone storage failed"}),
        ));
        let ack = handle.rows_read() - before;
        let before = handle.rows_read();
        assert_eq!(
            device.signed(ts.addr(), "GET", PATH_EXPORT, b"").status,
            200
        );
        let export = handle.rows_read() - before;
        (ack, export)
    }

    #[test]
    fn acknowledging_a_break_and_the_own_export_cost_the_same_beside_many_refusals() {
        let alone = cost(0);
        // Ten other devices' refusals (50 rows) change nothing.
        assert_eq!(cost(10), alone);
    }
}

#[test]
fn punch_photos_are_found_by_hash_and_punch_and_purged_by_age() {
    use punch_server::internal::store::photos::PunchPhotoRow;
    on_every_backend(|s| {
        device(s, "d1", "e1");
        assert!(!s.read(|tx| tx.photos().device_has_punch("d1")).unwrap());
        punches(s, "d1", "e1", 1..3);
        assert!(s.read(|tx| tx.photos().device_has_punch("d1")).unwrap());
        let named = PunchPhotoRow {
            employee_id: "e1".into(),
            sha256: "ab".repeat(32),
            device_id: "d1".into(),
            seq: 2,
            size_bytes: 3,
            media_type: "image/jpeg".into(),
            policy_version: 1,
            noted_at_ms: T,
        };
        s.write(|tx| tx.photos().note_punch_photo(&named)).unwrap();
        // Noted once: a second punch naming the same photo keeps the first.
        let again = PunchPhotoRow {
            seq: 9,
            ..named.clone()
        };
        s.write(|tx| tx.photos().note_punch_photo(&again)).unwrap();
        let sha = named.sha256.clone();
        assert_eq!(
            s.read(|tx| tx.photos().punch_photo("e1", &sha)).unwrap(),
            Some(named.clone())
        );
        assert_eq!(
            s.read(|tx| tx.photos().punch_photo("e2", &sha)).unwrap(),
            None
        );
        assert_eq!(
            s.read(|tx| tx.photos().photo_of_punch("d1", 2)).unwrap(),
            Some((named.clone(), false))
        );
        assert_eq!(
            s.read(|tx| tx.photos().photo_of_punch("d1", 1)).unwrap(),
            None
        );
        assert_eq!(
            s.read(|tx| tx.photos().photo_of_punch("d1", u64::MAX))
                .unwrap(),
            None
        );
        // The bytes arrive as an attachment; a request's file is not a photo.
        for (hash, at) in [(sha.clone(), T + 10), ("cd".repeat(32), T)] {
            s.write(|tx| {
                tx.events().insert_attachment(&AttachmentRow {
                    sha256: hash.clone(),
                    employee_id: "e1".into(),
                    body: b"jpg".to_vec(),
                    received_at_ms: at,
                })
            })
            .unwrap();
        }
        assert_eq!(
            s.read(|tx| tx.photos().photo_of_punch("d1", 2)).unwrap(),
            Some((named.clone(), true))
        );
        assert_eq!(s.write(|tx| tx.photos().purge_photos(T + 10)).unwrap(), 0);
        assert_eq!(s.write(|tx| tx.photos().purge_photos(T + 11)).unwrap(), 1);
        assert_eq!(
            s.read(|tx| tx.events().attachment("e1", &sha)).unwrap(),
            None
        );
        assert!(
            s.read(|tx| tx.events().attachment("e1", &"cd".repeat(32)))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            s.read(|tx| tx.photos().photo_of_punch("d1", 2)).unwrap(),
            Some((named, false))
        );
    });
}

fn forgotten_row(employee_id: &str, start_ms: i64) -> ForgottenRow {
    ForgottenRow {
        employee_id: employee_id.into(),
        notice: ForgottenClockOut {
            shift_id: "day".into(),
            start_ms,
            end_ms: start_ms + 9 * 3_600_000,
            closes_ms: start_ms + 13 * 3_600_000,
            clock_in_punch_id: format!("in-{employee_id}-{start_ms}"),
            clock_in_at_ms: start_ms,
            state: ForgottenState::ClosedByServer,
            server_clock_out_ms: Some(start_ms + 9 * 3_600_000),
            superseded_by: None,
            detected_at_ms: T,
        },
        policy_version: 3,
        superseded_at_ms: None,
        updated_at_ms: T,
    }
}

#[test]
fn forgotten_clock_outs_are_stored_once_and_superseded_once() {
    on_every_backend(|s| {
        employee(s, "fa");
        employee(s, "fb");
        s.write(|tx| tx.people().set_team("fa", Some("ops")))
            .unwrap();
        let day = 86_400_000;
        let a1 = forgotten_row("fa", T - 2 * day);
        // A second detection, in any process, stores nothing.
        assert!(s.write(|tx| tx.forgotten().insert_forgotten(&a1)).unwrap());
        let mut again = a1.clone();
        again.notice.detected_at_ms = T + 1;
        again.notice.server_clock_out_ms = None;
        assert!(
            !s.write(|tx| tx.forgotten().insert_forgotten(&again))
                .unwrap()
        );
        let a2 = ForgottenRow {
            updated_at_ms: T + 5,
            ..forgotten_row("fa", T - day)
        };
        let b1 = forgotten_row("fb", T - day);
        for r in [&a2, &b1] {
            assert!(s.write(|tx| tx.forgotten().insert_forgotten(r)).unwrap());
        }
        let of_a = s
            .read(|tx| tx.forgotten().forgotten_of("fa", i64::MIN))
            .unwrap();
        assert_eq!(of_a, [a1.clone(), a2.clone()], "by start, as first stored");
        let changed = s
            .read(|tx| tx.forgotten().forgotten_of("fa", T + 1))
            .unwrap();
        assert_eq!(changed, std::slice::from_ref(&a2));

        // A late clock-out supersedes once; the row and its server-made entry stay.
        let supersede = |at: i64| {
            s.write(|tx| {
                tx.forgotten()
                    .supersede_forgotten("fa", "day", a1.notice.start_ms, "out-1", at)
            })
            .unwrap()
        };
        assert!(supersede(T + 10));
        assert!(!supersede(T + 11));
        let now_a1 = &s
            .read(|tx| tx.forgotten().forgotten_of("fa", T + 10))
            .unwrap()[0];
        assert_eq!(now_a1.notice.superseded_by.as_deref(), Some("out-1"));
        assert_eq!(now_a1.notice.state, ForgottenState::Superseded);
        assert_eq!(now_a1.superseded_at_ms, Some(T + 10));
        assert_eq!(now_a1.updated_at_ms, T + 10);
        assert_eq!(
            now_a1.notice.server_clock_out_ms,
            a1.notice.server_clock_out_ms
        );

        let list = |f: ForgottenFilter<'_>, limit: usize| {
            s.read(|tx| tx.forgotten().forgotten_list(&f, limit))
                .unwrap()
                .into_iter()
                .map(|r| (r.employee_id, r.notice.start_ms))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            list(ForgottenFilter::default(), 10),
            [
                ("fa".to_string(), a1.notice.start_ms),
                ("fa".to_string(), a2.notice.start_ms),
                ("fb".to_string(), b1.notice.start_ms)
            ]
        );
        assert_eq!(list(ForgottenFilter::default(), 1).len(), 1);
        let ops = ForgottenFilter {
            team: Some("ops"),
            ..ForgottenFilter::default()
        };
        assert_eq!(list(ops, 10).len(), 2);
        let fb = ForgottenFilter {
            employee: Some("fb"),
            ..ForgottenFilter::default()
        };
        assert_eq!(list(fb, 10), [("fb".to_string(), b1.notice.start_ms)]);
        let window = ForgottenFilter {
            from_ms: Some(T - day),
            to_ms: Some(T),
            ..ForgottenFilter::default()
        };
        assert_eq!(list(window, 10).len(), 2);
    });
}
