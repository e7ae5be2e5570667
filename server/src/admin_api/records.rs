//! The audit log (read and verified by auditors and HR) and policy
//! publishing (an audited act).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::Deserialize;

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::audit;
use crate::admin_api::query;
use crate::api::AppState;
use crate::staff::Permission;
use crate::store::StoreExt;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// Rows after this seq (0: from the start).
    pub after: Option<u64>,
    pub limit: Option<u32>,
}

/// `GET /admin/v1/audit`: oldest first, keyset-paged by seq.
pub async fn audit_list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AdminError> {
    let body = call(
        &state,
        headers,
        method,
        Permission::ViewAudit,
        move |s, _actor, now| {
            let limit = q.limit.unwrap_or(100).clamp(1, 1000);
            let rows = s
                .store
                .read(|tx| tx.people().audit_rows(q.after.unwrap_or(0), limit))?;
            let next_after = (rows.len() == limit as usize)
                .then(|| rows.last().map(|r| r.seq))
                .flatten();
            Ok(serde_json::json!({"items": rows, "next_after": next_after, "server_time_ms": now}))
        },
    )
    .await?;
    Ok(json(&body))
}

/// `GET /admin/v1/audit/verify`: recomputes the chain; the first break, if any.
pub async fn verify(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let body = call(
        &state,
        headers,
        method,
        Permission::ViewAudit,
        move |s, _actor, now| {
            let v = s.store.read(|tx| crate::audit::verify(tx))?;
            Ok(serde_json::json!({
                "rows": v.rows, "head_seq": v.head_seq, "head_hash": v.head_hash,
                "broken": v.broken, "server_time_ms": now,
            }))
        },
    )
    .await?;
    Ok(json(&body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Days until the version expires on devices.
    pub ttl_days: u32,
    pub reason: String,
}

/// `POST /admin/v1/policy/publish`: sites, settings and shifts as the next version.
pub async fn publish(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AdminError> {
    let version = call(
        &state,
        headers,
        method,
        Permission::PublishPolicy,
        move |s, actor, now| {
            let req: PublishRequest = query::body(&body)?;
            if req.ttl_days == 0 || req.ttl_days > 3650 {
                return Err(AdminError::bad_request("ttl_days is 1 to 3650"));
            }
            let reason = query::text(&req.reason, "reason", true)?;
            let ttl = Duration::from_secs(u64::from(req.ttl_days) * 86_400);
            Ok(s.store.write(|tx| {
                let version = crate::policy_publish::publish(tx, ttl, now)?;
                audit(
                    tx,
                    actor,
                    "policy.publish",
                    format!("policy:{version}"),
                    &reason,
                    serde_json::json!({"ttl_days": req.ttl_days}),
                    now,
                )?;
                Ok(version)
            })?)
        },
    )
    .await?;
    Ok(json(
        &serde_json::json!({"version": version, "server_time_ms": crate::clock::now_ms()}),
    ))
}
