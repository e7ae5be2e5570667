//! Geodesic geofence evaluation for GPS fixes (WGS-84).
//!
//! * [`Shape`] — circle or polygon-with-holes; polygon edges are geodesics.
//! * [`PreparedShape`] — validated shape with precomputed data;
//!   [`PreparedShape::locate`] gives an accuracy-aware [`GpsVerdict`]:
//!   Inside / Outside when the whole accuracy circle is on one side,
//!   Uncertain when it straddles the fence.
//! * [`SiteIndex`] — R-tree over many shapes so a query costs about the same
//!   for 10 or 10 000 sites.
//!
//! Distances are geodesic (Karney). Polygons are evaluated in an azimuthal
//! equidistant frame centred on the fix (see `geodesy`), which is exact for
//! distances from the fix and makes short geodesic edges near-straight; a
//! cheap ECEF-based projection is used where its error bound is negligible
//! and exact Karney projections elsewhere. All input is validated before any
//! arithmetic, so NaN never reaches the geometry code and nothing panics.

mod error;
mod geodesy;
mod index;
mod locate;
pub(crate) mod prepared;
mod shape;

#[cfg(test)]
mod tests;

pub use error::{GeofenceError, RingRef};
pub use geodesy::distance as distance_m;
pub use index::SiteIndex;
pub use locate::{Containment, GpsVerdict};
pub use prepared::{BoundingCap, MAX_VERTICES, PreparedShape};
pub use shape::{
    LatLon, MAX_EXTENT_M, MAX_RADIUS_M, Shape, validate_accuracy, validate_point,
    validate_search_radius,
};
