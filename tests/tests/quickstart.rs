//! The README's quickstart is real code: it is `core/examples/quickstart.rs`
//! (compiled by CI), the README shows exactly its lines, and it runs here
//! against the real server set up the way `server/README.md` says.

use std::time::Duration;

use punch_model::rules::policy::Site;
use punch_model::wire::b64;
use punch_server::{Admin, ServerConfig, ServerHandle};

#[allow(dead_code)] // its `main` is for `cargo run --example`
#[path = "../../core/examples/quickstart.rs"]
mod example;

const EXAMPLE: &str = include_str!("../../core/examples/quickstart.rs");
const README: &str = include_str!("../../README.md");

/// The lines between the example's README markers, unindented.
fn example_block() -> String {
    let start = EXAMPLE.find("// README:start\n").expect("start marker") + 16;
    let end = EXAMPLE.find("    // README:end").expect("end marker");
    EXAMPLE[start..end]
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn readme_shows_exactly_the_compiled_example() {
    let block = example_block();
    assert!(block.contains("engine.punch(PunchKind::ClockIn"), "{block}");
    assert!(
        README.contains(&format!("```rust\n{block}\n```")),
        "README.md must show core/examples/quickstart.rs between its README markers:\n{block}"
    );
}

#[test]
fn quickstart_runs_against_the_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let server_db = dir.path().join("server.db");
    // The steps of server/README.md, through the same Admin the CLI uses.
    let admin = Admin::open(&server_db).unwrap();
    admin.add_employee("e-42", "Ada Lovelace").unwrap();
    let site: Site = serde_json::from_str(include_str!("../../server/examples/hq.json")).unwrap();
    admin.upsert_site(site).unwrap();
    admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .unwrap();
    let key = b64::encode(&admin.policy_public_key().unwrap());
    let code = admin
        .create_enrollment_code("e-42", Duration::from_secs(600))
        .unwrap();
    let server = ServerHandle::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::new(&server_db)
    })
    .unwrap();
    let device_db = dir.path().join("device.db");
    let (receipt, report) =
        example::run(&server.base_url(), &key, &code, device_db.to_str().unwrap()).unwrap();
    assert_eq!(receipt.seq, 1);
    assert_eq!(receipt.evaluation.site_id.as_deref(), Some("hq"));
    assert_eq!(report.uploaded, 1);
    assert_eq!(report.remaining, 0);
    let stored = admin.punches().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].employee_id, "e-42");
    server.stop();
}
