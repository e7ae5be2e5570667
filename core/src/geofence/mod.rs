//! placeholder, replaced by the geofence module
