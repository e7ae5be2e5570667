//! PIN resets, the server's half: the three paths (an admin's order, a code
//! sent to the bound phone or e-mail, self-service with identity data the
//! employer set) each end with a reset token signed by the policy key, which
//! the device checks offline. Codes are random, short-lived, single-use,
//! kept only as a MAC and rate-limited per employee, device and address.
//!
//! - `audit`: PIN events judged again, the lock derived from them;
//! - `reset`: the rules, inside store transactions;
//! - `sender`: how codes reach the employee (log, file, SMTP behind `smtp`);
//! - `http`: the routes;
//! - `admin`: the employer's commands;
//! - `kiosk`: kiosk accounts, their members' PIN verifiers, ingest's check.

pub mod admin;
pub mod audit;
pub(crate) mod http;
pub mod kiosk;
pub mod reset;
pub mod sender;

pub use sender::{CodeDelivery, CodeSender};
