//! The people who use the admin API and the reviewer page: accounts with a
//! role ([`role`]), Argon2id passwords ([`password`]), RFC 6238 TOTP as the
//! second factor ([`totp`]), sign-in with lockout ([`signin`]), browser
//! sessions with CSRF tokens ([`session`]), scoped API tokens kept hashed
//! ([`token`]), and the [`actor::Actor`] every admin route checks.
//! Employees are not staff: they reach their own records through the
//! device, authenticated by its key.

pub mod account;
pub mod actor;
pub mod lifecycle;
pub mod password;
pub mod role;
pub mod secret;
pub mod session;
pub mod signin;
pub mod token;
pub mod totp;

pub use actor::Actor;
pub use role::{Permission, Role};
