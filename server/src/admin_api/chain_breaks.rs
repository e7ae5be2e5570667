//! Devices whose chain broke (records refused as evidence) and HR's way
//! out: acknowledging the break with a reason, after which the device is
//! told on its next sync to start a new chain segment anchored to the
//! head the server had accepted. The refused records stay as evidence.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::{Reasoned, audit, check_team_filter, teams};
use crate::admin_api::query::{self, Paging};
use crate::api::AppState;
use crate::staff::Permission;
use crate::store::StoreExt;
use crate::store::people::ChainAckRow;

/// One refused record, without its bytes (they stay in the evidence table).
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub seq: u64,
    pub reason: String,
    pub detail: String,
    pub hash: String,
    pub attempts: u64,
    pub first_received_at_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainBreak {
    pub device_id: String,
    pub employee_id: Option<String>,
    pub team: Option<String>,
    /// The head the server accepted: a new segment would anchor here.
    pub head_seq: u64,
    pub head_hash: String,
    pub refused: Vec<Refused>,
    pub acknowledged: Option<ChainAckRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BreakFilter {
    pub team: Option<String>,
}

/// `GET /admin/v1/chain-breaks`: devices with refused records.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<BreakFilter>,
    Query(paging): Query<Paging>,
) -> Result<Response, AdminError> {
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewChainBreaks,
        move |s, actor, now| {
            check_team_filter(actor, f.team.as_deref())?;
            let all = s.store.read(|tx| {
                let teams = teams(tx)?;
                let mut by_device: BTreeMap<String, ChainBreak> = BTreeMap::new();
                for r in tx.rejected()? {
                    let entry = match by_device.get_mut(&r.device_id) {
                        Some(e) => e,
                        None => {
                            let device = tx.device(&r.device_id)?;
                            let employee_id = device.as_ref().map(|d| d.employee_id.clone());
                            let team = employee_id
                                .as_ref()
                                .and_then(|e| teams.get(e).cloned().flatten());
                            let b = ChainBreak {
                                device_id: r.device_id.clone(),
                                employee_id,
                                team,
                                head_seq: device.as_ref().map_or(0, |d| d.head_seq),
                                head_hash: device.map(|d| d.head_hash).unwrap_or_default(),
                                refused: Vec::new(),
                                acknowledged: tx.people().latest_chain_ack(&r.device_id)?,
                            };
                            by_device.entry(r.device_id.clone()).or_insert(b)
                        }
                    };
                    entry.refused.push(Refused {
                        seq: r.seq,
                        reason: r.reason,
                        detail: r.detail,
                        hash: r.hash,
                        attempts: r.attempts,
                        first_received_at_ms: r.first_received_at_ms,
                    });
                }
                Ok(by_device.into_values().collect::<Vec<_>>())
            })?;
            let all: Vec<ChainBreak> = all
                .into_iter()
                .filter(|b| actor.sees_team(b.team.as_deref()))
                .filter(|b| f.team.is_none() || b.team == f.team)
                .collect();
            Ok(paging.page(all, now))
        },
    )
    .await?;
    Ok(json(&page))
}

/// `POST /admin/v1/devices/{device_id}/acknowledge-break`.
pub async fn acknowledge(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(device_id): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let ack = call(
        &state,
        headers,
        method,
        Permission::AcknowledgeChainBreak,
        move |s, actor, now| {
            let req: Reasoned = query::body(&body)?;
            let reason = query::text(&req.reason, "reason", true)?;
            s.store.write(|tx| {
                let Some(device) = tx.device(&device_id)? else {
                    return Ok(Err(AdminError::not_found("no such device")));
                };
                let team = teams(tx)?.get(&device.employee_id).cloned().flatten();
                if !actor.sees_team(team.as_deref()) {
                    return Ok(Err(AdminError::not_your_team()));
                }
                let (ack, refused) =
                    crate::chain_reset::acknowledge(tx, &device, &actor.label(), &reason, now)?;
                audit(
                    tx,
                    actor,
                    "chain.acknowledge_break",
                    format!("device:{device_id}"),
                    &reason,
                    serde_json::json!({
                        "employee_id": device.employee_id,
                        "head_seq": device.head_seq,
                        "head_hash": device.head_hash,
                        "refused_records": refused,
                    }),
                    now,
                )?;
                Ok(Ok(ack))
            })?
        },
    )
    .await?;
    Ok(json(&ack))
}
