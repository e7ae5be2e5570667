//! The audit chain anchored outside the database (audit finding 11): with
//! write access one can edit a row and recompute every hash after it, and
//! the chain verifies; a head recorded earlier outside the database (the
//! server logs each one) does not.

use crate::common;

use common::TestServer;
use common::staff::{add_staff, ok};
use punch_server::Role;
use punch_server::routes::admin as admin_api;
use serde_json::json;

fn audit_verify(ts: &TestServer, extra: &[&str]) -> (bool, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_punch-server"))
        .args(["admin", "--db", &common::db_arg(&ts.db), "audit-verify"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|_| panic!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), report)
}

#[test]
fn a_rewritten_chain_verifies_but_not_against_its_anchor() {
    let ts = TestServer::start();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    ok(hr.post(
        admin_api::PATH_EMPLOYEES,
        &json!({"employee_id": "ann", "name": "Ann", "team": "A"}),
    ));
    let (clean, before) = audit_verify(&ts, &[]);
    assert!(clean, "{before}");
    let anchor = format!(
        "{}:{}",
        before["head_seq"].as_u64().unwrap(),
        before["head_hash"].as_str().unwrap()
    );
    // Someone with write access edits the sign-in row and recomputes the
    // hashes from there to the head.
    common::execute_sql(&ts.db, &common::audit_trigger_drop_sql(&ts.db)).unwrap();
    let mut rows = ts.admin.audit_rows(0, 100).unwrap();
    let edited = rows
        .iter()
        .position(|r| r.action == "session.sign_in")
        .unwrap();
    rows[edited].reason = "nothing happened".into();
    for i in edited..rows.len() {
        if i > 0 {
            rows[i].prev_hash = rows[i - 1].hash.clone();
        }
        rows[i].hash = punch_server::internal::audit::row_hash(&rows[i]);
        let r = &rows[i];
        common::execute_sql(
            &ts.db,
            &format!(
                "UPDATE audit_log SET reason = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
                r.reason, r.prev_hash, r.hash, r.seq
            ),
        )
        .unwrap();
    }
    // The chain alone cannot tell.
    let (still, _) = audit_verify(&ts, &[]);
    assert!(still, "the rewritten chain verifies on its own");
    // Against the head recorded outside the database, it fails.
    let (anchored, report) = audit_verify(&ts, &["--anchor", &anchor]);
    assert!(!anchored, "{report}");
    assert_eq!(report["broken"]["problem"], "anchor", "{report}");
}
