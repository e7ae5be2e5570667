//! Who is asking, and may they: a Bearer API token, or the session cookie
//! (whose state changes must carry the session's CSRF token). Runs on the
//! blocking pool with the store; [`call`] wraps every permission-checked route.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use punch_model::wire::HEADER_SERVER_TIME;
use serde::Serialize;

use crate::admin_api::error::AdminError;
use crate::api::AppState;
use crate::clock::now_ms;
use crate::staff::actor::Via;
use crate::staff::{Actor, Permission, secret, session, token};
use crate::store::{ServerStore, StoreExt};

/// The actor behind a request's credentials.
pub fn authenticate(
    store: &dyn ServerStore,
    headers: &HeaderMap,
    method: &Method,
    now: i64,
) -> Result<Actor, AdminError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(bearer) = bearer {
        let found = store.read(|tx| {
            let Some((row, scopes)) = token::lookup(tx, bearer.trim(), now)? else {
                return Ok(None);
            };
            Ok(tx.people().staff(&row.username)?.map(|s| (s, row, scopes)))
        })?;
        let (staff, row, scopes) = found.ok_or_else(AdminError::unauthenticated)?;
        return Actor::from_staff(
            &staff,
            Via::Token {
                token_id: row.token_id,
                scopes,
            },
        )
        .ok_or_else(AdminError::unauthenticated);
    }
    let cookie = session::cookie_value(headers).ok_or_else(AdminError::unauthenticated)?;
    let found = store.read(|tx| {
        let Some(s) = session::lookup(tx, &cookie, now)? else {
            return Ok(None);
        };
        Ok(tx.people().staff(&s.username)?.map(|staff| (staff, s)))
    })?;
    let (staff, s) = found.ok_or_else(AdminError::unauthenticated)?;
    if !matches!(*method, Method::GET | Method::HEAD) {
        let sent = headers
            .get(session::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !secret::same(sent, &s.csrf_token) {
            return Err(AdminError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                format!("send the session's CSRF token in {}", session::CSRF_HEADER),
            ));
        }
    }
    Actor::from_staff(
        &staff,
        Via::Session {
            csrf_token: s.csrf_token,
        },
    )
    .ok_or_else(AdminError::unauthenticated)
}

/// Runs store work on the blocking pool, a bounded number at once.
pub async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&AppState) -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    let state = state.clone();
    let permit = state.work.clone().acquire_owned().await.map_err(|_| {
        AdminError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "server is shutting down",
        )
    })?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(&state)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "admin task failed");
        AdminError::internal()
    })?
}

/// Authenticates, checks `permission`, then runs `work` with the actor.
pub async fn call<T: Send + 'static>(
    state: &AppState,
    headers: HeaderMap,
    method: Method,
    permission: Permission,
    work: impl FnOnce(&AppState, &Actor, i64) -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    blocking(state, move |s| {
        let now = now_ms();
        let actor = authenticate(s.store.as_ref(), &headers, &method, now)?;
        if !actor.allows(permission) {
            tracing::info!(actor = %actor.label(), ?permission, "admin request forbidden");
            return Err(AdminError::forbidden(permission.as_str()));
        }
        // A team-scoped actor hears the same for what does not exist as for
        // what belongs to another team: 404 against 403 would tell a
        // manager which employees, punches and requests exist elsewhere.
        let scoped = actor.team().is_some();
        work(s, &actor, now).map_err(|e| {
            if scoped && e.code == "not_found" {
                AdminError::not_your_team()
            } else {
                e
            }
        })
    })
    .await
}

/// A 200 JSON answer with the server-time header (and no caching: these
/// answers are personal data).
pub fn json<T: Serialize>(body: &T) -> Response {
    let mut resp = axum::Json(body).into_response();
    let headers = resp.headers_mut();
    headers.insert(HEADER_SERVER_TIME, HeaderValue::from(now_ms()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
