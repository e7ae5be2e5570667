//! Punching from a computer: the employee page at `/punch/` and its JSON
//! routes. An employee registers a passkey once with an enrollment code (it
//! becomes a device of terminal `browser`, its chain kept by the server),
//! then each punch is a WebAuthn assertion over a challenge that commits to
//! the punch's content (`passkey`), judged by the phone's rules on the
//! address the server sees and the browser's geolocation, and kept as the
//! policy's minimisation keeps a phone's (`ceremony`). Refused punches are
//! kept as evidence (`refusal`); HR lists and revokes passkeys (`revoke`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use punch_model::messages::{self, Locale, Message};
use punch_model::rules::evaluate::Decision;
use punch_model::rules::punch_kind::PunchKind;
use punch_model::wire::ErrorCode;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Webauthn,
};

use crate::api::common::parse_json;
use crate::api::{ApiError, AppState, PeerAddr};
use crate::api::{blocking, ok_json};
use crate::clock::now_ms;
use crate::error::ServerError;
use crate::store::StoreExt;

mod ceremony;
mod page;
pub mod passkey;
pub mod refusal;
pub mod revoke;

pub use ceremony::PASSKEY_ASSURANCE;

pub const PATH_REGISTER_OPTIONS: &str = "/browser/v1/register/options";
pub const PATH_REGISTER: &str = "/browser/v1/register";
pub const PATH_PUNCH_OPTIONS: &str = "/browser/v1/punch/options";
pub const PATH_PUNCH: &str = "/browser/v1/punch";
/// The `devices.platform` of a passkey.
pub const PLATFORM: &str = "browser";
/// Passkey answers are a few kilobytes.
const MAX_BODY: usize = 64 << 10;

/// `origin`, or `http://localhost:<port>` (browsers treat localhost as a
/// secure context, so passkeys work there without TLS).
pub fn origin_or_localhost(origin: Option<Url>, port: u16) -> crate::error::Result<Url> {
    match origin {
        Some(origin) => Ok(origin),
        None => Url::parse(&format!("http://localhost:{port}"))
            .map_err(|e| ServerError::Config(e.to_string())),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterOptionsRequest {
    code: String,
}

#[derive(Debug, Serialize)]
struct RegisterOptionsResponse {
    ceremony: String,
    employee_id: String,
    options: CreationChallengeResponse,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

#[derive(Debug, Serialize)]
struct RegisterResponse {
    employee_id: String,
    device_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PunchOptionsRequest {
    employee_id: String,
    device_id: String,
    kind: PunchKind,
    client_time_ms: i64,
    #[serde(default)]
    utc_offset_min: i32,
    #[serde(default)]
    location: Option<passkey::BrowserFix>,
}

#[derive(Debug, Serialize)]
struct PunchOptionsResponse {
    ceremony: String,
    /// The content the challenge commits to (what the employee confirms).
    content: passkey::PunchContent,
    options: RequestChallengeResponse,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PunchRequest {
    ceremony: String,
    credential: PublicKeyCredential,
}

#[derive(Debug, Serialize)]
struct PunchResponse {
    decision: Decision,
    site_id: Option<String>,
    terminal: &'static str,
    assurance: &'static str,
    reasons: Vec<String>,
    messages: Vec<Message>,
    /// Where the record is stored (absent when refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    punch_id: Option<String>,
}

fn relying_party(state: &AppState) -> Result<Webauthn, ApiError> {
    let origin = state
        .public_origin
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("browser punching is not configured"))?;
    Ok(passkey::relying_party(origin)?)
}

fn refused(refusal: passkey::Refused) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorCode::BadRequest, refusal.0)
        .with_reason("passkey_refused")
}

fn locale(headers: &HeaderMap) -> Locale {
    // The admin API's reading: `q` weights, `q=0` excluded.
    crate::admin_api::locale::from_headers(headers)
}

async fn register_options(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Some(limited) = crate::api::limit_code_guessing(&state, peer, &body).await? {
        return Ok(limited);
    }
    let req: RegisterOptionsRequest = parse_json(&body, "registration options request")?;
    let rp = relying_party(&state)?;
    let (answer, now) = blocking(&state, move |s| {
        let now = now_ms();
        let answer = s
            .store
            .write(|tx| ceremony::start_registration(tx, &rp, &req.code, now))?;
        Ok((answer, now))
    })
    .await?;
    let (ceremony, employee_id, options) = answer
        .map_err(|r| ApiError::new(StatusCode::FORBIDDEN, ErrorCode::EnrollmentCodeInvalid, r.0))?;
    Ok(ok_json(
        &RegisterOptionsResponse {
            ceremony,
            employee_id,
            options,
        },
        now,
        None,
    ))
}

async fn register(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: RegisterRequest = parse_json(&body, "registration")?;
    let rp = relying_party(&state)?;
    let (answer, now) = blocking(&state, move |s| {
        let now = now_ms();
        let answer = s.store.write(|tx| {
            ceremony::finish_registration(tx, &rp, &req.ceremony, &req.credential, now)
        })?;
        Ok((answer, now))
    })
    .await?;
    let (employee_id, device_id) = answer.map_err(refused)?;
    tracing::info!(%employee_id, %device_id, "passkey registered");
    Ok(ok_json(
        &RegisterResponse {
            employee_id,
            device_id,
        },
        now,
        None,
    ))
}

async fn punch_options(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: PunchOptionsRequest = parse_json(&body, "punch options request")?;
    if let Some(fix) = &req.location {
        let check = punch_model::rules::evidence::Evidence {
            gps: Some(fix.gps(req.client_time_ms)),
            ..Default::default()
        };
        check
            .validate()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    if !punch_model::rules::evidence::PLAUSIBLE_TIME_MS.contains(&req.client_time_ms)
        || req.utc_offset_min.abs() > 18 * 60
    {
        return Err(ApiError::bad_request(
            "client time or UTC offset out of range",
        ));
    }
    let content = passkey::PunchContent {
        employee_id: req.employee_id,
        device_id: req.device_id,
        kind: req.kind,
        client_time_ms: req.client_time_ms,
        utc_offset_min: req.utc_offset_min,
        // Stamped, so the record says all the content says.
        location: req.location.map(|fix| passkey::BrowserFix {
            fix_time_ms: Some(fix.fix_time_ms.unwrap_or(req.client_time_ms)),
            ..fix
        }),
        location_salt: match req.location {
            Some(_) => Some(hex::encode(crate::attestation::new_challenge()?)),
            None => None,
        },
    };
    let rp = relying_party(&state)?;
    let (answer, content, now) = blocking(&state, move |s| {
        let now = now_ms();
        let answer = s
            .store
            .write(|tx| ceremony::start_punch(tx, &rp, &content, now))?;
        Ok((answer, content, now))
    })
    .await?;
    let (ceremony, options) = answer.map_err(refused)?;
    Ok(ok_json(
        &PunchOptionsResponse {
            ceremony,
            content,
            options,
        },
        now,
        None,
    ))
}

async fn punch(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: PunchRequest = parse_json(&body, "punch")?;
    let Some(Extension(PeerAddr(client))) = peer else {
        return Err(ApiError::bad_request("the client address is unknown"));
    };
    let rp = relying_party(&state)?;
    let (answer, now) = blocking(&state, move |s| {
        let now = now_ms();
        let answer = s.store.write(|tx| {
            ceremony::finish_punch(
                tx,
                s,
                &rp,
                &req.ceremony,
                req.credential.clone(),
                client.ip(),
                now,
            )
        })?;
        Ok((answer, now))
    })
    .await?;
    let judged = answer.map_err(refused)?;
    let (device_id, seq, punch_id) = match judged.stored {
        Some((d, s, p)) => (Some(d), Some(s), Some(p)),
        None => (None, None, None),
    };
    let e = judged.evaluation;
    Ok(ok_json(
        &PunchResponse {
            decision: e.decision,
            site_id: e.site_id.clone(),
            terminal: "browser",
            assurance: PASSKEY_ASSURANCE.as_str(),
            messages: messages::evaluation_messages(&e, locale(&headers)),
            reasons: e.reasons,
            device_id,
            seq,
            punch_id,
        },
        now,
        None,
    ))
}

/// A browser device's chain report with the signature breaks its stored
/// assertions settle removed: a browser record is signed by its passkey's
/// WebAuthn assertion over the content (`passkey::verify_record`), not a
/// DER signature over its bytes. Links and hashes stay checked by the walk.
pub fn settle_signatures(
    mut report: punch_model::ledger::chain::ChainReport,
    rows: &[crate::store::ChainRow],
) -> punch_model::ledger::chain::ChainReport {
    use punch_model::ledger::chain::ChainProblem;
    report.breaks.retain(|b| {
        let settled = b.problem == ChainProblem::BadSignature
            && rows.iter().any(|row| {
                row.seq == b.seq && passkey::verify_record(&row.record, &row.signature).is_ok()
            });
        !settled
    });
    report
}

pub fn routes() -> Vec<(Method, &'static str)> {
    let mut all = page::routes();
    all.extend([
        (Method::POST, PATH_REGISTER_OPTIONS),
        (Method::POST, PATH_REGISTER),
        (Method::POST, PATH_PUNCH_OPTIONS),
        (Method::POST, PATH_PUNCH),
    ]);
    all
}

pub fn router() -> Router<AppState> {
    page::router().merge(
        Router::new()
            .route(PATH_REGISTER_OPTIONS, post(register_options))
            .route(PATH_REGISTER, post(register))
            .route(PATH_PUNCH_OPTIONS, post(punch_options))
            .route(PATH_PUNCH, post(punch))
            .layer(DefaultBodyLimit::max(MAX_BODY)),
    )
}
