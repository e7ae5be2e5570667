//! An employee's device slots: the published `max_devices`, their bound
//! devices and HR's approvals for one more (`crate::device_approval`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::Serialize;

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::audit;
use crate::admin_api::query;
use crate::api::AppState;
use crate::device_approval::{self, AUDIT_ACTION, DeviceSlots};
use crate::staff::{Actor, Permission};
use crate::store::{StoreExt, StoreTx};

#[derive(Serialize)]
struct SlotsAnswer {
    #[serde(flatten)]
    slots: DeviceSlots,
    server_time_ms: i64,
}

/// The employee exists and is the actor's to see (a manager's team).
pub fn check_employee(
    tx: &dyn StoreTx,
    actor: &Actor,
    employee_id: &str,
) -> crate::error::Result<Result<(), AdminError>> {
    if tx.enrollment().employee(employee_id)?.is_none() {
        return Ok(Err(AdminError::not_found("no such employee")));
    }
    let team = tx.people().team_of(employee_id)?;
    Ok(if actor.sees_team(team.as_deref()) {
        Ok(())
    } else {
        Err(AdminError::not_your_team())
    })
}

/// `GET /admin/v1/employees/{employee_id}/device-slots`.
pub async fn slots(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(employee_id): Path<String>,
) -> Result<Response, AdminError> {
    let slots = call(
        &state,
        headers,
        method,
        Permission::ViewDevices,
        move |s, actor, _now| {
            s.store.read(|tx| {
                if let Err(refused) = check_employee(tx, actor, &employee_id)? {
                    return Ok(Err(refused));
                }
                device_approval::slots(tx, &employee_id).map(Ok)
            })?
        },
    )
    .await?;
    Ok(json(&SlotsAnswer {
        slots,
        server_time_ms: crate::clock::now_ms(),
    }))
}

/// `POST /admin/v1/employees/{employee_id}/extra-device`: the employee may
/// enroll one device beyond `max_devices` (once).
pub async fn approve(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(employee_id): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let slots = call(
        &state,
        headers,
        method,
        Permission::ApproveRebind,
        move |s, actor, now| {
            let reason = query::reason(&body)?;
            s.store.write(|tx| {
                if let Err(refused) = check_employee(tx, actor, &employee_id)? {
                    return Ok(Err(refused));
                }
                let id = device_approval::approve(tx, &employee_id, &actor.label(), &reason, now)?;
                audit(
                    tx,
                    actor,
                    AUDIT_ACTION,
                    format!("employee:{employee_id}"),
                    &reason,
                    serde_json::json!({"approval_id": id}),
                    now,
                )?;
                device_approval::slots(tx, &employee_id).map(Ok)
            })?
        },
    )
    .await?;
    Ok(json(&SlotsAnswer {
        slots,
        server_time_ms: crate::clock::now_ms(),
    }))
}
