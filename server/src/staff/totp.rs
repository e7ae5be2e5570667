//! The second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s — what every
//! authenticator app reads from an `otpauth://` URI), via totp-rs. One step
//! of clock drift either way is accepted, and a step once used is spent.

use totp_rs::{Algorithm, TOTP};

use crate::error::{Result, ServerError};

pub const STEP_S: u64 = 30;
pub const DIGITS: usize = 6;
/// 160 bits, RFC 4226's recommendation.
pub const SECRET_LEN: usize = 20;

fn totp(secret: &[u8]) -> Result<TOTP> {
    labelled(secret, None, String::new())
}

/// With the issuer and account an authenticator app shows.
fn labelled(secret: &[u8], issuer: Option<String>, account: String) -> Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_S,
        secret.to_vec(),
        issuer,
        account,
    )
    .map_err(|e| ServerError::Invalid(format!("TOTP secret: {e}")))
}

/// The base32 form people type or scan.
pub fn secret_base32(secret: &[u8]) -> Result<String> {
    Ok(totp(secret)?.get_secret_base32())
}

/// `otpauth://totp/ISSUER:USER?secret=…&issuer=ISSUER` for an authenticator
/// app (totp-rs encodes the label; SHA-1, 6 digits and 30 s are the URI
/// format's defaults, so it leaves them out).
pub fn otpauth_uri(secret: &[u8], issuer: &str, username: &str) -> Result<String> {
    Ok(labelled(secret, Some(issuer.to_string()), username.to_string())?.get_url())
}

/// The code for `now_ms` (tests, the CLI's self-check).
pub fn code_at(secret: &[u8], now_ms: i64) -> Result<String> {
    Ok(totp(secret)?.generate(u64::try_from(now_ms.max(0) / 1000).unwrap_or(0)))
}

/// The time step `code` belongs to if it is valid now (±1 step) and newer
/// than `last_step`; None otherwise.
pub fn check(secret: &[u8], code: &str, now_ms: i64, last_step: i64) -> Result<Option<i64>> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret)?;
    let now_step = now_ms.max(0) / 1000 / STEP_S as i64;
    for step in [now_step - 1, now_step, now_step + 1] {
        if step <= last_step || step < 0 {
            continue;
        }
        // skew 0: check() compares with the code of exactly this step, in constant time.
        if totp.check(code, step as u64 * STEP_S) {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

/// The raw secret from the base32 form a person was shown.
pub fn secret_from_base32(secret_base32: &str) -> Result<Vec<u8>> {
    totp_rs::Secret::Encoded(secret_base32.trim().to_string())
        .to_bytes()
        .map_err(|e| ServerError::Invalid(format!("base32 secret: {e:?}")))
}

/// The code for `now_ms` from the base32 secret a person was shown.
pub fn code_from_base32(secret_base32: &str, now_ms: i64) -> Result<String> {
    code_at(&secret_from_base32(secret_base32)?, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8 digits there; the last 6 here).
    #[test]
    fn rfc6238_vector_and_replay() {
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59_000).unwrap(), "287082");
        assert_eq!(code_at(secret, 1_111_111_109_000).unwrap(), "081804");
        let now = 1_111_111_109_000;
        let step = check(secret, "081804", now, 0).unwrap().expect("valid");
        assert_eq!(check(secret, "081804", now, step).unwrap(), None, "replay");
        assert_eq!(check(secret, "000000", now, 0).unwrap(), None);
        assert_eq!(check(secret, "08180", now, 0).unwrap(), None);
    }

    #[test]
    fn the_authenticator_uri_names_issuer_account_and_secret() {
        let secret = b"12345678901234567890";
        let uri = url::Url::parse(&otpauth_uri(secret, "punch", "hr.admin").unwrap()).unwrap();
        assert_eq!((uri.scheme(), uri.host_str()), ("otpauth", Some("totp")));
        assert_eq!(uri.path(), "/punch:hr.admin");
        let query: std::collections::HashMap<_, _> = uri.query_pairs().collect();
        assert_eq!(query["issuer"], "punch");
        assert_eq!(
            secret_from_base32(&query["secret"]).unwrap(),
            secret.to_vec()
        );
    }
}
