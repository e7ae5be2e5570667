//! The admin HTTP API (`/admin/v1/…`, JSON, documented in `openapi.json`):
//! what the `punch-server admin` CLI does, for people with roles. Every
//! route names the one [`Permission`] it needs in [`routes`]; the actor is
//! authenticated (session cookie + CSRF token, or an API token) and checked
//! against it before any work, and a manager's answers are cut to their own
//! team. Every change a person makes is written to the audit chain in the
//! same transaction as the change.
//!
//! New concerns slot in by adding rows to [`routes`] with their handler and
//! permission (make-up and field-work requests: `ViewRequests` /
//! `DecideRequests`, in [`requests`]; PIN resets: `Permission::ResetPin`).

pub mod auth;
pub mod chain_breaks;
pub mod device_approvals;
pub mod error;
pub mod export;
pub mod faults;
pub mod forgotten;
pub mod key_rotations;
pub mod locale;
pub mod passkeys;
pub mod people;
pub mod photos;
pub mod punches;
pub mod query;
pub mod records;
pub mod requests;
pub mod session;
pub mod staff;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

use crate::api::AppState;
use crate::staff::Permission;

pub use error::AdminError;

/// Paths (axum and OpenAPI both write parameters as `{name}`).
pub const PATH_SESSION: &str = "/admin/v1/session";
pub const PATH_SESSION_END: &str = "/admin/v1/session/end";
pub const PATH_EMPLOYEES: &str = "/admin/v1/employees";
pub const PATH_REBIND: &str = "/admin/v1/employees/{employee_id}/rebind";
pub const PATH_EXTRA_DEVICE: &str = "/admin/v1/employees/{employee_id}/extra-device";
pub const PATH_DEVICE_SLOTS: &str = "/admin/v1/employees/{employee_id}/device-slots";
pub const PATH_PUNCHES: &str = "/admin/v1/punches";
pub const PATH_PUNCH: &str = "/admin/v1/punches/{device_id}/{seq}";
pub const PATH_PUNCH_REVIEW: &str = "/admin/v1/punches/{device_id}/{seq}/review";
pub const PATH_PUNCH_PHOTO: &str = "/admin/v1/punches/{device_id}/{seq}/photo";
pub const PATH_DEVICES: &str = "/admin/v1/devices";
pub const PATH_CHAIN_BREAKS: &str = "/admin/v1/chain-breaks";
pub const PATH_PIN_RESET: &str = "/admin/v1/employees/{employee_id}/pin-reset";
pub const PATH_ACK_BREAK: &str = "/admin/v1/devices/{device_id}/acknowledge-break";
pub const PATH_ATTENDANCE: &str = "/admin/v1/attendance";
pub const PATH_AUDIT: &str = "/admin/v1/audit";
pub const PATH_AUDIT_VERIFY: &str = "/admin/v1/audit/verify";
pub const PATH_TOKENS: &str = "/admin/v1/tokens";
pub const PATH_TOKEN_REVOKE: &str = "/admin/v1/tokens/{token_id}/revoke";
pub const PATH_STAFF: &str = "/admin/v1/staff";
pub const PATH_STAFF_CHANGE: &str = "/admin/v1/staff/{username}/{change}";
pub const PATH_PUBLISH: &str = "/admin/v1/policy/publish";
pub const PATH_REQUESTS: &str = "/admin/v1/requests";
pub const PATH_REQUEST_DECISION: &str = "/admin/v1/requests/{event_id}/decision";
pub const PATH_KEY_ROTATIONS: &str = "/admin/v1/key-rotations";
pub const PATH_FORGOTTEN: &str = "/admin/v1/forgotten-clock-outs";
pub const PATH_KEY_ROTATION_DECISION: &str = "/admin/v1/key-rotations/{event_id}/decision";
pub const PATH_FAULTS: &str = "/admin/v1/faults";
pub const PATH_FAULTS_SILENT: &str = "/admin/v1/faults/silent";
pub const PATH_PASSKEYS: &str = "/admin/v1/employees/{employee_id}/passkeys";
pub const PATH_PASSKEY_REVOKE: &str =
    "/admin/v1/employees/{employee_id}/passkeys/{device_id}/revoke";

/// One route: method, path, the permission it needs (None: sign-in and
/// sign-out, which establish who is asking), and its handler.
pub struct AdminRoute {
    pub method: Method,
    pub path: &'static str,
    pub permission: Option<Permission>,
    pub handler: MethodRouter<AppState>,
}

fn r(
    method: Method,
    path: &'static str,
    permission: Option<Permission>,
    handler: MethodRouter<AppState>,
) -> AdminRoute {
    AdminRoute {
        method,
        path,
        permission,
        handler,
    }
}

/// The permission table of the API: tests walk it to prove every route
/// refuses whoever lacks the permission and cuts managers to their team.
pub fn routes() -> Vec<AdminRoute> {
    use Permission as P;
    vec![
        r(Method::POST, PATH_SESSION, None, post(session::sign_in)),
        r(Method::GET, PATH_SESSION, None, get(session::whoami)),
        r(
            Method::POST,
            PATH_SESSION_END,
            None,
            post(session::sign_out),
        ),
        r(
            Method::GET,
            PATH_EMPLOYEES,
            Some(P::ViewEmployees),
            get(people::list),
        ),
        r(
            Method::POST,
            PATH_EMPLOYEES,
            Some(P::ManageEmployees),
            post(people::upsert),
        ),
        r(
            Method::POST,
            PATH_REBIND,
            Some(P::ApproveRebind),
            post(people::rebind),
        ),
        r(
            Method::POST,
            PATH_EXTRA_DEVICE,
            Some(P::ApproveRebind),
            post(device_approvals::approve),
        ),
        r(
            Method::GET,
            PATH_DEVICE_SLOTS,
            Some(P::ViewDevices),
            get(device_approvals::slots),
        ),
        r(
            Method::POST,
            PATH_PIN_RESET,
            Some(P::ResetPin),
            post(people::pin_reset),
        ),
        r(
            Method::GET,
            PATH_PUNCHES,
            Some(P::ViewPunches),
            get(punches::list),
        ),
        r(
            Method::GET,
            PATH_PUNCH,
            Some(P::ViewPunches),
            get(punches::detail),
        ),
        r(
            Method::POST,
            PATH_PUNCH_REVIEW,
            Some(P::ReviewPunches),
            post(punches::review),
        ),
        r(
            Method::GET,
            PATH_PUNCH_PHOTO,
            Some(P::ViewPunches),
            get(photos::image),
        ),
        r(
            Method::GET,
            PATH_DEVICES,
            Some(P::ViewDevices),
            get(people::devices),
        ),
        r(
            Method::GET,
            PATH_CHAIN_BREAKS,
            Some(P::ViewChainBreaks),
            get(chain_breaks::list),
        ),
        r(
            Method::POST,
            PATH_ACK_BREAK,
            Some(P::AcknowledgeChainBreak),
            post(chain_breaks::acknowledge),
        ),
        r(
            Method::GET,
            PATH_ATTENDANCE,
            Some(P::ExportAttendance),
            get(export::attendance),
        ),
        r(
            Method::GET,
            PATH_AUDIT,
            Some(P::ViewAudit),
            get(records::audit_list),
        ),
        r(
            Method::GET,
            PATH_AUDIT_VERIFY,
            Some(P::ViewAudit),
            get(records::verify),
        ),
        r(
            Method::POST,
            PATH_TOKENS,
            Some(P::CreateTokens),
            post(session::create_token),
        ),
        r(
            Method::POST,
            PATH_STAFF,
            Some(P::ManageStaff),
            post(people::create_staff),
        ),
        r(
            Method::GET,
            PATH_STAFF,
            Some(P::ManageStaff),
            get(staff::list),
        ),
        r(
            Method::POST,
            PATH_STAFF_CHANGE,
            Some(P::ManageStaff),
            post(staff::change),
        ),
        r(
            Method::GET,
            PATH_TOKENS,
            Some(P::CreateTokens),
            get(staff::tokens),
        ),
        r(
            Method::POST,
            PATH_TOKEN_REVOKE,
            Some(P::CreateTokens),
            post(staff::revoke_token),
        ),
        r(
            Method::POST,
            PATH_PUBLISH,
            Some(P::PublishPolicy),
            post(records::publish),
        ),
        r(
            Method::GET,
            PATH_REQUESTS,
            Some(P::ViewRequests),
            get(requests::list),
        ),
        r(
            Method::GET,
            PATH_FORGOTTEN,
            Some(P::ViewPunches),
            get(forgotten::list),
        ),
        r(
            Method::POST,
            PATH_REQUEST_DECISION,
            Some(P::DecideRequests),
            post(requests::decide),
        ),
        r(
            Method::GET,
            PATH_KEY_ROTATIONS,
            Some(P::ViewDevices),
            get(key_rotations::list),
        ),
        r(
            Method::POST,
            PATH_KEY_ROTATION_DECISION,
            Some(P::ApproveRebind),
            post(key_rotations::decide),
        ),
        r(
            Method::GET,
            PATH_FAULTS,
            Some(P::ViewDevices),
            get(faults::list),
        ),
        r(
            Method::GET,
            PATH_FAULTS_SILENT,
            Some(P::ViewDevices),
            get(faults::silent),
        ),
        r(
            Method::GET,
            PATH_PASSKEYS,
            Some(P::ViewDevices),
            get(passkeys::list),
        ),
        r(
            Method::POST,
            PATH_PASSKEY_REVOKE,
            Some(P::ApproveRebind),
            post(passkeys::revoke),
        ),
    ]
}

/// The permission a (method, path) needs, from [`routes`].
pub fn permission_of(method: &Method, path: &str) -> Option<Permission> {
    routes()
        .into_iter()
        .find(|r| r.method == *method && r.path == path)
        .and_then(|r| r.permission)
}

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for route in routes() {
        router = router.route(route.path, route.handler);
    }
    router
}
