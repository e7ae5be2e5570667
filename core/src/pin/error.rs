//! Why a PIN operation did not go through; each variant says what the app shows.

use punch_model::pin::{PinRejected, TokenError};

// Exhaustive on purpose: the bindings map every variant without a
// wildcard, so a new one fails their build instead of reaching apps unmapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("the policy requires a PIN to punch: verify it (or the platform's biometric) first")]
    Required,
    #[error("no PIN is set yet: choose one")]
    NotSet,
    #[error("a PIN is already set: change it with the current PIN, or reset it")]
    AlreadySet,
    #[error("the PIN is too old: choose a new one")]
    MustChange,
    #[error("wrong PIN; {tries_left} tries left before the PIN locks")]
    Wrong { tries_left: u32 },
    #[error("the PIN is locked for {remaining_ms} ms more (until about {ends_at_ms})")]
    Locked { remaining_ms: u64, ends_at_ms: i64 },
    #[error("new PIN refused: {0}")]
    Rejected(PinRejected),
    #[error("reset token refused: {0}")]
    Token(TokenError),
    #[error(
        "not on this kiosk: the employee is not assigned to its site, or this device is a kiosk and the punch must name the employee (kiosk_punch)"
    )]
    NotOnThisKiosk,
}
