//! Random secrets and their at-rest form (SHA-256, hex): session ids and
//! API tokens are credentials, so the database holds only their hashes.

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, ServerError};

/// `n` random bytes from the system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| ServerError::Crypto("system random failed".into()))?;
    Ok(out)
}

/// 32 random bytes as URL-safe base64 without padding (43 characters).
pub fn random_token() -> Result<String> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(32)?))
}

/// Hex SHA-256 of a secret.
pub fn hash(secret: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        secret.as_bytes(),
    ))
}

/// Equal without a timing leak about the secret (for CSRF tokens): the
/// comparison is of SHA-256 digests, which tell an attacker nothing.
pub fn same(a: &str, b: &str) -> bool {
    hash(a) == hash(b)
}
