//! Devices whose chain broke (records refused as evidence) and HR's way
//! out: acknowledging the break with a reason, after which the device is
//! told on its next sync to start a new chain segment anchored to the
//! head the server had accepted. The refused records stay as evidence.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::{audit, check_team_filter};
use crate::admin_api::query::{self, CursorPage, CursorPaging};
use crate::api::AppState;
use crate::staff::Permission;
use crate::store::people::ChainAckRow;
use crate::store::{RefusedRow, StoreExt};

#[derive(Debug, Clone, Serialize)]
pub struct ChainBreak {
    pub device_id: String,
    pub employee_id: Option<String>,
    pub team: Option<String>,
    /// The head the server accepted: a new segment would anchor here.
    pub head_seq: u64,
    pub head_hash: String,
    /// Without their bytes (they stay in the evidence table).
    pub refused: Vec<RefusedRow>,
    pub acknowledged: Option<ChainAckRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BreakFilter {
    pub team: Option<String>,
}

/// Refused records listed per device (the break starts at the first; a
/// device refused more is shown its first ones).
const REFUSED_PER_DEVICE: usize = 100;

/// `GET /admin/v1/chain-breaks`: devices with refused records, one keyset
/// page by device id read in SQL, without the refused bytes.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<BreakFilter>,
    Query(paging): Query<CursorPaging>,
) -> Result<Response, AdminError> {
    let after = paging.cursor(|c| Some(c.to_string()))?;
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewChainBreaks,
        move |s, actor, now| {
            check_team_filter(actor, f.team.as_deref())?;
            let team = f.team.or_else(|| actor.team().map(str::to_string));
            let limit = paging.limit();
            let (breaks, more) = s.store.read(|tx| {
                let mut devices = if actor.team() == Some("") {
                    Vec::new()
                } else {
                    tx.refusals()
                        .refused_devices(after.as_deref(), team.as_deref(), limit + 1)?
                };
                let more = devices.len() > limit;
                devices.truncate(limit);
                let mut breaks = Vec::with_capacity(devices.len());
                for device_id in devices {
                    let device = tx.devices().device(&device_id)?;
                    let employee_id = device.as_ref().map(|d| d.employee_id.clone());
                    let team = match &employee_id {
                        Some(e) => tx.people().team_of(e)?,
                        None => None,
                    };
                    let refused = tx.refusals().refused_of(&device_id, REFUSED_PER_DEVICE)?;
                    breaks.push(ChainBreak {
                        acknowledged: tx.people().latest_chain_ack(&device_id)?,
                        device_id,
                        employee_id,
                        team,
                        head_seq: device.as_ref().map_or(0, |d| d.head_seq),
                        head_hash: device.map(|d| d.head_hash).unwrap_or_default(),
                        refused,
                    });
                }
                Ok((breaks, more))
            })?;
            let next_cursor = more
                .then(|| breaks.last().map(|b| b.device_id.clone()))
                .flatten();
            let items: Vec<ChainBreak> = breaks
                .into_iter()
                .filter(|b| actor.sees_team(b.team.as_deref()))
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
            let reason = query::reason(&body)?;
            s.store.write(|tx| {
                let Some(device) = tx.devices().device(&device_id)? else {
                    return Ok(Err(AdminError::not_found("no such device")));
                };
                let team = tx.people().team_of(&device.employee_id)?;
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
