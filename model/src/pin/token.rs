//! The reset token: the end of every reset path (admin, code, self-service).
//! The server signs its exact JSON bytes with the policy key the app already
//! pins, so the device checks it offline: the signature, that it names this
//! device and employee, that it has not expired (on trusted time) and that
//! its id was never used before (the device keeps used ids).

use serde::{Deserialize, Serialize};

use crate::ledger::signing::{self, Signer, SignerError};
use crate::wire::b64;

/// Layout version of the token bytes.
pub const TOKEN_FORMAT: u32 = 1;
/// What the bytes are: a policy or any other signed document never parses as this.
pub const TOKEN_PURPOSE: &str = "punch_pin_reset";
/// How long a token is good for.
pub const TOKEN_LIFETIME_MS: i64 = 15 * 60 * 1000;

/// Which reset path issued the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetPath {
    Admin,
    Code,
    SelfService,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetToken {
    pub format: u32,
    pub purpose: String,
    /// Random; single use.
    pub token_id: String,
    pub employee_id: String,
    pub device_id: String,
    pub path: ResetPath,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
}

/// The token as sent: the exact signed bytes and the server's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedResetToken {
    #[serde(with = "b64::bytes")]
    pub body: Vec<u8>,
    /// ECDSA P-256 SHA-256 (DER) by the server's policy key over `body`.
    #[serde(with = "b64::bytes")]
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("reset token signature does not verify with the pinned server key")]
    BadSignature,
    #[error("reset token is malformed: {0}")]
    Malformed(String),
    #[error("reset token is for another device or employee")]
    WrongSubject,
    #[error("reset token expired at {expires_at_ms} (now {now_ms})")]
    Expired { expires_at_ms: i64, now_ms: i64 },
    #[error("reset token was already used")]
    Reused,
    #[error("signing the reset token failed: {0}")]
    Signing(String),
}

impl ResetToken {
    pub fn new(
        token_id: String,
        employee_id: &str,
        device_id: &str,
        path: ResetPath,
        now_ms: i64,
    ) -> ResetToken {
        ResetToken {
            format: TOKEN_FORMAT,
            purpose: TOKEN_PURPOSE.into(),
            token_id,
            employee_id: employee_id.into(),
            device_id: device_id.into(),
            path,
            issued_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(TOKEN_LIFETIME_MS),
        }
    }

    /// Serialises once and signs those bytes (server side).
    pub fn sign(&self, signer: &dyn Signer) -> Result<SignedResetToken, TokenError> {
        let body = serde_json::to_vec(self).map_err(|e| TokenError::Malformed(e.to_string()))?;
        let signature = signer
            .sign(&body)
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(SignedResetToken { body, signature })
    }
}

impl SignedResetToken {
    /// Checks signature, purpose, subject and expiry (not reuse: the device
    /// keeps the used ids). `now_ms` is the device's trusted time.
    pub fn verify(
        &self,
        pinned_key: &[u8],
        device_id: &str,
        employee_id: &str,
        now_ms: i64,
    ) -> Result<ResetToken, TokenError> {
        signing::verify(pinned_key, &self.body, &self.signature).map_err(|e| match e {
            SignerError::BadPublicKey => TokenError::Malformed("pinned key is not P-256".into()),
            _ => TokenError::BadSignature,
        })?;
        let token: ResetToken =
            serde_json::from_slice(&self.body).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if token.format != TOKEN_FORMAT || token.purpose != TOKEN_PURPOSE {
            return Err(TokenError::Malformed("not a PIN reset token".into()));
        }
        if token.device_id != device_id || token.employee_id != employee_id {
            return Err(TokenError::WrongSubject);
        }
        if now_ms >= token.expires_at_ms {
            return Err(TokenError::Expired {
                expires_at_ms: token.expires_at_ms,
                now_ms,
            });
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::signing::SoftwareSigner;

    #[test]
    fn verifies_offline_and_refuses_forgery_other_subject_and_expiry() {
        let (server, _) = SoftwareSigner::generate().unwrap();
        let key = server.public_key_spki().unwrap();
        let t = ResetToken::new("t1".into(), "E1", "D1", ResetPath::Code, 1_000);
        let signed = t.sign(&server).unwrap();
        assert_eq!(signed.verify(&key, "D1", "E1", 2_000).unwrap(), t);
        assert_eq!(
            signed.verify(&key, "D2", "E1", 2_000),
            Err(TokenError::WrongSubject)
        );
        assert!(matches!(
            signed.verify(&key, "D1", "E1", 1_000 + TOKEN_LIFETIME_MS),
            Err(TokenError::Expired { .. })
        ));
        let mut forged = signed.clone();
        forged.body = serde_json::to_vec(&ResetToken {
            device_id: "D2".into(),
            ..t.clone()
        })
        .unwrap();
        assert_eq!(
            forged.verify(&key, "D2", "E1", 2_000),
            Err(TokenError::BadSignature)
        );
        let (other, _) = SoftwareSigner::generate().unwrap();
        let by_other = t.sign(&other).unwrap();
        assert_eq!(
            by_other.verify(&key, "D1", "E1", 2_000),
            Err(TokenError::BadSignature)
        );
    }
}
