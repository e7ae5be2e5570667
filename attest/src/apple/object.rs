//! The App Attest attestation object: CBOR `{fmt, attStmt: {x5c, receipt}, authData}`.

use ciborium::Value;

use crate::chain::MAX_CHAIN_LEN;
use crate::error::Refusal;

/// Largest attestation object accepted (Apple's sample is ~5.6 KiB, mostly the receipt).
pub const MAX_OBJECT: usize = 64 * 1024;
/// CBOR nesting allowed; the object's own depth is 3.
const MAX_CBOR_DEPTH: usize = 8;

/// The decoded attestation object, unverified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationObject {
    /// Statement format; must be `apple-appattest`.
    pub fmt: String,
    /// Certificate chain, credential certificate first (DER).
    pub x5c: Vec<Vec<u8>>,
    /// Apple's receipt (CMS), kept for a later fraud-metric exchange; not verified here.
    pub receipt: Vec<u8>,
    /// Authenticator data.
    pub auth_data: Vec<u8>,
}

fn malformed(detail: impl Into<String>) -> Refusal {
    Refusal::MalformedObject {
        detail: detail.into(),
    }
}

/// Decode CBOR with bounded size and depth, refusing trailing bytes.
pub(crate) fn decode_cbor(bytes: &[u8], what: &str) -> Result<(Value, usize), Refusal> {
    if bytes.len() > MAX_OBJECT {
        return Err(Refusal::InputTooLarge {
            what: "attestation object",
            len: bytes.len(),
            max: MAX_OBJECT,
        });
    }
    let mut reader = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_CBOR_DEPTH)
        .map_err(|e| malformed(format!("{what}: CBOR: {e}")))?;
    Ok((value, bytes.len() - reader.len()))
}

fn text_key<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

/// Parse an attestation object.
pub fn parse_attestation_object(bytes: &[u8]) -> Result<AttestationObject, Refusal> {
    let (value, used) = decode_cbor(bytes, "attestation object")?;
    if used != bytes.len() {
        return Err(malformed(format!(
            "{} trailing bytes after the CBOR map",
            bytes.len() - used
        )));
    }
    let Some(map) = value.as_map() else {
        return Err(malformed("top level is not a map"));
    };
    let fmt = match text_key(map, "fmt").and_then(Value::as_text) {
        Some(f) => f.to_string(),
        None => return Err(malformed("no text \"fmt\"")),
    };
    let auth_data = match text_key(map, "authData").and_then(Value::as_bytes) {
        Some(a) => a.clone(),
        None => return Err(malformed("no byte string \"authData\"")),
    };
    let Some(stmt) = text_key(map, "attStmt").and_then(Value::as_map) else {
        return Err(malformed("no map \"attStmt\""));
    };
    let Some(x5c) = text_key(stmt, "x5c").and_then(Value::as_array) else {
        return Err(malformed("no array \"attStmt.x5c\""));
    };
    if x5c.len() > MAX_CHAIN_LEN {
        return Err(Refusal::ChainTooLong {
            len: x5c.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    let x5c = x5c
        .iter()
        .map(|c| {
            c.as_bytes()
                .cloned()
                .ok_or_else(|| malformed("x5c entry is not bytes"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let receipt = text_key(stmt, "receipt")
        .and_then(Value::as_bytes)
        .cloned()
        .unwrap_or_default();
    Ok(AttestationObject {
        fmt,
        x5c,
        receipt,
        auth_data,
    })
}
