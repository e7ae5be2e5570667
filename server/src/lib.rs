//! punch-server: the reference punch server, the contract every employer
//! backend follows. Devices enroll with a one-time code, fetch a signed
//! policy and the server's time, and upload signed, hash-chained punch
//! records that are verified and stored exactly once, with the server's
//! judgement of when each punch really happened.
//!
//! In-process use (tests, demos): [`ServerHandle::start`] runs the HTTP
//! server on its own thread; [`Admin`] manages the same database. The
//! database is SQLite by default or PostgreSQL ([`DbUrl`]); any number of
//! server processes may share a PostgreSQL database.
//! The wire contract is `punch_model::wire`, documented in `openapi.json`.

pub mod admin;
pub mod admin_api;
pub mod api;
pub mod app;
pub mod at_rest;
pub mod attestation;
pub mod audit;
pub mod auth;
pub mod chain_reset;
pub mod clock;
pub mod config;
pub mod enroll;
pub mod error;
pub mod evidence;
pub mod export;
pub mod heads;
pub mod ingest;
pub mod key_rotation;
pub mod limits;
pub mod metrics;
pub mod pin;
pub mod policy_cache;
pub mod policy_publish;
pub mod privacy;
pub mod requests;
pub mod server;
pub mod staff;
pub mod store;
pub mod stored_hash;
pub mod time_token;
pub mod web;

pub use admin::Admin;
pub use error::{Result, ServerError};
pub use limits::Limits;
pub use server::{DEFAULT_LISTEN, ServerConfig, ServerHandle};
pub use store::postgres::PostgresStore;
pub use store::sqlite::SqliteStore;
pub use store::{DbUrl, DeviceInfo, RejectedInfo, ServerStore, StoredPunchInfo};

/// The OpenAPI 3.1 document of the HTTP API.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");
