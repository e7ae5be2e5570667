//! Geofence properties: a polygon's verdict does not depend on the ring's
//! orientation (vertices reversed) or its starting vertex (rotation), holes
//! included; a circle's verdict matches the geodesic distance
//! (`punch_model::geofence::distance_m`) within the documented tolerance —
//! 1 mm + 1e-8 × distance (`PreparedShape::locate`) — anywhere on the
//! ellipsoid, near the antimeridian and the poles included.

use geographiclib_rs::{DirectGeodesic, Geodesic};
use proptest::prelude::*;
use punch_model::geofence::{Containment, GpsVerdict, LatLon, PreparedShape, Shape, distance_m};

fn tolerance(d: f64) -> f64 {
    1e-3 + 1e-8 * d.abs()
}

fn dest(p: LatLon, azi: f64, s: f64) -> LatLon {
    let (lat, lon): (f64, f64) = Geodesic::wgs84().direct(p.lat, p.lon, azi, s);
    LatLon { lat, lon }
}

/// A centre anywhere, or close to a pole, or close to the antimeridian.
fn centre() -> impl Strategy<Value = LatLon> {
    prop_oneof![
        (-89.0f64..89.0, -180.0f64..180.0).prop_map(|(lat, lon)| LatLon { lat, lon }),
        (88.0f64..89.999, -180.0f64..180.0, any::<bool>()).prop_map(|(lat, lon, south)| LatLon {
            lat: if south { -lat } else { lat },
            lon
        }),
        (-80.0f64..80.0, 179.0f64..180.0, any::<bool>()).prop_map(|(lat, lon, west)| LatLon {
            lat,
            lon: if west { -lon } else { lon }
        }),
    ]
}

/// A star-shaped ring around `c`: vertices at increasing azimuth (a simple
/// polygon for any radii), `radii` in metres.
fn star(c: LatLon, radii: &[f64], rot: f64) -> Vec<LatLon> {
    let n = radii.len() as f64;
    radii
        .iter()
        .enumerate()
        .map(|(i, &r)| dest(c, rot + 360.0 * i as f64 / n, r))
        .collect()
}

#[derive(Debug, Clone)]
struct Case {
    centre: LatLon,
    radii: Vec<f64>,
    rot: f64,
    /// A hole as a fraction of the smallest radius (a star of n ≥ 3 points
    /// contains the disc of half its smallest radius, so ≤ 0.4 stays inside).
    hole: Option<(Vec<f64>, f64)>,
    probe_azi: f64,
    /// Probe distance from the centre, as a fraction of the largest radius.
    probe_frac: f64,
    accuracy_m: f64,
    shift: usize,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        centre(),
        prop::collection::vec(30.0f64..40_000.0, 3..12),
        0.0f64..360.0,
        prop::option::of((prop::collection::vec(0.1f64..0.4, 3..7), 0.0f64..360.0)),
        0.0f64..360.0,
        0.0f64..1.6,
        0.0f64..300.0,
        any::<prop::sample::Index>(),
    )
        .prop_map(
            |(centre, radii, rot, hole, probe_azi, probe_frac, accuracy_m, shift)| Case {
                shift: shift.index(radii.len()),
                centre,
                radii,
                rot,
                hole,
                probe_azi,
                probe_frac,
                accuracy_m,
            },
        )
}

fn polygon(exterior: Vec<LatLon>, holes: Vec<Vec<LatLon>>) -> PreparedShape {
    let shape = Shape::Polygon { exterior, holes };
    PreparedShape::new(&shape).unwrap_or_else(|e| panic!("shape refused: {e}: {shape:?}"))
}

/// Same verdict, allowing only what the documented tolerance allows.
fn same_verdict(a: &GpsVerdict, b: &GpsVerdict, accuracy_m: f64) -> Result<(), String> {
    let d = a.distance_to_edge_m;
    if (a.distance_to_edge_m - b.distance_to_edge_m).abs() > 2.0 * tolerance(d) {
        return Err(format!("distances differ: {a:?} vs {b:?}"));
    }
    let near_edge = d <= 2.0 * tolerance(d);
    if a.point_inside != b.point_inside && !near_edge {
        return Err(format!("point side differs: {a:?} vs {b:?}"));
    }
    let near_accuracy = (d - accuracy_m).abs() <= 2.0 * tolerance(d);
    if a.containment != b.containment && !near_accuracy && !near_edge {
        return Err(format!("containment differs: {a:?} vs {b:?}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn polygon_verdicts_ignore_orientation_and_rotation(case in cases()) {
        let ring = star(case.centre, &case.radii, case.rot);
        let min_r = case.radii.iter().copied().fold(f64::MAX, f64::min);
        let max_r = case.radii.iter().copied().fold(0.0, f64::max);
        let hole: Vec<Vec<LatLon>> = case
            .hole
            .iter()
            .map(|(fracs, rot)| {
                let radii: Vec<f64> = fracs.iter().map(|f| f * min_r).collect();
                star(case.centre, &radii, *rot)
            })
            .collect();
        let probe = dest(case.centre, case.probe_azi, case.probe_frac * max_r);
        let reference = polygon(ring.clone(), hole.clone()).locate(probe, case.accuracy_m);
        prop_assert!(reference.distance_to_edge_m.is_finite(), "{:?}", reference);

        let mut reversed = ring.clone();
        reversed.reverse();
        let mut rotated = ring.clone();
        rotated.rotate_left(case.shift);
        let mut both = reversed.clone();
        both.rotate_left(case.shift);
        let reversed_holes: Vec<Vec<LatLon>> = hole
            .iter()
            .map(|h| {
                let mut h = h.clone();
                h.reverse();
                h.rotate_left(1);
                h
            })
            .collect();
        for (name, ext, holes) in [
            ("reversed", reversed, hole.clone()),
            ("rotated", rotated, hole.clone()),
            ("reversed+rotated", both.clone(), hole.clone()),
            ("holes reversed", ring.clone(), reversed_holes.clone()),
            ("all reversed", both, reversed_holes),
        ] {
            let v = polygon(ext, holes).locate(probe, case.accuracy_m);
            if let Err(e) = same_verdict(&reference, &v, case.accuracy_m) {
                return Err(TestCaseError::fail(format!("{name}: {e}")));
            }
        }
    }

    #[test]
    fn circle_verdict_matches_geodesic_distance(
        c in centre(),
        radius in prop_oneof![1.0f64..500.0, 500.0f64..1_000_000.0],
        azi in 0.0f64..360.0,
        frac in prop_oneof![0.0f64..2.0, 0.999f64..1.001],
        accuracy_m in prop_oneof![Just(0.0), 0.0f64..50.0, 50.0f64..5_000.0],
    ) {
        let shape = PreparedShape::new(&Shape::Circle { center: c, radius_m: radius }).unwrap();
        let p = dest(c, azi, frac * radius);
        let d = distance_m(c, p);
        let v = shape.locate(p, accuracy_m);
        let edge = (d - radius).abs();
        let tol = tolerance(edge.max(d));
        prop_assert!(
            (v.distance_to_edge_m - edge).abs() <= tol,
            "edge distance {} vs geodesic {} (d {}, r {})", v.distance_to_edge_m, edge, d, radius
        );
        if edge > tol {
            prop_assert_eq!(v.point_inside, d < radius, "d {} r {}", d, radius);
        }
        let expected = if d + accuracy_m < radius - tol {
            Some(Containment::Inside)
        } else if d - accuracy_m > radius + tol {
            Some(Containment::Outside)
        } else if edge < accuracy_m - tol {
            Some(Containment::Uncertain)
        } else {
            None // within the tolerance of the accuracy circle's touching point
        };
        if let Some(expected) = expected {
            prop_assert_eq!(v.containment, expected, "d {} r {} acc {} -> {:?}", d, radius, accuracy_m, v);
        }
    }
}

/// The antimeridian and the poles by hand: the same fix on either side of
/// ±180°, and a circle around the pole itself.
#[test]
fn circles_across_the_antimeridian_and_around_a_pole() {
    let east = LatLon {
        lat: 10.0,
        lon: 179.9995,
    };
    let west = LatLon {
        lat: 10.0,
        lon: -179.9995,
    };
    let d = distance_m(east, west);
    assert!((d - 109.6).abs() < 1.0, "{d}");
    let shape = PreparedShape::new(&Shape::Circle {
        center: east,
        radius_m: 150.0,
    })
    .unwrap();
    let v = shape.locate(west, 10.0);
    assert_eq!(v.containment, Containment::Inside, "{v:?}");
    assert!((v.distance_to_edge_m - (150.0 - d)).abs() < 1e-3, "{v:?}");

    let pole = LatLon {
        lat: 90.0,
        lon: 0.0,
    };
    let around = PreparedShape::new(&Shape::Circle {
        center: pole,
        radius_m: 5_000.0,
    })
    .unwrap();
    for lon in [-180.0, -90.0, 0.0, 45.0, 179.999] {
        let p = LatLon { lat: 89.97, lon };
        let v = around.locate(p, 1.0);
        let expect = (5_000.0 - distance_m(pole, p)).abs();
        assert_eq!(v.containment, Containment::Inside, "{lon}: {v:?}");
        assert!((v.distance_to_edge_m - expect).abs() < 1e-3, "{lon}: {v:?}");
    }
}
