//! The HTTP surface: routes, handlers and the wire error shape. Handlers do
//! the HTTP part only; the rules live in `auth`, `enroll`, `ingest` and
//! `policy_publish`, and run on the blocking pool (the store is synchronous).
//! Bodies are read first, within the route's limit and the body budget,
//! before anything else looks at them: the extractors in [`extract`] read,
//! authenticate and parse, so a handler says only what it does.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use punch_model::pin::wire as pin_wire;
use punch_model::rules::assurance::{AssuranceLevel, BelowMinimum};
use punch_model::wire::privacy::{
    DataKeyRequest, DataKeyResponse, PATH_DATA_KEY, PATH_EVIDENCE_REVEAL, PATH_EXPORT,
    RevealRequest, RevealResponse,
};
use punch_model::wire::{
    self, AttachmentStored, EnrollChallengeRequest, EnrollChallengeResponse, EnrollRequest,
    EnrollResponse, ErrorCode, HEADER_POLICY_VERSION, HEADER_SERVER_TIME, MAX_BATCH,
    PolicyResponse, RequestsResponse, TimeResponse, UploadRequest, UploadResponse,
};
use tracing::Instrument;

use crate::attestation::{self, AttestationConfig, Proven};
use crate::auth::{self};
use crate::clock::now_ms;
use crate::enroll::{self, EnrollRefusal};
use crate::ingest;
use crate::limits::rate::{self, Bucket};
use crate::metrics;
use crate::photos;
use crate::privacy;
use crate::requests;
use crate::store::StoreExt;

/// Operations routes (no device authentication, no policy header).
pub const PATH_HEALTHZ: &str = "/healthz";
pub const PATH_READYZ: &str = "/readyz";
pub const PATH_METRICS: &str = "/metrics";
/// Echoed on every answer; a client may send its own (visible ASCII, ≤ 64).
pub const HEADER_REQUEST_ID: &str = "x-request-id";

pub(crate) mod common;
pub(crate) mod extract;

pub use common::{ApiError, AppState, PeerAddr};
pub(crate) use common::{blocking, ok_json, rate_limited, refused, time_header, verify_request};
use extract::{BoundedBody, DeviceRequest, SignedRequest};

/// Counts an attempt with an enrollment code before any other work (and
/// whatever its outcome), per client IP and per code, in the database:
/// guessing costs the guesser attempts shared by every server.
pub(crate) async fn limit_code_guessing(
    state: &AppState,
    peer: Option<Extension<PeerAddr>>,
    body: &Bytes,
) -> Result<Option<Response>, ApiError> {
    let ip = peer.map_or_else(
        || "unknown".to_string(),
        |Extension(PeerAddr(a))| a.ip().to_string(),
    );
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string));
    let limited = blocking(state, move |s| {
        let now = now_ms();
        Ok(s.store.write(|tx| {
            // Counted per code under its keyed hash (never the code, nor
            // an unkeyed hash of it, in the counters' table).
            let hash = code
                .as_deref()
                .map(|c| enroll::code_hash(tx, c))
                .transpose()?;
            let mut hits = vec![(Bucket::EnrollIp, ip.as_str())];
            if let Some(hash) = &hash {
                hits.push((Bucket::EnrollCode, hash.as_str()));
            }
            rate::hit(tx, &s.limits, &hits, now)
        })?)
    })
    .await?;
    Ok(limited.map(|limited| {
        tracing::warn!(bucket = ?limited.bucket, "enrollment rate limited");
        rate_limited(limited)
    }))
}

async fn enroll_handler(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    BoundedBody { bytes: body, .. }: BoundedBody,
) -> Result<Response, ApiError> {
    if let Some(refused) = limit_code_guessing(&state, peer, &body).await? {
        return Ok(refused);
    }
    let signed = auth::parse_headers(&headers)?;
    let req: EnrollRequest = extract::parse(&body)?;
    if signed.device_id != req.device_id {
        return Err(ApiError::bad_request(format!(
            "header device {:?} is not the enrolling device {:?}",
            signed.device_id, req.device_id
        )));
    }
    // Proof of possession: the request is signed by the channel key it asks
    // to bind (by the one key of a device from before the split; the punch
    // key's own proof is in the body, see `enroll`). A key that is not even
    // P-256 is refused below as a bad request. No nonce: the one-time code
    // already makes a replay harmless.
    let request_key = req.channel_key.as_deref().unwrap_or(&req.public_key);
    if punch_model::ledger::signing::point_from_public_key(request_key).is_ok() {
        let checked =
            auth::check_signature_with(request_key, &signed, method.as_str(), uri.path(), &body);
        metrics::signatures(
            "request",
            u64::from(checked.is_ok()),
            u64::from(checked.is_err()),
        );
        checked?;
        auth::fresh(&signed, now_ms())?;
    }
    let (device_id, outcome, now) = blocking(&state, move |s| {
        let now = now_ms();
        // Certificate chains are checked before the write lock: RSA and ECDSA
        // verification is slow, and the challenge is used up inside it.
        let mut proofs = [Proven::software(), Proven::software()];
        let attested = [
            (&req.attestation, Some(&req.public_key)),
            (&req.channel_attestation, req.channel_key.as_ref()),
        ];
        for (proof, (att, key)) in proofs.iter_mut().zip(attested) {
            let (Some(att), Some(key)) = (att, key) else {
                continue;
            };
            let config = s.store.read(|tx| AttestationConfig::load(tx))?;
            match attestation::verify(&config, att, key, now.div_euclid(1000)) {
                Ok(p) => *proof = p,
                Err(failure) => {
                    return Ok((
                        req.device_id,
                        Err(EnrollRefusal::AttestationRefused(failure)),
                        now,
                    ));
                }
            }
        }
        let [proven, proven_channel] = proofs;
        let outcome = s
            .store
            .write(|tx| enroll::enroll(tx, &req, &proven, &proven_channel, now))?;
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
    peer: Option<Extension<PeerAddr>>,
    BoundedBody { bytes: body, .. }: BoundedBody,
) -> Result<Response, ApiError> {
    if let Some(refused) = limit_code_guessing(&state, peer, &body).await? {
        return Ok(refused);
    }
    let req: EnrollChallengeRequest = extract::parse(&body)?;
    let (outcome, now) = blocking(&state, move |s| {
        let now = now_ms();
        let outcome = s
            .store
            .write(|tx| enroll::issue_challenge(tx, &req.code, now))?;
        Ok((outcome, now))
    })
    .await?;
    match outcome {
        Ok(offer) => Ok(ok_json(
            &EnrollChallengeResponse {
                challenge: offer.challenge,
                expires_at_ms: offer.expires_at_ms,
                server_time_ms: now,
                min_assurance: offer.min_assurance,
            },
            now,
            None,
        )),
        Err(refusal) => Err(refusal_error(refusal)),
    }
}

async fn time_handler(
    State(state): State<AppState>,
    DeviceRequest { device, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    let lookup = device.clone();
    let (version, chain_reset) = blocking(&state, move |s| {
        Ok(s.store.read(|tx| {
            let reset = crate::chain_reset::pending(tx, &lookup)?;
            Ok((
                tx.policies().latest_policy_version()?,
                reset.as_ref().map(crate::chain_reset::notice),
            ))
        })?)
    })
    .await?;
    let now = now_ms();
    let body = TimeResponse {
        chain_reset,
        server_time_ms: now,
        time_token: state.tokens.issue(&device.device_id, now),
        policy_version: version,
        head_seq: Some(device.head_seq),
        head_hash: Some(device.head_hash.clone()),
    };
    Ok(ok_json(&body, now, Some(version)))
}

/// The attachment route, with its one path parameter (the file's hash).
const PATH_ATTACHMENT: &str = "/v1/attachments/{sha256}";

async fn requests_handler(
    State(state): State<AppState>,
    DeviceRequest { device, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let answer = blocking(&state, move |s| {
        Ok(s.store.read(|tx| {
            Ok(RequestsResponse {
                decisions: requests::decisions_for(tx, &device.device_id)?,
                addendum: requests::signed_addendum(tx, &device.employee_id, now)?,
                forgotten: crate::forgotten::notices_for(tx, &device.employee_id, now)?,
            })
        })?)
    })
    .await?;
    Ok(ok_json(&answer, now, None))
}

async fn attachment_handler(
    State(state): State<AppState>,
    uri: Uri,
    DeviceRequest { device, body, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    let named = attachment_hash(uri.path())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let refused = |why: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::AttachmentRefused,
            why,
        )
    };
    let actual = hex::encode(punch_model::ledger::signing::sha256(&body));
    if named != actual {
        return Err(refused(format!("the bytes hash to {actual}, not {named}"))
            .with_reason("hash_mismatch"));
    }
    let now = now_ms();
    let size_bytes = body.len() as u64;
    let outcome = blocking(&state, move |s| {
        Ok(s.store.write(|tx| {
            // A punch's photo, else a make-up request's file.
            match photos::store_upload(tx, &device.employee_id, &actual, &body, now)? {
                Some(photo) => Ok(photo.map_err(|r| {
                    let status = if r.reason == "too_large" {
                        StatusCode::PAYLOAD_TOO_LARGE
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    };
                    (status, r.message, Some(r.reason))
                })),
                None => Ok(requests::store_attachment(
                    tx,
                    &device.employee_id,
                    &actual,
                    body.to_vec(),
                    now,
                )?
                .map_err(|why| (StatusCode::UNPROCESSABLE_ENTITY, why, None))),
            }
        })?)
    })
    .await?;
    match outcome {
        Ok(()) => Ok(ok_json(
            &AttachmentStored {
                sha256: named,
                size_bytes,
            },
            now,
            None,
        )),
        Err((status, why, reason)) => {
            let error = ApiError::new(status, ErrorCode::AttachmentRefused, why);
            Err(match reason {
                Some(reason) => error.with_reason(reason),
                None => error,
            })
        }
    }
}

async fn policy_handler(
    State(state): State<AppState>,
    DeviceRequest { device, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    let latest = blocking(&state, |s| {
        Ok(s.store.read(|tx| tx.policies().latest_policy())?)
    })
    .await?;
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
    BoundedBody { bytes: body, .. }: BoundedBody,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let signed = auth::parse_headers(&headers)?;
    let path = uri.path().to_string();
    let (device, outcome, version, chain_reset) = blocking(&state, move |s| {
        // Authentication's costly half, then the records' signatures, both
        // before the lock; then admission and ingest in one transaction, so
        // an upload costs one commit.
        let verified = verify_request(s, signed, method.as_str(), &path, &body)?;
        let req: UploadRequest = extract::parse(&body)?;
        if req.device_id != verified.device.device_id {
            return Err(ApiError::bad_request(format!(
                "body device_id {:?} is not the authenticated device {:?}",
                req.device_id, verified.device.device_id
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
        if let Some(up) = req.records.iter().find(|r| r.seq > wire::MAX_SEQ) {
            return Err(seq_too_large(up.seq));
        }
        let checks = ingest::check_signatures(
            verified.device.current_punch_key(),
            &req.device_id,
            &req.records,
        );
        let (ok, bad) = checks.counts();
        metrics::signatures("record", ok, bad);
        let now = now_ms();
        s.store.write(|tx| {
            let device = match verified.admit(tx, now)? {
                Ok(device) => device,
                Err(failure) => return Ok(Err(refused(failure))),
            };
            // `below_min_assurance: refuse` holds for every upload, not only at
            // enrollment: a device enrolled before the minimum was raised is
            // refused too (its punches stay on the phone; `review` lets them in
            // flagged). The request is admitted (its nonce spent) either way.
            let settings = s.policies.current_settings(tx)?;
            let level = AssuranceLevel::parse(&device.assurance).unwrap_or_default();
            if settings.below_min_assurance == BelowMinimum::Refuse
                && level < settings.min_assurance
            {
                return Ok(Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::AssuranceTooLow,
                    format!(
                        "this device proves {level} but the employer now requires {}: \
                         enroll again with a hardware-backed, attested key",
                        settings.min_assurance
                    ),
                )
                .with_reason(level.as_str())));
            }
            let outcome = ingest::ingest_checked(
                tx,
                &req.device_id,
                &req.records,
                &checks,
                &s.tokens,
                &s.policies,
                now,
            )?;
            let reset = match tx.devices().device(&req.device_id)? {
                Some(d) => crate::chain_reset::pending(tx, &d)?,
                None => None,
            };
            Ok(Ok((
                device,
                outcome,
                tx.policies().latest_policy_version()?,
                reset.as_ref().map(crate::chain_reset::notice),
            )))
        })?
    })
    .await?;
    ::metrics::histogram!(metrics::INGEST_SECONDS).record(started.elapsed().as_secs_f64());
    for r in &outcome.results {
        match r.status {
            wire::RecordStatus::Accepted => metrics::record("accepted", None),
            wire::RecordStatus::Duplicate => metrics::record("duplicate", None),
            wire::RecordStatus::Rejected => metrics::record(
                "rejected",
                r.reason.map(|x| punch_model::text::serde_name(&x)),
            ),
        }
    }
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
        chain_reset,
        key_rotation_pending: outcome.key_rotation_pending,
        results: outcome.results,
        head_seq: outcome.head_seq,
        head_hash: Some(outcome.head_hash),
        policy_version: version,
        server_time_ms: now,
        time_token: state.tokens.issue(&device.device_id, now),
    };
    Ok(ok_json(&body, now, Some(version)))
}

/// A seq above what the store keeps (`wire::MAX_SEQ`): refused whole,
/// before anything is written, so nothing is half taken.
fn seq_too_large(seq: u64) -> ApiError {
    ApiError::bad_request(format!(
        "seq {seq} is above {}, the highest a server keeps",
        wire::MAX_SEQ
    ))
    .with_reason("seq_too_large")
}

/// The employee reveals the exact evidence behind a minimised record
/// (`privacy::reveal`): checked against its commitment and re-judged.
async fn reveal_handler(
    State(state): State<AppState>,
    SignedRequest {
        device, body: req, ..
    }: SignedRequest<RevealRequest>,
) -> Result<Response, ApiError> {
    if req.seq > wire::MAX_SEQ {
        return Err(seq_too_large(req.seq));
    }
    let seq = req.seq;
    let outcome = blocking(&state, move |s| {
        let now = now_ms();
        Ok(s.store
            .write(|tx| privacy::reveal::reveal(tx, &device, req.seq, &req.opening, now))?)
    })
    .await?;
    let review_flags = outcome.map_err(|refusal| ApiError::bad_request(refusal.to_string()))?;
    let now = now_ms();
    let body = RevealResponse {
        seq,
        review_flags,
        server_time_ms: now,
    };
    Ok(ok_json(&body, now, None))
}

/// The employee's export: everything held about the device's employee.
async fn export_handler(
    State(state): State<AppState>,
    DeviceRequest { device, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let export = blocking(&state, move |s| {
        // Each export reads all the employee's data: bounded per device.
        let hits = [(Bucket::PrivacyExport, device.device_id.as_str())];
        if let Some(limited) = s.store.write(|tx| rate::hit(tx, &s.limits, &hits, now))? {
            return Ok(Err(limited));
        }
        Ok(Ok(s.store.read(|tx| {
            privacy::export::export(tx, &device.employee_id, now)
        })?))
    })
    .await?;
    match export {
        Ok(export) => Ok(ok_json(&export, now, None)),
        Err(limited) => Ok(rate_limited(limited)),
    }
}

/// The device escrows the data key that seals its records' payloads.
async fn data_key_handler(
    State(state): State<AppState>,
    SignedRequest {
        device, body: req, ..
    }: SignedRequest<DataKeyRequest>,
) -> Result<Response, ApiError> {
    if !privacy::keys::well_formed(&req) {
        return Err(ApiError::bad_request(
            "a data key is 32 bytes and its id the first 16 hex digits of its SHA-256",
        ));
    }
    let key_id = req.key_id.clone();
    blocking(&state, move |s| {
        let now = now_ms();
        Ok(s.store
            .write(|tx| privacy::keys::accept(tx, &device.device_id, &req, now))?)
    })
    .await?;
    let now = now_ms();
    Ok(ok_json(
        &DataKeyResponse {
            key_id,
            server_time_ms: now,
        },
        now,
        None,
    ))
}

/// Paths whose requests are device-authenticated.
fn is_authenticated_path(path: &str) -> bool {
    matches!(
        path,
        wire::PATH_TIME
            | wire::PATH_POLICY
            | wire::PATH_PUNCHES
            | wire::PATH_REQUESTS
            | PATH_EVIDENCE_REVEAL
            | PATH_DATA_KEY
            | PATH_EXPORT
            | pin_wire::PATH_PIN_CODE
            | pin_wire::PATH_PIN_CODE_REDEEM
            | pin_wire::PATH_PIN_SELF_SERVICE
            | pin_wire::PATH_PIN_ADMIN_RESET
    ) || attachment_hash(path).is_some()
}

/// The hash an attachment path names (`/v1/attachments/{sha256}`).
fn attachment_hash(path: &str) -> Option<&str> {
    path.strip_prefix(wire::PATH_ATTACHMENTS)?.strip_prefix('/')
}

async fn healthz_handler() -> Response {
    let now = now_ms();
    ok_json(
        &serde_json::json!({"status": "ok", "server_time_ms": now}),
        now,
        None,
    )
}

/// Ready: the database answers and its schema is the one this server writes.
async fn readyz_handler(State(state): State<AppState>) -> Result<Response, ApiError> {
    let status = blocking(&state, |s| Ok(s.store.schema_status())).await?;
    let now = now_ms();
    match status {
        Ok(schema) if schema.found == schema.supported => Ok(ok_json(
            &serde_json::json!({
                "status": "ready",
                "backend": state.store.backend(),
                "schema_version": schema.found,
                "server_time_ms": now,
            }),
            now,
            None,
        )),
        Ok(schema) => Err(ApiError::unavailable(format!(
            "schema version {} in the database, this server writes {}",
            schema.found, schema.supported
        ))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::unavailable("database unreachable"))
        }
    }
}

/// Prometheus text format (not the JSON contract: scrapers expect this).
/// `/metrics` only with `Authorization: Bearer <metrics token>` (the
/// operator configures one for the scraper); without a configured token it
/// is off. It shares the API listener, so it is never public.
async fn metrics_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = match (state.metrics_token.as_deref(), sent) {
        (Some(token), Some(sent)) => crate::staff::secret::same(sent.trim(), token),
        _ => false,
    };
    if !allowed {
        // The admin error shape: this is an operator's credential.
        return Ok(crate::admin_api::AdminError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "metrics need the configured token: Authorization: Bearer …",
        )
        .into_response());
    }
    let Some(handle) = &state.prometheus else {
        return Err(ApiError::unavailable(
            "another metrics recorder owns this process",
        ));
    };
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response();
    resp.headers_mut()
        .insert(HEADER_SERVER_TIME, time_header(now_ms()));
    Ok(resp)
}

/// The route label for metrics: a known path, or "other" (unknown paths
/// must not become label values an attacker can multiply).
fn route_label(path: &str) -> &'static str {
    if attachment_hash(path).is_some() {
        return PATH_ATTACHMENT;
    }
    route_table()
        .into_iter()
        .map(|(_, p, _)| p)
        .find(|p| *p == path)
        .unwrap_or("other")
}

/// A client's request id if it is sane, else a fresh one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(HEADER_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

/// Every answer carries the server time, in the error shape when axum
/// itself answered (unknown route, wrong method); answers on authenticated
/// paths also carry the latest policy version. Each request runs in a span
/// with its request id (echoed as `x-request-id`), is logged and counted.
async fn stamp(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let id = request_id(req.headers());
    let span = tracing::info_span!("request", request_id = %id);
    async move {
        let mut resp = next.run(req).await;
        if !resp.headers().contains_key(HEADER_SERVER_TIME) {
            resp = framework_error(resp);
        }
        if is_authenticated_path(&path) && !resp.headers().contains_key(HEADER_POLICY_VERSION) {
            let version = blocking(&state, |s| {
                Ok(s.store.read(|tx| tx.policies().latest_policy_version())?)
            })
            .await;
            if let Ok(v) = version {
                resp.headers_mut()
                    .insert(HEADER_POLICY_VERSION, HeaderValue::from(v));
            }
        }
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut()
                .insert(HeaderName::from_static(HEADER_REQUEST_ID), v);
        }
        let route = route_label(&path);
        let status = resp.status().as_u16();
        let took = started.elapsed();
        ::metrics::counter!(metrics::HTTP_REQUESTS, "route" => route, "status" => status.to_string())
            .increment(1);
        ::metrics::histogram!(metrics::HTTP_SECONDS, "route" => route).record(took.as_secs_f64());
        tracing::info!(
            %method,
            %path,
            status,
            ms = took.as_millis() as u64,
            "request"
        );
        resp
    }
    .instrument(span)
    .await
}

fn framework_error(resp: Response) -> Response {
    let status = resp.status();
    let allow = resp.headers().get(header::ALLOW).cloned();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(status, ErrorCode::PayloadTooLarge, "request body too large")
        }
        StatusCode::NOT_FOUND => ApiError::new(status, ErrorCode::BadRequest, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            ErrorCode::BadRequest,
            "method not allowed on this route",
        ),
        StatusCode::REQUEST_TIMEOUT => {
            ApiError::new(status, ErrorCode::Timeout, "request not received in time")
        }
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
    (PUT $path:expr => $handler:expr) => {
        (Method::PUT, $path, axum::routing::put($handler))
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
        route!(POST PATH_EVIDENCE_REVEAL => reveal_handler),
        route!(POST PATH_DATA_KEY => data_key_handler),
        route!(GET PATH_EXPORT => export_handler),
        route!(POST pin_wire::PATH_PIN_CODE => crate::pin::http::code_handler),
        route!(POST pin_wire::PATH_PIN_CODE_REDEEM => crate::pin::http::redeem_handler),
        route!(POST pin_wire::PATH_PIN_SELF_SERVICE => crate::pin::http::self_service_handler),
        route!(POST pin_wire::PATH_PIN_ADMIN_RESET => crate::pin::http::admin_reset_handler),
        route!(GET wire::PATH_REQUESTS => requests_handler),
        route!(PUT PATH_ATTACHMENT => attachment_handler),
        route!(GET PATH_HEALTHZ => healthz_handler),
        route!(GET PATH_READYZ => readyz_handler),
        route!(GET PATH_METRICS => metrics_handler),
    ]
}

/// Every (method, path) the router serves (GET also answers HEAD).
pub fn routes() -> Vec<(Method, &'static str)> {
    route_table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

/// The device API plus `extra` routes (the admin API and the reviewer page,
/// composed in `crate::app`), under the same stamping and logging.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in route_table() {
        router = router.route(path, handler);
    }
    router
        .merge(extra)
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(state.clone(), stamp))
        .with_state(state)
}
