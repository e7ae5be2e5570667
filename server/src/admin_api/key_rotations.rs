//! Punch-key rotations waiting for HR (`crate::key_rotation`): the list,
//! and approve / deny with a comment (audited). Deciding one is deciding
//! which key may sign an employee's punches, so it needs the same
//! permission as approving a replacement device.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::audit;
use crate::admin_api::query::{self, CursorPage, CursorPaging};
use crate::admin_api::requests::{Decision, DecisionRequest};
use crate::api::AppState;
use crate::error::ServerError;
use crate::key_rotation;
use crate::staff::Permission;
use crate::store::request_page::{EventKinds, RequestCursor, RequestQuery};
use crate::store::{StoreExt, StoredEvent};

/// `GET /admin/v1/key-rotations`: pending rotations, oldest first, one
/// keyset page read in SQL (a manager's team's only).
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(paging): Query<CursorPaging>,
) -> Result<Response, AdminError> {
    let after = paging.cursor(RequestCursor::decode)?;
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewDevices,
        move |s, actor, now| {
            let limit = paging.limit();
            let query = RequestQuery {
                kinds: EventKinds::KeyRotations,
                team: actor.team().map(str::to_string),
                status: Some(key_rotation::PENDING.to_string()),
                after,
                // One more than asked: whether a next page exists.
                limit: limit + 1,
                ..RequestQuery::default()
            };
            let mut rows = if actor.team() == Some("") {
                Vec::new()
            } else {
                s.store.read(|tx| tx.events().request_page(&query))?
            };
            let more = rows.len() > limit;
            rows.truncate(limit);
            let next_cursor = more
                .then(|| rows.last())
                .flatten()
                .map(|r| RequestCursor::of(&r.event).encode());
            let items: Vec<StoredEvent> = rows
                .into_iter()
                .filter(|r| actor.sees_team(r.team.as_deref()))
                .map(|r| r.event)
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

/// `POST /admin/v1/key-rotations/{event_id}/decision`: a denial needs a comment.
pub async fn decide(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(event_id): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let decided = call(
        &state,
        headers,
        method,
        Permission::ApproveRebind,
        move |s, actor, now| {
            let req: DecisionRequest = query::body(&body)?;
            let comment = query::text(&req.comment, "comment", req.decision == Decision::Deny)?;
            s.store.write(|tx| {
                let event = match key_rotation::find(tx, &event_id) {
                    Ok(event) => event,
                    Err(ServerError::NotFound(_)) => {
                        return Ok(Err(AdminError::not_found("no such key rotation")));
                    }
                    Err(e) => return Err(e),
                };
                let team = tx.people().team_of(&event.employee_id)?;
                if !actor.sees_team(team.as_deref()) {
                    return Ok(Err(AdminError::not_your_team()));
                }
                let approve = req.decision == Decision::Approve;
                let decided =
                    key_rotation::decide(tx, &event_id, approve, &actor.label(), &comment, now)?;
                audit(
                    tx,
                    actor,
                    if approve {
                        "device.key_rotation_approve"
                    } else {
                        "device.key_rotation_deny"
                    },
                    format!("device:{}", event.device_id),
                    &comment,
                    serde_json::json!({"employee_id": event.employee_id, "seq": event.seq}),
                    now,
                )?;
                Ok(Ok(decided))
            })?
        },
    )
    .await?;
    Ok(json(&decided))
}
