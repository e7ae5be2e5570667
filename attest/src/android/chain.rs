//! The Android attestation chain: parsing, and where the KeyDescription may appear.

use asn1_rs::{Oid, oid};
use x509_parser::certificate::X509Certificate;

use crate::android::key_description::{KeyDescription, parse_key_description};
use crate::chain::MAX_CHAIN_LEN;
use crate::error::Refusal;
use crate::x509::{parse_cert, subject};

const OID_KEY_DESCRIPTION: Oid<'static> = oid!(1.3.6.1.4.1.11129.2.1.17);

/// Parse a DER chain (leaf first), bounding its length.
pub(crate) fn parse_chain<D: AsRef<[u8]>>(ders: &[D]) -> Result<Vec<X509Certificate<'_>>, Refusal> {
    if ders.len() > MAX_CHAIN_LEN {
        return Err(Refusal::ChainTooLong {
            len: ders.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    if ders.is_empty() {
        return Err(Refusal::TruncatedChain {
            detail: "no certificate".into(),
        });
    }
    ders.iter()
        .enumerate()
        .map(|(i, d)| parse_cert(d.as_ref(), i))
        .collect()
}

/// The raw KeyDescription extension value of a certificate, if present.
pub(crate) fn key_description_raw<'a>(
    cert: &'a X509Certificate<'_>,
) -> Result<Option<&'a [u8]>, Refusal> {
    cert.get_extension_unique(&OID_KEY_DESCRIPTION)
        .map(|e| e.map(|e| e.value))
        .map_err(|e| Refusal::MalformedExtension {
            detail: format!("KeyDescription: {e}"),
        })
}

/// Parse the leaf's KeyDescription.
pub(crate) fn leaf_key_description(
    certs: &[X509Certificate<'_>],
) -> Result<KeyDescription, Refusal> {
    let Some(leaf) = certs.first() else {
        return Err(Refusal::TruncatedChain {
            detail: "no certificate".into(),
        });
    };
    match key_description_raw(leaf)? {
        Some(raw) => parse_key_description(raw),
        None => Err(Refusal::MissingExtension {
            index: 0,
            what: "Android KeyDescription (1.3.6.1.4.1.11129.2.1.17)",
        }),
    }
}

/// Only the leaf may carry a KeyDescription. An attested app key (any app can get one) could
/// otherwise act as a CA and sign a forged "leaf" with a KeyDescription of its choosing.
pub(crate) fn check_extension_placement(certs: &[X509Certificate<'_>]) -> Result<(), Refusal> {
    for (i, cert) in certs.iter().enumerate().skip(1) {
        if cert.iter_extensions().any(|e| e.oid == OID_KEY_DESCRIPTION) {
            return Err(Refusal::UnexpectedExtension {
                index: i,
                subject: subject(cert),
            });
        }
    }
    Ok(())
}
