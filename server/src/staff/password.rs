//! Passwords as Argon2id PHC strings (argon2's defaults: 19 MiB, 2 passes,
//! one lane — OWASP's minimum), never stored or logged in the clear.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Result, ServerError};
use crate::staff::secret::random_bytes;

/// Shorter passwords are refused (the second factor does not excuse a weak one).
pub const MIN_LEN: usize = 12;
/// Longer ones are refused too: hashing must stay bounded.
pub const MAX_LEN: usize = 256;

/// The PHC string of `password`.
pub fn hash(password: &str) -> Result<String> {
    let n = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return Err(ServerError::Invalid(format!(
            "a password has {MIN_LEN} to {MAX_LEN} characters"
        )));
    }
    let salt = SaltString::encode_b64(&random_bytes(16)?)
        .map_err(|e| ServerError::Crypto(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Crypto(format!("argon2: {e}")))
}

/// True when `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_LEN * 4 {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// As long as a real check, for unknown usernames (timing tells nothing).
pub fn verify_against_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("a password nobody has, ever").unwrap_or_default());
    let _ = verify(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("x", "not a phc string"));
        assert!(hash("short").is_err());
    }
}
