//! The wire contract between a device and a punch server (JSON over HTTPS).
//! Shared by the client and the reference server so they agree by
//! construction; `server/openapi.json` documents the same shapes.
//!
//! Binary fields are standard base64 (with padding). Every response body
//! carries `server_time_ms`, and every response has the `x-punch-server-time`
//! header, so each exchange can refresh the device's time anchor.

use serde::{Deserialize, Serialize};

pub mod privacy;

pub const PATH_ENROLL: &str = "/v1/enroll";
pub const PATH_ENROLL_CHALLENGE: &str = "/v1/enroll/challenge";
pub const PATH_POLICY: &str = "/v1/policy";
pub const PATH_PUNCHES: &str = "/v1/punches";
pub const PATH_TIME: &str = "/v1/time";
/// `GET`: where the device's make-up and field-work requests stand, and the
/// employee's signed personal addendum (approved field sites).
pub const PATH_REQUESTS: &str = "/v1/requests";
/// `PUT {PATH_ATTACHMENTS}/{sha256}`: a make-up request's file, raw bytes.
pub const PATH_ATTACHMENTS: &str = "/v1/attachments";

pub const HEADER_SERVER_TIME: &str = "x-punch-server-time";
pub const HEADER_POLICY_VERSION: &str = "x-punch-policy-version";
pub const HEADER_DEVICE: &str = "x-punch-device";
pub const HEADER_TIMESTAMP: &str = "x-punch-timestamp";
pub const HEADER_NONCE: &str = "x-punch-nonce";
pub const HEADER_SIGNATURE: &str = "x-punch-signature";
/// The device's chain head as it signs the request: `{seq}:{hex sha256}`.
pub const HEADER_HEAD: &str = "x-punch-head";

/// How far a signed request's timestamp may be from server time.
pub const REQUEST_MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// The bytes a device signs to authenticate a request (no bearer token to steal):
/// `PUNCH-REQUEST-V1\n{METHOD}\n{PATH}\n{hex sha256(body)}\n{timestamp_ms}\n{nonce}`,
/// or with a head statement (`x-punch-head`, every request the engine sends)
/// `PUNCH-REQUEST-V2\n...\n{nonce}\n{seq}:{hash}`: the device signs what its
/// chain held, so a later deletion or rewrite of that tail shows on the server.
pub fn request_signing_string(
    method: &str,
    path: &str,
    body: &[u8],
    timestamp_ms: i64,
    nonce: &str,
    head: Option<&HeadStatement>,
) -> Vec<u8> {
    let common = format!(
        "{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        hex::encode(crate::ledger::signing::sha256(body)),
        timestamp_ms,
        nonce
    );
    match head {
        Some(h) => format!("PUNCH-REQUEST-V2\n{common}\n{h}"),
        None => format!("PUNCH-REQUEST-V1\n{common}"),
    }
    .into_bytes()
}

/// The highest sequence number a server takes from a device (a stated head,
/// a record's seq): servers keep seqs as signed 64-bit SQL integers, and no
/// phone comes near it (a punch a millisecond for 292 million years).
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// A device's statement of its chain head: the newest record's seq and the
/// hex SHA-256 of its bytes (seq 0 and the genesis hash before any punch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadStatement {
    pub seq: u64,
    pub hash: String,
}

impl HeadStatement {
    /// Parses `{seq}:{64 lowercase hex}`.
    pub fn parse(text: &str) -> Option<HeadStatement> {
        let (seq, hash) = text.trim().split_once(':')?;
        let seq = seq.parse().ok()?;
        let valid =
            hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| HeadStatement {
            seq,
            hash: hash.to_string(),
        })
    }
}

impl std::fmt::Display for HeadStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Base64 (standard, padded) for binary fields.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    pub fn encode(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(text)
    }

    /// serde `with` helper for `Vec<u8>` fields.
    pub mod bytes {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&super::encode(v))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            let text = String::deserialize(d)?;
            super::decode(&text).map_err(serde::de::Error::custom)
        }
    }

    /// serde `with` helper for `Option<Vec<u8>>` fields.
    pub mod opt {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(bytes) => s.serialize_str(&super::encode(bytes)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|text| super::decode(&text).map_err(serde::de::Error::custom))
                .transpose()
        }
    }

    /// serde `with` helper for `Vec<Vec<u8>>` fields (a list of base64 strings).
    pub mod list {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|b| super::encode(b)))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
            let texts = Vec::<String>::deserialize(d)?;
            texts
                .iter()
                .map(|t| super::decode(t).map_err(serde::de::Error::custom))
                .collect()
        }
    }
}

/// `POST /v1/enroll` (unauthenticated: the one-time code is the credential).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    pub device_id: String,
    /// P-256 SubjectPublicKeyInfo DER.
    #[serde(with = "b64::bytes")]
    pub public_key: Vec<u8>,
    /// "software" or "hardware" (Keystore / Secure Enclave); informational.
    pub key_storage: String,
    /// e.g. "android 15", "ios 18", "linux"; informational.
    pub platform: String,
    /// Hardware proof of where the key lives; absent for a software key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<DeviceAttestation>,
    /// The channel key (P-256 SPKI DER) that signs this request and every
    /// later one; `public_key` is then the punch key, which signs records.
    /// Absent from a device enrolled before the two keys: its one key is both.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64::opt")]
    pub channel_key: Option<Vec<u8>>,
    /// The platform's proof of the channel key, answering the same challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_attestation: Option<DeviceAttestation>,
    /// With `channel_key`: the punch key's signature over
    /// `ledger::key_rotation::punch_key_proof_message` (proof of possession).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64::opt")]
    pub punch_key_proof: Option<Vec<u8>>,
}

/// Asks for a single-use attestation challenge for an enrollment code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollChallengeRequest {
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollChallengeResponse {
    /// 32 random bytes, valid once, for this code only, until `expires_at_ms`.
    #[serde(with = "b64::bytes")]
    pub challenge: Vec<u8>,
    pub expires_at_ms: i64,
    pub server_time_ms: i64,
    /// The least assurance the employer's policy accepts for the punch key
    /// (absent when it accepts any): the app must bring an attestation that
    /// proves it, and the engine refuses to enroll without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_assurance: Option<crate::rules::assurance::AssuranceLevel>,
}

/// What the platform proves about the device key at enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "platform", rename_all = "snake_case")]
pub enum DeviceAttestation {
    /// Android Key Attestation: the key was generated in Keystore with
    /// `setAttestationChallenge(challenge)`; `certificate_chain` is
    /// `KeyStore.getCertificateChain(alias)`, leaf first, DER.
    Android {
        #[serde(with = "b64::bytes")]
        challenge: Vec<u8>,
        #[serde(with = "b64::list")]
        certificate_chain: Vec<Vec<u8>>,
    },
    /// Apple App Attest: `attestKey(keyId, clientDataHash)` with
    /// clientDataHash = SHA-256(challenge ‖ the device key's SPKI DER).
    Apple {
        #[serde(with = "b64::bytes")]
        challenge: Vec<u8>,
        #[serde(with = "b64::bytes")]
        key_id: Vec<u8>,
        #[serde(with = "b64::bytes")]
        attestation_object: Vec<u8>,
    },
}

impl DeviceAttestation {
    /// The server challenge the attestation answers.
    pub fn challenge(&self) -> &[u8] {
        match self {
            DeviceAttestation::Android { challenge, .. }
            | DeviceAttestation::Apple { challenge, .. } => challenge,
        }
    }
}

/// The clientDataHash an iOS app passes to App Attest: it binds the
/// attestation to the server's challenge and to the device signing key.
pub fn apple_client_data_hash(challenge: &[u8], device_spki: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(challenge.len() + device_spki.len());
    input.extend_from_slice(challenge);
    input.extend_from_slice(device_spki);
    crate::ledger::signing::sha256(&input)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub employee_id: String,
    pub device_id: String,
    pub server_time_ms: i64,
    /// MAC token for the time anchor (see [`crate::ledger::record::TimeAnchor`]).
    pub time_token: String,
}

/// `GET /v1/time` (device-authenticated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeResponse {
    pub server_time_ms: i64,
    pub time_token: String,
    pub policy_version: u64,
    /// The last record the server accepted from this device, so the device
    /// re-sends whatever lies above it whatever its own flags say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// HR acknowledged this device's broken chain: start a new segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_reset: Option<ChainReset>,
}

/// HR acknowledged that this device's chain broke (records the server
/// refused). The device keeps the refused records as evidence, stops
/// uploading them, and starts a new segment: its next record keeps the
/// device's own numbering (seq above everything it holds) and links to
/// `head_hash`, the head the server had accepted. The server accepts that
/// one jump once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReset {
    /// The acknowledgement's id (changes if HR acknowledges again).
    pub ack_id: i64,
    pub head_seq: u64,
    pub head_hash: String,
    pub acknowledged_at_ms: i64,
}

/// `GET /v1/policy` (device-authenticated): the exact signed bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyResponse {
    pub version: u64,
    /// The policy JSON exactly as signed.
    #[serde(with = "b64::bytes")]
    pub body: Vec<u8>,
    /// ECDSA P-256 SHA-256 (DER) by the server's policy key over `body`.
    #[serde(with = "b64::bytes")]
    pub signature: Vec<u8>,
    pub server_time_ms: i64,
    pub time_token: String,
}

/// A manager's decision on one of the device's requests, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDecision {
    pub event_id: String,
    /// `pending`, `approved`, `denied` or `refused` (by the policy's limits).
    pub status: String,
    /// The refusal's code, when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at_ms: Option<i64>,
}

/// A `rules::field_work::PersonalAddendum`'s exact bytes, signed with the
/// policy key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAddendum {
    #[serde(with = "b64::bytes")]
    pub body: Vec<u8>,
    #[serde(with = "b64::bytes")]
    pub signature: Vec<u8>,
}

/// `GET /v1/requests` (device-authenticated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestsResponse {
    pub decisions: Vec<RequestDecision>,
    /// None: no field site is approved for the employee (any more).
    #[serde(default)]
    pub addendum: Option<SignedAddendum>,
    /// The employee's forgotten clock-outs the server found (recent ones,
    /// oldest first): the phone tells the employee, who may answer with a
    /// make-up request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forgotten: Vec<crate::rules::forgotten::ForgottenClockOut>,
}

/// `PUT /v1/attachments/{sha256}` (device-authenticated): stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentStored {
    pub sha256: String,
    pub size_bytes: u64,
}

/// One record as stored on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub seq: u64,
    #[serde(with = "b64::bytes")]
    pub record: Vec<u8>,
    #[serde(with = "b64::bytes")]
    pub signature: Vec<u8>,
}

/// `POST /v1/punches` (device-authenticated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRequest {
    pub device_id: String,
    pub records: Vec<UploadRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Verified and stored now.
    Accepted,
    /// Already stored with identical bytes (a retry): nothing stored twice.
    Duplicate,
    /// Not stored as a punch; kept by the server as evidence.
    Rejected,
}

/// Machine-readable rejection reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    BadSignature,
    Unparseable,
    /// The record names another device than the authenticated one.
    WrongDevice,
    /// prev_hash does not match the last accepted record.
    ChainBreak,
    /// seq skips over records the server has not got.
    Gap,
    /// Same (device, seq) or punch id already stored with other bytes.
    ConflictingDuplicate,
    UnknownPolicyVersion,
    /// The record's employee is not the device's bound employee.
    EmployeeMismatch,
    /// The device once stated another record at this seq (a rewritten chain).
    Fork,
    /// The device stated a head below one it stated before (a truncated chain);
    /// kept as evidence of the request, no record is refused for it.
    Rollback,
    /// The record's format is not one this server knows.
    UnknownFormat,
    /// A field holds a value no phone produces (range-checked like the phone).
    OutOfRange,
}

impl RejectReason {
    /// The reason its serde name (`out_of_range`...) spells, as stored.
    pub fn from_name(name: &str) -> Option<RejectReason> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    /// Whether a record refused for this reason is still a link of the
    /// chain: the server gives it only after the record's signature and link
    /// verified, and its head moves past the record (later honest records
    /// are not blocked); a re-send is answered from the refusal kept.
    pub fn is_link(self) -> bool {
        match self {
            RejectReason::OutOfRange
            | RejectReason::EmployeeMismatch
            | RejectReason::UnknownPolicyVersion
            | RejectReason::ConflictingDuplicate => true,
            RejectReason::BadSignature
            | RejectReason::Unparseable
            | RejectReason::WrongDevice
            | RejectReason::ChainBreak
            | RejectReason::Gap
            | RejectReason::Fork
            | RejectReason::Rollback
            | RejectReason::UnknownFormat => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordResult {
    pub seq: u64,
    pub status: RecordStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<RejectReason>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResponse {
    pub results: Vec<RecordResult>,
    /// The last seq the server has accepted from this device (its chain head).
    pub head_seq: u64,
    /// Hex SHA-256 of that record's bytes (genesis hash at seq 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    pub policy_version: u64,
    pub server_time_ms: i64,
    pub time_token: String,
    /// See [`ChainReset`]; absent unless HR acknowledged a break.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_reset: Option<ChainReset>,
    /// The seq of a punch-key rotation the server holds for HR's approval:
    /// records after it wait (unanswered, still pending) until it is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_rotation_pending: Option<u64>,
}

/// Machine-readable request-level error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    EnrollmentCodeInvalid,
    /// The employee already has a bound device; an admin must approve a rebind.
    DeviceAlreadyBound,
    UnknownDevice,
    /// The device was unbound by an admin; its key is no longer accepted.
    DeviceUnbound,
    BadRequestSignature,
    StaleTimestamp,
    ReplayedNonce,
    NoPolicy,
    BatchTooLarge,
    /// The attestation challenge is unknown, expired, used, or for another code.
    AttestationChallengeInvalid,
    /// The attestation does not verify; `reason` names why (e.g. `untrusted_root`).
    AttestationRefused,
    /// The device proves less about its key than the employer's policy requires.
    AssuranceTooLow,
    /// A request body over the route's limit (uploads say `batch_too_large`).
    PayloadTooLarge,
    /// Too many attempts (enrollment codes): wait `Retry-After` seconds.
    RateLimited,
    /// The request was not received in time (slow client).
    Timeout,
    /// An attachment whose bytes do not hash to its name, that is over the
    /// policy's size limit, or that no request of the employee names.
    AttachmentRefused,
    /// The server is at a limit (connections, body budget) or its
    /// database is unreachable: retry shortly.
    Unavailable,
    Internal,
    /// A PIN-reset code is wrong, expired or used.
    PinCodeInvalid,
    /// The identity data for a self-service PIN reset does not match.
    PinIdentityInvalid,
    /// The employee has no contact (or no identity secret) for this reset path.
    PinResetUnavailable,
    /// No admin-ordered PIN reset is pending for this employee.
    PinNoAdminReset,
    /// A code this version does not know (a newer server).
    #[serde(other)]
    Unknown,
}

/// The body of every non-2xx response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorCode,
    pub message: String,
    pub server_time_ms: i64,
    /// A finer machine-readable reason where the code has several (e.g. the
    /// attestation refusal: `untrusted_root`, `challenge_mismatch`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The largest batch a server must accept.
pub const MAX_BATCH: usize = 1000;
