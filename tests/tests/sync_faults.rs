//! Upload through the real server and a misbehaving network.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use punch_core::SyncError;
use punch_core::{SyncListener, SyncStatus};
use punch_tests::fault_proxy::Fault;
use punch_tests::world::World;

fn uploads(w: &World) -> usize {
    w.proxy
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/punches")
        .count()
}

#[test]
fn offline_then_online() {
    let mut w = World::new();
    assert_eq!(w.engine.sync().unwrap().policy_installed, Some(1));
    w.stop_server();
    for _ in 0..3 {
        w.clock.advance_ms(20_000);
        w.punch();
    }
    let report = w.engine.sync().unwrap();
    assert!(
        matches!(report.error, Some(SyncError::Network { .. })),
        "{report:?}"
    );
    assert_eq!(report.remaining, 3);
    assert!(report.next_retry_ms.is_some());
    assert_eq!(w.engine.status().unwrap().pending, 3);

    w.start_server();
    w.engine.network_available().unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!((report.uploaded, report.remaining), (3, 0), "{report:?}");
    assert!(report.error.is_none());
    let stored = w.admin.punches().unwrap();
    assert_eq!(stored.len(), 3);
    assert!(
        stored.iter().all(|p| p.time_status == "anchored"),
        "{stored:?}"
    );
    assert!(
        stored.iter().all(|p| p.review_flags.is_empty()),
        "{stored:?}"
    );
    let status = w.engine.status().unwrap();
    assert_eq!((status.pending, status.uploaded), (0, 3));
    assert!(status.last_success_ms.is_some() && status.last_error.is_none());
}

#[test]
fn server_500_is_retried_then_succeeds() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    w.proxy.script([Fault::Status(500), Fault::Status(503)]);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert!(report.error.is_none());
    assert_eq!(uploads(&w), 3, "two failures then success");
}

#[test]
fn persistent_500_reports_and_backs_off_without_losing_data() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    w.proxy.script(vec![Fault::Status(500); 3]);
    let report = w.engine.sync().unwrap();
    assert!(
        matches!(report.error, Some(SyncError::Server { status: 500, .. })),
        "{report:?}"
    );
    assert_eq!(report.remaining, 1);
    let next = report.next_retry_ms.expect("next retry");
    // A call during the backoff does nothing and says so.
    let deferred = w.engine.sync().unwrap();
    assert!(deferred.deferred);
    assert_eq!(deferred.next_retry_ms, Some(next));
    assert_eq!(uploads(&w), 3);
    // After the backoff the record goes up.
    w.clock.advance_ms(1_000);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
}

#[test]
fn retry_after_seconds_is_honoured() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    // Within the inline budget: the client sleeps as told, then succeeds.
    w.proxy.script([Fault::TooMany {
        retry_after: "1".into(),
    }]);
    let started = std::time::Instant::now();
    let report = w.engine.sync().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1_000));
    assert_eq!(report.uploaded, 1, "{report:?}");

    // Beyond the budget: no sleep, the next attempt is scheduled at Retry-After.
    w.punch();
    w.proxy.script([Fault::TooMany {
        retry_after: "3600".into(),
    }]);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.error, Some(SyncError::RateLimited));
    assert_eq!(
        w.engine.status().unwrap().next_attempt_ms,
        report.next_retry_ms,
        "the schedule is persisted for the next caller"
    );
    use punch_core::Clock;
    let ahead = report.next_retry_ms.unwrap() - w.clock.now().wall_time_ms;
    assert!((3_599_000..=3_600_000).contains(&ahead), "{ahead}");
    // Even "sync now" honours the server's Retry-After.
    assert!(w.engine.sync_now().unwrap().deferred);
}

#[test]
fn retry_after_http_date_is_honoured() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    use punch_core::Clock;
    let when = punch_core::test_support::format_http_date(w.clock.now().wall_time_ms + 7_200_000);
    w.proxy.script([Fault::TooMany { retry_after: when }]);
    let report = w.engine.sync().unwrap();
    let ahead = report.next_retry_ms.unwrap() - w.clock.now().wall_time_ms;
    assert!((7_199_000..=7_200_000).contains(&ahead), "{ahead}");
    assert_eq!(report.remaining, 1);
}

#[test]
fn slow_server_times_out_and_is_retried() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    // Longer than the 2 s request timeout: the first try times out.
    w.proxy.script([Fault::Delay(Duration::from_millis(2_500))]);
    let report = w.engine.sync().unwrap();
    // The slow request may have reached the server after the client gave up:
    // then the retry is a duplicate. Either way: stored exactly once.
    assert_eq!(report.uploaded + report.duplicates, 1, "{report:?}");
    assert_eq!(w.admin.punches().unwrap().len(), 1);
}

#[test]
fn lost_response_after_store_gives_duplicates_not_doubles() {
    let w = World::new();
    w.engine.sync().unwrap();
    for _ in 0..4 {
        w.punch();
    }
    w.proxy.script([Fault::DropResponse]);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.duplicates, 4, "{report:?}");
    assert_eq!(report.uploaded, 0);
    assert_eq!(w.admin.punches().unwrap().len(), 4);
    assert_eq!(w.engine.status().unwrap().uploaded, 4);
}

#[test]
fn connection_reset_then_success() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    w.proxy.script([Fault::Reset]);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
}

#[test]
fn hostile_answers_never_mark_records() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    let garbage = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\nconnection: close\r\n\r\n{\"results".to_vec();
    let body = r#"{"results":[{"seq":99,"status":"accepted"}],"head_seq":99,"policy_version":1,"server_time_ms":1,"time_token":"x"}"#;
    let lies = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    w.proxy
        .script([Fault::Respond(garbage), Fault::Respond(lies)]);
    // Truncated JSON, then answers about records never sent: both refused,
    // nothing marked, retried later.
    for _ in 0..2 {
        let report = w.engine.sync().unwrap();
        assert!(
            matches!(report.error, Some(SyncError::BadResponse { .. })),
            "{report:?}"
        );
        assert_eq!(
            w.engine.status().unwrap().pending,
            1,
            "nothing marked from a bad answer"
        );
        w.clock.advance_ms(1_000);
    }
    let report = w.engine.sync().unwrap();
    assert_eq!(report.uploaded, 1, "{report:?}");
}

#[test]
fn batches_and_concurrent_syncs_store_each_record_once() {
    let w = World::with_batch(7);
    w.engine.sync().unwrap();
    for _ in 0..40 {
        w.punch();
    }
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let e = w.engine.clone();
            std::thread::spawn(move || e.sync().unwrap())
        })
        .collect();
    let reports: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let uploaded: u64 = reports.iter().map(|r| r.uploaded).sum();
    let dups: u64 = reports.iter().map(|r| r.duplicates).sum();
    assert_eq!((uploaded, dups), (40, 0), "{reports:?}");
    assert_eq!(uploads(&w), 6, "40 records in batches of 7");
    assert_eq!(w.admin.punches().unwrap().len(), 40);
}

struct Recorder(Mutex<Vec<SyncStatus>>);
impl SyncListener for Recorder {
    fn on_status(&self, status: &SyncStatus) {
        self.0.lock().unwrap().push(status.clone());
    }
}

#[test]
fn background_thread_uploads_and_wakes_on_network_back() {
    let mut w = World::new();
    let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
    w.engine.set_listener(Some(recorder.clone()));
    let bg = w.engine.start_background_sync(Duration::from_secs(30));
    let wait_for = |what: &dyn Fn() -> bool| {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < until {
            if what() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    };
    // With no policy yet, the thread fetches one first.
    assert!(wait_for(&|| w.engine.policy_version() == Some(1)));
    w.punch();
    assert!(
        wait_for(&|| w.engine.status().unwrap().uploaded == 1),
        "punch woke the thread"
    );
    w.stop_server();
    w.punch();
    assert!(wait_for(&|| w
        .engine
        .status()
        .unwrap()
        .last_error
        .is_some()));
    assert_eq!(w.engine.status().unwrap().pending, 1);
    w.start_server();
    w.engine.network_available().unwrap();
    assert!(
        wait_for(&|| w.engine.status().unwrap().uploaded == 2),
        "network-back woke it"
    );
    bg.stop();
    let seen = recorder.0.lock().unwrap();
    assert!(seen.iter().any(|s| s.pending == 1));
    assert!(seen.iter().any(|s| s.last_error.is_some()));
    assert!(
        seen.last()
            .is_some_and(|s| s.pending == 0 && s.uploaded == 2)
    );
}

#[test]
fn restore_with_several_pending_records_recovers_them_all() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    w.engine.sync().unwrap();
    let device_id = w.engine.device().unwrap().device_id;
    let (_, head_after_first) = w.admin.head(&device_id).unwrap();
    w.punch();
    w.punch();
    assert_eq!(w.engine.sync().unwrap().uploaded, 2);
    w.server_forget_after(&device_id, 1, &head_after_first);
    // Several new punches after the server lost 2 and 3.
    w.punch();
    w.punch();
    let report = w.engine.sync().unwrap();
    assert_eq!((report.resent, report.uploaded), (2, 4), "{report:?}");
    assert!(report.rejected.is_empty(), "{report:?}");
    w.punch();
    assert_eq!(w.engine.sync().unwrap().uploaded, 1);
    let seqs: Vec<u64> = w.admin.punches().unwrap().iter().map(|p| p.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn retry_after_zero_does_not_hammer() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    w.proxy.script(vec![
        Fault::TooMany {
            retry_after: "0".into()
        };
        10
    ]);
    let report = w.engine.sync().unwrap();
    assert_eq!(report.error, Some(SyncError::RateLimited));
    assert_eq!(report.requests, 3, "three tries, spaced by the base delay");
    // The next attempt is in the future even though the server said "0".
    use punch_core::Clock;
    assert!(report.next_retry_ms.unwrap() > w.clock.now().wall_time_ms);
    assert!(w.engine.sync().unwrap().deferred);
}

#[test]
fn implausible_server_time_is_not_an_anchor() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    let body = r#"{"results":[{"seq":1,"status":"accepted"}],"head_seq":1,"policy_version":1,"server_time_ms":9223372036854775807,"time_token":"x"}"#;
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    w.proxy.script([Fault::Respond(answer)]);
    let report = w.engine.sync().unwrap();
    assert!(
        matches!(report.error, Some(SyncError::BadResponse { .. })),
        "{report:?}"
    );
    assert_eq!(
        w.engine.status().unwrap().pending,
        1,
        "nothing marked from it"
    );
    // Punching and policy checks still work (no overflow from a hostile anchor).
    w.punch();
    assert!(w.engine.trusted_now_ms() < 7_258_118_400_000);
}

#[test]
fn an_idle_phone_still_refreshes_time_and_policy() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.admin
        .publish_policy(std::time::Duration::from_secs(86_400))
        .unwrap();
    // Nothing pending: sync still learns of v2 (and takes a fresh anchor).
    let report = w.engine.sync().unwrap();
    assert_eq!(report.policy_installed, Some(2), "{report:?}");
    assert!(w.proxy.seen().iter().any(|s| s.path == "/v1/time"));
    assert!(w.engine.status().unwrap().anchored);
}

#[test]
fn redirects_are_not_followed() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    // A decoy that would receive the signed request and the GPS if followed.
    let decoy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    decoy.set_nonblocking(true).unwrap();
    let to = format!("http://{}/v1/punches", decoy.local_addr().unwrap());
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    w.proxy.script([Fault::Respond(redirect.into_bytes())]);
    let report = w.engine.sync().unwrap();
    assert!(
        matches!(report.error, Some(SyncError::Refused { .. })),
        "{report:?}"
    );
    assert!(decoy.accept().is_err(), "the client followed the redirect");
    assert_eq!(report.remaining, 1);
}
