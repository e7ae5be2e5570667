//! The ledger: a punch as a signed, hash-chained record, and everything that
//! checks one — signatures, chain links, trusted time, the re-judging of its
//! evidence (review).

pub mod chain;
pub mod chain_walk;
pub mod event;
pub mod fault;
pub mod key_rotation;
pub mod minimise;
pub mod range_check;
pub mod record;
pub mod refused;
pub mod review;
pub mod sealed;
pub mod signing;
pub mod trusted_time;
