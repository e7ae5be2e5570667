//! Refused attempts sealed at rest like punches, through a real SQLite file:
//! the stored row holds no coordinates or BSSID, the list opens them as they
//! were judged, and a lost platform key still lists (clear part, and why),
//! verifies and exports every attempt, old clear ones included.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use punch_core::{
    Decision, EngineOptions, Evaluation, Evidence, KeyWrapError, KeyWrapper, PunchEngine,
    PunchError, PunchKind, WifiObservation, test_support::ManualClock,
};

/// A platform wrapper whose key can be lost (Keystore reset).
struct Wrapper {
    lost: AtomicBool,
}

impl KeyWrapper for Wrapper {
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        Ok(key.iter().map(|b| b ^ 0x33).collect())
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(KeyWrapError::Unavailable("key invalidated".into()));
        }
        Ok(wrapped.iter().map(|b| b ^ 0x33).collect())
    }
}

fn open(
    path: &std::path::Path,
    clock: Arc<ManualClock>,
    wrapper: Option<Arc<Wrapper>>,
) -> PunchEngine {
    let engine = PunchEngine::open_with(
        path,
        EngineOptions {
            clock,
            key_wrapper: wrapper.map(|w| w as Arc<dyn KeyWrapper>),
            ..Default::default()
        },
    )
    .expect("open engine");
    engine.set_employee("emp-1").expect("bind employee");
    engine
        .install_policy_json(&both_signals_policy(), None)
        .expect("install policy");
    engine
}

const BSSID: &str = "aa:bb:cc:dd:ee:01";

/// The fixtures' policy with HQ asking for GPS and Wi-Fi both: HQ's access
/// point in sight from 3 km away is kept as matched, and still refused.
fn both_signals_policy() -> Vec<u8> {
    let mut policy: serde_json::Value =
        serde_json::from_str(&policy_json(1, None)).expect("policy");
    policy["sites"][0]["rule"] = serde_json::json!({ "mode": "all", "signals": ["gps", "wifi"] });
    policy.to_string().into_bytes()
}

/// 3 km west of HQ, with HQ's access point in sight: refused on distance.
fn far(clock: &ManualClock) -> (Evidence, (f64, f64)) {
    use punch_core::Clock;
    let at = offset(HQ, 270.0, 3000.0);
    let mut evidence = gps(at, 10.0, clock.now().wall_time_ms);
    evidence.wifi = vec![WifiObservation {
        bssid: BSSID.into(),
        ssid: Some("HQ-Staff".into()),
        rssi_dbm: Some(-60),
    }];
    (evidence, at)
}

fn refuse(engine: &PunchEngine, clock: &ManualClock) -> (Evaluation, (f64, f64)) {
    clock.advance_ms(60_000);
    let (evidence, at) = far(clock);
    match engine.punch(PunchKind::ClockIn, &evidence) {
        Err(PunchError::Refused(judged)) => (*judged, at),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Every stored refused attempt's raw record bytes, by seq.
fn raw_rows(db: &std::path::Path) -> Vec<(u64, String)> {
    let conn = rusqlite::Connection::open(db).expect("raw");
    let mut stmt = conn
        .prepare("SELECT seq, record FROM punches WHERE kind = 'event:refused_punch' ORDER BY seq")
        .expect("query");
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            String::from_utf8_lossy(&r.get::<_, Vec<u8>>(1)?).into_owned(),
        ))
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// What would give the attempt's place away, as its bytes would spell it.
fn secrets(at: (f64, f64)) -> [String; 3] {
    [
        format!("{:.4}", at.0),
        format!("{:.4}", at.1),
        BSSID.to_string(),
    ]
}

#[test]
fn a_sealed_refused_attempt_keeps_no_place_in_clear_and_lists_as_judged() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("d.db");
    let clock = clock();
    let wrapper = Arc::new(Wrapper {
        lost: AtomicBool::new(false),
    });
    let engine = open(&db, clock.clone(), Some(wrapper));
    let (judged, at) = refuse(&engine, &clock);
    assert!(!judged.reasons.is_empty(), "{judged:?}");

    let rows = raw_rows(&db);
    assert_eq!(rows.len(), 1);
    for secret in secrets(at) {
        assert!(
            !rows[0].1.contains(&secret),
            "{secret} in clear: {}",
            rows[0].1
        );
    }
    assert!(rows[0].1.contains("\"sealed\""), "{}", rows[0].1);
    assert!(
        !rows[0].1.contains(&judged.reasons[0]),
        "reasons are sealed too"
    );

    let attempts = engine.refused_attempts().expect("list");
    assert_eq!(attempts.len(), 1);
    let attempt = &attempts[0];
    assert_eq!(attempt.unreadable, None);
    assert_eq!(attempt.refused.kind, PunchKind::ClockIn);
    assert_eq!(
        attempt.refused.evaluation, judged,
        "opened as it was judged"
    );
    assert!(attempt.refused.sealed.is_none());
    let fix = attempt
        .refused
        .evidence
        .gps
        .as_ref()
        .expect("the fix, opened");
    // As JSON keeps it (to the last bit of a double, give or take one).
    assert!(
        (fix.point.lat - at.0).abs() < 1e-9 && (fix.point.lon - at.1).abs() < 1e-9,
        "{fix:?} is not {at:?}"
    );
    assert_eq!(attempt.refused.evidence.wifi_matched.len(), 1);
    assert!(attempt.refused.evidence.wifi_matched[0].starts_with(BSSID));
    assert!(engine.verify_chain().expect("verify").is_intact());

    // The employee's export shows it opened.
    let export = engine.export_personal_data().expect("export");
    let text = String::from_utf8(export.json).expect("utf8");
    assert!(text.contains(BSSID), "{text}");
    assert!(!text.contains("unreadable"), "{}", export.summary);
}

#[test]
fn a_lost_key_lists_every_attempt_clear_ones_whole_and_sealed_ones_by_their_clear_part() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("d.db");
    let clock = clock();
    // An attempt from before sealing (no key wrapper): stored in clear.
    let engine = open(&db, clock.clone(), None);
    let (clear_judged, clear_at) = refuse(&engine, &clock);
    drop(engine);
    let wrapper = Arc::new(Wrapper {
        lost: AtomicBool::new(false),
    });
    let engine = open(&db, clock.clone(), Some(wrapper.clone()));
    let (sealed_judged, _) = refuse(&engine, &clock);
    let rows = raw_rows(&db);
    assert!(
        rows[0].1.contains(&format!("{:.4}", clear_at.0)),
        "the old one is clear"
    );
    assert!(!rows[1].1.contains(BSSID), "the new one is sealed");
    let both = engine.refused_attempts().expect("list");
    assert_eq!(
        both.iter()
            .map(|a| (&a.refused.evaluation, &a.unreadable))
            .collect::<Vec<_>>(),
        vec![(&clear_judged, &None), (&sealed_judged, &None)]
    );
    drop(engine);

    wrapper.lost.store(true, Ordering::SeqCst);
    let engine = open(&db, clock.clone(), Some(wrapper));
    let attempts = engine
        .refused_attempts()
        .expect("a lost key never errors the list");
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].refused.evaluation, clear_judged);
    assert_eq!(attempts[0].unreadable, None);
    let sealed = &attempts[1];
    assert!(
        sealed
            .unreadable
            .as_deref()
            .is_some_and(|why| why.contains("invalidated")),
        "{:?}",
        sealed.unreadable
    );
    assert_eq!(sealed.refused.kind, PunchKind::ClockIn);
    assert_eq!(sealed.refused.evaluation.decision, Decision::Rejected);
    assert!(sealed.refused.evidence.gps.is_none() && sealed.refused.evaluation.reasons.is_empty());
    assert!(engine.verify_chain().expect("verify").is_intact());
    assert_eq!(
        engine.pending_count().expect("pending"),
        2,
        "both still to upload"
    );

    let export = engine.export_personal_data().expect("export");
    assert!(
        export.summary.contains("1 with a payload unreadable here"),
        "{}",
        export.summary
    );
    let json: serde_json::Value = serde_json::from_slice(&export.json).expect("json");
    let records = json["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert!(records[0]["record"].get("sealed_payload").is_none());
    assert!(
        records[1]["record"]["sealed_payload"]
            .as_str()
            .is_some_and(|s| s.starts_with("unreadable")),
        "{}",
        records[1]
    );

    // After rotation the new key does not open the old payload: still listed.
    engine.rotate_data_key().expect("rotate");
    let attempts = engine.refused_attempts().expect("list");
    assert!(attempts[1].unreadable.is_some());
    assert_eq!(attempts[0].unreadable, None);
}
