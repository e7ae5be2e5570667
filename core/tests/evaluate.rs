//! Site rules and anti-spoofing signals, judged through the engine.

use crate::common;

use common::*;
use punch_core::{Clock, Decision, Evidence, PunchError, PunchKind};
use punch_model::rules::evaluate::{FlagKind, Outcome};
use punch_model::rules::policy::Signal;

fn setup() -> (
    tempfile::TempDir,
    punch_core::PunchEngine,
    std::sync::Arc<punch_core::test_support::ManualClock>,
) {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = engine_at(&dir.path().join("d.db"), clock.clone());
    (dir, engine, clock)
}

#[test]
fn gps_inside_uncertain_outside() {
    let (_d, engine, _c) = setup();
    let inside = engine
        .evaluate(&gps(offset(HQ, 0.0, 50.0), 10.0, T0))
        .unwrap();
    assert_eq!(inside.decision, Decision::Accepted);
    let check = &inside.sites[0].checks[0];
    assert_eq!(check.signal, Signal::Gps);
    assert_eq!(check.outcome, Outcome::Pass);
    assert!((check.distance_to_edge_m.unwrap() - 50.0).abs() < 0.05);

    // 95 m from the centre of a 100 m circle with ±20 m: straddles.
    let straddle = engine
        .evaluate(&gps(offset(HQ, 0.0, 95.0), 20.0, T0))
        .unwrap();
    assert_eq!(straddle.decision, Decision::Review);
    assert_eq!(straddle.sites[0].checks[0].outcome, Outcome::Weak);

    // 130 m out with ±20 m: outside.
    let out = engine
        .evaluate(&gps(offset(HQ, 0.0, 130.0), 20.0, T0))
        .unwrap();
    assert_eq!(out.decision, Decision::Rejected);
    assert_eq!(out.nearest_site.unwrap().site_id, "hq");

    let yard = engine
        .evaluate(&gps((31.2390, 121.4810), 10.0, T0))
        .unwrap();
    assert_eq!(yard.decision, Decision::Accepted);
    assert_eq!(yard.site_id.as_deref(), Some("yard"));
}

#[test]
fn wifi_and_ip_evidence() {
    let (_d, engine, _c) = setup();
    let ap = engine.evaluate(&wifi("AA-BB-CC-DD-EE-01", None)).unwrap();
    assert_eq!(ap.decision, Decision::Accepted);
    assert_eq!(ap.site_id.as_deref(), Some("hq"));

    let ssid_only = engine
        .evaluate(&wifi("11:22:33:44:55:66", Some("HQ-Staff")))
        .unwrap();
    assert_eq!(ssid_only.decision, Decision::Review, "SSIDs can be copied");

    let stranger = engine
        .evaluate(&wifi("11:22:33:44:55:66", Some("Cafe")))
        .unwrap();
    assert_eq!(stranger.decision, Decision::Rejected);

    let ip = Evidence {
        ip_addresses: vec!["2001:db8:10::42".into()],
        ..Evidence::default()
    };
    assert_eq!(engine.evaluate(&ip).unwrap().decision, Decision::Accepted);
    let wrong_ip = Evidence {
        ip_addresses: vec!["192.0.2.1".into()],
        ..Evidence::default()
    };
    assert_eq!(
        engine.evaluate(&wrong_ip).unwrap().decision,
        Decision::Rejected
    );
}

#[test]
fn all_of_rule_needs_every_signal() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = engine_at(&dir.path().join("d.db"), clock);
    let mut policy: serde_json::Value = serde_json::from_str(&policy_json(2, None)).unwrap();
    policy["sites"][0]["rule"] = serde_json::json!({ "mode": "all", "signals": ["gps", "wifi"] });
    engine
        .install_policy_json(policy.to_string().as_bytes(), None)
        .unwrap();

    let gps_only = gps(offset(HQ, 0.0, 10.0), 5.0, T0);
    assert_eq!(
        engine.evaluate(&gps_only).unwrap().decision,
        Decision::Rejected
    );
    let mut both = gps_only.clone();
    both.wifi = wifi("aa:bb:cc:dd:ee:01", None).wifi;
    let ev = engine.evaluate(&both).unwrap();
    assert_eq!(ev.decision, Decision::Accepted);
    assert_eq!(ev.sites[0].checks.len(), 2);

    // A rule naming a signal the site does not configure is a policy error.
    policy["sites"][1]["rule"] = serde_json::json!({ "mode": "all", "signals": ["wifi"] });
    policy["version"] = 3.into();
    assert!(matches!(
        engine.install_policy_json(policy.to_string().as_bytes(), None),
        Err(PunchError::Policy(_))
    ));
}

#[test]
fn mock_stale_and_skewed_fixes() {
    let (_d, engine, _c) = setup();
    let mut mocked = gps(offset(HQ, 0.0, 10.0), 5.0, T0);
    if let Some(f) = mocked.gps.as_mut() {
        f.is_mock = true;
    }
    let ev = engine.evaluate(&mocked).unwrap();
    assert_eq!(ev.decision, Decision::Rejected);
    assert!(ev.flags.iter().any(|f| f.kind == FlagKind::MockLocation));

    // A ten-minute-old fix is not evidence of where the employee is now.
    let stale = engine
        .evaluate(&gps(offset(HQ, 0.0, 10.0), 5.0, T0 - 600_000))
        .unwrap();
    assert_eq!(stale.decision, Decision::Rejected);
    assert!(stale.flags.iter().any(|f| f.kind == FlagKind::StaleFix));

    let future = engine
        .evaluate(&gps(offset(HQ, 0.0, 10.0), 5.0, T0 + 900_000))
        .unwrap();
    assert_eq!(future.decision, Decision::Review);
    assert!(future.flags.iter().any(|f| f.kind == FlagKind::FixTimeSkew));

    let coarse = engine
        .evaluate(&gps(offset(HQ, 0.0, 10.0), 500.0, T0))
        .unwrap();
    assert!(
        coarse
            .flags
            .iter()
            .any(|f| f.kind == FlagKind::AccuracyTooLow)
    );
    assert_eq!(coarse.decision, Decision::Rejected);

    let null_island = engine.evaluate(&gps((0.0, 0.0), 5.0, T0)).unwrap();
    assert!(
        null_island
            .flags
            .iter()
            .any(|f| f.kind == FlagKind::NullIsland)
    );
    assert_eq!(null_island.decision, Decision::Rejected);
}

#[test]
fn impossible_travel_since_previous_punch() {
    let (_d, engine, clock) = setup();
    let now = clock.now().wall_time_ms;
    engine
        .punch(PunchKind::ClockIn, &gps(offset(HQ, 0.0, 10.0), 5.0, now))
        .unwrap();
    // One minute later at the yard, ~1.4 km away: ~23 m/s, plausible by car.
    clock.advance_ms(60_000);
    let now = clock.now().wall_time_ms;
    let ev = engine
        .punch(PunchKind::BreakStart, &gps((31.2390, 121.4810), 10.0, now))
        .unwrap()
        .evaluation;
    assert!(
        !ev.flags
            .iter()
            .any(|f| f.kind == FlagKind::ImpossibleTravel),
        "{ev:?}"
    );
    // Ten seconds later back at HQ: ~140 m/s.
    clock.advance_ms(10_000);
    let now = clock.now().wall_time_ms;
    let ev = engine
        .punch(PunchKind::BreakEnd, &gps(offset(HQ, 0.0, 10.0), 5.0, now))
        .unwrap()
        .evaluation;
    assert!(
        ev.flags
            .iter()
            .any(|f| f.kind == FlagKind::ImpossibleTravel),
        "{ev:?}"
    );
    assert_eq!(ev.decision, Decision::Review);
}

#[test]
fn privacy_only_matching_networks_are_recorded() {
    let (_d, engine, _c) = setup();
    let mut e = wifi("aa:bb:cc:dd:ee:01", Some("HQ-Staff"));
    e.wifi.push(punch_core::WifiObservation {
        bssid: "12:34:56:78:9a:bc".into(),
        ssid: Some("Neighbour-Home".into()),
        rssi_dbm: Some(-85),
    });
    e.ip_addresses = vec!["198.51.100.7".into(), "10.0.0.5".into()];
    let r = engine.punch(PunchKind::ClockIn, &e).unwrap();
    let stored = engine.punches(0, 1).unwrap();
    let text = String::from_utf8(stored[0].record.clone()).unwrap();
    assert!(!text.contains("Neighbour-Home"));
    assert!(!text.contains("12:34:56:78:9a:bc"));
    assert!(!text.contains("10.0.0.5"));
    let rec = punch_core::PunchRecord::from_bytes(&stored[0].record).unwrap();
    assert_eq!(
        rec.evidence.wifi_matched,
        vec!["aa:bb:cc:dd:ee:01 HQ-Staff".to_string()]
    );
    assert_eq!(rec.evidence.wifi_seen, 2);
    assert_eq!(rec.evidence.ip_matched, vec!["198.51.100.7".to_string()]);
    assert_eq!(r.evaluation.decision, Decision::Accepted);
}

#[test]
fn nearest_site_hint_only_when_no_site_passed() {
    let (_d, engine, _c) = setup();
    // Accepted at the yard, with HQ's fence about a kilometre away and well
    // inside the search radius: no "nearest is hq" beside the acceptance.
    let yard = engine
        .evaluate(&gps((31.2390, 121.4810), 10.0, T0))
        .unwrap();
    assert_eq!(yard.decision, Decision::Accepted);
    assert_eq!(yard.site_id.as_deref(), Some("yard"));
    assert_eq!(yard.nearest_site, None);
    assert!(
        yard.reasons.iter().all(|r| !r.contains("nearest")),
        "{:?}",
        yard.reasons
    );
}

#[test]
fn reasons_read_in_english_and_chinese_with_stable_codes() {
    use punch_model::messages::{Locale, evaluation_messages};
    let (_d, engine, _c) = setup();
    let out = engine
        .evaluate(&gps(offset(HQ, 0.0, 600.0), 10.0, T0))
        .unwrap();
    let zh = evaluation_messages(&out, Locale::from_tag("zh-Hans-CN"));
    let codes: Vec<&str> = zh.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes[..2], ["outside_all_sites", "nearest_site"]);
    assert_eq!(zh[0].text, "您不在任何考勤地点范围内。");
    assert!(
        zh[1].text.starts_with("最近的考勤地点是hq"),
        "{}",
        zh[1].text
    );
    // An unknown locale falls back to English; the codes do not change.
    let fr = evaluation_messages(&out, Locale::from_tag("fr-FR"));
    assert_eq!(fr[0].text, "You are not at any of your sites.");
    assert_eq!(
        fr.iter().map(|m| m.code.as_str()).collect::<Vec<_>>(),
        codes
    );
}

/// The policy's prepared form is kept with it: a restarted engine judges
/// from it, and one that is missing, damaged or of another version is
/// rebuilt from the signed body (same verdicts) and kept again.
#[test]
fn a_restart_judges_from_the_kept_prepared_policy_and_rebuilds_a_doubtful_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let clock = clock();
    let verdicts = |engine: &punch_core::PunchEngine| {
        [(0.0, 50.0, 10.0), (0.0, 95.0, 20.0), (0.0, 130.0, 20.0)]
            .iter()
            .map(|&(bearing, metres, accuracy)| {
                let e = engine
                    .evaluate(&gps(offset(HQ, bearing, metres), accuracy, T0))
                    .unwrap();
                (e.decision, e.site_id)
            })
            .collect::<Vec<_>>()
    };
    let first = verdicts(&engine_at(&path, clock.clone()));
    let kept = || -> Option<(i64, Vec<u8>)> {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.query_row("SELECT version, snapshot FROM policy_prepared", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .ok()
    };
    let (version, snapshot) = kept().expect("a prepared form is kept at install");
    assert_eq!(version, 1);

    let reopen = || {
        punch_core::PunchEngine::open_with(
            &path,
            punch_core::EngineOptions {
                clock: clock.clone(),
                ..Default::default()
            },
        )
        .unwrap()
    };
    assert_eq!(verdicts(&reopen()), first);

    let damage = |sql: &str| {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute(sql, []).unwrap();
    };
    // The kept form is what a restart judges by: one prepared from a policy
    // whose HQ is 200 m further north (same version) moves the verdicts.
    let moved = policy_json(1, None).replace(&HQ.0.to_string(), &(HQ.0 + 0.0018).to_string());
    let moved = punch_model::rules::policy::PreparedPolicy::new(
        punch_model::rules::policy::Policy::from_json(moved.as_bytes()).unwrap(),
    )
    .unwrap()
    .snapshot()
    .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE policy_prepared SET snapshot = ?1", [&moved])
        .unwrap();
    assert_eq!(
        verdicts(&reopen())[0],
        (Decision::Rejected, None),
        "judged from the kept prepared form"
    );

    for sql in [
        "UPDATE policy_prepared SET snapshot = x'00ff00'",
        "UPDATE policy_prepared SET snapshot = substr(snapshot, 1, 200)",
        "UPDATE policy_prepared SET version = 9",
        "DELETE FROM policy_prepared",
    ] {
        damage(sql);
        assert_eq!(verdicts(&reopen()), first, "after {sql}");
        assert_eq!(
            kept(),
            Some((1, snapshot.clone())),
            "rebuilt and kept after {sql}"
        );
    }
}

/// Android's `Location.getTime` follows the wall clock the user can set:
/// a five-minute-old fix re-stamped "now" is still five minutes old on the
/// monotonic clock the platform stamps it with, and a fresh fix is fresh
/// whatever the wall clock says.
#[test]
fn fix_age_is_measured_on_the_monotonic_clock() {
    let (_d, engine, clock) = setup();
    let now = clock.now();
    let aged = |wall: i64, elapsed: u64| {
        let mut e = gps(offset(HQ, 0.0, 50.0), 10.0, wall);
        if let Some(fix) = e.gps.as_mut() {
            fix.elapsed_realtime_ms = Some(elapsed);
        }
        e
    };
    let old = engine
        .evaluate(&aged(now.wall_time_ms, now.monotonic_ms - 300_000))
        .unwrap();
    assert_eq!(old.decision, Decision::Rejected);
    assert!(old.flags.iter().any(|f| f.kind == FlagKind::StaleFix));
    // The wall clock was wound back an hour after the fix: still fresh.
    let fresh = engine
        .evaluate(&aged(
            now.wall_time_ms + 3_600_000,
            now.monotonic_ms - 5_000,
        ))
        .unwrap();
    assert_eq!(fresh.decision, Decision::Accepted, "{fresh:?}");
    // What is recorded is the age, not the phone's uptime.
    let receipt = engine
        .punch(
            PunchKind::ClockIn,
            &aged(now.wall_time_ms, now.monotonic_ms - 5_000),
        )
        .unwrap();
    let stored = engine.punches(receipt.seq - 1, 1).unwrap().remove(0);
    let text = String::from_utf8(stored.record).unwrap();
    assert!(text.contains("\"age_ms\":5000"), "{text}");
    assert!(!text.contains("elapsed_realtime"), "{text}");
}

/// Approximate location and an external receiver are recorded as such,
/// and the policy says what they mean.
#[test]
fn reduced_accuracy_and_external_receivers_are_recorded_for_policy() {
    let (_d, engine, _clock) = setup();
    let mut evidence = gps(offset(HQ, 0.0, 50.0), 10.0, T0);
    if let Some(fix) = evidence.gps.as_mut() {
        fix.reduced_accuracy = true;
        fix.external_receiver = true;
    }
    let judged = engine.evaluate(&evidence).unwrap();
    let kinds: Vec<(FlagKind, punch_model::rules::policy::Action)> =
        judged.flags.iter().map(|f| (f.kind, f.action)).collect();
    use punch_model::rules::policy::Action;
    assert!(
        kinds.contains(&(FlagKind::ReducedAccuracy, Action::Accept)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(FlagKind::ExternalReceiver, Action::Review)),
        "{kinds:?}"
    );
    assert_eq!(judged.decision, Decision::Review);
    let receipt = engine.punch(PunchKind::ClockIn, &evidence).unwrap();
    let stored = engine.punches(receipt.seq - 1, 1).unwrap().remove(0);
    let text = String::from_utf8(stored.record).unwrap();
    assert!(text.contains("\"reduced_accuracy\":true"), "{text}");
    assert!(text.contains("\"external_receiver\":true"), "{text}");
}

/// A site that takes kiosk punches only refuses the phone's own, on the
/// phone (`rules::terminal`), with the reason; other sites are unaffected.
#[test]
fn a_site_refuses_a_terminal_it_does_not_take() {
    let (_d, engine, _c) = setup();
    let mut policy: serde_json::Value = serde_json::from_str(&policy_json(2, None)).unwrap();
    policy["sites"][0]["terminals"] = serde_json::json!([{"terminal": "kiosk"}]);
    engine
        .install_policy_json(policy.to_string().as_bytes(), None)
        .unwrap();
    let at_hq = engine
        .evaluate(&gps(offset(HQ, 0.0, 10.0), 10.0, T0))
        .unwrap();
    assert_eq!(at_hq.decision, Decision::Rejected);
    assert!(
        at_hq
            .flags
            .iter()
            .any(|f| f.kind == FlagKind::TerminalRefused),
        "{:?}",
        at_hq.flags
    );
    assert!(
        at_hq
            .reasons
            .iter()
            .any(|r| r.contains("does not accept phone")),
        "{:?}",
        at_hq.reasons
    );
    let yard = engine
        .evaluate(&gps((31.2390, 121.4810), 10.0, T0))
        .unwrap();
    assert_eq!(yard.decision, Decision::Accepted);
}
