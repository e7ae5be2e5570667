//! `/metrics` is not public (audit finding 14): it shares the API listener,
//! so it answers only the scraper's configured bearer token, and without a
//! configured token nobody.

use crate::common;

use common::{METRICS_TOKEN, TestServer, request, test_db};
use punch_server::routes::PATH_METRICS;

#[test]
fn metrics_answer_only_the_configured_token() {
    let ts = TestServer::start();
    let get = |headers: &[(&str, String)]| request(ts.addr(), "GET", PATH_METRICS, headers, b"");
    get(&[]).assert_error(401, "unauthenticated");
    get(&[("authorization", "Bearer guess".into())]).assert_error(401, "unauthenticated");
    let ok = get(&common::metrics_auth());
    assert_eq!(ok.status, 200);
    assert!(String::from_utf8_lossy(&ok.body).contains("punch_http_requests_total"));
}

#[test]
fn without_a_configured_token_metrics_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(dir.path());
    let server = punch_server::ServerHandle::start(punch_server::ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..punch_server::ServerConfig::new(db.clone())
    })
    .unwrap();
    request(
        server.addr(),
        "GET",
        PATH_METRICS,
        &[("authorization", format!("Bearer {METRICS_TOKEN}"))],
        b"",
    )
    .assert_error(401, "unauthenticated");
}
