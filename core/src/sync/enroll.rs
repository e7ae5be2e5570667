//! Enrollment: a one-time code from the employer binds this device's key to
//! an employee; the request is signed by the key being bound (proof of
//! possession), and the answer gives the first time anchor.

use punch_model::wire::{self, EnrollRequest, EnrollResponse, ErrorCode};

use super::anchor::save_anchor;
use super::error::SyncError;
use super::requests::{SANE_SERVER_TIME_MS, Session, error_from_response};
use crate::error::{PunchError, Result};

/// Enrolls the device; returns the employee id it is now bound to.
pub(crate) fn enroll(session: &Session<'_>, code: &str) -> Result<String> {
    let device = session.device;
    let body = serde_json::to_vec(&EnrollRequest {
        code: code.trim().to_string(),
        device_id: device.device_id.clone(),
        public_key: device.public_key.clone(),
        key_storage: if device.software_key {
            "software"
        } else {
            "hardware"
        }
        .into(),
        platform: std::env::consts::OS.into(),
    })
    .map_err(|e| PunchError::CorruptState(e.to_string()))?;
    let send = || -> Result<_> {
        let request = session.signed_request("POST", wire::PATH_ENROLL, &body)?;
        Ok(session.transport.send(&request)?)
    };
    let mut response = send()?;
    if let SyncError::Refused {
        code: Some(ErrorCode::StaleTimestamp),
        ..
    } = error_from_response(&response)
    {
        // A phone whose clock is off: learn the server's time, sign again.
        session.learn_offset(&response)?;
        response = send()?;
    }
    if response.status != 200 {
        return Err(PunchError::Sync(error_from_response(&response)));
    }
    let bad = |message: String| PunchError::Sync(SyncError::BadResponse { message });
    let answer: EnrollResponse =
        serde_json::from_slice(&response.body).map_err(|e| bad(e.to_string()))?;
    if answer.device_id != device.device_id {
        return Err(bad("enrollment answered for another device".into()));
    }
    if !SANE_SERVER_TIME_MS.contains(&answer.server_time_ms) {
        return Err(bad(format!(
            "server time {} is not plausible",
            answer.server_time_ms
        )));
    }
    device.bind_employee(&answer.employee_id)?;
    save_anchor(device, answer.server_time_ms, &answer.time_token)?;
    Ok(answer.employee_id)
}
