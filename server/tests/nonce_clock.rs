//! Nonces are pruned by the database's clock (audit finding 15): a server
//! whose own clock runs ahead must not forget a nonce that the servers with
//! the right time would still accept a replay of.

use crate::common;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use common::{TestServer, fresh_nonce, now_ms, request};
use punch_model::wire;
use punch_server::StoreExt;

#[test]
fn a_server_with_a_fast_clock_does_not_open_a_replay_window() {
    let ts = TestServer::start();
    ts.publish();
    let device = ts.enrolled_device("e-1");
    // A request now, to the server with the right time.
    let headers = device.auth_headers("GET", wire::PATH_TIME, b"", now_ms(), &fresh_nonce());
    assert_eq!(
        request(ts.addr(), "GET", wire::PATH_TIME, &headers, b"").status,
        200
    );
    // Another server on the same database, its clock an hour ahead, admits
    // a request stamped by its clock (and prunes what it thinks is stale).
    let fast = now_ms() + 3_600_000;
    let mut map = HeaderMap::new();
    for (k, v) in device.auth_headers("GET", wire::PATH_TIME, b"", fast, &fresh_nonce()) {
        map.insert(
            HeaderName::from_static(k),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    let signed = punch_server::internal::auth::parse_headers(&map).unwrap();
    let store = punch_server::internal::at_rest::open(&ts.db, None).unwrap();
    let admitted = store
        .write(|tx| {
            punch_server::internal::auth::authenticate(
                tx,
                &signed,
                "GET",
                wire::PATH_TIME,
                b"",
                fast,
            )
        })
        .unwrap();
    assert!(admitted.is_ok(), "{admitted:?}");
    // The first request, replayed to the server with the right time.
    request(ts.addr(), "GET", wire::PATH_TIME, &headers, b"").assert_error(401, "replayed_nonce");
}
