//! The server's own secrets at rest (audit finding 4): with at-rest keys,
//! the policy signing key, the time-token MAC key and the staff TOTP seeds
//! are sealed like the evidence — sealed when a clear database is resealed,
//! rotated with the other columns, refused with a key missing.

use crate::common;

use std::sync::Arc;

use common::staff::PASSWORD;
use common::{DAY, test_db};
use punch_server::AtRestKeys;
use punch_server::Role;
use punch_server::StoreExt;
use punch_server::internal::at_rest::value;
use punch_server::{Admin, DbUrl, ServerConfig, ServerHandle};

/// A key file's text with `seal_with` and every (id, key) listed.
fn keys_file(seal_with: &str, keys: &[(&str, &str)]) -> Arc<AtRestKeys> {
    let mut text = format!("seal_with = \"{seal_with}\"\n[keys]\n");
    for (id, key) in keys {
        text.push_str(&format!("\"{id}\" = \"{key}\"\n"));
    }
    Arc::new(AtRestKeys::parse(&text).unwrap())
}

fn fresh_key() -> String {
    let file = AtRestKeys::generate_file("x").unwrap();
    file.lines()
        .find_map(|l| l.strip_prefix("\"x\" = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_string()
}

fn start(db: &DbUrl, keys: Option<&Arc<AtRestKeys>>) -> ServerHandle {
    ServerHandle::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        at_rest: keys.cloned(),
        ..ServerConfig::new(db.clone())
    })
    .unwrap()
}

/// (policy key, time key, hr's TOTP seed) exactly as stored.
fn raw_secrets(db: &DbUrl) -> [Vec<u8>; 3] {
    let raw = punch_server::internal::store::open(db).unwrap();
    raw.read(|tx| {
        Ok([
            tx.meta().get("policy_key_pkcs8")?.unwrap(),
            tx.meta().get("time_token_secret")?.unwrap(),
            tx.people().staff("hr")?.unwrap().totp_secret,
        ])
    })
    .unwrap()
}

fn sealed_with(v: &[u8]) -> Option<&str> {
    value::sealed_with(v)
}

#[test]
fn server_secrets_are_sealed_resealed_and_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    // A database from before keys were configured: secrets in clear.
    {
        let _server = start(&db, None);
        let admin = Admin::connect(&db).unwrap();
        let site = serde_json::from_value(serde_json::json!({
            "id": "hq", "name": "HQ",
            "shape": {"type": "circle", "center": {"lat": 52.52, "lon": 13.40}, "radius_m": 150.0}
        }))
        .unwrap();
        admin.upsert_site(site).unwrap();
        admin.publish_policy(DAY * 30).unwrap();
    }
    let pinned = Admin::connect(&db).unwrap().policy_public_key().unwrap();
    let k1 = fresh_key();
    let keys1 = keys_file("k1", &[("k1", &k1)]);
    let admin = Admin::connect_with(&db, Some(&keys1)).unwrap();
    let ts_staff = {
        // add_staff needs a TestServer; make the account the same way.
        let created = admin
            .add_staff(&punch_server::NewStaff {
                username: "hr".into(),
                display_name: "HR".into(),
                role: Role::HrAdmin,
                team: None,
                password: PASSWORD.into(),
            })
            .unwrap();
        created.totp_secret.unwrap()
    };
    // Enabling keys seals what is written from now on (hr's seed) and the
    // reseal job seals what was clear (the policy and time keys).
    let before = raw_secrets(&db);
    assert_eq!(sealed_with(&before[0]), None, "clear before the reseal");
    assert_eq!(sealed_with(&before[2]), Some("k1"));
    let report = admin.reseal_at_rest(&keys1, true).unwrap();
    let column = |name: &str| {
        report
            .columns
            .iter()
            .find(|c| c.column == name)
            .unwrap_or_else(|| panic!("no column {name}: {report:?}"))
            .clone()
    };
    assert_eq!(column("meta.value").resealed, 2, "{report:?}");
    for v in raw_secrets(&db) {
        assert_eq!(sealed_with(&v), Some("k1"));
    }
    // The server works on the sealed secrets: the same pinned policy key,
    // and hr signs in with the seed.
    let server = start(&db, Some(&keys1));
    assert_eq!(admin.policy_public_key().unwrap(), pinned);
    let hr = common::staff::Staff {
        username: "hr".into(),
        role: Role::HrAdmin,
        totp_secret: ts_staff.clone(),
    };
    assert_eq!(
        hr.try_sign_in(server.addr(), PASSWORD, &hr.code()).status,
        200
    );
    server.stop();

    // A missing key: the secrets do not open (no policy can be signed).
    let k2 = fresh_key();
    let only_k2 = keys_file("k2", &[("k2", &k2)]);
    let err = Admin::connect_with(&db, Some(&only_k2))
        .unwrap()
        .publish_policy(DAY)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("k1") && err.contains("not configured"),
        "{err}"
    );

    // Rotation: k2 seals, k1 still opens; the reseal moves everything to k2.
    let both = keys_file("k2", &[("k1", &k1), ("k2", &k2)]);
    let report = Admin::connect_with(&db, Some(&both))
        .unwrap()
        .reseal_at_rest(&both, true)
        .unwrap();
    assert_eq!(report.unopenable(), 0, "{report:?}");
    for v in raw_secrets(&db) {
        assert_eq!(sealed_with(&v), Some("k2"));
    }
    let server = start(&db, Some(&only_k2));
    let admin2 = Admin::connect_with(&db, Some(&only_k2)).unwrap();
    assert_eq!(admin2.policy_public_key().unwrap(), pinned);
    admin2.publish_policy(DAY).unwrap();
    let step_ms = 30_000;
    let next = (common::now_ms() / step_ms + 1) * step_ms;
    let code = punch_server::internal::staff::totp::code_from_base32(&ts_staff, next).unwrap();
    assert_eq!(hr.try_sign_in(server.addr(), PASSWORD, &code).status, 200);
}
