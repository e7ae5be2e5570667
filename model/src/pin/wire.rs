//! The PIN routes of the HTTP contract (all device-authenticated).

use serde::{Deserialize, Serialize};

use super::token::SignedResetToken;

/// `POST /v1/pin/code`: send a reset code to the employee's bound contact.
pub const PATH_PIN_CODE: &str = "/v1/pin/code";
/// `POST /v1/pin/code/redeem`: trade the code for a reset token.
pub const PATH_PIN_CODE_REDEEM: &str = "/v1/pin/code/redeem";
/// `POST /v1/pin/self-service`: trade employer-configured identity data for a token.
pub const PATH_PIN_SELF_SERVICE: &str = "/v1/pin/self-service";
/// `POST /v1/pin/admin-reset`: fetch the token for a reset an admin ordered.
pub const PATH_PIN_ADMIN_RESET: &str = "/v1/pin/admin-reset";

/// Answer to `PATH_PIN_CODE`: where the code went (masked) and until when it is good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinCodeSent {
    /// "email" or "phone".
    pub channel: String,
    /// The address with most of it hidden, e.g. `a***@example.com`.
    pub masked_to: String,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinCodeRedeem {
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinSelfService {
    pub employee_number: String,
    pub secret: String,
}

/// Every reset path ends here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinResetGranted {
    pub token: SignedResetToken,
    pub server_time_ms: i64,
}
