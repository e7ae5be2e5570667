//! Sign-in, who-am-I, sign-out, and API tokens.

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::admin_api::auth::{self, blocking, call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::query;
use crate::api::{AppState, PeerAddr};
use crate::audit::{self, AuditEntry};
use crate::clock::now_ms;
use crate::limits::rate::{self, Bucket};
use crate::staff::actor::Via;
use crate::staff::signin::{self, Refusal};
use crate::staff::{Permission, session, token, totp};
use crate::store::StoreExt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    /// The authenticator app's current 6-digit code.
    pub totp: String,
    /// Enrolling an authenticator (first sign-in, or after a TOTP reset):
    /// the base32 secret the server offered, with `totp` a code from it.
    #[serde(default)]
    pub totp_secret: Option<String>,
}

fn me(actor: &crate::staff::Actor, csrf: Option<&str>, expires: Option<i64>) -> serde_json::Value {
    serde_json::json!({
        "username": actor.username,
        "role": actor.role,
        "team": actor.team(),
        "csrf_token": csrf,
        "expires_at_ms": expires,
        "permissions": crate::staff::Permission::ALL
            .iter()
            .copied()
            .filter(|p| actor.allows(*p))
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
        "server_time_ms": now_ms(),
    })
}

/// `POST /admin/v1/session`: password + TOTP → session cookie and CSRF token.
/// Every attempt counts against the client address's rate limit first,
/// malformed ones too, before any password is hashed.
pub async fn sign_in(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let ip = peer.map_or_else(
        || "unknown".to_string(),
        |Extension(PeerAddr(a))| a.ip().to_string(),
    );
    let client = ip.clone();
    let limited = blocking(&state, move |s| {
        let now = now_ms();
        Ok(s.store
            .write(|tx| rate::hit(tx, &s.limits, &[(Bucket::StaffSignInIp, ip.as_str())], now))?)
    })
    .await?;
    if let Some(limited) = limited {
        tracing::warn!(bucket = ?limited.bucket, "staff sign-in rate limited");
        return Err(AdminError::rate_limited(limited));
    }
    let req: SignInRequest = query::body(&body)?;
    let enrol_secret = match req.totp_secret.as_deref() {
        Some(text) => Some(
            totp::secret_from_base32(text)
                .map_err(|_| AdminError::bad_request("totp_secret is not a base32 secret"))?,
        ),
        None => None,
    };
    // Argon2 takes 19 MiB a hash: a bounded number at once, the rest queue
    // (within the request deadline).
    let hashing = state
        .hashing
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AdminError::internal())?;
    let username_for_uri = req.username.clone();
    let outcome = blocking(&state, move |s| {
        let _hashing = hashing;
        let now = now_ms();
        let outcome = signin::sign_in(
            s.store.as_ref(),
            &s.limits,
            &signin::Attempt {
                client: &client,
                username: &req.username,
                password: &req.password,
                code: &req.totp,
                enrol_secret: enrol_secret.as_deref(),
            },
            now,
        )?;
        let role = outcome
            .as_ref()
            .map(|ok| ok.staff.role.clone())
            .unwrap_or_default();
        // Sign-ins are actions by a person too: both outcomes are kept.
        s.store.write(|tx| {
            audit::append(
                tx,
                &AuditEntry {
                    actor: req.username.chars().take(64).collect(),
                    role: role.clone(),
                    action: if outcome.is_ok() {
                        "session.sign_in"
                    } else {
                        "session.sign_in_refused"
                    }
                    .into(),
                    target: format!(
                        "staff:{}",
                        req.username.chars().take(64).collect::<String>()
                    ),
                    reason: String::new(),
                    detail: match &outcome {
                        Err(Refusal::Locked { until_ms }) => {
                            serde_json::json!({"locked_until_ms": until_ms})
                        }
                        _ => serde_json::json!({}),
                    },
                },
                now,
            )
        })?;
        Ok(outcome)
    })
    .await?;
    match outcome {
        Ok(ok) => {
            let actor = crate::staff::Actor::from_staff(
                &ok.staff,
                Via::Session {
                    csrf_token: ok.session.csrf_token.clone(),
                },
            )
            .ok_or_else(AdminError::unauthenticated)?;
            let mut resp = json(&me(
                &actor,
                Some(&ok.session.csrf_token),
                Some(ok.session.expires_at_ms),
            ));
            let cookie = session::set_cookie(&ok.session_id, session::TTL_MS / 1000);
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(|_| AdminError::internal())?,
            );
            Ok(resp)
        }
        Err(Refusal::EnrolTotp { secret }) => {
            let username = username_for_uri;
            // One time in body and header (the contract's rule).
            let now = now_ms();
            let body = serde_json::json!({
                "error": "totp_enrolment_required",
                "message": "add this secret to an authenticator app, then sign in again with it and a code from it",
                "totp_secret": totp::secret_base32(&secret).map_err(|_| AdminError::internal())?,
                "otpauth_uri": totp::otpauth_uri(&secret, crate::staff::account::TOTP_ISSUER, &username)
                    .map_err(|_| AdminError::internal())?,
                "server_time_ms": now,
            });
            let mut resp = (StatusCode::CONFLICT, axum::Json(body)).into_response();
            resp.headers_mut().insert(
                punch_model::wire::HEADER_SERVER_TIME,
                HeaderValue::from(now),
            );
            Ok(resp)
        }
        Err(Refusal::BadCredentials) => Err(AdminError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "username, password or code is wrong",
        )),
        Err(Refusal::Locked { until_ms }) => Err(AdminError {
            // Rounded up: never tell a client to come back too early.
            retry_after_s: Some(
                u64::try_from(until_ms.saturating_sub(now_ms()))
                    .unwrap_or(0)
                    .div_ceil(1000)
                    .max(1),
            ),
            ..AdminError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                // The same words for an address throttled on an account
                // and for a locked account, whether the username exists or not.
                "too many failed sign-ins; retry later",
            )
        }),
    }
}

/// `GET /admin/v1/session`: the signed-in person, their rights and CSRF token.
pub async fn whoami(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let actor = blocking(&state, move |s| {
        auth::authenticate(s.store.as_ref(), &headers, &Method::GET, now_ms())
    })
    .await?;
    let csrf = match &actor.via {
        Via::Session { csrf_token } => Some(csrf_token.clone()),
        Via::Token { .. } => None,
    };
    Ok(json(&me(&actor, csrf.as_deref(), None)))
}

/// `POST /admin/v1/session/end`: signs out (the session row is deleted).
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    blocking(&state, move |s| {
        let now = now_ms();
        let actor = auth::authenticate(s.store.as_ref(), &headers, &Method::POST, now)?;
        if let Some(cookie) = session::cookie_value(&headers) {
            s.store.write(|tx| session::end(tx, &cookie))?;
        }
        Ok(actor)
    })
    .await?;
    let mut resp = (
        StatusCode::OK,
        axum::Json(serde_json::json!({"signed_out": true, "server_time_ms": now_ms()})),
    )
        .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::set_cookie("", 0)).map_err(|_| AdminError::internal())?,
    );
    resp.headers_mut().insert(
        punch_model::wire::HEADER_SERVER_TIME,
        HeaderValue::from(now_ms()),
    );
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub name: String,
    pub scopes: Vec<Permission>,
    pub ttl_days: u32,
}

/// `POST /admin/v1/tokens`: an API token acting for the caller, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AdminError> {
    let created = call(&state, headers, method, Permission::CreateTokens, move |s, actor, now| {
        let req: TokenRequest = query::body(&body)?;
        // A token never mints tokens: its holder is a program, not the person.
        if matches!(actor.via, Via::Token { .. }) {
            return Err(AdminError::forbidden("creating tokens with a token"));
        }
        let name = query::text(&req.name, "name", true)?;
        Ok(s.store.write(|tx| {
            let owner = tx
                .people()
                .staff(&actor.username)?
                .ok_or_else(|| crate::error::ServerError::Invalid("account vanished".into()))?;
            let created = token::create(tx, &owner, &name, &req.scopes, req.ttl_days, now)?;
            audit::append(
                tx,
                &AuditEntry {
                    actor: actor.label(),
                    role: actor.role.as_str().into(),
                    action: "token.create".into(),
                    target: format!("token:{}", created.token_id),
                    reason: name.clone(),
                    detail: serde_json::json!({"scopes": created.scopes, "expires_at_ms": created.expires_at_ms}),
                },
                now,
            )?;
            Ok(created)
        })?)
    })
    .await?;
    Ok(json(&serde_json::json!({
        "token_id": created.token_id,
        "token": created.token,
        "scopes": created.scopes,
        "expires_at_ms": created.expires_at_ms,
        "server_time_ms": now_ms(),
    })))
}
