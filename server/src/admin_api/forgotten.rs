//! `GET /admin/v1/forgotten-clock-outs`: the reviewer's queue of forgotten
//! clock-outs (`crate::forgotten`), oldest occurrence first, each with the
//! clock-in that opened it, the server-made clock-out where the policy
//! closed it (marked `server_made`), the late clock-out that superseded
//! it, and the employee's answers: make-up clock-outs inside its window.
//! A manager sees their own team's only.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use punch_model::ledger::event::ChainEvent;
use punch_model::rules::forgotten::ForgottenClockOut;
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::check_team_filter;
use crate::api::AppState;
use crate::forgotten::SERVER_MADE;
use crate::requests;
use crate::staff::Permission;
use crate::store::forgotten::{ForgottenFilter, ForgottenRow};
use crate::store::{EventFilter, StoreExt, StoreTx};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub struct ForgottenQuery {
    pub team: Option<String>,
    pub employee: Option<String>,
    /// Occurrences starting at or after / before (UTC ms).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: Option<usize>,
}

/// The server-made clock-out, never a signed punch.
#[derive(Debug, Clone, Serialize)]
pub struct ServerMadeEntry {
    pub kind: &'static str,
    pub at_ms: i64,
    /// Always `server_made`.
    pub made_by: &'static str,
}

/// An employee's make-up request answering the occurrence.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub event_id: String,
    pub intended_time_ms: i64,
    pub reason: String,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForgottenView {
    pub employee_id: String,
    #[serde(flatten)]
    pub notice: ForgottenClockOut,
    pub policy_version: u64,
    pub server_made_entry: Option<ServerMadeEntry>,
    pub answers: Vec<Answer>,
}

fn answers(tx: &dyn StoreTx, row: &ForgottenRow) -> crate::error::Result<Vec<Answer>> {
    let notice = &row.notice;
    Ok(tx
        .events()
        .list(&EventFilter {
            employee_id: Some(&row.employee_id),
            event_type: Some(requests::MAKE_UP),
            ..EventFilter::default()
        })?
        .into_iter()
        .filter_map(|e| match requests::parse(&e) {
            Some(ChainEvent::MakeUpRequest(r))
                if notice.answered_by(r.kind, r.intended_time_ms) =>
            {
                Some(Answer {
                    event_id: e.event_id,
                    intended_time_ms: r.intended_time_ms,
                    reason: r.reason,
                    status: e.status,
                })
            }
            _ => None,
        })
        .collect())
}

pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(q): Query<ForgottenQuery>,
) -> Result<Response, AdminError> {
    let items = call(
        &state,
        headers,
        method,
        Permission::ViewPunches,
        move |s, actor, now| {
            check_team_filter(actor, q.team.as_deref())?;
            let team = q.team.clone().or_else(|| actor.team().map(str::to_string));
            if actor.team() == Some("") {
                return Ok((Vec::new(), now));
            }
            let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
            let views = s.store.read(|tx| {
                let rows = tx.forgotten().forgotten_list(
                    &ForgottenFilter {
                        team: team.as_deref(),
                        employee: q.employee.as_deref(),
                        from_ms: q.from_ms,
                        to_ms: q.to_ms,
                    },
                    limit,
                )?;
                rows.into_iter()
                    .map(|row| {
                        Ok(ForgottenView {
                            answers: answers(tx, &row)?,
                            server_made_entry: row.notice.server_clock_out_ms.map(|at_ms| {
                                ServerMadeEntry {
                                    kind: "clock_out",
                                    at_ms,
                                    made_by: SERVER_MADE,
                                }
                            }),
                            employee_id: row.employee_id,
                            policy_version: row.policy_version,
                            notice: row.notice,
                        })
                    })
                    .collect::<crate::error::Result<Vec<_>>>()
            })?;
            Ok((views, now))
        },
    )
    .await?;
    Ok(json(
        &serde_json::json!({"items": items.0, "server_time_ms": items.1}),
    ))
}
