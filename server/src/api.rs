//! The HTTP surface: routes, handlers and the wire error shape. Handlers do
//! the HTTP part only; the rules live in `auth`, `enroll`, `ingest` and
//! `policy_publish`, and run on the blocking pool (SQLite is synchronous).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use punch_model::wire::{
    self, EnrollChallengeRequest, EnrollChallengeResponse, EnrollRequest, EnrollResponse,
    ErrorCode, ErrorResponse, HEADER_POLICY_VERSION, HEADER_SERVER_TIME, MAX_BATCH, PolicyResponse,
    TimeResponse, UploadRequest, UploadResponse,
};
use serde::Serialize;

use crate::attestation::{self, AttestationConfig, Proven};
use crate::auth::{self, AuthFailure};
use crate::clock::now_ms;
use crate::enroll::{self, EnrollRefusal};
use crate::error::ServerError;
use crate::ingest;
use crate::store::{DeviceInfo, ServerStore, StoreExt};
use crate::time_token::TimeTokens;

/// Large enough for MAX_BATCH records with rich evaluations; the body must
/// be read whole before its signature can be checked.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn ServerStore>,
    pub tokens: TimeTokens,
}

/// A request-level failure, answered as `ErrorResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// A finer machine-readable reason (`ErrorResponse::reason`).
    pub reason: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            reason: None,
        }
    }

    fn with_reason(mut self, reason: impl Into<String>) -> ApiError {
        self.reason = Some(reason.into());
        self
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    fn internal() -> ApiError {
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

fn time_header(now: i64) -> HeaderValue {
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
        resp
    }
}

/// A 200 JSON answer stamped with the server time it reports.
fn ok_json<T: Serialize>(body: &T, now: i64, policy_version: Option<u64>) -> Response {
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    let headers = resp.headers_mut();
    headers.insert(HEADER_SERVER_TIME, time_header(now));
    if let Some(v) = policy_version {
        headers.insert(HEADER_POLICY_VERSION, HeaderValue::from(v));
    }
    resp
}

/// Runs store work on the blocking pool.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || work(&state))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blocking task failed");
            ApiError::internal()
        })?
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed {what} JSON: {e}")))
}

/// Checks the request signature headers and spends the nonce.
async fn authenticate(
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
    let outcome = blocking(state, move |s| {
        let Some(device) = s.store.read(|tx| tx.device(&signed.device_id))? else {
            // As much work as for a known device, so timing tells nothing either.
            auth::verify_against_nothing(&signed, &method, &path, &body);
            return Ok(Err(AuthFailure::UnknownDevice));
        };
        // Signature first, outside the write lock (the costly part).
        if let Err(failure) = auth::check_signature(&device, &signed, &method, &path, &body) {
            return Ok(Err(failure));
        }
        let now = now_ms();
        let signed_bytes = auth::signing_bytes(&signed, &method, &path, &body);
        Ok(s.store
            .write(|tx| auth::admit(tx, &signed, &signed_bytes, now))?)
    })
    .await?;
    outcome.map_err(|failure| {
        tracing::info!(?failure, "request refused");
        ApiError::from(failure)
    })
}

async fn enroll_handler(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let signed = auth::parse_headers(&headers)?;
    let req: EnrollRequest = parse_json(&body, "enroll request")?;
    if signed.device_id != req.device_id {
        return Err(ApiError::bad_request(format!(
            "header device {:?} is not the enrolling device {:?}",
            signed.device_id, req.device_id
        )));
    }
    // Proof of possession: the request is signed by the key it asks to bind.
    // (A key that is not even P-256 is refused below as a bad request.) No
    // nonce: the one-time code already makes a replay harmless.
    if punch_model::ledger::signing::point_from_public_key(&req.public_key).is_ok() {
        auth::check_signature_with(&req.public_key, &signed, method.as_str(), uri.path(), &body)?;
        auth::fresh(&signed, now_ms())?;
    }
    let (device_id, outcome, now) = blocking(&state, move |s| {
        let now = now_ms();
        // Certificate chains are checked before the write lock: RSA and ECDSA
        // verification is slow, and the challenge is used up inside it.
        let proven = match &req.attestation {
            Some(att) => {
                let config = s.store.read(|tx| AttestationConfig::load(tx))?;
                match attestation::verify(&config, att, &req.public_key, now.div_euclid(1000)) {
                    Ok(p) => p,
                    Err(failure) => {
                        return Ok((
                            req.device_id,
                            Err(EnrollRefusal::AttestationRefused(failure)),
                            now,
                        ));
                    }
                }
            }
            None => Proven::software(),
        };
        let outcome = s.store.write(|tx| enroll::enroll(tx, &req, &proven, now))?;
        Ok((req.device_id, outcome, now))
    })
    .await?;
    match outcome {
        Ok(employee_id) => {
            tracing::info!(%device_id, %employee_id, "device enrolled");
            let body = EnrollResponse {
                time_token: state.tokens.issue(&device_id, now),
                employee_id,
                device_id,
                server_time_ms: now,
            };
            Ok(ok_json(&body, now, None))
        }
        Err(refusal) => {
            tracing::info!(%device_id, ?refusal, "enrollment refused");
            Err(refusal_error(refusal))
        }
    }
}

fn refusal_error(refusal: EnrollRefusal) -> ApiError {
    match refusal {
        EnrollRefusal::BadRequest(m) => ApiError::bad_request(m),
        EnrollRefusal::CodeInvalid => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::EnrollmentCodeInvalid,
            "enrollment code is unknown, expired or already used",
        ),
        EnrollRefusal::AlreadyBound(m) => {
            ApiError::new(StatusCode::CONFLICT, ErrorCode::DeviceAlreadyBound, m)
        }
        EnrollRefusal::ChallengeInvalid => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AttestationChallengeInvalid,
            "the attestation challenge is unknown, expired, used, or for another code: \
             fetch a new one",
        ),
        EnrollRefusal::AttestationRefused(f) => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AttestationRefused,
            format!("attestation refused ({}): {}", f.category, f.message),
        )
        .with_reason(f.code),
        EnrollRefusal::AssuranceTooLow { device, required } => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AssuranceTooLow,
            format!(
                "this device proves {device} but the employer requires {required}: \
                 enroll with a hardware-backed, attested key"
            ),
        )
        .with_reason(device.as_str()),
    }
}

/// `POST /v1/enroll/challenge`: a single-use challenge for a valid code.
/// Unauthenticated (there is no device key yet); the code is the credential.
async fn challenge_handler(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: EnrollChallengeRequest = parse_json(&body, "challenge request")?;
    let (outcome, now) = blocking(&state, move |s| {
        let now = now_ms();
        let outcome = s
            .store
            .write(|tx| enroll::issue_challenge(tx, &req.code, now))?;
        Ok((outcome, now))
    })
    .await?;
    match outcome {
        Ok((challenge, expires_at_ms)) => Ok(ok_json(
            &EnrollChallengeResponse {
                challenge,
                expires_at_ms,
                server_time_ms: now,
            },
            now,
            None,
        )),
        Err(refusal) => Err(refusal_error(refusal)),
    }
}

async fn time_handler(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let device = authenticate(&state, &method, &uri, &headers, &body).await?;
    let version = blocking(&state, |s| {
        Ok(s.store.read(|tx| tx.latest_policy_version())?)
    })
    .await?;
    let now = now_ms();
    let body = TimeResponse {
        server_time_ms: now,
        time_token: state.tokens.issue(&device.device_id, now),
        policy_version: version,
        head_seq: Some(device.head_seq),
        head_hash: Some(device.head_hash.clone()),
    };
    Ok(ok_json(&body, now, Some(version)))
}

async fn policy_handler(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let device = authenticate(&state, &method, &uri, &headers, &body).await?;
    let latest = blocking(&state, |s| Ok(s.store.read(|tx| tx.latest_policy())?)).await?;
    let Some(policy) = latest else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NoPolicy,
            "no policy has been published yet",
        ));
    };
    let now = now_ms();
    let body = PolicyResponse {
        version: policy.version,
        body: policy.body,
        signature: policy.signature,
        server_time_ms: now,
        time_token: state.tokens.issue(&device.device_id, now),
    };
    Ok(ok_json(&body, now, Some(policy.version)))
}

async fn upload_handler(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let device = authenticate(&state, &method, &uri, &headers, &body).await?;
    let req: UploadRequest = parse_json(&body, "upload request")?;
    if req.device_id != device.device_id {
        return Err(ApiError::bad_request(format!(
            "body device_id {:?} is not the authenticated device {:?}",
            req.device_id, device.device_id
        )));
    }
    if req.records.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BatchTooLarge,
            format!(
                "{} records in one batch; at most {MAX_BATCH}",
                req.records.len()
            ),
        ));
    }
    let public_key = device.public_key.clone();
    let (outcome, version) = blocking(&state, move |s| {
        let checks = ingest::check_signatures(&public_key, &req.device_id, &req.records);
        let now = now_ms();
        Ok(s.store.write(|tx| {
            let outcome = ingest::ingest_checked(
                tx,
                &req.device_id,
                &req.records,
                Some(&checks),
                &s.tokens,
                now,
            )?;
            Ok((outcome, tx.latest_policy_version()?))
        })?)
    })
    .await?;
    let accepted = outcome
        .results
        .iter()
        .filter(|r| r.status == wire::RecordStatus::Accepted)
        .count();
    tracing::info!(
        device_id = %device.device_id,
        records = outcome.results.len(),
        accepted,
        head_seq = outcome.head_seq,
        "upload"
    );
    let now = now_ms();
    let body = UploadResponse {
        results: outcome.results,
        head_seq: outcome.head_seq,
        head_hash: Some(outcome.head_hash),
        policy_version: version,
        server_time_ms: now,
        time_token: state.tokens.issue(&device.device_id, now),
    };
    Ok(ok_json(&body, now, Some(version)))
}

/// Paths whose requests are device-authenticated.
fn is_authenticated_path(path: &str) -> bool {
    matches!(
        path,
        wire::PATH_TIME | wire::PATH_POLICY | wire::PATH_PUNCHES
    )
}

/// Every answer carries the server time, in the error shape when axum
/// itself answered (unknown route, wrong method, body too large); answers
/// on authenticated paths also carry the latest policy version. Logs each request.
async fn stamp(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key(HEADER_SERVER_TIME) {
        resp = framework_error(resp);
    }
    if is_authenticated_path(&path) && !resp.headers().contains_key(HEADER_POLICY_VERSION) {
        let version = blocking(&state, |s| {
            Ok(s.store.read(|tx| tx.latest_policy_version())?)
        })
        .await;
        if let Ok(v) = version {
            resp.headers_mut()
                .insert(HEADER_POLICY_VERSION, HeaderValue::from(v));
        }
    }
    tracing::info!(
        %method,
        %path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

fn framework_error(resp: Response) -> Response {
    let status = resp.status();
    let allow = resp.headers().get(header::ALLOW).cloned();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            ErrorCode::BatchTooLarge,
            format!("request body larger than {MAX_BODY_BYTES} bytes"),
        ),
        StatusCode::NOT_FOUND => ApiError::new(status, ErrorCode::BadRequest, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            ErrorCode::BadRequest,
            "method not allowed on this route",
        ),
        s if s.is_server_error() => ApiError::new(s, ErrorCode::Internal, "internal server error"),
        s if s.is_client_error() => ApiError::new(s, ErrorCode::BadRequest, "bad request"),
        // A success without the stamp would be a handler bug; keep its body.
        _ => {
            let mut resp = resp;
            resp.headers_mut()
                .insert(HEADER_SERVER_TIME, time_header(now_ms()));
            return resp;
        }
    };
    let mut out = error.into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

macro_rules! route {
    (GET $path:expr => $handler:expr) => {
        (Method::GET, $path, axum::routing::get($handler))
    };
    (POST $path:expr => $handler:expr) => {
        (Method::POST, $path, axum::routing::post($handler))
    };
}

/// The one table the router is built from, so `routes()` cannot drift.
fn route_table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        route!(POST wire::PATH_ENROLL => enroll_handler),
        route!(POST wire::PATH_ENROLL_CHALLENGE => challenge_handler),
        route!(GET wire::PATH_TIME => time_handler),
        route!(GET wire::PATH_POLICY => policy_handler),
        route!(POST wire::PATH_PUNCHES => upload_handler),
    ]
}

/// Every (method, path) the router serves (GET also answers HEAD).
pub fn routes() -> Vec<(Method, &'static str)> {
    route_table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in route_table() {
        router = router.route(path, handler);
    }
    router
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(state.clone(), stamp))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
