//! Why a PIN operation did not go through; each variant says what the app shows.

use punch_model::pin::{PinRejected, TokenError};

// Exhaustive on purpose: the bindings map every variant without a
// wildcard, so a new one fails their build instead of reaching apps unmapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Why a PIN call did not go through.
pub enum PinError {
    #[error("the policy requires a PIN to punch: verify it (or the platform's biometric) first")]
    /// The policy requires a verified PIN (or biometric) to punch.
    Required,
    #[error("no PIN is set yet: choose one")]
    /// No PIN is set yet.
    NotSet,
    #[error("a PIN is already set: change it with the current PIN, or reset it")]
    /// A PIN is set already.
    AlreadySet,
    #[error("the PIN is too old: choose a new one")]
    /// The PIN is older than the policy allows.
    MustChange,
    #[error("wrong PIN; {tries_left} tries left before the PIN locks")]
    /// The PIN is wrong.
    Wrong {
        /// Tries before the PIN locks.
        tries_left: u32,
    },
    #[error("the PIN is locked for {remaining_ms} ms more (until about {ends_at_ms})")]
    /// Too many wrong PINs: locked for a while.
    Locked {
        /// How long still.
        remaining_ms: u64,
        /// When it ends, on trusted time (for display).
        ends_at_ms: i64,
    },
    #[error("new PIN refused: {0}")]
    /// The new PIN is too simple, or is the birthday.
    Rejected(PinRejected),
    #[error("reset token refused: {0}")]
    /// The reset token does not hold.
    Token(TokenError),
    #[error(
        "not on this kiosk: the employee is not assigned to its site, or this device is a kiosk and the punch must name the employee (kiosk_punch)"
    )]
    /// Kiosk: the employee is not on its site, or the punch must name the employee.
    NotOnThisKiosk,
}
