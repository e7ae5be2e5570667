//! Certificate path checking shared by Android and Apple: each certificate signed by the next,
//! the last one anchored in a trusted root, every certificate valid at the verification time.
//!
//! Order of checks: the anchor (a genuine but foreign chain is `untrusted_root`), then each
//! signature from the root down (a forgery is named a forgery), then name chaining, then
//! validity dates. Callers
//! parse everything (certificates, extensions) before calling this: structure before
//! cryptography, so a malformed input is always named malformed.

use x509_parser::certificate::X509Certificate;

use crate::android::lapsed::LapsedHierarchy;
use crate::error::Refusal;
use crate::roots::{TrustAnchor, TrustedRoots};
use crate::x509::{SigFailure, check_validity, sha256, subject, verify_signed_by};

/// Most certificates in a chain. Genuine chains have 2 (Apple), 3–4 (factory-provisioned
/// Android) or 5 (remotely provisioned Android).
pub const MAX_CHAIN_LEN: usize = 8;

/// A chain that verified.
#[derive(Clone, Debug)]
pub(crate) struct Anchored {
    /// The root it rests on.
    pub anchor: TrustAnchor,
    /// True when the chain carried its own copy of the root as its last certificate.
    pub root_in_chain: bool,
    /// The expiry let through because it ended with a lapsed hierarchy (the caller's policy
    /// decides whether that stands): the refusal it would otherwise be.
    pub lapsed: Option<Refusal>,
}

fn names_match(cert: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    // Byte equality is the rule; some older devices re-encode the same name (e.g. a different
    // string type), so an identical textual form is accepted too: the signature check decides.
    cert.issuer().as_raw() == parent.subject().as_raw()
        || cert.issuer().to_string() == parent.subject().to_string()
}

fn sig_refusal(index: usize, cert: &X509Certificate<'_>, f: SigFailure) -> Refusal {
    match f {
        SigFailure::Unsupported(detail) => Refusal::UnsupportedAlgorithm { index, detail },
        SigFailure::Invalid => Refusal::BadSignature {
            index,
            subject: subject(cert),
        },
    }
}

/// Verify `certs` (leaf first) up to one of `roots`, at unix time `at`. A certificate that
/// expired with `lapsed` (when the chain rests on its root) is reported in
/// [`Anchored::lapsed`] instead of refused.
pub(crate) fn verify_chain(
    certs: &[X509Certificate<'_>],
    roots: &TrustedRoots,
    at: i64,
    lapsed: Option<&LapsedHierarchy>,
) -> Result<Anchored, Refusal> {
    let Some(last) = certs.last() else {
        return Err(Refusal::TruncatedChain {
            detail: "no certificate".into(),
        });
    };
    if certs.len() > MAX_CHAIN_LEN {
        return Err(Refusal::ChainTooLong {
            len: certs.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    let last_index = certs.len() - 1;
    let anchored = if let Some(anchor) = roots.by_spki(last.public_key().raw) {
        // The chain's copy of a trusted root: its key is trusted, so its self-signature must hold
        // under that key (a tampered copy is a forgery, not a harmless extra).
        verify_signed_by(last, last.public_key()).map_err(|f| sig_refusal(last_index, last, f))?;
        Anchored {
            anchor: anchor.clone(),
            root_in_chain: true,
            lapsed: None,
        }
    } else if let Some(anchor) = roots.anchors().iter().find(|a| {
        crate::x509::parse_spki(&a.spki_der).is_some_and(|k| verify_signed_by(last, &k).is_ok())
    }) {
        Anchored {
            anchor: anchor.clone(),
            root_in_chain: false,
            lapsed: None,
        }
    } else if roots
        .anchors()
        .iter()
        .any(|a| a.subject == last.issuer().to_string())
    {
        // It names a trusted root as its issuer, but that root's key did not sign it.
        return Err(Refusal::BadSignature {
            index: last_index,
            subject: subject(last),
        });
    } else if last.issuer().as_raw() == last.subject().as_raw() {
        return Err(Refusal::UntrustedRoot {
            subject: subject(last),
            spki_sha256: hex::encode(sha256(last.public_key().raw)),
            trusted: roots.len(),
        });
    } else {
        return Err(Refusal::TruncatedChain {
            detail: format!(
                "chain stops at {:?}, issued by {:?}, which is neither in the chain nor a trusted root",
                subject(last),
                last.issuer().to_string()
            ),
        });
    };
    // Then down from the anchor (RFC 5280 order), so a tampered certificate fails its own
    // signature check before its key is used; signatures before names, so a tampered name is
    // reported as the tampering it is.
    for (i, pair) in certs.windows(2).enumerate().rev() {
        let (cert, parent) = (&pair[0], &pair[1]);
        verify_signed_by(cert, parent.public_key()).map_err(|f| sig_refusal(i, cert, f))?;
    }
    for (i, pair) in certs.windows(2).enumerate() {
        let (cert, parent) = (&pair[0], &pair[1]);
        if !names_match(cert, parent) {
            return Err(Refusal::IssuerMismatch {
                index: i,
                issuer: cert.issuer().to_string(),
                parent: parent.subject().to_string(),
            });
        }
    }
    let checked = if anchored.root_in_chain {
        last_index
    } else {
        certs.len()
    };
    let mut anchored = anchored;
    let lapsed = lapsed.filter(|l| l.anchors(&anchored.anchor.spki_der));
    for (i, cert) in certs.iter().enumerate().take(checked) {
        match check_validity(cert, i, at) {
            Err(refusal @ Refusal::ExpiredCertificate { .. })
                if lapsed.is_some_and(|l| l.ended_with_it(cert, at)) =>
            {
                anchored.lapsed.get_or_insert(refusal);
            }
            other => other?,
        }
    }
    Ok(anchored)
}
