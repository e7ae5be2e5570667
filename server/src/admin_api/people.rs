//! Employees (with their teams), devices, rebinds and staff accounts.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::query::{self, CursorPage, CursorPaging};
use crate::api::AppState;
use crate::audit::{self, AuditEntry};
use crate::staff::account::{self, NewStaff};
use crate::staff::{Actor, Permission, Role};
use crate::store::people::PersonRow;
use crate::store::{DeviceInfo, StoreExt, StoreTx};

/// Refuses a `team` filter the actor may not see (a manager asking for
/// another team's page is told so, not shown an empty one).
pub fn check_team_filter(actor: &Actor, team: Option<&str>) -> Result<(), AdminError> {
    match team {
        Some(t) if !actor.sees_team(Some(t)) => Err(AdminError::not_your_team()),
        _ => Ok(()),
    }
}

/// Writes one audit record for `actor`.
pub fn audit(
    tx: &dyn StoreTx,
    actor: &Actor,
    action: &str,
    target: String,
    reason: &str,
    detail: serde_json::Value,
    now: i64,
) -> crate::error::Result<()> {
    audit::append(
        tx,
        &AuditEntry {
            actor: actor.label(),
            role: actor.role.as_str().into(),
            action: action.into(),
            target,
            reason: reason.into(),
            detail,
        },
        now,
    )
    .map(|_| ())
}

#[derive(Debug, Default, Deserialize)]
pub struct EmployeeFilter {
    pub team: Option<String>,
}

/// `GET /admin/v1/employees`: by id, one keyset page read in SQL.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<EmployeeFilter>,
    Query(paging): Query<CursorPaging>,
) -> Result<Response, AdminError> {
    let after = paging.cursor(|c| Some(c.to_string()))?;
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewEmployees,
        move |s, actor, now| {
            check_team_filter(actor, f.team.as_deref())?;
            let team = f.team.or_else(|| actor.team().map(str::to_string));
            let limit = paging.limit();
            let mut rows = if actor.team() == Some("") {
                Vec::new()
            } else {
                s.store.read(|tx| {
                    tx.people()
                        .people_page(after.as_deref(), team.as_deref(), limit + 1)
                })?
            };
            let more = rows.len() > limit;
            rows.truncate(limit);
            let next_cursor = more
                .then(|| rows.last().map(|p| p.employee_id.clone()))
                .flatten();
            let items: Vec<PersonRow> = rows
                .into_iter()
                .filter(|p| actor.sees_team(p.team.as_deref()))
                .collect();
            Ok(CursorPage {
                items,
                next_cursor,
                server_time_ms: now,
            })
        },
    )
    .await?;
    Ok(json(&page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertEmployee {
    pub employee_id: String,
    pub name: String,
    pub team: Option<String>,
}

/// `POST /admin/v1/employees`: adds or renames an employee and sets the team.
pub async fn upsert(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AdminError> {
    let person = call(
        &state,
        headers,
        method,
        Permission::ManageEmployees,
        move |s, actor, now| {
            let req: UpsertEmployee = query::body(&body)?;
            let id = req.employee_id.trim().to_string();
            if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
                return Err(AdminError::bad_request("employee_id is 1-128 characters"));
            }
            let team = req.team.as_deref().map(str::trim).filter(|t| !t.is_empty());
            if team.is_some_and(|t| t.len() > 128) {
                return Err(AdminError::bad_request("team is at most 128 characters"));
            }
            let name = query::text(&req.name, "name", false)?;
            s.store.write(|tx| {
                tx.enrollment().upsert_employee(&id, &name, now)?;
                tx.people().set_team(&id, team)?;
                audit(
                    tx,
                    actor,
                    "employee.upsert",
                    format!("employee:{id}"),
                    "",
                    serde_json::json!({"name": name, "team": team}),
                    now,
                )
            })?;
            Ok(PersonRow {
                employee_id: id,
                name,
                team: team.map(str::to_string),
            })
        },
    )
    .await?;
    Ok(json(&person))
}

/// `POST /admin/v1/employees/{employee_id}/rebind`: the next enrollment may
/// replace the bound device (once).
pub async fn rebind(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(employee_id): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    call(
        &state,
        headers,
        method,
        Permission::ApproveRebind,
        move |s, actor, now| {
            let reason = query::reason(&body)?;
            s.store.write(|tx| {
                if tx.enrollment().employee(&employee_id)?.is_none() {
                    return Err(crate::error::ServerError::UnknownEmployee(
                        employee_id.clone(),
                    ));
                }
                tx.enrollment()
                    .set_rebind_approved(&employee_id, Some(now))?;
                audit(
                    tx,
                    actor,
                    "device.rebind_approve",
                    format!("employee:{employee_id}"),
                    &reason,
                    serde_json::json!({}),
                    now,
                )
            })?;
            Ok(())
        },
    )
    .await?;
    Ok(json(
        &serde_json::json!({"rebind_approved": true, "server_time_ms": crate::clock::now_ms()}),
    ))
}

/// A device as the admin API shows it (no key bytes).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    pub device_id: String,
    pub employee_id: String,
    pub team: Option<String>,
    pub platform: String,
    pub key_storage: String,
    pub assurance: String,
    pub enrolled_at_ms: i64,
    pub bound: bool,
    pub head_seq: u64,
    pub head_hash: String,
}

impl DeviceView {
    pub fn of(d: DeviceInfo, team: Option<String>) -> DeviceView {
        DeviceView {
            bound: d.is_bound(),
            device_id: d.device_id,
            employee_id: d.employee_id,
            team,
            platform: d.platform,
            key_storage: d.key_storage,
            assurance: d.assurance,
            enrolled_at_ms: d.enrolled_at_ms,
            head_seq: d.head_seq,
            head_hash: d.head_hash,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DeviceFilter {
    pub team: Option<String>,
    pub employee: Option<String>,
}

/// `GET /admin/v1/devices`: by id, one keyset page read in SQL.
pub async fn devices(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<DeviceFilter>,
    Query(paging): Query<CursorPaging>,
) -> Result<Response, AdminError> {
    let after = paging.cursor(|c| Some(c.to_string()))?;
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewDevices,
        move |s, actor, now| {
            check_team_filter(actor, f.team.as_deref())?;
            let team = f.team.or_else(|| actor.team().map(str::to_string));
            let limit = paging.limit();
            let mut rows = if actor.team() == Some("") {
                Vec::new()
            } else {
                s.store.read(|tx| {
                    tx.devices().devices_page(
                        after.as_deref(),
                        team.as_deref(),
                        f.employee.as_deref(),
                        limit + 1,
                    )
                })?
            };
            let more = rows.len() > limit;
            rows.truncate(limit);
            let next_cursor = more
                .then(|| rows.last().map(|(d, _)| d.device_id.clone()))
                .flatten();
            let items: Vec<DeviceView> = rows
                .into_iter()
                .map(|(d, team)| DeviceView::of(d, team))
                .filter(|d| actor.sees_team(d.team.as_deref()))
                .collect();
            Ok(CursorPage {
                items,
                next_cursor,
                server_time_ms: now,
            })
        },
    )
    .await?;
    Ok(json(&page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    pub password: String,
}

/// `POST /admin/v1/staff`: a new account; its TOTP secret is shown once.
pub async fn create_staff(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AdminError> {
    let created = call(
        &state,
        headers,
        method,
        Permission::ManageStaff,
        move |s, actor, now| {
            let req: CreateStaff = query::body(&body)?;
            let (row, created) = account::prepare(
                &NewStaff {
                    username: req.username,
                    display_name: req.display_name,
                    role: req.role,
                    team: req.team,
                    password: req.password,
                },
                // The holder enrols their authenticator at first sign-in:
                // HR never sees the secret.
                account::Enrolment::AtFirstSignIn,
                now,
            )?;
            s.store.write(|tx| {
                account::insert(tx, &row)?;
                audit(
                    tx,
                    actor,
                    "staff.create",
                    format!("staff:{}", row.username),
                    "",
                    serde_json::json!({"role": row.role, "team": row.team}),
                    now,
                )
            })?;
            Ok(created)
        },
    )
    .await?;
    Ok(json(&created))
}

/// `POST /admin/v1/employees/{employee_id}/pin-reset`: orders a PIN reset
/// (the phone fetches a signed reset token on its next try); a manager may
/// order one for their own team only. Audited with its reason.
pub async fn pin_reset(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(employee_id): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    call(
        &state,
        headers,
        method,
        Permission::ResetPin,
        move |s, actor, now| {
            let reason = query::reason(&body)?;
            s.store.write(|tx| {
                if tx.enrollment().employee(&employee_id)?.is_none() {
                    return Ok(Err(AdminError::not_found("no such employee")));
                }
                let team = tx.people().team_of(&employee_id)?;
                if !actor.sees_team(team.as_deref()) {
                    return Ok(Err(AdminError::not_your_team()));
                }
                crate::pin::admin::order_pin_reset_in(tx, &employee_id, now)?;
                audit(
                    tx,
                    actor,
                    "pin.reset",
                    format!("employee:{employee_id}"),
                    &reason,
                    serde_json::json!({}),
                    now,
                )?;
                Ok(Ok(()))
            })?
        },
    )
    .await?;
    Ok(json(
        &serde_json::json!({"pin_reset_ordered": true, "server_time_ms": crate::clock::now_ms()}),
    ))
}
