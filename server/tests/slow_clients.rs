//! Holding connection slots (audit finding 2): every route has a whole-
//! request deadline, a body declared over the route's limit is refused
//! before it is read, and a connection that never completes a request is
//! closed.

use crate::common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{TestServer, connect, read_response};
use punch_server::Limits;

fn quick() -> Limits {
    Limits {
        header_read_timeout_s: 1,
        request_timeout_s: 2,
        ..Limits::default()
    }
}

#[test]
fn a_trickled_admin_body_is_cut_off_at_the_request_deadline() {
    let server = TestServer::with_limits(quick());
    let mut s = connect(server.addr());
    // The sign-in route reads its body in the handler: 100 bytes declared,
    // one sent, then silence.
    s.write_all(
        b"POST /admin/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{",
    )
    .unwrap();
    let started = Instant::now();
    let resp = read_response(&mut s).expect("an answer before the client gives up");
    resp.assert_error(408, "timeout");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(resp.header("connection"), Some("close"));
}

#[test]
fn a_declared_admin_body_over_the_limit_is_refused_unread() {
    let server = TestServer::start();
    let mut s = connect(server.addr());
    // Headers only: the server must answer without waiting for the body.
    s.write_all(
        b"POST /admin/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 104857600\r\n\r\n",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let resp = read_response(&mut s).expect("an answer without the body");
    resp.assert_error(413, "payload_too_large");
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let server = TestServer::with_limits(quick());
    let mut s = connect(server.addr());
    let started = Instant::now();
    assert!(read_response(&mut s).is_none());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}
