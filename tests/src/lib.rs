//! Shared pieces for the end-to-end tests: a fault-injecting HTTP proxy and
//! a world of a real server plus an enrolled device.

pub mod crash;
pub mod decoders;
pub mod fault_proxy;
pub mod seeds;
pub mod world;
