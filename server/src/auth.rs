//! Device-authenticated requests: each request is signed with the device's
//! channel key (its one key if enrolled before the two keys) over method,
//! path, body hash, timestamp and nonce (no bearer token to steal). Timestamps must be near server time and nonces are single-use.

use axum::http::HeaderMap;
use punch_model::ledger::signing;
use punch_model::wire::{
    self, HEADER_DEVICE, HEADER_HEAD, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP,
    HeadStatement, MAX_SEQ, REQUEST_MAX_SKEW_MS,
};

use crate::error::Result;
use crate::heads;
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
    /// The device's signed statement of its chain head (every request the
    /// engine sends has one; an older client's requests have none).
    pub head: Option<HeadStatement>,
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
    let head = match headers.get(HEADER_HEAD) {
        None => None,
        Some(_) => Some(
            HeadStatement::parse(header(headers, HEADER_HEAD)?).ok_or_else(|| {
                AuthFailure::Malformed(format!("{HEADER_HEAD} must be SEQ:64-hex-sha256"))
            })?,
        ),
    };
    if let Some(head) = &head
        && head.seq > MAX_SEQ
    {
        return Err(AuthFailure::Malformed(format!(
            "{HEADER_HEAD} states seq {}, above {MAX_SEQ}, the highest a server keeps",
            head.seq
        )));
    }
    Ok(SignedHeaders {
        device_id,
        timestamp_ms,
        nonce,
        signature,
        head,
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
    let Some(device) = tx.devices().device(&signed.device_id)? else {
        return Ok(Err(AuthFailure::UnknownDevice));
    };
    if let Err(failure) = check_signature(&device, signed, method, path, body) {
        return Ok(Err(failure));
    }
    admit(
        tx,
        signed,
        &signing_bytes(signed, method, path, body),
        now_ms,
    )
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
    check_signature_with(device.channel_key(), signed, method, path, body)
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
    let message = signing_bytes(signed, method, path, body);
    signing::verify(public_key, &message, &signed.signature).map_err(|_| AuthFailure::BadSignature)
}

/// A signature check that cannot succeed, costing what a real one costs
/// (for requests naming a device that does not exist).
pub fn verify_against_nothing(signed: &SignedHeaders, method: &str, path: &str, body: &[u8]) {
    /// A valid P-256 point no device holds the key of (the generator, G).
    const UNUSED_KEY: [u8; 65] = [
        0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4,
        0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8,
        0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a,
        0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40,
        0x68, 0x37, 0xbf, 0x51, 0xf5,
    ];
    let message = signing_bytes(signed, method, path, body);
    let _ = signing::verify(&UNUSED_KEY, &message, &signed.signature);
}

/// The exact bytes the device signed for this request.
pub fn signing_bytes(signed: &SignedHeaders, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    wire::request_signing_string(
        method,
        path,
        body,
        signed.timestamp_ms,
        &signed.nonce,
        signed.head.as_ref(),
    )
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
/// have changed), timestamp window, single-use nonce, and the head the
/// device stated (`signed_bytes`: what it signed, kept if it is evidence).
pub fn admit(
    tx: &dyn StoreTx,
    signed: &SignedHeaders,
    signed_bytes: &[u8],
    now_ms: i64,
) -> Result<Result<DeviceInfo, AuthFailure>> {
    let Some(device) = tx.devices().device(&signed.device_id)? else {
        return Ok(Err(AuthFailure::UnknownDevice));
    };
    if !device.is_bound() {
        return Ok(Err(AuthFailure::DeviceUnbound));
    }
    if let Err(stale) = fresh(signed, now_ms) {
        return Ok(Err(stale));
    }
    // A request stamped before this is stale anyway, so its nonce can go:
    // the signature binds the timestamp, a replay cannot change it. Judged
    // by the database's clock, the same for every server on it.
    tx.devices().prune_nonces(REQUEST_MAX_SKEW_MS)?;
    if !tx
        .devices()
        .insert_nonce(&device.device_id, &signed.nonce, signed.timestamp_ms)?
    {
        return Ok(Err(AuthFailure::ReplayedNonce));
    }
    // Heard from: a terminal silent too long is a fault (`crate::faults`).
    tx.faults().touch_seen(&device.device_id, now_ms)?;
    if let Some(head) = &signed.head {
        heads::record_statement(tx, &device, head, signed_bytes, &signed.signature, now_ms)?;
    }
    Ok(Ok(device))
}
