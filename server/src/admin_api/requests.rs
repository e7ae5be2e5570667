//! Make-up (补卡) and field-work (外勤) requests for the people who decide
//! them: a filtered list, and approve / deny with a comment (audited). A
//! manager sees and decides their own team's only.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::faults::FaultView;
use crate::admin_api::people::{audit, check_team_filter};
use crate::admin_api::query::{self, CursorPage, CursorPaging};
use crate::api::AppState;
use crate::requests;
use crate::staff::Permission;
use crate::store::request_page::{EventKinds, RequestCursor, RequestQuery};
use crate::store::{StoreExt, StoredEvent};

#[derive(Debug, Default, Deserialize)]
pub struct RequestFilter {
    /// pending, approved, denied, refused.
    pub status: Option<String>,
    pub team: Option<String>,
    pub employee: Option<String>,
}

/// A request with its team and its content (kind, times, reason, files).
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub event: StoredEvent,
    pub team: Option<String>,
    pub request: Option<serde_json::Value>,
    /// The fault event a make-up request cites, beside it for the reviewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cited_fault: Option<FaultView>,
}

/// `GET /admin/v1/requests`: oldest first, one page read in SQL.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<RequestFilter>,
    Query(paging): Query<CursorPaging>,
) -> Result<Response, AdminError> {
    let after = paging.cursor(RequestCursor::decode)?;
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewRequests,
        move |s, actor, now| {
            check_team_filter(actor, f.team.as_deref())?;
            // A manager sees their team's only; one with no team, nothing.
            let team = f.team.or_else(|| actor.team().map(str::to_string));
            let limit = paging.limit();
            let query = RequestQuery {
                kinds: EventKinds::Requests,
                team,
                employee: f.employee,
                status: f.status,
                after,
                // One more than asked: whether a next page exists.
                limit: limit + 1,
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
            let cited = s.store.read(|tx| {
                rows.iter()
                    .map(|r| crate::faults::cited_by(tx, &r.event))
                    .collect::<crate::error::Result<Vec<_>>>()
            })?;
            let items: Vec<RequestView> = rows
                .into_iter()
                .zip(cited)
                .map(|(r, cited)| RequestView {
                    cited_fault: cited.map(|f| FaultView::of(f, r.team.clone())),
                    team: r.team,
                    request: serde_json::from_str(&r.event.body).ok(),
                    event: r.event,
                })
                .filter(|v| actor.sees_team(v.team.as_deref()))
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Deny,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
    #[serde(default)]
    pub comment: String,
    /// Only where an older database holds several requests with this id:
    /// the device and seq of the one decided.
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub seq: Option<u64>,
}

/// `POST /admin/v1/requests/{event_id}/decision`: a denial needs a comment.
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
        Permission::DecideRequests,
        move |s, actor, now| {
            let req: DecisionRequest = query::body(&body)?;
            let comment = query::text(&req.comment, "comment", req.decision == Decision::Deny)?;
            s.store.write(|tx| {
                let at = match (&req.device_id, req.seq) {
                    (Some(device), Some(seq)) => Some((device.as_str(), seq)),
                    (None, None) => None,
                    _ => {
                        return Ok(Err(AdminError::bad_request(
                            "device_id and seq go together",
                        )));
                    }
                };
                let event = requests::find(
                    tx,
                    requests::RequestRef {
                        event_id: &event_id,
                        at,
                    },
                )?;
                let team = tx.people().team_of(&event.employee_id)?;
                if !actor.sees_team(team.as_deref()) {
                    return Ok(Err(AdminError::not_your_team()));
                }
                let approve = req.decision == Decision::Approve;
                let decided = requests::decide(tx, &event, approve, &actor.label(), &comment, now)?;
                // The audit names the row that changed, not just the id.
                audit(
                    tx,
                    actor,
                    if approve {
                        "request.approve"
                    } else {
                        "request.deny"
                    },
                    format!("request:{event_id}"),
                    &comment,
                    serde_json::json!({
                        "employee_id": event.employee_id,
                        "type": event.event_type,
                        "device_id": event.device_id,
                        "seq": event.seq,
                        "team": team,
                    }),
                    now,
                )?;
                Ok(Ok(decided))
            })?
        },
    )
    .await?;
    Ok(json(&decided))
}
