//! The staff account lifecycle for HR (`manage_staff`): the accounts with
//! their state, and one route per change (`staff::lifecycle`), each audited
//! with its reason. Everyone may list their own API tokens with expiry.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::audit;
use crate::admin_api::query;
use crate::api::AppState;
use crate::staff::lifecycle::{self, Change};
use crate::staff::{Permission, Role, password, token};
use crate::store::StoreExt;
use crate::store::people::{ApiTokenRow, StaffRow};

/// An account as HR sees it (no secrets).
#[derive(Debug, Serialize)]
pub struct StaffView {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub team: Option<String>,
    pub disabled: bool,
    /// Set while the account is locked (right password, wrong codes).
    pub locked_until_ms: Option<i64>,
    pub totp_enrolment_pending: bool,
    pub created_at_ms: i64,
}

impl StaffView {
    fn of(row: &StaffRow, now: i64) -> StaffView {
        StaffView {
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            role: row.role.clone(),
            team: row.team.clone(),
            disabled: row.disabled,
            locked_until_ms: row.locked_until_ms.filter(|u| *u > now),
            totp_enrolment_pending: lifecycle::needs_totp_enrolment(row),
            created_at_ms: row.created_at_ms,
        }
    }
}

/// `GET /admin/v1/staff`.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let staff = call(
        &state,
        headers,
        method,
        Permission::ManageStaff,
        |s, _, now| {
            let rows = s.store.read(|tx| tx.people().staff_list())?;
            Ok(rows
                .iter()
                .map(|r| StaffView::of(r, now))
                .collect::<Vec<_>>())
        },
    )
    .await?;
    Ok(json(&serde_json::json!({
        "staff": staff,
        "server_time_ms": crate::clock::now_ms(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    /// Why (kept in the audit log).
    pub reason: String,
    /// The new one-time password, for `reset-password` only.
    #[serde(default)]
    pub password: Option<String>,
}

/// `POST /admin/v1/staff/{username}/{change}`: disable, enable, revoke,
/// unlock, reset-password, reset-totp.
pub async fn change(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((username, change)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let outcome = call(
        &state,
        headers,
        method,
        Permission::ManageStaff,
        move |s, actor, now| {
            let change = Change::parse(&change)
                .ok_or_else(|| AdminError::not_found(format!("no change {change:?}")))?;
            let req: ChangeRequest = query::body(&body)?;
            let reason = query::text(&req.reason, "reason", true)?;
            if username == actor.username && matches!(change, Change::Disable | Change::ResetTotp) {
                return Err(AdminError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "not on your own account: ask another HR admin",
                ));
            }
            let phc = match (change, req.password.as_deref()) {
                (Change::ResetPassword, Some(p)) => Some(password::hash(p)?),
                (Change::ResetPassword, None) => {
                    return Err(AdminError::bad_request("password is required"));
                }
                (_, Some(_)) => {
                    return Err(AdminError::bad_request("password goes with reset-password"));
                }
                (_, None) => None,
            };
            Ok(s.store.write(|tx| {
                let outcome = lifecycle::apply(tx, &username, change, phc.as_deref(), now)?;
                audit(
                    tx,
                    actor,
                    &format!("staff.{}", change.as_str()),
                    format!("staff:{username}"),
                    &reason,
                    serde_json::json!({"outcome": outcome}),
                    now,
                )?;
                let row = tx.people().staff(&username)?;
                Ok((outcome, row.map(|r| StaffView::of(&r, now))))
            })?)
        },
    )
    .await?;
    Ok(json(&serde_json::json!({
        "outcome": outcome.0,
        "staff": outcome.1,
        "server_time_ms": crate::clock::now_ms(),
    })))
}

/// An API token as its owner (or HR) sees it: never the secret.
#[derive(Debug, Serialize)]
pub struct TokenView {
    pub token_id: String,
    pub username: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

impl TokenView {
    fn of(t: ApiTokenRow) -> TokenView {
        TokenView {
            token_id: t.token_id,
            username: t.username,
            name: t.name,
            scopes: t.scopes,
            created_at_ms: t.created_at_ms,
            expires_at_ms: t.expires_at_ms,
            revoked_at_ms: t.revoked_at_ms,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why (kept in the audit log).
    pub reason: String,
}

/// `POST /admin/v1/tokens/{token_id}/revoke`: one token, audited; your own
/// (HR: anyone's). Another's token is `404`, as one that does not exist.
pub async fn revoke_token(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(token_id): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let revoked = call(
        &state,
        headers,
        method,
        Permission::CreateTokens,
        move |s, actor, now| {
            let req: RevokeRequest = query::body(&body)?;
            let reason = query::text(&req.reason, "reason", true)?;
            let owner = (actor.role != Role::HrAdmin).then(|| actor.username.clone());
            s.store.write(|tx| {
                let Some(row) = token::revoke(tx, &token_id, owner.as_deref(), now)? else {
                    return Ok(Err(AdminError::not_found("no such token")));
                };
                audit(
                    tx,
                    actor,
                    "token.revoke",
                    format!("token:{token_id}"),
                    &reason,
                    serde_json::json!({"owner": row.username}),
                    now,
                )?;
                Ok(Ok(TokenView::of(row)))
            })?
        },
    )
    .await?;
    Ok(json(&serde_json::json!({
        "token": revoked,
        "server_time_ms": crate::clock::now_ms(),
    })))
}

/// `GET /admin/v1/tokens`: your tokens with their expiry (HR: everyone's).
pub async fn tokens(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let tokens = call(
        &state,
        headers,
        method,
        Permission::CreateTokens,
        |s, actor, _| {
            let whose = (actor.role != Role::HrAdmin).then(|| actor.username.clone());
            let rows = s
                .store
                .read(|tx| tx.people().api_tokens(whose.as_deref()))?;
            Ok(rows.into_iter().map(TokenView::of).collect::<Vec<_>>())
        },
    )
    .await?;
    Ok(json(&serde_json::json!({
        "tokens": tokens,
        "server_time_ms": crate::clock::now_ms(),
    })))
}
