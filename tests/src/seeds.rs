//! Real examples for every decoder target: a real server and an enrolled
//! device exchange enrollment, time, policy and uploads through the fault
//! proxy, and what crossed the wire (plus the device's stored records) is
//! kept, framed as each target in `decoders` reads its input.

use std::time::Duration;

use punch_core::{Evidence, GpsFix};
use punch_model::rules::evidence::WifiObservation;
use punch_model::wire;

use crate::fault_proxy::send_raw;
use crate::world::{EMPLOYEE, HQ, World, now_ms};

/// The body of a raw HTTP message (de-chunked if need be).
fn body_of(raw: &[u8]) -> Vec<u8> {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = &raw[split + 4..];
    if !head.contains("transfer-encoding: chunked") {
        return body.to_vec();
    }
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        body = &body[end + 2..];
        if size == 0 || size > body.len() {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
    out
}

fn framed(flag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![flag];
    v.extend_from_slice(body);
    v
}

/// (target, input) pairs, several per target, all from real exchanges.
pub fn real_examples() -> Vec<(&'static str, Vec<u8>)> {
    let w = World::new();
    w.engine.sync().expect("first sync");
    for _ in 0..3 {
        w.clock.advance_ms(20_000);
        w.punch();
    }
    w.engine.sync().expect("upload sync");
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();

    for seen in w.proxy.seen() {
        let request = body_of(&seen.raw);
        let answer = seen.answer.as_deref().map(body_of).unwrap_or_default();
        let kind = match seen.path.as_str() {
            wire::PATH_PUNCHES => {
                out.push(("upload_batch", framed(0, &request)));
                out.push(("upload_batch", framed(1, &request)));
                0
            }
            wire::PATH_TIME => 1,
            wire::PATH_POLICY => {
                out.push(("policy_bundle", framed(0, &answer)));
                out.push(("policy_bundle", framed(1, &answer)));
                if let Ok(p) = serde_json::from_slice::<wire::PolicyResponse>(&answer) {
                    out.push(("policy_json", p.body));
                }
                2
            }
            wire::PATH_ENROLL => {
                out.push(("enroll_request", framed(0, &request)));
                out.push(("enroll_request", framed(1, &request)));
                3
            }
            _ => continue,
        };
        if !answer.is_empty() {
            out.push(("server_response", framed(kind, &answer)));
            // client_answers: [status index 0 = 200][no Retry-After][body]
            out.push(("client_answers", [&[0u8, 0][..], &answer].concat()));
        }
    }

    // An attestation challenge and an error, straight from the server.
    let addr = w.server.as_ref().expect("server").addr();
    let code = w
        .admin
        .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
        .expect("code");
    let body = serde_json::to_vec(&wire::EnrollChallengeRequest { code }).expect("json");
    let raw = format!(
        "POST {} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        wire::PATH_ENROLL_CHALLENGE,
        body.len()
    );
    let challenge = body_of(&send_raw(addr, &[raw.as_bytes(), &body].concat()));
    out.push(("server_response", framed(5, &challenge)));
    let error = body_of(&send_raw(
        addr,
        b"GET /v1/time HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
    ));
    out.push(("server_response", framed(4, &error)));
    out.push(("client_answers", [&[4u8, 0][..], &error].concat()));
    out.push(("client_answers", [&[9u8, 3][..], b"120", &error].concat()));

    // The device's stored records, as the chain walker reads them (seq 1 at its place).
    for p in w.engine.punches(0, 10).expect("punches") {
        let at = u8::try_from(p.seq).unwrap_or(1).min(127);
        out.push(("record_json", framed((at << 1) | 1, &p.record)));
        out.push(("record_json", framed(at << 1, &p.record)));
    }

    out.push((
        "policy_json",
        include_bytes!("../../cli/src/sample_policy.json").to_vec(),
    ));
    out.push(("policy_json", crate::decoders::sample_policy(7, now_ms())));

    for text in [
        "120",
        "0",
        " 7 ",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        out.push(("retry_after", text.as_bytes().to_vec()));
    }

    let at = now_ms();
    let fix = |lat: f64, lon: f64, accuracy_m: f64| GpsFix {
        lat,
        lon,
        accuracy_m,
        fix_time_ms: at,
        provider: "fused".into(),
        is_mock: false,
        speed_mps: Some(1.5),
        elapsed_realtime_ms: None,
        reduced_accuracy: false,
        external_receiver: false,
    };
    let evidence = [
        Evidence {
            gps: Some(fix(52.5203, 13.4050, 15.0)),
            wifi: vec![WifiObservation {
                bssid: "a4:2b:b0:10:20:30".into(),
                ssid: Some("ACME-Office".into()),
                rssi_dbm: Some(-60),
            }],
            ip_addresses: vec!["203.0.113.9".into()],
        },
        Evidence {
            gps: Some(fix(HQ.0, HQ.1, 40.0)),
            ..Evidence::default()
        },
        Evidence::default(),
    ];
    for e in evidence {
        out.push(("evidence", serde_json::to_vec(&e).expect("json")));
    }
    out
}
