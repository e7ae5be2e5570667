//! The server side of the three reset paths, as the device calls them: each
//! is a device-signed request and ends with a server-signed reset token.

use punch_model::pin::SignedResetToken;
use punch_model::pin::wire::{
    PATH_PIN_ADMIN_RESET, PATH_PIN_CODE, PATH_PIN_CODE_REDEEM, PATH_PIN_SELF_SERVICE,
    PinCodeRedeem, PinCodeSent, PinResetGranted, PinSelfService,
};

use crate::error::{PunchError, Result};
use crate::sync::SyncReport;
use crate::sync::requests::{CallFailure, Session, parse_answer};

fn post<T: serde::de::DeserializeOwned>(
    session: &Session<'_>,
    path: &str,
    body: &impl serde::Serialize,
) -> Result<T> {
    let body = serde_json::to_vec(body).map_err(|e| PunchError::CorruptState(e.to_string()))?;
    let mut report = SyncReport::default();
    let answer = session
        .call("POST", path, body, &mut report)
        .and_then(|r| parse_answer::<T>(&r));
    answer.map_err(|f| match f {
        CallFailure::Local(e) => e,
        CallFailure::Transient { error, .. } | CallFailure::Permanent(error) => {
            PunchError::Sync(error)
        }
    })
}

pub(crate) fn request_code(session: &Session<'_>) -> Result<PinCodeSent> {
    post(session, PATH_PIN_CODE, &serde_json::json!({}))
}

pub(crate) fn redeem_code(session: &Session<'_>, code: &str) -> Result<SignedResetToken> {
    let granted: PinResetGranted = post(
        session,
        PATH_PIN_CODE_REDEEM,
        &PinCodeRedeem { code: code.into() },
    )?;
    Ok(granted.token)
}

pub(crate) fn self_service(
    session: &Session<'_>,
    employee_number: &str,
    secret: &str,
) -> Result<SignedResetToken> {
    let granted: PinResetGranted = post(
        session,
        PATH_PIN_SELF_SERVICE,
        &PinSelfService {
            employee_number: employee_number.into(),
            secret: secret.into(),
        },
    )?;
    Ok(granted.token)
}

pub(crate) fn admin_reset(session: &Session<'_>) -> Result<SignedResetToken> {
    let granted: PinResetGranted = post(session, PATH_PIN_ADMIN_RESET, &serde_json::json!({}))?;
    Ok(granted.token)
}
