//! An employee's passkeys (the browser terminal, `crate::browser::revoke`):
//! listed for whoever sees the employee's devices, revoked by HR, audited.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::admin_api::auth::{call, json};
use crate::admin_api::device_approvals::check_employee;
use crate::admin_api::error::AdminError;
use crate::admin_api::people::audit;
use crate::admin_api::query;
use crate::api::AppState;
use crate::browser::revoke::{self, AUDIT_ACTION};
use crate::staff::Permission;
use crate::store::StoreExt;

/// `GET /admin/v1/employees/{employee_id}/passkeys`.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(employee_id): Path<String>,
) -> Result<Response, AdminError> {
    let (items, now) = call(
        &state,
        headers,
        method,
        Permission::ViewDevices,
        move |s, actor, now| {
            let items = s.store.read(|tx| {
                if let Err(refused) = check_employee(tx, actor, &employee_id)? {
                    return Ok(Err(refused));
                }
                revoke::list(tx, &employee_id).map(Ok)
            })??;
            Ok((items, now))
        },
    )
    .await?;
    Ok(json(
        &serde_json::json!({"items": items, "server_time_ms": now}),
    ))
}

/// `POST /admin/v1/employees/{employee_id}/passkeys/{device_id}/revoke`:
/// the passkey punches no more (revoking it again changes nothing).
pub async fn revoke(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((employee_id, device_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let (passkey, now) = call(
        &state,
        headers,
        method,
        Permission::ApproveRebind,
        move |s, actor, now| {
            let reason = query::reason(&body)?;
            let passkey = s.store.write(|tx| {
                if let Err(refused) = check_employee(tx, actor, &employee_id)? {
                    return Ok(Err(refused));
                }
                let Some((view, revoked)) = revoke::revoke(tx, &employee_id, &device_id, now)?
                else {
                    return Ok(Err(AdminError::not_found(
                        "no such passkey of this employee",
                    )));
                };
                audit(
                    tx,
                    actor,
                    AUDIT_ACTION,
                    format!("device:{device_id}"),
                    &reason,
                    revoke::audit_detail(&view, revoked),
                    now,
                )?;
                Ok(Ok(view))
            })??;
            Ok((passkey, now))
        },
    )
    .await?;
    Ok(json(
        &serde_json::json!({"passkey": passkey, "server_time_ms": now}),
    ))
}
