//! The body budget and strangers (audit finding 3): uploads that name no
//! enrolled device, declaring large bodies they never send, cannot hold the
//! budget devices need.

use crate::common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{TestServer, connect};
use punch_model::wire;
use punch_server::Limits;

#[test]
fn strangers_declaring_big_bodies_do_not_stall_devices() {
    let limits = Limits {
        body_budget_bytes: 8 << 20,
        upload_body_bytes: 2 << 20,
        body_read_timeout_s: 4,
        ..Limits::default()
    };
    let server = TestServer::with_limits(limits);
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    // Sixteen anonymous uploads declaring the route's limit, one byte sent:
    // without a share of their own they reserve the whole budget.
    let strangers: Vec<_> = (0..16)
        .map(|_| {
            let mut s = connect(server.addr());
            write!(
                s,
                "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{{",
                wire::PATH_PUNCHES,
                2 << 20
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let up = device.next(version, |_| {});
    let started = Instant::now();
    let resp = device.upload_ok(server.addr(), vec![up]);
    assert_eq!(common::outcomes(&resp)[0].1, "accepted");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "a device waited {:?} behind strangers",
        started.elapsed()
    );
    drop(strangers);
}
