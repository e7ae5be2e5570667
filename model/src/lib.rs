//! punch-model: what a phone and a punch server share, with no SQLite, no
//! HTTP and no threads in it.
//!
//! Data flows one way through its rooms:
//! - [`geofence`]: circles and polygons on the WGS-84 ellipsoid, accuracy-aware verdicts;
//! - [`rules`]: platform evidence and its validation, the policy, the evaluation of a punch;
//! - [`pin`]: the punch PIN's settings, trivial-PIN rules, lockout and reset token;
//! - [`ledger`]: the signed record, the hash chain, the device key, trusted time, review;
//! - [`wire`]: the HTTP contract between a device and a server.

pub mod geofence;
pub mod ledger;
pub mod messages;
pub mod pin;
pub mod rules;
pub mod text;
pub mod wire;
