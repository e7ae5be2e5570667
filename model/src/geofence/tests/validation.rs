//! Every class of bad input is rejected with a typed error (never a panic).

use super::util::*;
use crate::geofence::{GeofenceError as E, LatLon, PreparedShape, RingRef, Shape, validate_point};

fn circle(center: LatLon, radius_m: f64) -> Result<PreparedShape, E> {
    PreparedShape::new(&Shape::Circle { center, radius_m })
}

fn poly(exterior: Vec<LatLon>, holes: Vec<Vec<LatLon>>) -> Result<PreparedShape, E> {
    PreparedShape::new(&Shape::Polygon { exterior, holes })
}

fn tri(c: LatLon) -> Vec<LatLon> {
    ring_from_radii(c, &[100.0; 3], 0.0)
}

#[test]
fn points() {
    assert_eq!(
        validate_point(ll(f64::NAN, 0.0)),
        Err(E::NonFinite { field: "lat" })
    );
    assert_eq!(
        validate_point(ll(0.0, f64::INFINITY)),
        Err(E::NonFinite { field: "lon" })
    );
    assert_eq!(
        validate_point(ll(0.0, f64::NEG_INFINITY)),
        Err(E::NonFinite { field: "lon" })
    );
    assert_eq!(
        validate_point(ll(91.0, 0.0)),
        Err(E::LatitudeOutOfRange { lat: 91.0 })
    );
    assert_eq!(
        validate_point(ll(-90.5, 0.0)),
        Err(E::LatitudeOutOfRange { lat: -90.5 })
    );
    assert_eq!(
        validate_point(ll(0.0, 181.0)),
        Err(E::LongitudeOutOfRange { lon: 181.0 })
    );
    assert_eq!(
        validate_point(ll(0.0, -180.01)),
        Err(E::LongitudeOutOfRange { lon: -180.01 })
    );
    for ok in [ll(90.0, 180.0), ll(-90.0, -180.0), ll(0.0, 0.0)] {
        assert_eq!(validate_point(ok), Ok(()));
    }
}

#[test]
fn circles() {
    let c = ll(10.0, 10.0);
    assert!(circle(c, 50.0).is_ok());
    assert!(circle(c, 1_000_000.0).is_ok());
    for r in [0.0, -5.0, -0.0, 1_000_001.0, 1e300] {
        assert!(
            matches!(circle(c, r), Err(E::RadiusInvalid { .. })),
            "radius {r}"
        );
    }
    for r in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(circle(c, r).err(), Some(E::NonFinite { field: "radius_m" }));
    }
    assert_eq!(
        circle(ll(f64::NAN, 0.0), 10.0).err(),
        Some(E::NonFinite { field: "lat" })
    );
    assert!(matches!(
        circle(ll(0.0, 200.0), 10.0),
        Err(E::LongitudeOutOfRange { .. })
    ));
}

#[test]
fn polygon_vertex_errors_name_the_vertex() {
    let c = ll(10.0, 10.0);
    let mut bad = tri(c);
    bad[1].lat = f64::NAN;
    match poly(bad, vec![]) {
        Err(E::InvalidVertex {
            ring: RingRef::Exterior,
            index: 1,
            reason,
        }) => assert_eq!(*reason, E::NonFinite { field: "lat" }),
        other => panic!("{other:?}"),
    }
    let mut hole = ring_from_radii(c, &[20.0; 3], 0.0);
    hole[2].lon = 181.0;
    match poly(ring_from_radii(c, &[500.0; 4], 0.0), vec![hole]) {
        Err(E::InvalidVertex {
            ring: RingRef::Hole(0),
            index: 2,
            reason,
        }) => assert!(matches!(*reason, E::LongitudeOutOfRange { .. })),
        other => panic!("{other:?}"),
    }
    let mut inf = tri(c);
    inf[0].lon = f64::INFINITY;
    assert!(matches!(poly(inf, vec![]), Err(E::InvalidVertex { .. })));
}

#[test]
fn too_few_vertices() {
    let c = ll(-33.0, 151.0);
    let t = tri(c);
    assert_eq!(
        poly(vec![t[0], t[1]], vec![]).err(),
        Some(E::TooFewVertices {
            ring: RingRef::Exterior,
            distinct: 2
        })
    );
    assert_eq!(
        poly(vec![], vec![]).err(),
        Some(E::TooFewVertices {
            ring: RingRef::Exterior,
            distinct: 0
        })
    );
    // Three entries but one repeated / a closing repeat of a 2-vertex ring.
    assert!(matches!(
        poly(vec![t[0], t[1], t[1]], vec![]),
        Err(E::TooFewVertices { distinct: 2, .. })
    ));
    assert!(matches!(
        poly(vec![t[0], t[1], t[0]], vec![]),
        Err(E::TooFewVertices { distinct: 2, .. })
    ));
    // A closing repeat is accepted, and so is lon 180 == -180.
    assert!(poly(vec![t[0], t[1], t[2], t[0]], vec![]).is_ok());
    let am = vec![
        ll(0.0, 180.0),
        ll(0.01, 179.99),
        ll(0.0, 179.99),
        ll(0.0, -180.0),
    ];
    assert!(poly(am, vec![]).is_ok());
    // Bad hole.
    assert_eq!(
        poly(ring_from_radii(c, &[500.0; 4], 0.0), vec![vec![c, c, c]]).err(),
        Some(E::TooFewVertices {
            ring: RingRef::Hole(0),
            distinct: 1
        })
    );
}

#[test]
fn zero_area_and_self_intersection() {
    let a = ll(45.0, 7.0);
    let b = dest(a, 30.0, 1_000.0);
    let mid = dest(a, 30.0, 500.0);
    // Three (or four) points on one geodesic.
    assert_eq!(
        poly(vec![a, mid, b], vec![]).err(),
        Some(E::ZeroArea {
            ring: RingRef::Exterior
        })
    );
    assert_eq!(
        poly(vec![a, dest(a, 30.0, 250.0), mid, b], vec![]).err(),
        Some(E::ZeroArea {
            ring: RingRef::Exterior
        })
    );
    // Along a meridian.
    assert!(matches!(
        poly(
            vec![ll(10.0, 5.0), ll(10.001, 5.0), ll(10.002, 5.0)],
            vec![]
        ),
        Err(E::ZeroArea { .. })
    ));
    // Bow-tie.
    let c = ll(45.0, 7.0);
    let p = |e: f64, n: f64| dest(dest(c, 90.0, e), 0.0, n);
    assert_eq!(
        poly(
            vec![p(0.0, 0.0), p(100.0, 100.0), p(100.0, 0.0), p(0.0, 100.0)],
            vec![]
        )
        .err(),
        Some(E::SelfIntersecting {
            ring: RingRef::Exterior
        })
    );
    // Spike: an edge that doubles back on the previous one.
    assert!(matches!(
        poly(
            vec![
                p(0.0, 0.0),
                p(100.0, 0.0),
                p(100.0, 100.0),
                p(100.0, 50.0),
                p(0.0, 100.0)
            ],
            vec![]
        ),
        Err(E::SelfIntersecting { .. })
    ));
    // A vertex touching another edge.
    assert!(matches!(
        poly(
            vec![p(0.0, 0.0), p(100.0, 0.0), p(50.0, 0.0), p(50.0, 100.0)],
            vec![]
        ),
        Err(E::SelfIntersecting { .. }) | Err(E::ZeroArea { .. })
    ));
    // A legit thin sliver (1 km × 2 m) is accepted.
    assert!(
        poly(
            vec![p(0.0, 0.0), p(1_000.0, 0.0), p(1_000.0, 2.0), p(0.0, 2.0)],
            vec![]
        )
        .is_ok()
    );
}

#[test]
fn too_large() {
    let c = ll(0.0, 0.0);
    assert!(matches!(
        poly(ring_from_radii(c, &[1_500_000.0; 4], 0.0), vec![]),
        Err(E::TooLarge { .. })
    ));
    // Vertices spread around the globe.
    assert!(matches!(
        poly(vec![ll(0.0, 0.0), ll(0.0, 120.0), ll(0.0, -120.0)], vec![]),
        Err(E::TooLarge { .. })
    ));
    assert!(poly(ring_from_radii(c, &[900_000.0; 5], 0.0), vec![]).is_ok());
}

#[test]
fn messages_are_readable() {
    let e = poly(vec![ll(0.0, 0.0)], vec![])
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("exterior ring has 1 distinct vertices; at least 3 are needed")
    );
    let e = E::InvalidVertex {
        ring: RingRef::Hole(1),
        index: 4,
        reason: Box::new(E::LatitudeOutOfRange { lat: 91.0 }),
    };
    assert_eq!(
        e.to_string(),
        "hole 1 vertex 4: latitude 91 is outside [-90, 90] degrees"
    );
    assert!(
        Shape::Circle {
            center: ll(0.0, 0.0),
            radius_m: f64::NAN
        }
        .validate()
        .is_err()
    );
}

#[test]
fn holes_must_lie_inside_the_exterior_without_crossing() {
    let c = ll(31.23, 121.47);
    let exterior = ring_from_radii(c, &[500.0; 6], 0.0);
    let hole_at = |centre: LatLon, r: f64| ring_from_radii(centre, &[r; 4], 45.0);
    // A proper hole is fine.
    assert!(poly(exterior.clone(), vec![hole_at(c, 100.0)]).is_ok());
    // A hole 1 km outside: refused, and the message says what is wrong.
    let far = poly(
        exterior.clone(),
        vec![hole_at(dest(c, 90.0, 1_500.0), 100.0)],
    );
    assert_eq!(
        far.as_ref().err(),
        Some(&E::HoleOutsideExterior {
            ring: RingRef::Hole(0)
        })
    );
    assert_eq!(
        far.err().map(|e| e.to_string()).as_deref(),
        Some("hole 0 is not inside the exterior ring: a hole must lie within the polygon it cuts")
    );
    // A hole straddling the exterior's edge.
    let crossing = poly(exterior.clone(), vec![hole_at(dest(c, 90.0, 480.0), 100.0)]);
    assert!(
        matches!(
            crossing,
            Err(E::RingsIntersect { .. } | E::HoleOutsideExterior { .. })
        ),
        "{crossing:?}"
    );
    // Two holes overlapping each other.
    let overlapping = poly(
        exterior.clone(),
        vec![hole_at(c, 120.0), hole_at(dest(c, 0.0, 60.0), 120.0)],
    );
    assert!(
        matches!(
            overlapping,
            Err(E::RingsIntersect {
                first: RingRef::Hole(_),
                second: RingRef::Hole(_)
            })
        ),
        "{overlapping:?}"
    );
    // Two separate holes are fine.
    assert!(
        poly(
            exterior,
            vec![
                hole_at(dest(c, 0.0, 200.0), 80.0),
                hole_at(dest(c, 180.0, 200.0), 80.0)
            ]
        )
        .is_ok()
    );
}

#[test]
fn too_many_vertices_names_what_the_user_gave() {
    let c = ll(10.0, 10.0);
    let ring = regular_ring(c, crate::geofence::MAX_VERTICES + 5, 1.0, 0.0);
    let e = poly(ring, vec![]).err();
    assert!(
        matches!(e, Some(E::TooManyVertices { count, .. }) if count > crate::geofence::MAX_VERTICES),
        "{e:?}"
    );
    let text = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("simplify the boundary"), "{text}");
    assert!(!text.contains("densification"), "{text}");
}
