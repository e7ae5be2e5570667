//! No existence oracle across teams (audit finding 12): a manager gets the
//! same answer for another team's employee, punch or request as for one
//! that does not exist; HR, who sees everything, still gets 404.

use crate::common;

use common::TestServer;
use common::staff::add_staff;
use punch_server::Role;
use serde_json::json;

#[test]
fn a_manager_cannot_tell_missing_from_another_teams() {
    let ts = TestServer::start();
    let version = ts.publish();
    let mut bob = ts.enrolled_device("bob");
    ts.admin.set_team("bob", Some("B")).unwrap();
    let up = bob.next(version, |_| {});
    bob.upload_ok(ts.addr(), vec![up]);
    let mgr = add_staff(&ts, "mgr.a", Role::Manager, Some("A")).sign_in(ts.addr());
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let reason = json!({"reason": "forgot it"});
    let decide = json!({"decision": "approve"});
    let missing_request = format!("/admin/v1/requests/{}/decision", uuid::Uuid::new_v4());
    // Another team's, then missing: one answer.
    for path in [
        format!("/admin/v1/punches/{}/1", bob.id),
        "/admin/v1/punches/nobody/1".into(),
    ] {
        mgr.get(&path).assert_error(403, "not_your_team");
    }
    for who in ["bob", "nobody"] {
        mgr.post(&format!("/admin/v1/employees/{who}/pin-reset"), &reason)
            .assert_error(403, "not_your_team");
    }
    mgr.post(&missing_request, &decide)
        .assert_error(403, "not_your_team");
    // HR sees everything: missing is missing.
    hr.get("/admin/v1/punches/nobody/1")
        .assert_error(404, "not_found");
    hr.post(&missing_request, &decide)
        .assert_error(404, "not_found");
}
