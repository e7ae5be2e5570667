//! The admin API's error answer: `{"error": code, "message", "server_time_ms"}`
//! with the server-time header, like the device API's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use punch_model::wire::HEADER_SERVER_TIME;

use crate::clock::now_ms;
use crate::error::{STORE_RETRY_AFTER_S, ServerError};
use crate::limits::rate;
use crate::metrics;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    pub status: StatusCode,
    /// unauthenticated, forbidden, not_your_team, csrf_failed, locked,
    /// rate_limited, bad_request, not_found, conflict, unavailable, internal.
    pub code: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (seconds) with a 429 or a 503.
    pub retry_after_s: Option<u64>,
}

impl AdminError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AdminError {
        AdminError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    /// Over a shared rate limit (`limits::rate`): 429 with `Retry-After`.
    pub fn rate_limited(limited: rate::Limited) -> AdminError {
        ::metrics::counter!(metrics::RATE_LIMITED, "bucket" => format!("{:?}", limited.bucket))
            .increment(1);
        AdminError {
            retry_after_s: Some(limited.retry_after_s),
            ..AdminError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many attempts; retry after {} s", limited.retry_after_s),
            )
        }
    }

    pub fn bad_request(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthenticated() -> AdminError {
        AdminError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in, or send an API token as `Authorization: Bearer pt_…`",
        )
    }

    pub fn forbidden(what: &str) -> AdminError {
        AdminError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("your role does not allow {what}"),
        )
    }

    pub fn not_your_team() -> AdminError {
        AdminError::new(
            StatusCode::FORBIDDEN,
            "not_your_team",
            "that belongs to another team than yours",
        )
    }

    pub fn not_found(what: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn internal() -> AdminError {
        AdminError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    }
}

impl From<ServerError> for AdminError {
    fn from(e: ServerError) -> AdminError {
        match e {
            ServerError::Invalid(m) => AdminError::bad_request(m),
            ServerError::InvalidPolicy(p) => AdminError::bad_request(p.to_string()),
            ServerError::UnknownEmployee(id) => {
                AdminError::not_found(format!("unknown employee {id:?}"))
            }
            ServerError::UnknownDevice(id) => {
                AdminError::not_found(format!("unknown device {id:?}"))
            }
            ServerError::NotFound(m) => AdminError::not_found(m),
            ServerError::Conflict(m) => AdminError::new(StatusCode::CONFLICT, "conflict", m),
            // Already run again (`StoreExt::write`): the client tries later.
            e if e.is_retryable() => {
                tracing::warn!(error = %e, "store busy; answered 503");
                AdminError {
                    retry_after_s: Some(STORE_RETRY_AFTER_S),
                    ..AdminError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the database is busy; retry shortly",
                    )
                }
            }
            other => {
                tracing::error!(error = %other, "admin request failed");
                AdminError::internal()
            }
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let now = now_ms();
        let body = serde_json::json!({
            "error": self.code,
            "message": self.message,
            "server_time_ms": now,
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(HEADER_SERVER_TIME, HeaderValue::from(now));
        if let Some(s) = self.retry_after_s {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}
