//! Browser sessions: a random id in a `Secure; HttpOnly; SameSite=Strict`
//! cookie (the database keeps its SHA-256), and a CSRF token the page sends
//! back in `x-csrf-token` on every state change (a cross-site form cannot
//! read it, and SameSite already keeps the cookie off cross-site requests).

use axum::http::HeaderMap;
use axum::http::header;
use cookie::{Cookie, SameSite};

use crate::error::Result;
use crate::staff::secret;
use crate::store::StoreTx;
use crate::store::people::SessionRow;

pub const COOKIE: &str = "punch_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A working day; then sign in again.
pub const TTL_MS: i64 = 8 * 3600 * 1000;

/// A new session; returns the cookie value (never stored) and the row.
pub fn create(tx: &dyn StoreTx, username: &str, now_ms: i64) -> Result<(String, SessionRow)> {
    let id = secret::random_token()?;
    let row = SessionRow {
        id_hash: secret::hash(&id),
        username: username.to_string(),
        csrf_token: secret::random_token()?,
        created_at_ms: now_ms,
        expires_at_ms: now_ms + TTL_MS,
    };
    tx.people().insert_session(&row)?;
    Ok((id, row))
}

/// The live session a cookie value names.
pub fn lookup(tx: &dyn StoreTx, cookie_value: &str, now_ms: i64) -> Result<Option<SessionRow>> {
    Ok(tx
        .people()
        .session(&secret::hash(cookie_value))?
        .filter(|s| s.expires_at_ms > now_ms))
}

pub fn end(tx: &dyn StoreTx, cookie_value: &str) -> Result<()> {
    tx.people().delete_session(&secret::hash(cookie_value))
}

/// `Set-Cookie` for a session (or, with an empty value and 0, its removal).
/// Path `/` because the page and the API both need it; `Secure` holds on
/// http://127.0.0.1 too, which browsers count as a secure context.
pub fn set_cookie(value: &str, max_age_s: i64) -> String {
    Cookie::build((COOKIE, value))
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_s))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .build()
        .to_string()
}

/// The session cookie's value in a request, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(|cookie| cookie.ok())
        .find(|cookie| cookie.name() == COOKIE)
        .map(|cookie| cookie.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}
