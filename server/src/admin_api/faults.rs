//! Fault reports for the people who look after terminals (`crate::faults`):
//! the faults devices recorded or employees reported, and the terminals
//! silent for longer than the policy allows, by team. A manager sees
//! their own team's only (kiosks belong to no team: admins see them).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::check_team_filter;
use crate::admin_api::query::{CursorPage, CursorPaging};
use crate::api::AppState;
use crate::faults;
use crate::staff::Permission;
use crate::staff::actor::Actor;
use crate::store::request_page::{EventKinds, RequestCursor, RequestQuery};
use crate::store::{StoreExt, StoredEvent};

#[derive(Debug, Default, Deserialize)]
pub struct FaultFilter {
    pub team: Option<String>,
    pub employee: Option<String>,
}

/// A fault event with its team and what it says (kind, source, text, files).
#[derive(Debug, Clone, Serialize)]
pub struct FaultView {
    #[serde(flatten)]
    pub event: StoredEvent,
    pub team: Option<String>,
    pub fault: Option<serde_json::Value>,
}

impl FaultView {
    pub fn of(event: StoredEvent, team: Option<String>) -> FaultView {
        let fault = serde_json::from_str::<serde_json::Value>(&event.body)
            .ok()
            .map(|mut v| {
                // The body is the tagged event: the tag says nothing here.
                if let Some(o) = v.as_object_mut() {
                    o.remove("type");
                }
                v
            });
        FaultView { event, team, fault }
    }
}

/// The team a list is cut to: the one asked for (a manager's own only),
/// else a manager's own; None: every team. Some(None): nothing to list (a
/// manager with no team).
fn scope(actor: &Actor, asked: Option<String>) -> Result<Option<Option<String>>, AdminError> {
    check_team_filter(actor, asked.as_deref())?;
    if actor.team() == Some("") {
        return Ok(None);
    }
    Ok(Some(asked.or_else(|| actor.team().map(str::to_string))))
}

/// `GET /admin/v1/faults`: oldest first, one keyset page read in SQL.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<FaultFilter>,
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
            let rows = match scope(actor, f.team)? {
                None => Vec::new(),
                Some(team) => s.store.read(|tx| {
                    tx.events().request_page(&RequestQuery {
                        kinds: EventKinds::Faults,
                        team: team.clone(),
                        employee: f.employee.clone(),
                        after: after.clone(),
                        limit: limit + 1,
                        ..RequestQuery::default()
                    })
                })?,
            };
            Ok(CursorPage::of(
                rows,
                limit,
                |r| RequestCursor::of(&r.event).encode(),
                |r| {
                    actor
                        .sees_team(r.team.as_deref())
                        .then(|| FaultView::of(r.event, r.team))
                },
                now,
            ))
        },
    )
    .await?;
    Ok(json(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct SilentFilter {
    pub team: Option<String>,
}

/// `GET /admin/v1/faults/silent`: bound terminals not heard from for
/// longer than the policy's `settings.faults` allows, by device id.
pub async fn silent(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<SilentFilter>,
    Query(paging): Query<CursorPaging>,
) -> Result<Response, AdminError> {
    let after = paging.cursor(|c| Some(c.to_string()))?;
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewDevices,
        move |s, actor, now| {
            let limit = paging.limit();
            let rows = match scope(actor, f.team)? {
                None => Vec::new(),
                Some(team) => s
                    .store
                    .read(|tx| faults::silent(tx, team.clone(), after.clone(), limit + 1, now))?,
            };
            Ok(CursorPage::of(
                rows,
                limit,
                |r| r.terminal.device_id.clone(),
                |r| actor.sees_team(r.terminal.team.as_deref()).then_some(r),
                now,
            ))
        },
    )
    .await?;
    Ok(json(&page))
}
