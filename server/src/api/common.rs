//! What the handlers share: the state, the error shape and its answers,
//! body reading within limits, device authentication, blocking store work.
//! (Handlers elsewhere, e.g. `crate::pin::http`, build on it without
//! depending on the route table.)

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use punch_model::wire::{
    self, ErrorCode, ErrorResponse, HEADER_POLICY_VERSION, HEADER_SERVER_TIME,
};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::auth::{self, AuthFailure};
use crate::clock::now_ms;
use crate::error::{STORE_RETRY_AFTER_S, ServerError};
use crate::limits::Limits;
use crate::limits::body::{BodyBudget, BodyError, BodyPermit, Sender};
use crate::limits::rate::{self};
use crate::metrics;
use crate::policy_cache::PolicyCache;
use crate::store::{DeviceInfo, ServerStore, StoreExt, StoreTx};
use crate::time_token::TimeTokens;

/// What every handler shares. Nothing here must be shared between server
/// processes: state that must (nonces, codes, counters, keys) is in the store.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn ServerStore>,
    pub tokens: TimeTokens,
    /// Published policies, prepared once (`crate::policy_cache`).
    pub policies: Arc<PolicyCache>,
    pub limits: Arc<Limits>,
    pub budget: BodyBudget,
    /// Bounds store work running at once (the rest queue).
    pub work: Arc<Semaphore>,
    /// Bounds password hashes running at once (staff sign-in).
    pub hashing: Arc<Semaphore>,
    pub prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Delivers PIN reset codes (`crate::pin::sender`).
    pub pin_sender: Arc<dyn crate::pin::CodeSender>,
    /// The bearer token `/metrics` asks for (None: metrics are off).
    pub metrics_token: Option<Arc<str>>,
    /// The origin employees' browsers load the punch page from: passkeys
    /// are bound to it (`crate::browser`). None: browser punching is off.
    pub public_origin: Option<Arc<url::Url>>,
}

impl AppState {
    pub fn new(store: Arc<dyn ServerStore>, tokens: TimeTokens, limits: Limits) -> AppState {
        AppState {
            store,
            tokens,
            policies: Arc::new(PolicyCache::default()),
            budget: BodyBudget::new(limits.body_budget_bytes),
            work: Arc::new(Semaphore::new(limits.max_concurrent_work.max(1))),
            hashing: Arc::new(Semaphore::new(limits.max_concurrent_password_hashes.max(1))),
            limits: Arc::new(limits),
            prometheus: metrics::install(),
            pin_sender: crate::pin::CodeDelivery::None.sender(),
            metrics_token: None,
            public_origin: None,
        }
    }
}

/// The client's address, put on each request by the accept loop: the TCP
/// peer, or behind a trusted proxy the client it names (`limits::client`).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// A request-level failure, answered as `ErrorResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// A finer machine-readable reason (`ErrorResponse::reason`).
    pub reason: Option<String>,
    /// Sent as `Retry-After` (seconds).
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            reason: None,
            retry_after_s: None,
        }
    }

    pub(crate) fn with_reason(mut self, reason: impl Into<String>) -> ApiError {
        self.reason = Some(reason.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn too_large(path: &str, limit: usize) -> ApiError {
        let code = if path == wire::PATH_PUNCHES {
            // The client halves its batch on this code.
            ErrorCode::BatchTooLarge
        } else {
            ErrorCode::PayloadTooLarge
        };
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code,
            format!("request body larger than {limit} bytes"),
        )
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            message,
        )
    }

    pub(crate) fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal server error",
        )
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> ApiError {
        if let ServerError::DeviceUnbound(_) = e {
            return ApiError::from(AuthFailure::DeviceUnbound);
        }
        if e.is_retryable() {
            // Already run again (`StoreExt::write`): the client tries later.
            tracing::warn!(error = %e, "store busy; answered 503");
            return ApiError {
                retry_after_s: Some(STORE_RETRY_AFTER_S),
                ..ApiError::unavailable("the database is busy; retry shortly")
            };
        }
        // Details stay in the log: they may describe the database.
        tracing::error!(error = %e, "request failed");
        ApiError::internal()
    }
}

impl From<AuthFailure> for ApiError {
    fn from(f: AuthFailure) -> ApiError {
        use StatusCode as S;
        match f {
            AuthFailure::Malformed(m) => ApiError::bad_request(m),
            // The same answer as a bad signature: whether a device id is
            // enrolled is not something a stranger may learn (the client
            // needs no distinction: either way it must enroll again).
            AuthFailure::UnknownDevice => ApiError::from(AuthFailure::BadSignature),
            AuthFailure::DeviceUnbound => ApiError::new(
                S::FORBIDDEN,
                ErrorCode::DeviceUnbound,
                "this device was unbound by an admin; enroll again",
            ),
            AuthFailure::BadSignature => ApiError::new(
                S::UNAUTHORIZED,
                ErrorCode::BadRequestSignature,
                "request signature does not verify with an enrolled device key",
            ),
            AuthFailure::StaleTimestamp { timestamp_ms } => ApiError::new(
                S::UNAUTHORIZED,
                ErrorCode::StaleTimestamp,
                format!(
                    "request timestamp {timestamp_ms} is more than {} ms from server time; \
                     re-anchor on server_time_ms and retry",
                    wire::REQUEST_MAX_SKEW_MS
                ),
            ),
            AuthFailure::ReplayedNonce => ApiError::new(
                S::UNAUTHORIZED,
                ErrorCode::ReplayedNonce,
                "nonce already used; sign each request with a fresh nonce",
            ),
        }
    }
}

pub(crate) fn time_header(now: i64) -> HeaderValue {
    HeaderValue::from(now)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let now = now_ms();
        let body = ErrorResponse {
            error: self.code,
            message: self.message,
            server_time_ms: now,
            reason: self.reason,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(HEADER_SERVER_TIME, time_header(now));
        if let Some(s) = self.retry_after_s {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// A 200 JSON answer stamped with the server time it reports.
pub(crate) fn ok_json<T: Serialize>(body: &T, now: i64, policy_version: Option<u64>) -> Response {
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    let headers = resp.headers_mut();
    headers.insert(HEADER_SERVER_TIME, time_header(now));
    if let Some(v) = policy_version {
        headers.insert(HEADER_POLICY_VERSION, HeaderValue::from(v));
    }
    resp
}

/// Runs store work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    // Queue here, not on the blocking pool: a bounded number of units of
    // store work (and connections to the database) at once.
    let permit = state
        .work
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::unavailable("server is shutting down"))?;
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        span.in_scope(|| work(&state))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "blocking task failed");
        ApiError::internal()
    })?
}

/// Reads the body within `limit`, the body timeout and the budget; the
/// permit keeps its bytes counted until the answer is sent.
pub(crate) async fn read_body(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(Bytes, BodyPermit), ApiError> {
    let timeout = state.limits.body_read_timeout();
    let sender = sender_of(state, headers).await?;
    state
        .budget
        .read(headers, body, limit, timeout, sender)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => ApiError::too_large(uri.path(), limit),
            BodyError::Timeout => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::Timeout,
                format!("request body not received within {} s", timeout.as_secs()),
            ),
            BodyError::Busy => ApiError::unavailable("server is busy; retry shortly"),
            BodyError::Broken(m) => ApiError::bad_request(format!("cannot read body: {m}")),
        })
}

/// Whether the request names an enrolled, bound device (one indexed read;
/// the signature is checked after the body is in).
async fn sender_of(state: &AppState, headers: &HeaderMap) -> Result<Sender, ApiError> {
    let Some(device_id) = headers
        .get(wire::HEADER_DEVICE)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .map(str::to_string)
    else {
        return Ok(Sender::Stranger);
    };
    blocking(state, move |s| {
        let known = s.store.read(|tx| tx.devices().device(&device_id))?;
        Ok(if known.is_some_and(|d| d.is_bound()) {
            Sender::KnownDevice
        } else {
            Sender::Stranger
        })
    })
    .await
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed {what} JSON: {e}")))
}

/// Checks the request signature headers and spends the nonce.
pub(crate) async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<DeviceInfo, ApiError> {
    let signed = auth::parse_headers(headers)?;
    let method = method.as_str().to_string();
    let path = uri.path().to_string();
    let body = body.clone();
    blocking(state, move |s| {
        let verified = verify_request(s, signed, &method, &path, &body)?;
        let now = now_ms();
        s.store
            .write(|tx| verified.admit(tx, now))?
            .map_err(refused)
    })
    .await
}

/// A request whose signature checked out against its device's channel
/// key, not yet admitted (timestamp, nonce, stated head: [`Verified::admit`]).
pub(crate) struct Verified {
    pub device: DeviceInfo,
    signed: auth::SignedHeaders,
    signed_bytes: Vec<u8>,
}

impl Verified {
    /// The cheap half of authentication, inside a write transaction: a
    /// route that writes does its work in the same one, so one commit
    /// serves both.
    pub(crate) fn admit(
        &self,
        tx: &dyn StoreTx,
        now_ms: i64,
    ) -> crate::error::Result<Result<DeviceInfo, AuthFailure>> {
        auth::admit(tx, &self.signed, &self.signed_bytes, now_ms)
    }
}

/// The costly half of authentication, outside any write lock (on a
/// blocking thread): the device and the request's signature.
pub(crate) fn verify_request(
    s: &AppState,
    signed: auth::SignedHeaders,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Verified, ApiError> {
    let Some(device) = s.store.read(|tx| tx.devices().device(&signed.device_id))? else {
        // As much work as for a known device, so timing tells nothing either.
        auth::verify_against_nothing(&signed, method, path, body);
        return Err(refused(AuthFailure::UnknownDevice));
    };
    let checked = auth::check_signature(&device, &signed, method, path, body);
    metrics::signatures(
        "request",
        u64::from(checked.is_ok()),
        u64::from(checked.is_err()),
    );
    checked.map_err(refused)?;
    let signed_bytes = auth::signing_bytes(&signed, method, path, body);
    Ok(Verified {
        device,
        signed,
        signed_bytes,
    })
}

/// A refused request, logged.
pub(crate) fn refused(failure: AuthFailure) -> ApiError {
    tracing::info!(?failure, "request refused");
    ApiError::from(failure)
}

pub(crate) fn rate_limited(limited: rate::Limited) -> Response {
    ::metrics::counter!(metrics::RATE_LIMITED, "bucket" => format!("{:?}", limited.bucket))
        .increment(1);
    let mut resp = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!("too many attempts; retry after {} s", limited.retry_after_s),
    )
    .into_response();
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(limited.retry_after_s),
    );
    resp
}
