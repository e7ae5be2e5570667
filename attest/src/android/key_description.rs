//! The Android KeyDescription extension (OID 1.3.6.1.4.1.11129.2.1.17), parsed strictly (DER).
//!
//! Schema: <https://source.android.com/docs/security/features/keystore/attestation#schema>.
//! The reader walks the schema by hand over asn1-rs's DER TLV parser, so nesting depth is fixed
//! by the schema (no recursion on input) and every element's size is bounded by the certificate.
//! Field names in [`KNOWN_TAGS`] are those of Google's reference verifier and of the shared
//! test data JSON.

use asn1_rs::{Any, CheckDerConstraints, Class, FromDer, Tag};
use serde::Serialize;

use crate::error::Refusal;

/// OID of the KeyDescription extension.
pub const KEY_DESCRIPTION_OID: &str = "1.3.6.1.4.1.11129.2.1.17";

/// Most packages / signature digests accepted in an attestationApplicationId.
const MAX_APP_ID_ENTRIES: usize = 64;

/// KeyMint / Keymaster security level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityLevel {
    /// Android's software keystore: no hardware protection.
    Software,
    /// A Trusted Execution Environment (e.g. Trusty on the main SoC).
    TrustedEnvironment,
    /// A separate secure element (StrongBox).
    StrongBox,
}

impl SecurityLevel {
    /// The name used in Google's JSON: `SOFTWARE`, `TRUSTED_ENVIRONMENT`, `STRONG_BOX`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::Software => "SOFTWARE",
            SecurityLevel::TrustedEnvironment => "TRUSTED_ENVIRONMENT",
            SecurityLevel::StrongBox => "STRONG_BOX",
        }
    }

    fn from_enumerated(v: u32) -> Result<Self, Refusal> {
        match v {
            0 => Ok(SecurityLevel::Software),
            1 => Ok(SecurityLevel::TrustedEnvironment),
            2 => Ok(SecurityLevel::StrongBox),
            other => Err(malformed(format!("unknown security level {other}"))),
        }
    }
}

/// Verified boot state of the device when the key was attested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifiedBootState {
    /// Booted an OS signed by the manufacturer's key.
    Verified,
    /// Booted an OS signed by a user-installed key (e.g. GrapheneOS); bootloader locked.
    SelfSigned,
    /// Bootloader unlocked: any OS could be running.
    Unverified,
    /// Verification failed.
    Failed,
}

impl VerifiedBootState {
    /// The name used in Google's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifiedBootState::Verified => "VERIFIED",
            VerifiedBootState::SelfSigned => "SELF_SIGNED",
            VerifiedBootState::Unverified => "UNVERIFIED",
            VerifiedBootState::Failed => "FAILED",
        }
    }
}

/// RootOfTrust: the boot state the secure hardware observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootOfTrust {
    /// Digest of the key that verified the boot image (all zeros while unlocked on Pixels).
    pub verified_boot_key: Vec<u8>,
    /// Whether the bootloader is locked.
    pub device_locked: bool,
    /// The verified boot state.
    pub verified_boot_state: VerifiedBootState,
    /// Digest of the verified boot data (attestation version 3 and later).
    pub verified_boot_hash: Option<Vec<u8>>,
}

/// One package of an attestationApplicationId.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageInfo {
    /// Package name, e.g. `com.example.punch`.
    pub name: String,
    /// versionCode.
    pub version: u64,
}

/// attestationApplicationId: which app(s) own the key, as the Android framework saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationApplicationId {
    /// Packages sharing the app's UID (usually one).
    pub packages: Vec<PackageInfo>,
    /// SHA-256 digests of the signing certificates.
    pub signature_digests: Vec<Vec<u8>>,
}

/// The shape of a tag's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    /// INTEGER.
    Integer,
    /// SET OF INTEGER.
    IntegerSet,
    /// NULL: present means true.
    Flag,
    /// OCTET STRING as bytes.
    Bytes,
    /// OCTET STRING holding UTF-8 text.
    Text,
    /// INTEGER rendered as a KeyOrigin name.
    Origin,
    /// RootOfTrust SEQUENCE.
    RootOfTrust,
    /// OCTET STRING holding an AttestationApplicationId.
    ApplicationId,
}

/// Every AuthorizationList tag this parser knows: number, JSON name, kind.
pub const KNOWN_TAGS: &[(u32, &str, TagKind)] = &[
    (1, "purposes", TagKind::IntegerSet),
    (2, "algorithms", TagKind::Integer),
    (3, "keySize", TagKind::Integer),
    (4, "blockModes", TagKind::IntegerSet),
    (5, "digests", TagKind::IntegerSet),
    (6, "paddings", TagKind::IntegerSet),
    (10, "ecCurve", TagKind::Integer),
    (200, "rsaPublicExponent", TagKind::Integer),
    (203, "rsaOaepMgfDigests", TagKind::IntegerSet),
    (303, "rollbackResistance", TagKind::Flag),
    (305, "earlyBootOnly", TagKind::Flag),
    (400, "activeDateTime", TagKind::Integer),
    (401, "originationExpireDateTime", TagKind::Integer),
    (402, "usageExpireDateTime", TagKind::Integer),
    (405, "usageCountLimit", TagKind::Integer),
    (503, "noAuthRequired", TagKind::Flag),
    (504, "userAuthType", TagKind::Integer),
    (505, "authTimeout", TagKind::Integer),
    (506, "allowWhileOnBody", TagKind::Flag),
    (507, "trustedUserPresenceRequired", TagKind::Flag),
    (508, "trustedConfirmationRequired", TagKind::Flag),
    (509, "unlockedDeviceRequired", TagKind::Flag),
    (600, "allApplications", TagKind::Flag),
    (601, "applicationId", TagKind::Bytes),
    (701, "creationDateTime", TagKind::Integer),
    (702, "origin", TagKind::Origin),
    (703, "rollbackResistant", TagKind::Flag),
    (704, "rootOfTrust", TagKind::RootOfTrust),
    (705, "osVersion", TagKind::Integer),
    (706, "osPatchLevel", TagKind::Integer),
    (709, "attestationApplicationId", TagKind::ApplicationId),
    (710, "attestationIdBrand", TagKind::Text),
    (711, "attestationIdDevice", TagKind::Text),
    (712, "attestationIdProduct", TagKind::Text),
    (713, "attestationIdSerial", TagKind::Text),
    (714, "attestationIdImei", TagKind::Text),
    (715, "attestationIdMeid", TagKind::Text),
    (716, "attestationIdManufacturer", TagKind::Text),
    (717, "attestationIdModel", TagKind::Text),
    (718, "vendorPatchLevel", TagKind::Integer),
    (719, "bootPatchLevel", TagKind::Integer),
    (720, "deviceUniqueAttestation", TagKind::Flag),
    (723, "attestationIdSecondImei", TagKind::Text),
    (724, "moduleHash", TagKind::Bytes),
];

/// A tag's JSON name and kind, if known.
pub fn tag_info(tag: u32) -> Option<(&'static str, TagKind)> {
    KNOWN_TAGS
        .iter()
        .find(|(t, _, _)| *t == tag)
        .map(|(_, n, k)| (*n, *k))
}

/// A parsed AuthorizationList value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagValue {
    /// INTEGER (also origin).
    Integer(u64),
    /// SET OF INTEGER.
    IntegerSet(Vec<u64>),
    /// NULL.
    Flag,
    /// OCTET STRING.
    Bytes(Vec<u8>),
    /// UTF-8 OCTET STRING.
    Text(String),
    /// RootOfTrust.
    RootOfTrust(RootOfTrust),
    /// AttestationApplicationId.
    ApplicationId(AttestationApplicationId),
    /// A tag this parser does not know: its DER content, kept for the report.
    Unknown(Vec<u8>),
}

/// An AuthorizationList: tagged values in strictly ascending tag order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizationList {
    /// (tag number, value), ascending.
    pub entries: Vec<(u32, TagValue)>,
}

impl AuthorizationList {
    /// The value of a tag.
    pub fn get(&self, tag: u32) -> Option<&TagValue> {
        self.entries.iter().find(|(t, _)| *t == tag).map(|(_, v)| v)
    }

    fn int(&self, tag: u32) -> Option<u64> {
        match self.get(tag) {
            Some(TagValue::Integer(v)) => Some(*v),
            _ => None,
        }
    }

    /// KeyPurpose values (2 = SIGN, 3 = VERIFY, 7 = ATTEST_KEY...).
    pub fn purposes(&self) -> Option<&[u64]> {
        match self.get(1) {
            Some(TagValue::IntegerSet(v)) => Some(v),
            _ => None,
        }
    }
    /// Algorithm (3 = EC, 1 = RSA).
    pub fn algorithm(&self) -> Option<u64> {
        self.int(2)
    }
    /// Key size in bits.
    pub fn key_size(&self) -> Option<u64> {
        self.int(3)
    }
    /// EC curve (1 = P-256).
    pub fn ec_curve(&self) -> Option<u64> {
        self.int(10)
    }
    /// Key origin (0 = GENERATED inside the secure hardware).
    pub fn origin(&self) -> Option<u64> {
        self.int(702)
    }
    /// Creation time, milliseconds since the epoch.
    pub fn creation_date_time(&self) -> Option<u64> {
        self.int(701)
    }
    /// Root of trust.
    pub fn root_of_trust(&self) -> Option<&RootOfTrust> {
        match self.get(704) {
            Some(TagValue::RootOfTrust(r)) => Some(r),
            _ => None,
        }
    }
    /// OS version, e.g. 140000 for Android 14.
    pub fn os_version(&self) -> Option<u64> {
        self.int(705)
    }
    /// OS patch level, YYYYMM.
    pub fn os_patch_level(&self) -> Option<u64> {
        self.int(706)
    }
    /// Vendor patch level, YYYYMMDD.
    pub fn vendor_patch_level(&self) -> Option<u64> {
        self.int(718)
    }
    /// Boot patch level, YYYYMMDD.
    pub fn boot_patch_level(&self) -> Option<u64> {
        self.int(719)
    }
    /// The attesting app.
    pub fn attestation_application_id(&self) -> Option<&AttestationApplicationId> {
        match self.get(709) {
            Some(TagValue::ApplicationId(a)) => Some(a),
            _ => None,
        }
    }
}

/// The whole KeyDescription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDescription {
    /// Attestation (schema) version: 1–4, 100, 200, 300, 400...
    pub attestation_version: u64,
    /// Security level of the component that signed the attestation.
    pub attestation_security_level: SecurityLevel,
    /// KeyMint / Keymaster version.
    pub keymint_version: u64,
    /// Security level of the component that holds the key.
    pub keymint_security_level: SecurityLevel,
    /// The challenge the app passed to the keystore (the server's nonce).
    pub attestation_challenge: Vec<u8>,
    /// Privacy-sensitive rotating id; usually empty.
    pub unique_id: Vec<u8>,
    /// Properties enforced by the Android OS (not by the secure hardware).
    pub software_enforced: AuthorizationList,
    /// Properties enforced by the secure hardware.
    pub hardware_enforced: AuthorizationList,
}

impl KeyDescription {
    /// Where to read a property from: hardware-enforced first, then software-enforced.
    pub fn either(&self, tag: u32) -> Option<&TagValue> {
        self.hardware_enforced
            .get(tag)
            .or_else(|| self.software_enforced.get(tag))
    }
}

fn malformed(detail: impl Into<String>) -> Refusal {
    Refusal::MalformedExtension {
        detail: detail.into(),
    }
}

fn der_err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> Refusal + '_ {
    move |e| malformed(format!("{what}: {e}"))
}

/// Read one TLV, returning it and the rest.
fn any<'a>(input: &'a [u8], what: &str) -> Result<(Any<'a>, &'a [u8]), Refusal> {
    let (rest, a) = Any::from_der(input).map_err(der_err(what))?;
    Ok((a, rest))
}

/// Expect a universal, constructed element with this tag (SEQUENCE / SET); return its content.
fn constructed<'a>(a: &Any<'a>, tag: Tag, what: &str) -> Result<&'a [u8], Refusal> {
    if a.class() != Class::Universal || a.tag() != tag || !a.header.is_constructed() {
        return Err(malformed(format!(
            "{what}: expected {tag}, found {}",
            a.tag()
        )));
    }
    Ok(a.data)
}

fn primitive<'a>(a: &Any<'a>, tag: Tag, what: &str) -> Result<&'a [u8], Refusal> {
    if a.class() != Class::Universal || a.tag() != tag || a.header.is_constructed() {
        return Err(malformed(format!(
            "{what}: expected {tag}, found {}",
            a.tag()
        )));
    }
    Ok(a.data)
}

fn integer(a: &Any<'_>, what: &str) -> Result<u64, Refusal> {
    primitive(a, Tag::Integer, what)?;
    // asn1-rs checks minimal encoding; the conversion refuses negatives and overflow.
    <u64 as CheckDerConstraints>::check_constraints(a).map_err(der_err(what))?;
    u64::try_from(a.clone()).map_err(der_err(what))
}

fn enumerated(a: &Any<'_>, what: &str) -> Result<u32, Refusal> {
    let data = primitive(a, Tag::Enumerated, what)?;
    if data.is_empty() || data.len() > 4 {
        return Err(malformed(format!("{what}: bad ENUMERATED length")));
    }
    let v = a.clone().enumerated().map_err(der_err(what))?;
    Ok(v.0)
}

fn boolean(a: &Any<'_>, what: &str) -> Result<bool, Refusal> {
    // Checked by hand: DER allows exactly one byte, 0x00 or 0xFF (and asn1-rs 0.7 indexes the
    // content before checking its length).
    match primitive(a, Tag::Boolean, what)? {
        [0x00] => Ok(false),
        [0xFF] => Ok(true),
        other => Err(malformed(format!(
            "{what}: BOOLEAN must be one byte 00 or FF, found {}",
            hex::encode(other)
        ))),
    }
}

fn octets(a: &Any<'_>, what: &str) -> Result<Vec<u8>, Refusal> {
    Ok(primitive(a, Tag::OctetString, what)?.to_vec())
}

/// Parse the DER content of the KeyDescription extension (the OCTET STRING's value).
pub fn parse_key_description(der: &[u8]) -> Result<KeyDescription, Refusal> {
    let (seq, rest) = any(der, "KeyDescription")?;
    if !rest.is_empty() {
        return Err(malformed("trailing bytes after KeyDescription"));
    }
    let mut body = constructed(&seq, Tag::Sequence, "KeyDescription")?;
    let mut next = |what: &str| -> Result<Any<'_>, Refusal> {
        if body.is_empty() {
            return Err(malformed(format!("KeyDescription ends before {what}")));
        }
        let (a, r) = any(body, what)?;
        body = r;
        Ok(a)
    };
    let attestation_version = integer(&next("attestationVersion")?, "attestationVersion")?;
    let attestation_security_level = SecurityLevel::from_enumerated(enumerated(
        &next("attestationSecurityLevel")?,
        "attestationSecurityLevel",
    )?)?;
    let keymint_version = integer(&next("keyMintVersion")?, "keyMintVersion")?;
    let keymint_security_level = SecurityLevel::from_enumerated(enumerated(
        &next("keyMintSecurityLevel")?,
        "keyMintSecurityLevel",
    )?)?;
    let attestation_challenge = octets(&next("attestationChallenge")?, "attestationChallenge")?;
    let unique_id = octets(&next("uniqueId")?, "uniqueId")?;
    let software_enforced = authorization_list(&next("softwareEnforced")?, "softwareEnforced")?;
    let hardware_enforced = authorization_list(&next("hardwareEnforced")?, "hardwareEnforced")?;
    if !body.is_empty() {
        return Err(malformed("KeyDescription has more than 8 fields"));
    }
    Ok(KeyDescription {
        attestation_version,
        attestation_security_level,
        keymint_version,
        keymint_security_level,
        attestation_challenge,
        unique_id,
        software_enforced,
        hardware_enforced,
    })
}

fn authorization_list(a: &Any<'_>, list: &str) -> Result<AuthorizationList, Refusal> {
    let mut body = constructed(a, Tag::Sequence, list)?;
    let mut out = AuthorizationList::default();
    while !body.is_empty() {
        let (tagged, rest) = any(body, list)?;
        body = rest;
        if tagged.class() != Class::ContextSpecific || !tagged.header.is_constructed() {
            return Err(malformed(format!(
                "{list}: expected an EXPLICIT context-specific tag, found {:?} {}",
                tagged.class(),
                tagged.tag()
            )));
        }
        let tag = tagged.tag().0;
        // X.680 §8.6: canonical (DER) order is ascending tag numbers; this also refuses
        // duplicates, which could otherwise make two readers see two different values.
        if let Some((prev, _)) = out.entries.last()
            && tag <= *prev
        {
            return Err(malformed(format!(
                "{list}: tags not in ascending order ([{tag}] after [{prev}])"
            )));
        }
        let (inner, after) = any(tagged.data, list)?;
        if !after.is_empty() {
            return Err(malformed(format!(
                "{list}: [{tag}] holds more than one value"
            )));
        }
        let value = match tag_info(tag) {
            None => TagValue::Unknown(tagged.data.to_vec()),
            Some((name, kind)) => tag_value(&inner, kind, &format!("{list}.{name}"))?,
        };
        out.entries.push((tag, value));
    }
    Ok(out)
}

fn tag_value(a: &Any<'_>, kind: TagKind, what: &str) -> Result<TagValue, Refusal> {
    Ok(match kind {
        TagKind::Integer | TagKind::Origin => TagValue::Integer(integer(a, what)?),
        TagKind::IntegerSet => {
            let mut body = constructed(a, Tag::Set, what)?;
            let mut values = Vec::new();
            while !body.is_empty() {
                let (v, rest) = any(body, what)?;
                body = rest;
                values.push(integer(&v, what)?);
                if values.len() > MAX_APP_ID_ENTRIES {
                    return Err(malformed(format!("{what}: too many values")));
                }
            }
            TagValue::IntegerSet(values)
        }
        TagKind::Flag => {
            if !primitive(a, Tag::Null, what)?.is_empty() {
                return Err(malformed(format!("{what}: NULL with content")));
            }
            TagValue::Flag
        }
        TagKind::Bytes => TagValue::Bytes(octets(a, what)?),
        TagKind::Text => TagValue::Text(
            String::from_utf8(octets(a, what)?)
                .map_err(|_| malformed(format!("{what}: not UTF-8")))?,
        ),
        TagKind::RootOfTrust => TagValue::RootOfTrust(root_of_trust(a, what)?),
        TagKind::ApplicationId => {
            let inner = primitive(a, Tag::OctetString, what)?;
            TagValue::ApplicationId(application_id(inner, what)?)
        }
    })
}

fn root_of_trust(a: &Any<'_>, what: &str) -> Result<RootOfTrust, Refusal> {
    let mut body = constructed(a, Tag::Sequence, what)?;
    let mut fields = Vec::new();
    while !body.is_empty() {
        let (f, rest) = any(body, what)?;
        body = rest;
        fields.push(f);
        if fields.len() > 4 {
            return Err(malformed(format!("{what}: more than 4 fields")));
        }
    }
    let [key, locked, state, hash @ ..] = fields.as_slice() else {
        return Err(malformed(format!("{what}: fewer than 3 fields")));
    };
    let verified_boot_state = match enumerated(state, &format!("{what}.verifiedBootState"))? {
        0 => VerifiedBootState::Verified,
        1 => VerifiedBootState::SelfSigned,
        2 => VerifiedBootState::Unverified,
        3 => VerifiedBootState::Failed,
        other => {
            return Err(malformed(format!(
                "{what}: unknown verified boot state {other}"
            )));
        }
    };
    Ok(RootOfTrust {
        verified_boot_key: octets(key, &format!("{what}.verifiedBootKey"))?,
        device_locked: boolean(locked, &format!("{what}.deviceLocked"))?,
        verified_boot_state,
        verified_boot_hash: match hash.first() {
            Some(h) => Some(octets(h, &format!("{what}.verifiedBootHash"))?),
            None => None,
        },
    })
}

fn application_id(der: &[u8], what: &str) -> Result<AttestationApplicationId, Refusal> {
    let (seq, rest) = any(der, what)?;
    if !rest.is_empty() {
        return Err(malformed(format!("{what}: trailing bytes")));
    }
    let body = constructed(&seq, Tag::Sequence, what)?;
    let (packages_set, body) = any(body, what)?;
    let (sigs_set, body) = any(body, what)?;
    if !body.is_empty() {
        return Err(malformed(format!("{what}: more than 2 fields")));
    }
    let mut packages = Vec::new();
    let mut p = constructed(&packages_set, Tag::Set, what)?;
    while !p.is_empty() {
        let (info, rest) = any(p, what)?;
        p = rest;
        let info_body = constructed(&info, Tag::Sequence, what)?;
        let (name, info_body) = any(info_body, what)?;
        let (version, info_body) = any(info_body, what)?;
        if !info_body.is_empty() {
            return Err(malformed(format!("{what}: package info has extra fields")));
        }
        let name = String::from_utf8(octets(&name, what)?)
            .map_err(|_| malformed(format!("{what}: package name not UTF-8")))?;
        packages.push(PackageInfo {
            name,
            version: integer(&version, what)?,
        });
        if packages.len() > MAX_APP_ID_ENTRIES {
            return Err(malformed(format!("{what}: too many packages")));
        }
    }
    let mut signature_digests = Vec::new();
    let mut s = constructed(&sigs_set, Tag::Set, what)?;
    while !s.is_empty() {
        let (d, rest) = any(s, what)?;
        s = rest;
        signature_digests.push(octets(&d, what)?);
        if signature_digests.len() > MAX_APP_ID_ENTRIES {
            return Err(malformed(format!("{what}: too many signature digests")));
        }
    }
    Ok(AttestationApplicationId {
        packages,
        signature_digests,
    })
}
