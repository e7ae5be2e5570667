//! The device routes' preamble as extractors, so each handler says only
//! what it does. The order is the one every route keeps: the body within
//! the route's limit (and the budget), then the request signature and its
//! nonce (`common::authenticate`), then the body's JSON.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use punch_model::pin::wire::{PinCodeRedeem, PinSelfService};
use punch_model::wire::privacy::{DataKeyRequest, RevealRequest};
use punch_model::wire::{self, EnrollChallengeRequest, EnrollRequest, UploadRequest};
use serde::de::DeserializeOwned;

use super::common::{ApiError, AppState, authenticate, parse_json, read_body};
use crate::limits::Limits;
use crate::limits::body::BodyPermit;
use crate::store::DeviceInfo;

/// How large a route's body may be: uploads (punches, attachments) and
/// enrollment have their own limits, every other route the small one.
fn body_limit(limits: &Limits, path: &str) -> usize {
    if path == wire::PATH_PUNCHES || path.starts_with(wire::PATH_ATTACHMENTS) {
        limits.upload_body_bytes
    } else if path == wire::PATH_ENROLL {
        limits.enroll_body_bytes
    } else {
        limits.get_body_bytes
    }
}

/// Reads the body within its route's limit (`common::read_body`).
async fn bounded(
    state: &AppState,
    parts: &Parts,
    body: Body,
) -> Result<(Bytes, BodyPermit), ApiError> {
    let limit = body_limit(&state.limits, parts.uri.path());
    read_body(state, &parts.uri, &parts.headers, body, limit).await
}

/// The body, read within the route's limit, the body timeout and the
/// budget; its bytes stay counted while this lives (until the answer).
pub(crate) struct BoundedBody {
    pub bytes: Bytes,
    _permit: BodyPermit,
}

impl FromRequest<AppState> for BoundedBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let (bytes, permit) = bounded(state, &parts, body).await?;
        Ok(BoundedBody {
            bytes,
            _permit: permit,
        })
    }
}

/// A bounded body signed by an enrolled, bound device, its nonce spent.
pub(crate) struct DeviceRequest {
    pub device: DeviceInfo,
    pub body: Bytes,
    _permit: BodyPermit,
}

impl FromRequest<AppState> for DeviceRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let (body, permit) = bounded(state, &parts, body).await?;
        let device = authenticate(state, &parts.method, &parts.uri, &parts.headers, &body).await?;
        Ok(DeviceRequest {
            device,
            body,
            _permit: permit,
        })
    }
}

/// A JSON request body, named in the answer when it does not parse.
pub(crate) trait WireRequest: DeserializeOwned {
    /// "malformed {WHAT} JSON".
    const WHAT: &'static str;
}

impl WireRequest for RevealRequest {
    const WHAT: &'static str = "reveal request";
}
impl WireRequest for DataKeyRequest {
    const WHAT: &'static str = "data key request";
}
impl WireRequest for PinCodeRedeem {
    const WHAT: &'static str = "PIN code";
}
impl WireRequest for PinSelfService {
    const WHAT: &'static str = "self-service";
}
impl WireRequest for EnrollRequest {
    const WHAT: &'static str = "enroll request";
}
impl WireRequest for UploadRequest {
    const WHAT: &'static str = "upload request";
}
impl WireRequest for EnrollChallengeRequest {
    const WHAT: &'static str = "challenge request";
}

/// A [`DeviceRequest`] whose body is parsed as `T`.
pub(crate) struct SignedRequest<T> {
    pub device: DeviceInfo,
    pub body: T,
    _permit: BodyPermit,
}

impl<T: WireRequest> FromRequest<AppState> for SignedRequest<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let DeviceRequest {
            device,
            body,
            _permit,
        } = DeviceRequest::from_request(req, state).await?;
        Ok(SignedRequest {
            device,
            body: parse_json(&body, T::WHAT)?,
            _permit,
        })
    }
}

/// Parses a body read by [`BoundedBody`] or [`DeviceRequest`] as `T` (for
/// routes that check something else before the JSON).
pub(crate) fn parse<T: WireRequest>(body: &[u8]) -> Result<T, ApiError> {
    parse_json(body, T::WHAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_reads_within_its_own_limit() {
        let limits = Limits {
            upload_body_bytes: 3,
            enroll_body_bytes: 2,
            get_body_bytes: 1,
            ..Limits::default()
        };
        let attachment = format!("{}/{}", wire::PATH_ATTACHMENTS, "ab".repeat(32));
        assert_eq!(body_limit(&limits, wire::PATH_PUNCHES), 3);
        assert_eq!(body_limit(&limits, &attachment), 3);
        assert_eq!(body_limit(&limits, wire::PATH_ENROLL), 2);
        assert_eq!(body_limit(&limits, wire::PATH_ENROLL_CHALLENGE), 1);
        assert_eq!(body_limit(&limits, wire::PATH_TIME), 1);
    }
}
