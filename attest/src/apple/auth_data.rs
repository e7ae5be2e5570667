//! WebAuthn authenticator data as App Attest fills it, and the COSE credential key inside.
//!
//! Layout: rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian) ‖ aaguid (16) ‖
//! credentialIdLength (2) ‖ credentialId ‖ credentialPublicKey (COSE_Key, CBOR).

use ciborium::Value;

use crate::apple::object::decode_cbor;
use crate::error::Refusal;

/// Flag: attested credential data present.
const FLAG_AT: u8 = 0x40;
/// Flag: extension data present.
const FLAG_ED: u8 = 0x80;
/// Longest credential id accepted (App Attest's is 32).
const MAX_CREDENTIAL_ID: usize = 1023;

/// Parsed authenticator data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthData {
    /// SHA-256 of the app id (team id + "." + bundle id).
    pub rp_id_hash: [u8; 32],
    /// Flags byte.
    pub flags: u8,
    /// Sign counter; 0 in an attestation.
    pub counter: u32,
    /// Environment marker: `appattest` + 7 zero bytes, or `appattestdevelop`.
    pub aaguid: [u8; 16],
    /// Credential id: SHA-256 of the credential public key (the key id).
    pub credential_id: Vec<u8>,
    /// The credential public key, uncompressed P-256 point (0x04 ‖ x ‖ y).
    pub credential_public_key: [u8; 65],
}

fn malformed(detail: impl Into<String>) -> Refusal {
    Refusal::MalformedObject {
        detail: format!("authData: {}", detail.into()),
    }
}

fn take<'a>(input: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], Refusal> {
    if input.len() < n {
        return Err(malformed(format!("too short for {what}")));
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

/// Parse authenticator data that carries attested credential data.
pub fn parse_auth_data(bytes: &[u8]) -> Result<AuthData, Refusal> {
    let mut rest = bytes;
    let mut rp_id_hash = [0u8; 32];
    rp_id_hash.copy_from_slice(take(&mut rest, 32, "rpIdHash")?);
    let flags = take(&mut rest, 1, "flags")?[0];
    let mut counter = [0u8; 4];
    counter.copy_from_slice(take(&mut rest, 4, "signCount")?);
    let counter = u32::from_be_bytes(counter);
    if flags & FLAG_AT == 0 {
        return Err(malformed("no attested credential data (AT flag clear)"));
    }
    if flags & FLAG_ED != 0 {
        return Err(malformed("unexpected extension data (ED flag set)"));
    }
    let mut aaguid = [0u8; 16];
    aaguid.copy_from_slice(take(&mut rest, 16, "aaguid")?);
    let len = take(&mut rest, 2, "credentialIdLength")?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if len > MAX_CREDENTIAL_ID {
        return Err(malformed(format!("credential id of {len} bytes")));
    }
    let credential_id = take(&mut rest, len, "credentialId")?.to_vec();
    let (cose, used) = decode_cbor(rest, "credentialPublicKey")?;
    if used != rest.len() {
        return Err(malformed("trailing bytes after the credential public key"));
    }
    Ok(AuthData {
        rp_id_hash,
        flags,
        counter,
        aaguid,
        credential_id,
        credential_public_key: cose_p256_point(&cose)?,
    })
}

fn int_key(map: &[(Value, Value)], key: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| {
            k.as_integer()
                .is_some_and(|i| i128::from(i) == i128::from(key))
        })
        .map(|(_, v)| v)
}

/// The uncompressed point of a COSE EC2 P-256 ES256 key (RFC 9053: kty 2, alg -7, crv 1).
fn cose_p256_point(cose: &Value) -> Result<[u8; 65], Refusal> {
    let Some(map) = cose.as_map() else {
        return Err(malformed("credential public key is not a COSE map"));
    };
    let is = |k: i64, want: i64| {
        int_key(map, k)
            .and_then(Value::as_integer)
            .is_some_and(|i| i128::from(i) == i128::from(want))
    };
    if !(is(1, 2) && is(3, -7) && is(-1, 1)) {
        return Err(malformed(
            "credential public key is not an EC2 P-256 ES256 key",
        ));
    }
    let coord = |k: i64| -> Result<&Vec<u8>, Refusal> {
        int_key(map, k)
            .and_then(Value::as_bytes)
            .filter(|b| b.len() == 32)
            .ok_or_else(|| malformed("credential public key coordinate is not 32 bytes"))
    };
    let (x, y) = (coord(-2)?, coord(-3)?);
    let mut point = [0u8; 65];
    point[0] = 4;
    point[1..33].copy_from_slice(x);
    point[33..].copy_from_slice(y);
    Ok(point)
}
