//! Exports are bounded per caller (audit finding 9): each reads a whole
//! range of punches, so a staff member's attendance exports and a device's
//! own-data exports are rate-limited, counted in the database.

use crate::common;

use common::TestServer;
use common::staff::{add_staff, ok};
use punch_model::wire::privacy::PATH_EXPORT;
use punch_server::Limits;
use punch_server::RateRule;
use punch_server::Role;

fn two_a_window() -> RateRule {
    RateRule {
        hits: 2,
        window_s: 600,
    }
}

#[test]
fn attendance_exports_are_rate_limited_per_staff_member() {
    let ts = TestServer::with_limits(Limits {
        export_attendance_per_staff: two_a_window(),
        ..Limits::default()
    });
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let other = add_staff(&ts, "hr2", Role::HrAdmin, None).sign_in(ts.addr());
    let path = "/admin/v1/attendance?from=2026-01-01&to=2026-01-31";
    ok(hr.get(path));
    ok(hr.get(path));
    let third = hr.get(path);
    third.assert_error(429, "rate_limited");
    assert!(third.header("retry-after").is_some());
    // Another person's budget is their own.
    ok(other.get(path));
}

#[test]
fn own_data_exports_are_rate_limited_per_device() {
    let ts = TestServer::with_limits(Limits {
        privacy_export_per_device: two_a_window(),
        ..Limits::default()
    });
    ts.publish();
    let device = ts.enrolled_device("e-1");
    for _ in 0..2 {
        assert_eq!(
            device.signed(ts.addr(), "GET", PATH_EXPORT, b"").status,
            200
        );
    }
    device
        .signed(ts.addr(), "GET", PATH_EXPORT, b"")
        .assert_error(429, "rate_limited");
}
