//! Geofence tests. Run: `cargo test -p punch-core geofence`.

mod accuracy;
mod index;
mod timing;
mod util;
mod validation;
mod verdicts;
