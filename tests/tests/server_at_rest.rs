//! Evidence sealed at rest on the server (issue 14), through the real
//! server and a real phone engine, on SQLite or PostgreSQL: the database
//! files hold no location, reason, file or data key in clear, while every
//! reader (export, requests, attachments, chain checks, duplicates) sees
//! the clear values; a missing, wrong or removed key is a typed error and
//! loses nothing; old clear rows are sealed and keys rotate with
//! `reseal_at_rest`.

use std::sync::Arc;

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{Clock, EngineOptions, Evidence, GpsFix, PunchEngine, PunchError, PunchKind};
use punch_model::ledger::sealed::DataKey;
use punch_model::rules::makeup::MakeUpRequest;
use punch_server::internal::store::sealable::SealableColumn;
use punch_server::{Admin, ServerError};
use punch_server::{AtRestError, AtRestKeys};
use punch_server::{DbUrl, StoreExt};
use punch_tests::fault_proxy::Fault;
use punch_tests::world::{EMPLOYEE, HQ, World, fast_retry, now_ms};

const REASON: &str = "the lift had no signal, floor B3";
const PHOTO: &[u8] = b"\xff\xd8 ATTACHMENT-MARKER-7f3a the client's desk";

fn keys(id: &str) -> Arc<AtRestKeys> {
    Arc::new(AtRestKeys::single(id, DataKey::generate().expect("key")).expect("keys"))
}

/// Where `World::punch` puts the phone (30 m from HQ), as the record
/// writes the latitude.
fn punch_lat() -> String {
    let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 30.0, 25.0);
    serde_json::to_string(&at.0).expect("lat")
}

/// A client's office 1.5 km east of HQ: refused there.
fn client_office() -> (f64, f64) {
    Geodesic::wgs84().direct(HQ.0, HQ.1, 90.0, 1_500.0)
}

fn fix_at(w: &World, at: (f64, f64)) -> Evidence {
    Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m: 8.0,
            fix_time_ms: w.clock.now().wall_time_ms,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..Evidence::default()
    }
}

/// A punch, a refused attempt and a make-up request with a photo, uploaded.
fn everyday(w: &World) -> String {
    w.engine.sync().expect("policy");
    w.punch();
    let refused = w
        .engine
        .punch(PunchKind::ClockIn, &fix_at(w, client_office()));
    assert!(
        matches!(refused, Err(PunchError::Refused(_))),
        "{refused:?}"
    );
    let attachment = w
        .engine
        .attach(PHOTO.to_vec(), "image/jpeg")
        .expect("attach");
    w.engine
        .file_make_up_request(MakeUpRequest {
            kind: PunchKind::ClockIn,
            intended_time_ms: w.clock.now().wall_time_ms - 3_600_000,
            site_id: Some("hq".into()),
            reason: REASON.into(),
            attachments: vec![attachment.clone()],
            refused_attempt: None,
            fault: None,
        })
        .expect("make-up");
    let report = w.engine.sync().expect("sync");
    assert_eq!((report.uploaded, &report.error), (3, &None), "{report:?}");
    attachment.sha256
}

/// Whether the database's files (SQLite: the file and its log;
/// PostgreSQL: a full data dump, bytea as hex) hold `needle` anywhere.
fn database_holds(db: &DbUrl, needle: &[u8]) -> bool {
    let found = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    match db {
        DbUrl::Sqlite(path) => ["", "-wal"].iter().any(|ext| {
            let mut file = path.clone().into_os_string();
            file.push(ext);
            std::fs::read(file).is_ok_and(|bytes| found(&bytes, needle))
        }),
        DbUrl::Postgres(url) => {
            let dump = std::process::Command::new("pg_dump")
                .args(["--data-only", url])
                .output()
                .expect("pg_dump runs");
            assert!(
                dump.status.success(),
                "{}",
                String::from_utf8_lossy(&dump.stderr)
            );
            found(&dump.stdout, needle) || found(&dump.stdout, hex::encode(needle).as_bytes())
        }
    }
}

fn needles() -> Vec<Vec<u8>> {
    let office = serde_json::to_string(&client_office().1).expect("lon");
    vec![
        punch_lat().into_bytes(),
        office.into_bytes(),
        REASON.as_bytes().to_vec(),
        b"ATTACHMENT-MARKER-7f3a".to_vec(),
    ]
}

fn export_text(admin: &Admin) -> String {
    serde_json::to_string(&admin.export(EMPLOYEE, now_ms()).expect("export")).expect("json")
}

#[test]
fn evidence_is_sealed_in_the_database_and_clear_to_every_reader() {
    // Control: without keys the same day leaves every needle in the files,
    // so the scan below can fail.
    let clear = World::new();
    everyday(&clear);
    for needle in needles() {
        assert!(
            database_holds(&clear.server_db, &needle),
            "the scan must see {:?} in a clear database",
            String::from_utf8_lossy(&needle)
        );
    }

    let w = World::sealed_at_rest(keys("k1"));
    let sha256 = everyday(&w);
    for needle in needles() {
        assert!(
            !database_holds(&w.server_db, &needle),
            "{:?} is in the database in clear",
            String::from_utf8_lossy(&needle)
        );
    }
    // Every non-empty evidence value as stored (raw backend) is sealed with k1.
    let raw = punch_server::internal::store::open(&w.server_db).expect("raw store");
    let mut sealed = 0;
    for column in SealableColumn::ALL {
        let values = raw
            .read(|tx| tx.privacy().stored_values(column, None, 1_000))
            .expect("values");
        for v in values.iter().filter(|v| !v.value.is_empty()) {
            let bytes = if column.is_text() {
                punch_server::internal::at_rest::value::text_bytes(&String::from_utf8_lossy(
                    &v.value,
                ))
            } else {
                v.value.clone()
            };
            assert_eq!(
                punch_server::internal::at_rest::value::sealed_with(&bytes),
                Some("k1"),
                "{} {:?}",
                column.name(),
                v.row
            );
            sealed += 1;
        }
    }
    // A punch, two events (refused, make-up) with their bodies, a refused
    // record or more, one attachment.
    assert!(sealed >= 6, "{sealed} sealed values");

    // Every reader sees clear values.
    let export = export_text(&w.admin);
    assert!(export.contains(&punch_lat()), "{export}");
    assert!(export.contains(REASON), "{export}");
    assert_eq!(
        w.admin.attachment(EMPLOYEE, &sha256).expect("file"),
        Some(PHOTO.to_vec())
    );
    let requests = w.admin.requests(Some("pending")).expect("requests");
    assert!(requests[0].body.contains(REASON), "{}", requests[0].body);
    let device = w.engine.device().expect("device").device_id;
    let chain = w.admin.verify_chain(&device).expect("chain");
    assert!(chain.is_intact(), "{chain:?}");

    // A batch whose answer is lost is sent again: the server compares it
    // with the (opened) stored bytes and answers duplicate, not a fork.
    w.punch_kind(PunchKind::ClockOut);
    w.proxy.script([Fault::DropResponse]);
    let again = w.engine.sync().expect("sync");
    assert_eq!((again.duplicates, &again.error), (1, &None), "{again:?}");
    assert_eq!(w.admin.punches().expect("punches").len(), 2);
    assert!(w.admin.rejected().expect("rejected").is_empty());
    assert!(w.engine.verify_chain().expect("chain").is_intact());
}

#[test]
fn escrowed_data_keys_are_sealed_and_still_open_sealed_records() {
    let w = World::sealed_at_rest(keys("k1"));
    w.admin.add_employee("emp-keys", "Keys").expect("employee");
    let mut server = punch_core::ServerConfig::new(
        &w.proxy.base_url(),
        w.admin.policy_public_key().expect("policy key"),
    );
    server.retry = fast_retry();
    let engine = PunchEngine::open_with(
        w.dir.path().join("sealed-phone.db"),
        EngineOptions {
            clock: w.clock.clone(),
            server: Some(server),
            key_wrapper: Some(Arc::new(punch_core::SoftwareKeyWrapper)),
            ..Default::default()
        },
    )
    .expect("engine");
    let code = w
        .admin
        .create_enrollment_code("emp-keys", std::time::Duration::from_secs(600))
        .expect("code");
    engine.enroll(&code).expect("enroll");
    engine.sync().expect("policy");
    let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 30.0, 25.0);
    engine
        .punch(PunchKind::ClockIn, &fix_at(&w, at))
        .expect("punch");
    assert_eq!(engine.sync().expect("sync").uploaded, 1);

    let raw = punch_server::internal::store::open(&w.server_db).expect("raw store");
    let keys = raw
        .read(|tx| {
            tx.privacy()
                .stored_values(SealableColumn::DataKey, None, 10)
        })
        .expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(
        punch_server::internal::at_rest::value::sealed_with(&keys[0].value),
        Some("k1")
    );
    // The server still opens the phone-sealed record with the escrowed key.
    let export = serde_json::to_string(&w.admin.export("emp-keys", now_ms()).expect("export"))
        .expect("json");
    assert!(
        export.contains(&serde_json::to_string(&at.0).expect("lat")),
        "{export}"
    );
}

#[test]
fn a_missing_wrong_or_removed_key_is_a_clear_error_and_loses_nothing() {
    let mut w = World::sealed_at_rest(keys("k1"));
    everyday(&w);
    let before = w.admin.punches().expect("punches");
    w.stop_server();

    // No keys: refused at once, not silently writing clear rows.
    let err = Admin::connect(&w.server_db).err().expect("refused");
    assert!(
        matches!(err, ServerError::AtRest(AtRestError::KeysRequired)),
        "{err}"
    );
    // Another key under the same id: refused at start.
    let err = Admin::connect_with(&w.server_db, Some(&keys("k1")))
        .err()
        .expect("refused");
    assert!(
        matches!(&err, ServerError::AtRest(AtRestError::WrongKey { id }) if id == "k1"),
        "{err}"
    );
    // k1 taken out of the file before its rows were resealed: the database
    // opens, and reading a k1 row names the missing key.
    let admin = Admin::connect_with(&w.server_db, Some(&keys("k2"))).expect("opens");
    let err = admin.export(EMPLOYEE, now_ms()).expect_err("unreadable");
    assert!(
        matches!(&err, ServerError::AtRest(AtRestError::MissingKey { id, .. }) if id == "k1"),
        "{err}"
    );
    // A sealed value copied into another row does not open there.
    let device = w.engine.device().expect("device").device_id;
    w.server_execute(
        "UPDATE events SET body = (SELECT body FROM events ORDER BY seq DESC LIMIT 1) \
         WHERE seq = (SELECT MIN(seq) FROM events)",
    );
    let k1 = w.at_rest.clone().expect("keys");
    let admin = Admin::connect_with(&w.server_db, Some(&k1)).expect("opens");
    let err = admin.events(None).expect_err("moved value");
    assert!(
        matches!(err, ServerError::AtRest(AtRestError::Unopenable { .. })),
        "{err}"
    );
    // Nothing was lost: the punches and the chain are as they were.
    assert_eq!(admin.punches().expect("punches"), before);
    assert!(admin.verify_chain(&device).expect("chain").is_intact());
    w.start_server();
    w.punch_kind(PunchKind::ClockOut);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 1);
}

#[test]
fn old_clear_rows_are_sealed_and_keys_rotate() {
    let mut w = World::new();
    let sha256 = everyday(&w);
    let export_before = export_text(&w.admin);
    let device = w.engine.device().expect("device").device_id;
    w.stop_server();
    assert!(database_holds(&w.server_db, REASON.as_bytes()));

    // Keys configured later: a dry run counts, changes nothing.
    let k1 = keys("k1");
    let admin = Admin::connect_with(&w.server_db, Some(&k1)).expect("admin");
    let dry = admin.reseal_at_rest(&k1, false).expect("dry run");
    assert!(!dry.applied && dry.resealed() >= 6, "{dry:?}");
    assert!(database_holds(&w.server_db, REASON.as_bytes()));
    let done = admin.reseal_at_rest(&k1, true).expect("reseal");
    assert_eq!(done.resealed(), dry.resealed(), "{done:?}");
    assert_eq!(done.unopenable(), 0);
    for needle in needles() {
        assert!(
            !database_holds(&w.server_db, &needle),
            "{:?} left in clear",
            String::from_utf8_lossy(&needle)
        );
    }
    let same = |a: &str, b: &str| {
        let strip = |t: &str| {
            let mut v: serde_json::Value = serde_json::from_str(t).expect("json");
            v["generated_at_ms"] = serde_json::Value::Null;
            v
        };
        assert_eq!(strip(a), strip(b));
    };
    same(&export_text(&admin), &export_before);

    // Rotation: k2 seals, k1 still opens; reseal moves everything to k2.
    let k2 = Arc::new(
        AtRestKeys::parse(&format!(
            "seal_with = \"k2\"\n[keys]\nk1 = \"{}\"\nk2 = \"{}\"\n",
            b64(&k1, "k1"),
            b64(&keys("x"), "x"),
        ))
        .expect("rotation file"),
    );
    let admin = Admin::connect_with(&w.server_db, Some(&k2)).expect("admin");
    let rotated = admin.reseal_at_rest(&k2, true).expect("rotate");
    assert_eq!(rotated.resealed(), done.resealed(), "{rotated:?}");
    assert!(
        rotated
            .columns
            .iter()
            .all(|c| !c.found.contains_key("clear"))
    );
    assert_eq!(
        admin.reseal_at_rest(&k2, true).expect("again").resealed(),
        0
    );
    // k1 can go now: everything opens under k2 alone.
    let k2_only = Arc::new(
        AtRestKeys::parse(&format!(
            "seal_with = \"k2\"\n[keys]\nk2 = \"{}\"\n",
            b64(&k2, "k2")
        ))
        .expect("k2 only"),
    );
    let admin = Admin::connect_with(&w.server_db, Some(&k2_only)).expect("admin");
    same(&export_text(&admin), &export_before);
    assert_eq!(
        admin.attachment(EMPLOYEE, &sha256).expect("file"),
        Some(PHOTO.to_vec())
    );
    assert!(admin.verify_chain(&device).expect("chain").is_intact());

    // The server goes on under k2.
    w.at_rest = Some(k2_only);
    w.start_server();
    w.punch_kind(PunchKind::ClockOut);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 1);
}

/// The base64 of a key in `keys` (tests build key files from them).
fn b64(keys: &AtRestKeys, id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(keys.get(id).expect("key").as_bytes())
}
