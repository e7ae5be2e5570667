//! What no caller may exceed, with or without credentials: body sizes per
//! route (enforced while reading), a memory budget for bodies in flight,
//! read timeouts, connection caps and shared rate limits. The numbers live
//! in [`Limits`] (configuration); the HTTP layer applies them.

pub mod body;
pub mod client;
pub mod conn;
pub mod deadline;
pub mod rate;

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fixed-window rate: at most `hits` per `window_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRule {
    pub hits: u64,
    pub window_s: u64,
}

impl RateRule {
    pub fn window_ms(&self) -> i64 {
        i64::try_from(self.window_s.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

/// Every limit, with defaults sized for a 2-core server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Open connections per process; beyond it a connection gets a 503 and
    /// is closed (stays well below the usual 1,024 open-file limit).
    pub max_connections: usize,
    /// Open connections from one IP address.
    pub max_connections_per_ip: usize,
    /// From accepting a connection (or finishing the previous response)
    /// to the end of the request headers; idle keep-alive included.
    pub header_read_timeout_s: u64,
    /// To receive a whole request body.
    pub body_read_timeout_s: u64,
    /// From the end of the headers to the end of the answer, on every
    /// route: a client that trickles a body (or waits) holds its
    /// connection slot no longer than this.
    pub request_timeout_s: u64,
    /// Request bodies in memory at once, across all connections.
    pub body_budget_bytes: usize,
    /// Units of store work (a transaction with its checks) running at once;
    /// the rest wait their turn.
    pub max_concurrent_work: usize,
    /// Body limits per route.
    pub enroll_body_bytes: usize,
    pub upload_body_bytes: usize,
    pub get_body_bytes: usize,
    /// Enrollment attempts per client IP, and per code (hash).
    pub enroll_per_ip: RateRule,
    pub enroll_per_code: RateRule,
    /// PIN resets (code requests, redemptions, self-service) per client IP,
    /// per employee and per device (see `crate::pin`).
    pub pin_reset_per_ip: RateRule,
    pub pin_reset_per_employee: RateRule,
    pub pin_reset_per_device: RateRule,
    /// Staff sign-in attempts per client IP, counted before any password is
    /// hashed: bounds both guessing across accounts (the per-account
    /// lockout bounds one account) and the Argon2 work a client can cause.
    pub staff_signin_per_ip: RateRule,
    /// Staff sign-in attempts per (account, client address), counted under
    /// the write lock before any password is hashed, known and unknown
    /// usernames alike: guessing from one address is bounded, and failures
    /// from elsewhere never lock the owner out.
    pub staff_signin_per_account_ip: RateRule,
    /// Attendance exports per staff member, and the employee's own export
    /// per device: each reads a whole range of punches.
    pub export_attendance_per_staff: RateRule,
    pub privacy_export_per_device: RateRule,
    /// Passwords hashed at once (Argon2 takes 19 MiB each); more sign-ins
    /// wait their turn.
    pub max_concurrent_password_hashes: usize,
    /// Reverse proxies (CIDR) whose `X-Forwarded-For` is believed: behind
    /// them, rate limits key on the client's address, not the proxy's, and
    /// the per-address connection cap does not apply to the proxy.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 768,
            max_connections_per_ip: 256,
            header_read_timeout_s: 10,
            body_read_timeout_s: 30,
            request_timeout_s: 60,
            body_budget_bytes: 256 << 20,
            max_concurrent_work: 64,
            // Room for attestation chains (a few kB) with a wide margin.
            enroll_body_bytes: 256 << 10,
            // MAX_BATCH records of a few kB each (base64 in JSON).
            upload_body_bytes: 8 << 20,
            get_body_bytes: 4 << 10,
            enroll_per_ip: RateRule {
                hits: 30,
                window_s: 60,
            },
            enroll_per_code: RateRule {
                hits: 10,
                window_s: 600,
            },
            pin_reset_per_ip: RateRule {
                hits: 30,
                window_s: 60,
            },
            pin_reset_per_employee: RateRule {
                hits: 8,
                window_s: 900,
            },
            pin_reset_per_device: RateRule {
                hits: 8,
                window_s: 900,
            },
            staff_signin_per_ip: RateRule {
                hits: 20,
                window_s: 60,
            },
            staff_signin_per_account_ip: RateRule {
                hits: 5,
                window_s: 900,
            },
            export_attendance_per_staff: RateRule {
                hits: 30,
                window_s: 600,
            },
            privacy_export_per_device: RateRule {
                hits: 10,
                window_s: 3600,
            },
            max_concurrent_password_hashes: 4,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Limits {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_s.max(1))
    }

    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_s.max(1))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_s.max(1))
    }
}
