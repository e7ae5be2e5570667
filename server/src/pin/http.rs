//! The PIN reset routes. Each is device-authenticated (the device is bound
//! to the employee whose PIN it resets) and counts a hit per employee, per
//! device and per address before any other work, whatever its outcome:
//! guessing a code or a secret costs attempts every server shares.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use punch_model::pin::SignedResetToken;
use punch_model::pin::wire::{PinCodeRedeem, PinResetGranted, PinSelfService};
use punch_model::wire::ErrorCode;

use super::reset::{self, PinRefusal};
use crate::api::common::{ApiError, AppState, PeerAddr, blocking, ok_json, rate_limited};
use crate::api::extract::{self, DeviceRequest};
use crate::clock::now_ms;
use crate::limits::rate::{self, Bucket};
use crate::store::{DeviceInfo, StoreExt};

fn refusal(r: PinRefusal) -> ApiError {
    match r {
        PinRefusal::Unavailable(m) => {
            ApiError::new(StatusCode::CONFLICT, ErrorCode::PinResetUnavailable, m)
        }
        PinRefusal::CodeInvalid(why) => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::PinCodeInvalid,
            format!(
                "the reset code is wrong, expired, already used or replaced by a newer one ({why})"
            ),
        )
        .with_reason(why),
        PinRefusal::IdentityInvalid => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::PinIdentityInvalid,
            "the employee number or the identity data does not match",
        ),
        PinRefusal::NoAdminReset => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::PinNoAdminReset,
            "no PIN reset was ordered for this employee",
        ),
    }
}

/// Counts one PIN request against its employee, device and address; a
/// limited request gets the answer to send instead.
async fn limit(
    state: &AppState,
    peer: Option<Extension<PeerAddr>>,
    device: &DeviceInfo,
) -> Result<Option<Response>, ApiError> {
    let ip = peer.map_or_else(
        || "unknown".to_string(),
        |Extension(PeerAddr(a))| a.ip().to_string(),
    );
    let (employee, device_id) = (device.employee_id.clone(), device.device_id.clone());
    let limited = blocking(state, move |s| {
        let hits = [
            (Bucket::PinResetEmployee, employee.as_str()),
            (Bucket::PinResetDevice, device_id.as_str()),
            (Bucket::PinResetIp, ip.as_str()),
        ];
        let now = now_ms();
        Ok(s.store.write(|tx| rate::hit(tx, &s.limits, &hits, now))?)
    })
    .await?;
    Ok(limited.map(|l| {
        tracing::warn!(employee_id = %device.employee_id, bucket = ?l.bucket, "PIN reset rate limited");
        rate_limited(l)
    }))
}

fn granted(token: SignedResetToken) -> Response {
    let now = now_ms();
    ok_json(
        &PinResetGranted {
            token,
            server_time_ms: now,
        },
        now,
        None,
    )
}

/// `POST /v1/pin/code`: sends a code to the bound phone or e-mail.
pub(crate) async fn code_handler(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    DeviceRequest { device, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    if let Some(limited) = limit(&state, peer, &device).await? {
        return Ok(limited);
    }
    // No sender configured: refused before a code exists (never logged).
    if !state.pin_sender.ready() {
        return Err(ApiError::unavailable(
            "reset codes cannot be sent: no sender is configured on this server",
        )
        .with_reason("no_code_sender"));
    }
    let outcome = blocking(&state, move |s| {
        let now = now_ms();
        let outcome = s.store.write(|tx| reset::request_code(tx, &device, now))?;
        let Ok((sent, message)) = outcome else {
            return Ok(outcome.map(|(sent, _)| sent));
        };
        // After the commit: a code that was never stored is never sent.
        s.pin_sender.send(&message).map_err(|e| {
            tracing::error!(error = %e, "PIN reset code not delivered");
            ApiError::unavailable("the reset code could not be delivered; try again later")
        })?;
        Ok(Ok(sent))
    })
    .await?;
    match outcome {
        Ok(sent) => {
            let now = now_ms();
            Ok(ok_json(&sent, now, None))
        }
        Err(r) => Err(refusal(r)),
    }
}

/// `POST /v1/pin/code/redeem`: the code for a reset token.
pub(crate) async fn redeem_handler(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    DeviceRequest { device, body, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    if let Some(limited) = limit(&state, peer, &device).await? {
        return Ok(limited);
    }
    let req: PinCodeRedeem = extract::parse(&body)?;
    let outcome = blocking(&state, move |s| {
        let now = now_ms();
        Ok(s.store
            .write(|tx| reset::redeem_code(tx, &device, &req.code, now))?)
    })
    .await?;
    outcome.map(granted).map_err(refusal)
}

/// `POST /v1/pin/self-service`: identity data for a reset token.
pub(crate) async fn self_service_handler(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    DeviceRequest { device, body, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    if let Some(limited) = limit(&state, peer, &device).await? {
        return Ok(limited);
    }
    let req: PinSelfService = extract::parse(&body)?;
    let outcome = blocking(&state, move |s| {
        let now = now_ms();
        Ok(s.store
            .write(|tx| reset::self_service(tx, &device, &req.employee_number, &req.secret, now))?)
    })
    .await?;
    outcome.map(granted).map_err(refusal)
}

/// `POST /v1/pin/admin-reset`: the token for a reset an admin ordered.
pub(crate) async fn admin_reset_handler(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    DeviceRequest { device, .. }: DeviceRequest,
) -> Result<Response, ApiError> {
    if let Some(limited) = limit(&state, peer, &device).await? {
        return Ok(limited);
    }
    let outcome = blocking(&state, move |s| {
        let now = now_ms();
        Ok(s.store
            .write(|tx| reset::fetch_admin_reset(tx, &device, now))?)
    })
    .await?;
    outcome.map(granted).map_err(refusal)
}
