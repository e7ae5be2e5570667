//! Passwords as Argon2id PHC strings (argon2's defaults: 19 MiB, 2 passes,
//! one lane — OWASP's minimum), never stored or logged in the clear.

use argon2::password_hash::{self, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// Argon2's working memory, reused: a buffer freed to the allocator is
/// kept per thread arena and resident memory grows with every thread that
/// ever hashed (64 sign-ins took a gigabyte), so buffers live here and the
/// process holds at most as many as hashes ever ran at once (bounded by
/// `limits.max_concurrent_password_hashes` for sign-ins).
static BUFFERS: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

/// Above the default cost, a stored hash is checked with memory of its own.
fn with_buffer<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let default_blocks = Params::default().block_count();
    if blocks > default_blocks {
        return f(&mut vec![Block::default(); blocks]);
    }
    let taken = BUFFERS.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut buffer = taken.unwrap_or_else(|| vec![Block::default(); default_blocks]);
    let out = f(&mut buffer[..blocks]);
    BUFFERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(buffer);
    out
}

/// True when `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_LEN * 4 {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let hashed = with_buffer(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
    });
    // Constant time: Output's equality is.
    hashed.is_ok() && password_hash::Output::new(&out).is_ok_and(|o| o == expected)
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
