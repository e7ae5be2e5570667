//! Every request, on every route, before and around its handler: a body
//! declared larger than the route takes is refused before a byte of it is
//! read, and the whole request (body and answer) has a deadline, so no
//! client holds a connection slot as long as it likes. (Headers have
//! hyper's header read timeout, which also bounds idle connections.)

use std::future::Future;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use punch_model::wire::ErrorCode;

use crate::api::ApiError;
use crate::limits::Limits;

/// The admin API and the reviewer page (`/admin/…`) read their bodies with
/// axum's extractor, after the handler starts: their limit is checked here.
/// Device routes check theirs in `read_body` before reserving the budget.
fn declared_limit(path: &str, limits: &Limits) -> Option<usize> {
    if path.starts_with("/admin/") {
        Some(crate::admin_api::query::MAX_BODY.max(limits.get_body_bytes))
    } else {
        None
    }
}

/// A 413 for a declared body over the route's limit, or None.
pub fn refuse_declared(path: &str, headers: &HeaderMap, limits: &Limits) -> Option<Response> {
    let limit = declared_limit(path, limits)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())?;
    (declared > limit as u64).then(|| closing(ApiError::too_large(path, limit)))
}

/// `answer` within `timeout`, or a 408 (and the connection closed: what is
/// left of the body is not read).
pub async fn within(timeout: Duration, answer: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(timeout, answer).await {
        Ok(resp) => resp,
        Err(_) => {
            ::metrics::counter!(crate::metrics::REQUEST_TIMEOUTS).increment(1);
            closing(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::Timeout,
                format!("request not completed within {} s", timeout.as_secs()),
            ))
        }
    }
}

fn closing(error: ApiError) -> Response {
    let mut resp = error.into_response();
    resp.headers_mut().insert(
        header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    resp
}
