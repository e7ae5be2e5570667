//! X.509 helpers: bounded parsing, PEM splitting, signature verification with ring, validity.
//!
//! Parsing is x509-parser's (nom, zero-copy); every cryptographic decision is ring's. Only the
//! algorithms that attestation chains use are accepted: RSA PKCS#1 v1.5 with SHA-256/384/512
//! (Google's RSA-4096 root) and ECDSA P-256/P-384 with SHA-256/384 (everything else).

use asn1_rs::{FromDer, Oid, oid};
use base64::Engine as _;
use der::Decode as _;
use der::asn1::{AnyRef, BitStringRef};
use ring::signature;
use x509_parser::certificate::{X509Certificate, X509CertificateParser};
use x509_parser::nom::Parser as _;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::Refusal;

/// Largest DER certificate accepted. Genuine attestation certificates are under 2 KiB (the
/// RSA-4096 root is the largest, ~1.3 KiB); the bound keeps hostile input cheap.
pub const MAX_CERT_DER: usize = 16 * 1024;
/// Largest PEM text accepted for a whole chain.
pub const MAX_PEM_CHAIN: usize = 128 * 1024;

const OID_RSA_ENCRYPTION: Oid<'static> = oid!(1.2.840.113549.1.1.1);
const OID_SHA256_RSA: Oid<'static> = oid!(1.2.840.113549.1.1.11);
const OID_SHA384_RSA: Oid<'static> = oid!(1.2.840.113549.1.1.12);
const OID_SHA512_RSA: Oid<'static> = oid!(1.2.840.113549.1.1.13);
const OID_EC_PUBLIC_KEY: Oid<'static> = oid!(1.2.840.10045.2.1);
const OID_P256: Oid<'static> = oid!(1.2.840.10045.3.1.7);
const OID_P384: Oid<'static> = oid!(1.3.132.0.34);
const OID_ECDSA_SHA256: Oid<'static> = oid!(1.2.840.10045.4.3.2);
const OID_ECDSA_SHA384: Oid<'static> = oid!(1.2.840.10045.4.3.3);

/// Parse one DER certificate, refusing oversize input, trailing bytes and a signature
/// algorithm that differs between the signed and unsigned parts (RFC 5280 §4.1.1.2).
pub(crate) fn parse_cert(der: &[u8], index: usize) -> Result<X509Certificate<'_>, Refusal> {
    if der.len() > MAX_CERT_DER {
        return Err(Refusal::InputTooLarge {
            what: "certificate",
            len: der.len(),
            max: MAX_CERT_DER,
        });
    }
    // Extensions are read raw: deep-parsing every known extension only widens the attack surface.
    let mut parser = X509CertificateParser::new().with_deep_parse_extensions(false);
    let (rest, cert) = parser
        .parse(der)
        .map_err(|e| Refusal::MalformedCertificate {
            index,
            detail: e.to_string(),
        })?;
    if !rest.is_empty() {
        return Err(Refusal::MalformedCertificate {
            index,
            detail: format!("{} trailing bytes after the certificate", rest.len()),
        });
    }
    if cert.signature_algorithm != cert.tbs_certificate.signature || !strict_outer_layer(der) {
        return Err(Refusal::MalformedCertificate {
            index,
            detail: "outer layer is not strict DER (algorithm or signature encoding)".into(),
        });
    }
    if cert.signature_value.unused_bits != 0 {
        return Err(Refusal::MalformedCertificate {
            index,
            detail: "signature bit string has unused bits".into(),
        });
    }
    Ok(cert)
}

/// The unsigned outer layer, checked strictly: x509-parser reads it leniently (it compares the
/// two AlgorithmIdentifiers as parsed values and does not insist on the BIT STRING's tag), and
/// nothing outside the signed TBS may vary. The outer AlgorithmIdentifier must be
/// byte-identical to the signed one, and the signature a universal BIT STRING ending the
/// certificate.
fn strict_outer_layer(der: &[u8]) -> bool {
    CertificateDer::from_der(der)
        .is_ok_and(|cert| cert.tbs_certificate.signature == cert.signature_algorithm)
}

/// RFC 5280 §4.1's Certificate, as far as [`strict_outer_layer`] reads it: every field a
/// whole DER value of its own (in order, nothing after), the named structures left unparsed.
#[derive(der::Sequence)]
struct CertificateDer<'a> {
    tbs_certificate: TbsCertificateDer<'a>,
    /// Equal as DER values means equal bytes: DER has one encoding per value.
    signature_algorithm: AnyRef<'a>,
    signature_value: BitStringRef<'a>,
}

#[derive(der::Sequence)]
struct TbsCertificateDer<'a> {
    #[asn1(context_specific = "0", optional = "true")]
    version: Option<AnyRef<'a>>,
    serial_number: AnyRef<'a>,
    signature: AnyRef<'a>,
    issuer: AnyRef<'a>,
    validity: AnyRef<'a>,
    subject: AnyRef<'a>,
    subject_public_key_info: AnyRef<'a>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    issuer_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    subject_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "3", optional = "true")]
    extensions: Option<AnyRef<'a>>,
}

/// Split a PEM text into DER certificates (leaf first, as given). Text outside the
/// `BEGIN/END CERTIFICATE` markers is ignored, as openssl does.
pub fn parse_pem_chain(pem: &str) -> Result<Vec<Vec<u8>>, Refusal> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    if pem.len() > MAX_PEM_CHAIN {
        return Err(Refusal::InputTooLarge {
            what: "PEM chain",
            len: pem.len(),
            max: MAX_PEM_CHAIN,
        });
    }
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let body_start = start + BEGIN.len();
        let index = out.len();
        let Some(len) = rest[body_start..].find(END) else {
            return Err(Refusal::MalformedCertificate {
                index,
                detail: "PEM block without END CERTIFICATE".into(),
            });
        };
        let body: String = rest[body_start..body_start + len]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| Refusal::MalformedCertificate {
                index,
                detail: format!("PEM base64: {e}"),
            })?;
        out.push(der);
        if out.len() > crate::MAX_CHAIN_LEN {
            return Err(Refusal::ChainTooLong {
                len: out.len(),
                max: crate::MAX_CHAIN_LEN,
            });
        }
        rest = &rest[body_start + len + END.len()..];
    }
    if out.is_empty() {
        return Err(Refusal::TruncatedChain {
            detail: "no CERTIFICATE block in the PEM text".into(),
        });
    }
    Ok(out)
}

/// Parse a standalone SubjectPublicKeyInfo (DER), refusing trailing bytes.
pub(crate) fn parse_spki(der: &[u8]) -> Option<SubjectPublicKeyInfo<'_>> {
    match SubjectPublicKeyInfo::from_der(der) {
        Ok(([], spki)) => Some(spki),
        _ => None,
    }
}

/// The ring algorithm for a signature OID made by a key of the given SPKI, or why not.
fn ring_algorithm(
    sig_oid: &Oid<'_>,
    issuer: &SubjectPublicKeyInfo<'_>,
) -> Result<&'static dyn signature::VerificationAlgorithm, String> {
    let key_oid = &issuer.algorithm.algorithm;
    if *key_oid == OID_RSA_ENCRYPTION {
        return if *sig_oid == OID_SHA256_RSA {
            Ok(&signature::RSA_PKCS1_2048_8192_SHA256)
        } else if *sig_oid == OID_SHA384_RSA {
            Ok(&signature::RSA_PKCS1_2048_8192_SHA384)
        } else if *sig_oid == OID_SHA512_RSA {
            Ok(&signature::RSA_PKCS1_2048_8192_SHA512)
        } else {
            Err(format!("signature {sig_oid} with an RSA key"))
        };
    }
    if *key_oid == OID_EC_PUBLIC_KEY {
        let curve = issuer
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        let p256 = curve.as_ref() == Some(&OID_P256);
        let p384 = curve.as_ref() == Some(&OID_P384);
        return match (p256, p384) {
            (true, _) if *sig_oid == OID_ECDSA_SHA256 => Ok(&signature::ECDSA_P256_SHA256_ASN1),
            (true, _) if *sig_oid == OID_ECDSA_SHA384 => Ok(&signature::ECDSA_P256_SHA384_ASN1),
            (_, true) if *sig_oid == OID_ECDSA_SHA256 => Ok(&signature::ECDSA_P384_SHA256_ASN1),
            (_, true) if *sig_oid == OID_ECDSA_SHA384 => Ok(&signature::ECDSA_P384_SHA384_ASN1),
            (false, false) => Err("EC key on a curve other than P-256/P-384".into()),
            _ => Err(format!("signature {sig_oid} with an EC key")),
        };
    }
    Err(format!("issuer key algorithm {key_oid}"))
}

/// Outcome of a signature check that did not succeed.
pub(crate) enum SigFailure {
    /// The algorithm pair is not one this verifier accepts.
    Unsupported(String),
    /// ring refused the signature.
    Invalid,
}

/// Verify that `cert` was signed by the key in `issuer`.
pub(crate) fn verify_signed_by(
    cert: &X509Certificate<'_>,
    issuer: &SubjectPublicKeyInfo<'_>,
) -> Result<(), SigFailure> {
    let alg = ring_algorithm(&cert.signature_algorithm.algorithm, issuer)
        .map_err(SigFailure::Unsupported)?;
    let key = signature::UnparsedPublicKey::new(alg, issuer.subject_public_key.data.as_ref());
    key.verify(
        cert.tbs_certificate.as_ref(),
        cert.signature_value.data.as_ref(),
    )
    .map_err(|_| SigFailure::Invalid)
}

/// A certificate's subject as text, for messages.
pub(crate) fn subject(cert: &X509Certificate<'_>) -> String {
    cert.subject().to_string()
}

/// Lowercase hex of the serial without leading zeros: the key format of Google's attestation
/// status list (a Java `BigInteger.toString(16)`).
pub(crate) fn serial_hex(cert: &X509Certificate<'_>) -> String {
    let hex = hex::encode(cert.raw_serial());
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// SHA-256 of a byte string.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Unix seconds as RFC 3339 (UTC), or the number itself if out of range.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Parse an RFC 3339 time (e.g. `2024-04-18T12:00:00Z`) to unix seconds; for the CLI's `--at`.
pub fn parse_rfc3339(s: &str) -> Result<i64, crate::ConfigError> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| crate::ConfigError::Time(format!("{s:?} is not RFC 3339: {e}")))
}

/// Check `cert` is inside its validity window at `at` (unix seconds; both ends inclusive).
pub(crate) fn check_validity(
    cert: &X509Certificate<'_>,
    index: usize,
    at: i64,
) -> Result<(), Refusal> {
    let v = cert.validity();
    if at < v.not_before.timestamp() {
        return Err(Refusal::NotYetValid {
            index,
            subject: subject(cert),
            not_before: rfc3339(v.not_before.timestamp()),
        });
    }
    if at > v.not_after.timestamp() {
        return Err(Refusal::ExpiredCertificate {
            index,
            subject: subject(cert),
            not_after: rfc3339(v.not_after.timestamp()),
        });
    }
    Ok(())
}

/// The uncompressed EC point of a P-256 SubjectPublicKeyInfo, if that is what it is.
pub(crate) fn p256_point<'a>(spki: &'a SubjectPublicKeyInfo<'_>) -> Option<&'a [u8]> {
    let is_ec = spki.algorithm.algorithm == OID_EC_PUBLIC_KEY;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    let point: &[u8] = spki.subject_public_key.data.as_ref();
    (is_ec && curve.as_ref() == Some(&OID_P256) && point.len() == 65 && point[0] == 4)
        .then_some(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every certificate of three real chains (leaves, RKP and factory intermediates, the
    /// RSA and EC roots).
    fn genuine() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/android");
        [
            "akita_sdk34_TEE_EC_NONE",
            "blueline_sdk28_TEE_EC_NONE",
            "caiman_sdk36_SB_EC_RKP",
        ]
        .iter()
        .flat_map(|name| {
            let pem = std::fs::read_to_string(dir.join(format!("{name}.pem"))).expect("test data");
            parse_pem_chain(&pem).expect("test chain")
        })
        .collect()
    }

    /// Where the outer AlgorithmIdentifier and the signature's tag start.
    fn outer_offsets(der: &[u8]) -> (usize, usize) {
        let cert = parse_cert(der, 0).expect("genuine certificate");
        assert_eq!(der[1], 0x82, "a two-byte length");
        let alg = 4 + cert.tbs_certificate.as_ref().len();
        assert!(der[alg + 1] < 0x80, "a short AlgorithmIdentifier");
        (alg, alg + 2 + usize::from(der[alg + 1]))
    }

    #[test]
    fn the_outer_layer_is_read_strictly() {
        let certs = genuine();
        assert!(certs.len() >= 9);
        for der in &certs {
            assert!(strict_outer_layer(der), "a genuine certificate refused");
            let (alg, sig) = outer_offsets(der);
            let changed = |f: &dyn Fn(&mut Vec<u8>)| {
                let mut m = der.clone();
                f(&mut m);
                m
            };
            let oid_last = alg + 3 + usize::from(der[alg + 3]);
            let longer = u16::from_be_bytes([der[2], der[3]]) + 2;
            for (what, bad) in [
                ("signature as OCTET STRING", changed(&|m| m[sig] = 0x04)),
                ("constructed BIT STRING", changed(&|m| m[sig] = 0x23)),
                ("another outer algorithm", changed(&|m| m[oid_last] ^= 1)),
                ("TBS as a SET", changed(&|m| m[4] = 0x31)),
                (
                    "a value after the signature",
                    changed(&|m| {
                        m[2..4].copy_from_slice(&longer.to_be_bytes());
                        m.extend_from_slice(&[0x05, 0x00]);
                    }),
                ),
                ("bytes after the certificate", changed(&|m| m.push(0))),
            ] {
                assert!(!strict_outer_layer(&bad), "{what} accepted");
            }
        }
    }
}
