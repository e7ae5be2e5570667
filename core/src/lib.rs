//! punch-core: the offline-first punch (time-clock) core.
pub mod geofence;
