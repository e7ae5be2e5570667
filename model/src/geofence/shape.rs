//! Public data types (serde-friendly) and input validation.

use serde::{Deserialize, Serialize};

use super::error::{GeofenceError, RingRef};

/// Largest accepted circle radius. Anything bigger is a data-entry error for a
/// time-clock fence, and the limit keeps every shape far from the antipode
/// of its own points, where geodesic maths gets ill-conditioned.
pub const MAX_RADIUS_M: f64 = 1_000_000.0;

/// Largest accepted distance from a polygon's centre to any of its vertices,
/// for the same reasons as [`MAX_RADIUS_M`].
pub const MAX_EXTENT_M: f64 = 1_000_000.0;

/// A WGS-84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub const fn new(lat: f64, lon: f64) -> Self {
        LatLon { lat, lon }
    }
}

/// A geofence. Polygon edges are geodesics between consecutive vertices;
/// rings may or may not repeat their first vertex at the end.
///
/// In JSON (the policy format) the kind is a `"type"` field; in binary
/// formats (the device's prepared-policy snapshot) it is an outer tag, which
/// decodes without buffering each shape first (see `ShapeText`).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// All points within `radius_m` (geodesic) of `center`.
    Circle { center: LatLon, radius_m: f64 },
    /// Inside `exterior` and not inside any of `holes`.
    Polygon {
        exterior: Vec<LatLon>,
        holes: Vec<Vec<LatLon>>,
    },
}

/// [`Shape`] as JSON: internally tagged by `"type"`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ShapeText {
    Circle {
        center: LatLon,
        radius_m: f64,
    },
    Polygon {
        exterior: Vec<LatLon>,
        #[serde(default)]
        holes: Vec<Vec<LatLon>>,
    },
}

/// [`Shape`] in binary formats: externally tagged, no field names.
#[derive(Serialize, Deserialize)]
enum ShapeBinary {
    Circle(LatLon, f64),
    Polygon(Vec<LatLon>, Vec<Vec<LatLon>>),
}

impl Serialize for Shape {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let shape = self.clone();
        if s.is_human_readable() {
            match shape {
                Shape::Circle { center, radius_m } => ShapeText::Circle { center, radius_m },
                Shape::Polygon { exterior, holes } => ShapeText::Polygon { exterior, holes },
            }
            .serialize(s)
        } else {
            match shape {
                Shape::Circle { center, radius_m } => ShapeBinary::Circle(center, radius_m),
                Shape::Polygon { exterior, holes } => ShapeBinary::Polygon(exterior, holes),
            }
            .serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(if d.is_human_readable() {
            match ShapeText::deserialize(d)? {
                ShapeText::Circle { center, radius_m } => Shape::Circle { center, radius_m },
                ShapeText::Polygon { exterior, holes } => Shape::Polygon { exterior, holes },
            }
        } else {
            match ShapeBinary::deserialize(d)? {
                ShapeBinary::Circle(center, radius_m) => Shape::Circle { center, radius_m },
                ShapeBinary::Polygon(exterior, holes) => Shape::Polygon { exterior, holes },
            }
        })
    }
}

/// Checks that `p` is finite and within the WGS-84 coordinate ranges.
pub fn validate_point(p: LatLon) -> Result<(), GeofenceError> {
    if !p.lat.is_finite() {
        return Err(GeofenceError::NonFinite { field: "lat" });
    }
    if !p.lon.is_finite() {
        return Err(GeofenceError::NonFinite { field: "lon" });
    }
    if p.lat.abs() > 90.0 {
        return Err(GeofenceError::LatitudeOutOfRange { lat: p.lat });
    }
    if p.lon.abs() > 180.0 {
        return Err(GeofenceError::LongitudeOutOfRange { lon: p.lon });
    }
    Ok(())
}

/// Checks a GPS accuracy radius (metres, finite, >= 0).
pub fn validate_accuracy(accuracy_m: f64) -> Result<(), GeofenceError> {
    if !accuracy_m.is_finite() {
        return Err(GeofenceError::NonFinite {
            field: "accuracy_m",
        });
    }
    if accuracy_m < 0.0 {
        return Err(GeofenceError::AccuracyInvalid { accuracy_m });
    }
    Ok(())
}

/// Checks a search radius (metres, finite, >= 0).
pub fn validate_search_radius(search_radius_m: f64) -> Result<(), GeofenceError> {
    if !search_radius_m.is_finite() {
        return Err(GeofenceError::NonFinite {
            field: "search_radius_m",
        });
    }
    if search_radius_m < 0.0 {
        return Err(GeofenceError::SearchRadiusInvalid { search_radius_m });
    }
    Ok(())
}

/// Checks a circle's radius (metres, finite, in (0, MAX_RADIUS_M]).
pub(crate) fn validate_radius(radius_m: f64) -> Result<(), GeofenceError> {
    if !radius_m.is_finite() {
        return Err(GeofenceError::NonFinite { field: "radius_m" });
    }
    if radius_m <= 0.0 || radius_m > MAX_RADIUS_M {
        return Err(GeofenceError::RadiusInvalid {
            radius_m,
            max_m: MAX_RADIUS_M,
        });
    }
    Ok(())
}

/// Validates every vertex of a ring, naming the offending one.
pub(crate) fn validate_ring_points(ring: RingRef, pts: &[LatLon]) -> Result<(), GeofenceError> {
    for (index, &p) in pts.iter().enumerate() {
        validate_point(p).map_err(|e| GeofenceError::InvalidVertex {
            ring,
            index,
            reason: Box::new(e),
        })?;
    }
    Ok(())
}
