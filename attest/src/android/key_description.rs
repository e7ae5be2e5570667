//! The Android KeyDescription extension (OID 1.3.6.1.4.1.11129.2.1.17), parsed strictly (DER).
//!
//! Schema: <https://source.android.com/docs/security/features/keystore/attestation#schema>.
//! The fixed structures (KeyDescription, RootOfTrust, AttestationApplicationId) are `der`
//! derives over the schema; an AuthorizationList is read as its sequence of EXPLICIT tags, each
//! decoded by the kind [`KNOWN_TAGS`] gives it, so unknown tags are kept and order is checked.
//! Nesting depth is fixed by the schema and every size is bounded by the certificate. Field names
//! in [`KNOWN_TAGS`] are those of Google's reference verifier and of the shared test data JSON.

use der::asn1::{AnyRef, Null, OctetStringRef, SetOfVec};
use der::{Decode, Enumerated, Sequence, Tag, Tagged, ValueOrd};
use serde::Serialize;

use crate::error::Refusal;

/// OID of the KeyDescription extension.
pub const KEY_DESCRIPTION_OID: &str = "1.3.6.1.4.1.11129.2.1.17";

/// Most packages / signature digests accepted in an attestationApplicationId.
const MAX_APP_ID_ENTRIES: usize = 64;

/// KeyMint / Keymaster security level.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Enumerated,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[repr(u32)]
pub enum SecurityLevel {
    /// Android's software keystore: no hardware protection.
    Software = 0,
    /// A Trusted Execution Environment (e.g. Trusty on the main SoC).
    TrustedEnvironment = 1,
    /// A separate secure element (StrongBox).
    StrongBox = 2,
}

impl SecurityLevel {
    /// The name used in Google's JSON: `SOFTWARE`, `TRUSTED_ENVIRONMENT`, `STRONG_BOX`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Verified boot state of the device when the key was attested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Enumerated, strum::IntoStaticStr)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[repr(u32)]
pub enum VerifiedBootState {
    /// Booted an OS signed by the manufacturer's key.
    Verified = 0,
    /// Booted an OS signed by a user-installed key (e.g. GrapheneOS); bootloader locked.
    SelfSigned = 1,
    /// Bootloader unlocked: any OS could be running.
    Unverified = 2,
    /// Verification failed.
    Failed = 3,
}

impl VerifiedBootState {
    /// The name used in Google's JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
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

/// Decode one whole DER value (trailing bytes refused), naming `what` in the refusal.
fn decode<'a, T: Decode<'a, Error = der::Error>>(der: &'a [u8], what: &str) -> Result<T, Refusal> {
    T::from_der(der).map_err(|e| malformed(format!("{what}: {e}")))
}

/// KeyDescription as sent; the AuthorizationLists stay raw until [`authorization_list`].
#[derive(Sequence)]
struct KeyDescriptionDer<'a> {
    attestation_version: u64,
    attestation_security_level: SecurityLevel,
    keymint_version: u64,
    keymint_security_level: SecurityLevel,
    attestation_challenge: &'a OctetStringRef,
    unique_id: &'a OctetStringRef,
    software_enforced: Vec<AnyRef<'a>>,
    hardware_enforced: Vec<AnyRef<'a>>,
}

#[derive(Sequence)]
struct RootOfTrustDer<'a> {
    verified_boot_key: &'a OctetStringRef,
    device_locked: bool,
    verified_boot_state: VerifiedBootState,
    /// Attestation version 3 and later.
    #[asn1(optional = "true")]
    verified_boot_hash: Option<&'a OctetStringRef>,
}

/// SET OF decodes sort their elements (DER order), so devices that send them unsorted or with
/// duplicates are still read.
#[derive(Sequence)]
struct ApplicationIdDer<'a> {
    package_infos: SetOfVec<PackageInfoDer<'a>>,
    signature_digests: SetOfVec<&'a OctetStringRef>,
}

#[derive(Sequence, ValueOrd)]
struct PackageInfoDer<'a> {
    package_name: &'a OctetStringRef,
    version: u64,
}

/// Parse the DER content of the KeyDescription extension (the OCTET STRING's value).
pub fn parse_key_description(der: &[u8]) -> Result<KeyDescription, Refusal> {
    let kd: KeyDescriptionDer<'_> = decode(der, "KeyDescription")?;
    Ok(KeyDescription {
        attestation_version: kd.attestation_version,
        attestation_security_level: kd.attestation_security_level,
        keymint_version: kd.keymint_version,
        keymint_security_level: kd.keymint_security_level,
        attestation_challenge: kd.attestation_challenge.as_bytes().to_vec(),
        unique_id: kd.unique_id.as_bytes().to_vec(),
        software_enforced: authorization_list(&kd.software_enforced, "softwareEnforced")?,
        hardware_enforced: authorization_list(&kd.hardware_enforced, "hardwareEnforced")?,
    })
}

fn authorization_list(raw: &[AnyRef<'_>], list: &str) -> Result<AuthorizationList, Refusal> {
    let mut out = AuthorizationList::default();
    for tagged in raw {
        let Tag::ContextSpecific {
            constructed: true,
            number,
        } = tagged.tag()
        else {
            return Err(malformed(format!(
                "{list}: expected an EXPLICIT context-specific tag, found {}",
                tagged.tag()
            )));
        };
        let tag = number.value();
        // X.680 §8.6: canonical (DER) order is ascending tag numbers; this also refuses
        // duplicates, which could otherwise make two readers see two different values.
        if let Some((prev, _)) = out.entries.last()
            && tag <= *prev
        {
            return Err(malformed(format!(
                "{list}: tags not in ascending order ([{tag}] after [{prev}])"
            )));
        }
        let inner = tagged.value();
        let value = match tag_info(tag) {
            None => {
                // Kept for the report, but still one well-formed value.
                decode::<AnyRef<'_>>(inner, &format!("{list}.[{tag}]"))?;
                TagValue::Unknown(inner.to_vec())
            }
            Some((name, kind)) => tag_value(inner, kind, &format!("{list}.{name}"))?,
        };
        out.entries.push((tag, value));
    }
    Ok(out)
}

fn tag_value(der: &[u8], kind: TagKind, what: &str) -> Result<TagValue, Refusal> {
    let octets = || decode::<&OctetStringRef>(der, what).map(OctetStringRef::as_bytes);
    Ok(match kind {
        TagKind::Integer | TagKind::Origin => TagValue::Integer(decode(der, what)?),
        TagKind::IntegerSet => {
            let values = decode::<SetOfVec<u64>>(der, what)?.into_vec();
            bounded(&values, what)?;
            TagValue::IntegerSet(values)
        }
        TagKind::Flag => {
            decode::<Null>(der, what)?;
            TagValue::Flag
        }
        TagKind::Bytes => TagValue::Bytes(octets()?.to_vec()),
        TagKind::Text => TagValue::Text(text(octets()?, what)?),
        TagKind::RootOfTrust => {
            let rot: RootOfTrustDer<'_> = decode(der, what)?;
            TagValue::RootOfTrust(RootOfTrust {
                verified_boot_key: rot.verified_boot_key.as_bytes().to_vec(),
                device_locked: rot.device_locked,
                verified_boot_state: rot.verified_boot_state,
                verified_boot_hash: rot.verified_boot_hash.map(|h| h.as_bytes().to_vec()),
            })
        }
        TagKind::ApplicationId => {
            // An OCTET STRING wrapping the DER of an AttestationApplicationId.
            let app: ApplicationIdDer<'_> = decode(octets()?, what)?;
            bounded(app.package_infos.as_slice(), what)?;
            bounded(app.signature_digests.as_slice(), what)?;
            TagValue::ApplicationId(AttestationApplicationId {
                packages: app
                    .package_infos
                    .iter()
                    .map(|p| {
                        Ok(PackageInfo {
                            name: text(p.package_name.as_bytes(), what)?,
                            version: p.version,
                        })
                    })
                    .collect::<Result<_, Refusal>>()?,
                signature_digests: app
                    .signature_digests
                    .iter()
                    .map(|d| d.as_bytes().to_vec())
                    .collect(),
            })
        }
    })
}

fn text(bytes: &[u8], what: &str) -> Result<String, Refusal> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed(format!("{what}: not UTF-8")))
}

/// Refuses a SET OF with more than [`MAX_APP_ID_ENTRIES`] elements.
fn bounded<T>(values: &[T], what: &str) -> Result<(), Refusal> {
    if values.len() > MAX_APP_ID_ENTRIES {
        return Err(malformed(format!("{what}: too many values")));
    }
    Ok(())
}
