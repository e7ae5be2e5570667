//! How a stored column value looks, so that nothing a device sends can be
//! mistaken for something else:
//!
//! - sealed: `0x00 "PAR1" id_len id nonce ciphertext+tag` (AES-256-GCM);
//! - clear and beginning with 0x00 (a refused record, a file or a data key
//!   are the device's bytes): `0x00 "CLR1"` in front, written since
//!   issue 25 (bug 5) — a modified app could otherwise upload, before keys
//!   are configured, a clear value that reads as sealed once they are;
//! - any other clear value (JSON, most keys): as it is, so clear rows
//!   written before keys (or before this framing) stay readable.
//!
//! A value stored before that framing that begins with `0x00 "PAR1"` is
//! taken as sealed only if it parses whole as a sealed frame (a valid key
//! id, room for nonce, a byte and the tag); else it is clear.
//!
//! Text columns (event bodies, JSON the server writes) hold sealed bytes as
//! `sealed:PAR1:<base64>`; a clear body begins with `{`. The authenticated
//! context names the column and the row, so a sealed value copied into
//! another row does not open.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as b64;

use super::{AtRestError, AtRestKeys};

const MAGIC: &[u8] = b"\0PAR1";
/// In front of a clear value that begins with 0x00.
const CLEAR: &[u8] = b"\0CLR1";
/// Nonce, at least one byte (empty is never sealed), tag.
const MIN_SEALED_BODY: usize = 12 + 1 + 16;
const TEXT_PREFIX: &str = "sealed:PAR1:";

/// The column a value lives in and the row it belongs to: what it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot<'a> {
    /// A chain record's signed bytes, accepted punch or event alike (one
    /// chain per device, so (device, seq) names one of them).
    ChainRecord { device_id: &'a str, seq: u64 },
    /// An accepted event's body (JSON).
    EventBody { device_id: &'a str, seq: u64 },
    /// A refused record's bytes, by their hash (the same bytes refused
    /// twice, for two reasons, are one value).
    RejectedRecord { device_id: &'a str, hash: &'a str },
    /// A make-up request's file.
    Attachment { sha256: &'a str },
    /// A device's escrowed data key.
    DataKey { device_id: &'a str, key_id: &'a str },
    /// A server secret kept in `meta` (the policy signing key, MAC keys).
    Secret { name: &'a str },
    /// A staff member's TOTP seed.
    StaffTotp { username: &'a str },
}

impl Slot<'_> {
    fn context(&self) -> Vec<u8> {
        let inner = match self {
            Slot::ChainRecord { device_id, seq } => format!("chain_record|{device_id}|{seq}"),
            Slot::EventBody { device_id, seq } => format!("event_body|{device_id}|{seq}"),
            Slot::RejectedRecord { device_id, hash } => {
                format!("rejected_record|{device_id}|{hash}")
            }
            Slot::Attachment { sha256 } => format!("attachment|{sha256}"),
            Slot::DataKey { device_id, key_id } => format!("data_key|{device_id}|{key_id}"),
            Slot::Secret { name } => format!("secret|{name}"),
            Slot::StaffTotp { username } => format!("staff_totp|{username}"),
        };
        format!("punch-at-rest-v1|{inner}").into_bytes()
    }

    /// For error messages: which row, never its content.
    fn describe(&self) -> String {
        match self {
            Slot::ChainRecord { device_id, seq } => format!("record {device_id}/{seq}"),
            Slot::EventBody { device_id, seq } => format!("event body {device_id}/{seq}"),
            Slot::RejectedRecord { device_id, hash } => {
                format!("refused record {hash} of {device_id}")
            }
            Slot::Attachment { sha256 } => format!("attachment {sha256}"),
            Slot::DataKey { device_id, key_id } => format!("data key {key_id} of {device_id}"),
            Slot::Secret { name } => format!("server secret {name}"),
            Slot::StaffTotp { username } => format!("TOTP seed of {username}"),
        }
    }
}

/// What a stored value is, judged once for every reader.
enum Stored<'a> {
    Clear(&'a [u8]),
    Sealed { id: &'a str, body: &'a [u8] },
}

fn parse(stored: &[u8]) -> Stored<'_> {
    if let Some(framed) = stored.strip_prefix(CLEAR)
        && framed.first() == Some(&0)
    {
        return Stored::Clear(framed);
    }
    sealed_frame(stored).map_or(Stored::Clear(stored), |(id, body)| Stored::Sealed {
        id,
        body,
    })
}

/// The key id and sealed body, if `stored` parses whole as a sealed frame.
fn sealed_frame(stored: &[u8]) -> Option<(&str, &[u8])> {
    let rest = stored.strip_prefix(MAGIC)?;
    let (&len, rest) = rest.split_first()?;
    let (id, body) = rest.split_at_checked(usize::from(len))?;
    let id = std::str::from_utf8(id).ok()?;
    (super::keys::valid_id(id) && body.len() >= MIN_SEALED_BODY).then_some((id, body))
}

/// Whether `stored` is sealed, and under which key id.
pub fn sealed_with(stored: &[u8]) -> Option<&str> {
    match parse(stored) {
        Stored::Sealed { id, .. } => Some(id),
        Stored::Clear(_) => None,
    }
}

/// How a clear value is stored (no keys configured): as it is, or framed
/// when it begins with 0x00 and could otherwise pass for a frame.
pub fn keep_clear(plain: &[u8]) -> Vec<u8> {
    if plain.first() == Some(&0) {
        [CLEAR, plain].concat()
    } else {
        plain.to_vec()
    }
}

/// The clear value when no keys are configured: a framed one unframed,
/// anything else as it is (a sealed frame cannot be here: a database once
/// opened with keys does not open without them, so it is a clear value
/// stored before framing that only looks sealed).
pub fn open_clear(stored: Vec<u8>) -> Vec<u8> {
    match parse(&stored) {
        Stored::Clear(plain) if plain.len() != stored.len() => plain.to_vec(),
        _ => stored,
    }
}

/// Seals `plain` under the sealing key. Empty stays empty: retention
/// empties purged values and that must still read as purged.
pub fn seal(keys: &AtRestKeys, slot: &Slot<'_>, plain: &[u8]) -> Result<Vec<u8>, AtRestError> {
    if plain.is_empty() {
        return Ok(Vec::new());
    }
    let (id, key) = keys.sealing();
    let body = key
        .seal_bytes(&slot.context(), plain)
        .map_err(|e| AtRestError::Crypto(e.to_string()))?;
    let mut out = Vec::with_capacity(MAGIC.len() + 1 + id.len() + body.len());
    out.extend_from_slice(MAGIC);
    // Ids are at most 32 bytes (`keys::check_id`).
    out.push(id.len() as u8);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The clear value: a sealed one opened, a clear one (an old row, a framed
/// one) as it was given.
pub fn open(keys: &AtRestKeys, slot: &Slot<'_>, stored: Vec<u8>) -> Result<Vec<u8>, AtRestError> {
    let (id, body) = match parse(&stored) {
        Stored::Sealed { id, body } => (id, body),
        Stored::Clear(_) => return Ok(open_clear(stored)),
    };
    let key = keys.get(id).ok_or_else(|| AtRestError::MissingKey {
        id: id.to_string(),
        row: slot.describe(),
    })?;
    key.open_bytes(&slot.context(), body)
        .map_err(|_| AtRestError::Unopenable {
            row: slot.describe(),
        })
}

/// Whether the stored value is exactly what `keys` would leave: sealed with
/// the sealing key (or empty).
pub fn is_current(keys: &AtRestKeys, stored: &[u8]) -> bool {
    stored.is_empty() || sealed_with(stored) == Some(keys.sealing().0)
}

/// [`seal`] for a text column.
pub fn seal_text(keys: &AtRestKeys, slot: &Slot<'_>, plain: &str) -> Result<String, AtRestError> {
    let sealed = seal(keys, slot, plain.as_bytes())?;
    if sealed.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("{TEXT_PREFIX}{}", b64.encode(sealed)))
}

/// [`open`] for a text column.
pub fn open_text(
    keys: &AtRestKeys,
    slot: &Slot<'_>,
    stored: String,
) -> Result<String, AtRestError> {
    let Some(encoded) = stored.strip_prefix(TEXT_PREFIX) else {
        return Ok(stored);
    };
    let bytes = b64.decode(encoded).map_err(|_| AtRestError::Unopenable {
        row: slot.describe(),
    })?;
    let plain = open(keys, slot, bytes)?;
    String::from_utf8(plain).map_err(|_| AtRestError::Unopenable {
        row: slot.describe(),
    })
}

/// The bytes behind a text value (sealed or clear), for [`is_current`].
pub fn text_bytes(stored: &str) -> Vec<u8> {
    match stored.strip_prefix(TEXT_PREFIX) {
        Some(encoded) => b64.decode(encoded).unwrap_or_default(),
        None => stored.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use punch_model::ledger::sealed::DataKey;

    fn keys(id: &str) -> AtRestKeys {
        AtRestKeys::single(id, DataKey::generate().unwrap()).unwrap()
    }

    #[test]
    fn sealed_values_open_only_in_their_own_row_under_their_own_key() {
        let k = keys("k1");
        let here = Slot::ChainRecord {
            device_id: "d1",
            seq: 7,
        };
        let sealed = seal(&k, &here, b"{\"lat\":31.2}").unwrap();
        assert_eq!(sealed_with(&sealed), Some("k1"));
        assert!(!sealed.windows(4).any(|w| w == b"31.2"));
        assert_eq!(open(&k, &here, sealed.clone()).unwrap(), b"{\"lat\":31.2}");

        let elsewhere = Slot::ChainRecord {
            device_id: "d1",
            seq: 8,
        };
        assert!(matches!(
            open(&k, &elsewhere, sealed.clone()),
            Err(AtRestError::Unopenable { .. })
        ));
        let other = keys("k2");
        assert!(matches!(
            open(&other, &here, sealed.clone()),
            Err(AtRestError::MissingKey { id, .. }) if id == "k1"
        ));
        let impostor = keys("k1");
        assert!(open(&impostor, &here, sealed.clone()).is_err());
        let mut edited = sealed;
        let last = edited.len() - 1;
        edited[last] ^= 1;
        assert!(open(&k, &here, edited).is_err());

        // Old clear rows and purged (empty) values read as they are.
        assert_eq!(open(&k, &here, b"{}".to_vec()).unwrap(), b"{}");
        assert!(seal(&k, &here, b"").unwrap().is_empty());
    }

    #[test]
    fn text_columns_round_trip() {
        let k = keys("k1");
        let slot = Slot::EventBody {
            device_id: "d",
            seq: 1,
        };
        let sealed = seal_text(&k, &slot, "{\"reason\":\"flat tyre\"}").unwrap();
        assert!(sealed.starts_with("sealed:PAR1:") && !sealed.contains("tyre"));
        assert!(is_current(&k, &text_bytes(&sealed)));
        assert_eq!(
            open_text(&k, &slot, sealed).unwrap(),
            "{\"reason\":\"flat tyre\"}"
        );
        assert_eq!(open_text(&k, &slot, "{}".into()).unwrap(), "{}");
        assert!(!is_current(&k, &text_bytes("{}")));
    }

    #[test]
    fn clear_values_never_pass_for_sealed_ones() {
        let k = keys("k1");
        let slot = Slot::RejectedRecord {
            device_id: "d",
            hash: "h",
        };
        // Whole sealed frames naming the configured key, and other values
        // beginning with 0x00, kept clear: each reads back as given.
        let mut frame = b"\0PAR1\x02k1".to_vec();
        frame.extend_from_slice(&[7; MIN_SEALED_BODY]);
        for plain in [
            frame.clone(),
            b"\0CLR1\0x".to_vec(),
            vec![0],
            b"{}".to_vec(),
        ] {
            let stored = keep_clear(&plain);
            assert_eq!(sealed_with(&stored), None, "{stored:?}");
            assert!(!is_current(&k, &stored));
            assert_eq!(open(&k, &slot, stored.clone()).unwrap(), plain);
            assert_eq!(open_clear(stored), plain);
        }
        // Only what begins with 0x00 is framed: other clear rows are stored
        // exactly as before.
        assert_eq!(keep_clear(b"{\"a\":1}"), b"{\"a\":1}");

        // Stored before framing: sealed only when it parses whole.
        assert_eq!(sealed_with(&frame), Some("k1"));
        let legacy: [&[u8]; 5] = [
            b"\0PAR1",
            b"\0PAR1\x02k1 too short",
            b"\0PAR1\x09k1",
            b"\0PAR1\x02k!0123456789abcdef0123456789abcdef",
            b"\0CLR1 not framed by us",
        ];
        for old in legacy {
            assert_eq!(sealed_with(old), None, "{old:?}");
            assert_eq!(open(&k, &slot, old.to_vec()).unwrap(), old);
        }
    }
}
