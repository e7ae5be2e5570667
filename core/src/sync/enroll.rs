//! Enrollment: a one-time code from the employer binds this device's key to
//! an employee; the request is signed by the key being bound (proof of
//! possession), and the answer gives the first time anchor.

use std::sync::Arc;

use punch_model::wire::{
    self, EnrollChallengeRequest, EnrollChallengeResponse, EnrollRequest, EnrollResponse, ErrorCode,
};

use super::anchor::save_anchor;
use super::config::ServerConfig;
use super::error::SyncError;
use super::requests::{SANE_SERVER_TIME_MS, Session, error_from_response};
use crate::error::{PunchError, Result};
use crate::net::transport::{HttpRequest, Transport};

/// Asks the server for a single-use attestation challenge for `code`. No
/// device key is needed: an Android app calls this first and generates its
/// Keystore key with `setAttestationChallenge(challenge)`, then opens the
/// engine with that key and calls `enroll_with_challenge`. None when the
/// server does not offer attestation (an older server: 404).
pub fn fetch_enrollment_challenge(
    server: &ServerConfig,
    transport: &dyn Transport,
    code: &str,
) -> Result<Option<Vec<u8>>> {
    let body = serde_json::to_vec(&EnrollChallengeRequest {
        code: code.trim().to_string(),
    })
    .map_err(|e| PunchError::CorruptState(e.to_string()))?;
    let response = transport.send(&HttpRequest {
        method: "POST".into(),
        url: format!("{}{}", server.base_url, wire::PATH_ENROLL_CHALLENGE),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
        timeout_ms: server.request_timeout_ms,
    })?;
    if response.status == 404 {
        return Ok(None);
    }
    if response.status != 200 {
        return Err(PunchError::Sync(error_from_response(&response)));
    }
    let answer: EnrollChallengeResponse = serde_json::from_slice(&response.body).map_err(|e| {
        PunchError::Sync(SyncError::BadResponse {
            message: e.to_string(),
        })
    })?;
    if answer.challenge.is_empty() || answer.challenge.len() > 256 {
        return Err(PunchError::Sync(SyncError::BadResponse {
            message: format!("attestation challenge of {} bytes", answer.challenge.len()),
        }));
    }
    Ok(Some(answer.challenge))
}

/// The default transport when the app gave none.
pub(crate) fn default_transport() -> Result<Arc<dyn Transport>> {
    #[cfg(feature = "http-client")]
    {
        Ok(Arc::new(crate::net::http_client::ReqwestTransport::new()?))
    }
    #[cfg(not(feature = "http-client"))]
    Err(PunchError::NotConfigured)
}

/// Enrolls the device; returns the employee id it is now bound to. A
/// platform signer is asked for its attestation of `challenge` (fetched here
/// when the app has none); a software key enrolls without one.
pub(crate) fn enroll(
    session: &Session<'_>,
    code: &str,
    challenge: Option<Vec<u8>>,
) -> Result<String> {
    let device = session.device;
    let attestation = if device.software_key {
        None
    } else {
        let challenge = match challenge {
            Some(c) => Some(c),
            None => fetch_enrollment_challenge(session.server, session.transport.as_ref(), code)?,
        };
        match challenge {
            // Foreign code (a Keystore or App Attest call): no lock is held.
            Some(c) => device.signer.attestation(&c)?,
            None => None,
        }
    };
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
        attestation,
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
