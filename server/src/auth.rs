//! Device-authenticated requests: each request is signed with the device key
//! over method, path, body hash, timestamp and nonce (no bearer token to
//! steal). Timestamps must be near server time and nonces are single-use.

use axum::http::HeaderMap;
use punch_model::ledger::signing;
use punch_model::wire::{
    self, HEADER_DEVICE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, REQUEST_MAX_SKEW_MS,
};

use crate::error::Result;
use crate::store::{DeviceInfo, StoreTx};

const MAX_NONCE_LEN: usize = 128;
const MIN_NONCE_LEN: usize = 8;

/// The authentication headers of a request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub device_id: String,
    pub timestamp_ms: i64,
    pub nonce: String,
    pub signature: Vec<u8>,
}

/// Why a request is not authenticated; each maps to one wire error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// Headers missing or malformed.
    Malformed(String),
    UnknownDevice,
    DeviceUnbound,
    BadSignature,
    StaleTimestamp {
        timestamp_ms: i64,
    },
    ReplayedNonce,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, AuthFailure> {
    let value = headers
        .get(name)
        .ok_or_else(|| AuthFailure::Malformed(format!("missing header {name}")))?;
    value
        .to_str()
        .map_err(|_| AuthFailure::Malformed(format!("header {name} is not visible ASCII")))
}

pub fn parse_headers(headers: &HeaderMap) -> Result<SignedHeaders, AuthFailure> {
    let device_id = header(headers, HEADER_DEVICE)?.trim().to_string();
    let timestamp_ms = header(headers, HEADER_TIMESTAMP)?
        .trim()
        .parse::<i64>()
        .map_err(|_| {
            AuthFailure::Malformed(format!("{HEADER_TIMESTAMP} must be integer milliseconds"))
        })?;
    let nonce = header(headers, HEADER_NONCE)?.trim().to_string();
    if nonce.len() < MIN_NONCE_LEN
        || nonce.len() > MAX_NONCE_LEN
        || !nonce.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AuthFailure::Malformed(format!(
            "{HEADER_NONCE} must be {MIN_NONCE_LEN}-{MAX_NONCE_LEN} visible ASCII characters"
        )));
    }
    let signature = wire::b64::decode(header(headers, HEADER_SIGNATURE)?.trim())
        .map_err(|_| AuthFailure::Malformed(format!("{HEADER_SIGNATURE} is not base64")))?;
    Ok(SignedHeaders {
        device_id,
        timestamp_ms,
        nonce,
        signature,
    })
}

/// Authenticates a request and spends its nonce (one write transaction).
/// The signature is checked before anything about the device is revealed
/// beyond its existence.
pub fn authenticate(
    tx: &dyn StoreTx,
    signed: &SignedHeaders,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<Result<DeviceInfo, AuthFailure>> {
    let Some(device) = tx.device(&signed.device_id)? else {
        return Ok(Err(AuthFailure::UnknownDevice));
    };
    if let Err(failure) = check_signature(&device, signed, method, path, body) {
        return Ok(Err(failure));
    }
    admit(tx, signed, now_ms)
}

/// The expensive half (body hash, ECDSA): needs no lock, so the server runs
/// it before taking the write lock, and junk requests cannot serialise it.
pub fn check_signature(
    device: &DeviceInfo,
    signed: &SignedHeaders,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(), AuthFailure> {
    check_signature_with(&device.public_key, signed, method, path, body)
}

/// The same check with a key that is not enrolled yet: at enrollment the
/// device proves it holds the private half of the key it asks to bind.
pub fn check_signature_with(
    public_key: &[u8],
    signed: &SignedHeaders,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(), AuthFailure> {
    let message =
        wire::request_signing_string(method, path, body, signed.timestamp_ms, &signed.nonce);
    signing::verify(public_key, &message, &signed.signature).map_err(|_| AuthFailure::BadSignature)
}

/// Whether a signed timestamp is within the window around server time.
pub fn fresh(signed: &SignedHeaders, now_ms: i64) -> Result<(), AuthFailure> {
    if signed.timestamp_ms.abs_diff(now_ms) > REQUEST_MAX_SKEW_MS.unsigned_abs() {
        return Err(AuthFailure::StaleTimestamp {
            timestamp_ms: signed.timestamp_ms,
        });
    }
    Ok(())
}

/// The cheap half, inside the write transaction: binding (re-read, it may
/// have changed), timestamp window and single-use nonce.
pub fn admit(
    tx: &dyn StoreTx,
    signed: &SignedHeaders,
    now_ms: i64,
) -> Result<Result<DeviceInfo, AuthFailure>> {
    let Some(device) = tx.device(&signed.device_id)? else {
        return Ok(Err(AuthFailure::UnknownDevice));
    };
    if !device.is_bound() {
        return Ok(Err(AuthFailure::DeviceUnbound));
    }
    if let Err(stale) = fresh(signed, now_ms) {
        return Ok(Err(stale));
    }
    // A request stamped before this is stale anyway, so its nonce can go:
    // the signature binds the timestamp, a replay cannot change it.
    tx.prune_nonces(now_ms.saturating_sub(REQUEST_MAX_SKEW_MS))?;
    if !tx.insert_nonce(&device.device_id, &signed.nonce, signed.timestamp_ms)? {
        return Ok(Err(AuthFailure::ReplayedNonce));
    }
    Ok(Ok(device))
}
