//! `punch demo`, the browser punch: the demo has no browser, so it creates
//! a code for the passkey page and says how to try it by hand.

use std::net::SocketAddr;

use punch_server::Admin;

use crate::CmdResult;

pub(crate) fn run(admin: &Admin, addr: SocketAddr, employee: &str) -> CmdResult {
    println!(
        "\nAlso: punching from a computer (a browser with a passkey; the demo has no browser):"
    );
    let code = admin.create_enrollment_code(employee, std::time::Duration::from_secs(3600))?;
    println!(
        "   - the server serves the employee page at http://localhost:{}/punch/ (no CDN, strict CSP, EN/ZH);\n     \
         one enrollment code ({code} here) registers a passkey, a device of terminal `browser` with its\n     \
         own server-kept chain; each punch is a WebAuthn assertion over nonce || SHA-256(the punch's content),\n     \
         judged on the address the server sees and the browser's location by the phone's rules, and sites\n     \
         say which terminals they take (`\"terminals\": [{{\"terminal\": \"browser\"}}]`).",
        addr.port()
    );
    println!(
        "   - to try it: cargo run -p punch-server -- serve --db /tmp/punch.db, then\n     \
         cargo run -p punch-server -- admin --db /tmp/punch.db add-employee ann Ann,\n     \
         ... enroll-code ann, add a site with \"cidrs\": [\"127.0.0.1/32\"] and publish, and open\n     \
         http://localhost:8787/punch/ (set PUNCH_PUBLIC_ORIGIN when the page is served elsewhere)."
    );
    Ok(std::process::ExitCode::SUCCESS)
}
