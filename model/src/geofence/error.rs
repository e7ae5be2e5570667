//! Typed validation errors. Every input problem is reported here before any
//! number reaches the geometry code, so the maths never sees NaN or nonsense.

use std::fmt;

/// Which ring of a polygon an error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RingRef {
    /// The outer boundary.
    Exterior,
    /// Hole number `n` (0-based position in `Shape::Polygon::holes`).
    Hole(usize),
}

impl fmt::Display for RingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingRef::Exterior => write!(f, "exterior ring"),
            RingRef::Hole(n) => write!(f, "hole {n}"),
        }
    }
}

/// Why a point, shape or query parameter was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeofenceError {
    /// A number was NaN or infinite.
    #[error("{field} is not a finite number")]
    NonFinite { field: &'static str },
    #[error("latitude {lat} is outside [-90, 90] degrees")]
    LatitudeOutOfRange { lat: f64 },
    #[error("longitude {lon} is outside [-180, 180] degrees")]
    LongitudeOutOfRange { lon: f64 },
    #[error("circle radius {radius_m} m must be > 0 and at most {max_m} m")]
    RadiusInvalid { radius_m: f64, max_m: f64 },
    #[error("accuracy {accuracy_m} m must be >= 0")]
    AccuracyInvalid { accuracy_m: f64 },
    #[error("search radius {search_radius_m} m must be >= 0")]
    SearchRadiusInvalid { search_radius_m: f64 },
    /// A polygon vertex failed point validation.
    #[error("{ring} vertex {index}: {reason}")]
    InvalidVertex {
        ring: RingRef,
        index: usize,
        reason: Box<GeofenceError>,
    },
    /// Fewer than 3 distinct vertices once duplicates (including a closing
    /// repeat of the first vertex) are dropped.
    #[error("{ring} has {distinct} distinct vertices; at least 3 are needed")]
    TooFewVertices { ring: RingRef, distinct: usize },
    /// The ring encloses (numerically) no area, e.g. all vertices on one geodesic.
    #[error("{ring} encloses zero area")]
    ZeroArea { ring: RingRef },
    /// Two edges of the ring cross or touch (bow-tie, spike, doubled-back edge).
    #[error("{ring} crosses or touches itself")]
    SelfIntersecting { ring: RingRef },
    /// The shape reaches further than the supported extent from its centre.
    #[error("shape extends {extent_m:.0} m from its centre; at most {max_m:.0} m is supported")]
    TooLarge { extent_m: f64, max_m: f64 },
    /// The polygon was given more vertices (all rings together) than supported.
    #[error(
        "polygon has {count} vertices in all its rings; at most {max} are supported: simplify the boundary"
    )]
    TooManyVertices { count: usize, max: usize },
    /// Following the polygon's long edges as geodesics needs too many points.
    #[error(
        "the polygon's edges are too long to follow exactly with at most {max} points: use fewer vertices or a smaller site"
    )]
    EdgesTooLong { max: usize },
    /// A hole is not inside the exterior ring.
    #[error("{ring} is not inside the exterior ring: a hole must lie within the polygon it cuts")]
    HoleOutsideExterior { ring: RingRef },
    /// Two rings cross, share an edge or overlap.
    #[error(
        "{first} and {second} cross or overlap: holes must not cross the exterior or each other"
    )]
    RingsIntersect { first: RingRef, second: RingRef },
}
