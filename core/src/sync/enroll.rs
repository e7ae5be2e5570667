//! Enrollment: a one-time code from the employer binds this device's two
//! keys to an employee; the request is signed by the channel key being
//! bound and carries the punch key's signature (proof of possession of
//! both), and the answer gives the first time anchor.

use std::sync::Arc;

use punch_model::ledger::key_rotation::{KeyRole, punch_key_proof_message};
use punch_model::rules::assurance::AssuranceLevel;
use punch_model::wire::{
    self, DeviceAttestation, EnrollChallengeRequest, EnrollChallengeResponse, EnrollRequest,
    EnrollResponse, ErrorCode,
};

use super::anchor::save_anchor;
use super::config::ServerConfig;
use super::error::SyncError;
use super::requests::{SANE_SERVER_TIME_MS, Session, error_from_response};
use crate::error::EnrollError;
use crate::error::{PunchError, Result};
use crate::keys::{HeldKey, KeyProvider, KeySet};
use crate::net::transport::{HttpRequest, Transport};

/// Asks the server for a single-use attestation challenge for `code`. No
/// device key is needed: an Android app calls this first and generates its
/// Keystore key with `setAttestationChallenge(challenge)`, then opens the
/// engine with that key and calls `enroll_with_challenge`. None when the
/// server does not offer attestation (an older server: 404).
/// [`PunchEngine::enroll_with_keys`](crate::PunchEngine::enroll_with_keys)
/// does all of this in one call.
pub fn fetch_enrollment_challenge(
    server: &ServerConfig,
    transport: &dyn Transport,
    code: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(fetch_offer(server, transport, code)?.map(|offer| offer.challenge))
}

/// The server's challenge for `code` and what its policy requires.
fn fetch_offer(
    server: &ServerConfig,
    transport: &dyn Transport,
    code: &str,
) -> Result<Option<EnrollChallengeResponse>> {
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
    Ok(Some(answer))
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

/// The platform's proofs of the two keys.
#[derive(Default)]
struct Proofs {
    punch: Option<DeviceAttestation>,
    channel: Option<DeviceAttestation>,
}

/// Refuses, before anything is sent, to enroll a punch key the employer's
/// policy would need attested when the platform gave no attestation.
fn check_required(
    min_assurance: Option<AssuranceLevel>,
    punch: &Option<DeviceAttestation>,
) -> Result<()> {
    match min_assurance {
        Some(required) if required > AssuranceLevel::Software && punch.is_none() => {
            Err(EnrollError::AttestationRequired {
                role: KeyRole::Punch,
                required,
            }
            .into())
        }
        _ => Ok(()),
    }
}

/// Enrolls the device with the keys it has; returns the employee id it is
/// now bound to. Platform signers are asked for their attestation of
/// `challenge` (fetched here when the app has none, with the policy's
/// minimum); software keys enroll without one.
pub(crate) fn enroll(
    session: &Session<'_>,
    code: &str,
    challenge: Option<Vec<u8>>,
) -> Result<String> {
    let keys = session.device.keys();
    let (challenge, min_assurance) = match challenge {
        Some(c) => (Some(c), None),
        None => match fetch_offer(session.server, session.transport.as_ref(), code)? {
            Some(offer) => (Some(offer.challenge), offer.min_assurance),
            None => (None, None),
        },
    };
    let mut proofs = Proofs::default();
    if let Some(c) = &challenge {
        // Foreign code (a Keystore or App Attest call): no lock is held.
        if !keys.punch.software {
            proofs.punch = keys.punch.signer.attestation(c)?;
        }
        if !keys.channel.software && keys.channel_key.is_some() {
            proofs.channel = keys.channel.signer.attestation(c)?;
        }
    }
    check_required(min_assurance, &proofs.punch)?;
    send_enrollment(session, code, &keys, proofs)
}

/// Enrolls with two keys `provider` creates for the server's challenge.
pub(crate) fn enroll_with_keys(
    session: &Session<'_>,
    code: &str,
    provider: &dyn KeyProvider,
) -> Result<String> {
    let device = session.device;
    let offer = fetch_offer(session.server, session.transport.as_ref(), code)?
        .ok_or(EnrollError::NoChallenge)?;
    // Foreign code (the platform's key store): no lock is held.
    let punch = provider.create_key(KeyRole::Punch, &offer.challenge)?;
    check_required(offer.min_assurance, &punch.attestation)?;
    let channel = provider.create_key(KeyRole::Channel, &offer.challenge)?;
    let held = |signer: Arc<dyn crate::Signer>| -> Result<HeldKey> {
        Ok(HeldKey {
            public_key: signer.public_key_spki()?,
            signer,
            software: false,
        })
    };
    let keys = KeySet {
        punch: held(punch.signer)?,
        channel: held(channel.signer)?,
        enrolled_punch_key: Vec::new(),
        channel_key: None,
        rotations: Vec::new(),
    };
    let keys = KeySet {
        enrolled_punch_key: keys.punch.public_key.clone(),
        channel_key: Some(keys.channel.public_key.clone()),
        ..keys
    };
    device.db.replace_keys(
        (&keys.punch.public_key, None),
        (&keys.channel.public_key, None),
    )?;
    device.set_keys(keys.clone());
    let proofs = Proofs {
        punch: punch.attestation,
        channel: channel.attestation,
    };
    send_enrollment(session, code, &keys, proofs)
}

fn send_enrollment(
    session: &Session<'_>,
    code: &str,
    keys: &KeySet,
    proofs: Proofs,
) -> Result<String> {
    let device = session.device;
    // The punch key proves its holder asked to bind it beside the channel
    // key (which signs the request itself).
    let punch_key_proof = match &keys.channel_key {
        Some(channel) => Some(
            keys.punch
                .sign(&punch_key_proof_message(&device.device_id, channel))?,
        ),
        None => None,
    };
    let body = serde_json::to_vec(&EnrollRequest {
        code: code.trim().to_string(),
        device_id: device.device_id.clone(),
        public_key: keys.punch.public_key.clone(),
        key_storage: if keys.punch.software {
            "software"
        } else {
            "hardware"
        }
        .into(),
        platform: std::env::consts::OS.into(),
        attestation: proofs.punch,
        channel_key: keys.channel_key.clone(),
        channel_attestation: proofs.channel,
        punch_key_proof,
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
