//! Rules: what the platform observed, what the employer allows, and the
//! judgement of one against the other.
//!
//! evidence (validated input) → policy (sites, settings) → evaluate (the verdict).

pub mod assurance;
pub mod cidr;
pub mod device_limit;
pub mod evaluate;
pub mod evidence;
pub mod field_work;
pub mod forgotten;
pub mod makeup;
pub mod photo;
pub mod photo_rule;
pub mod policy;
pub mod policy_snapshot;
pub mod privacy;
pub mod punch_kind;
pub mod shift;
pub mod terminal;
pub mod terminal_verdict;
