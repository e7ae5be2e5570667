//! Three-way verdict semantics, holes, concavity, poles, invalid fixes, serde.

use super::util::*;
use crate::geofence::{Containment, GeofenceError, GpsVerdict, LatLon, Shape};

#[test]
fn circle_accuracy_circle_straddling_is_uncertain() {
    let c = ll(52.52, 13.405);
    let fence = prepare(&Shape::Circle {
        center: c,
        radius_m: 100.0,
    });
    let p_in = dest(c, 40.0, 90.0); // 10 m inside
    let p_out = dest(c, 220.0, 110.0); // 10 m outside
    assert_eq!(fence.locate(p_in, 5.0).containment, Containment::Inside);
    assert_eq!(fence.locate(p_in, 10.5).containment, Containment::Uncertain);
    assert_eq!(
        fence.locate(p_in, 500.0).containment,
        Containment::Uncertain
    );
    assert_eq!(fence.locate(p_out, 9.5).containment, Containment::Outside);
    assert_eq!(
        fence.locate(p_out, 10.5).containment,
        Containment::Uncertain
    );
    let v = fence.locate(p_out, 10.5);
    assert!(!v.point_inside);
    assert!((v.distance_to_edge_m - 10.0).abs() < 1e-3);
    // Centre: distance to edge is the radius.
    let v = fence.locate(c, 0.0);
    assert!(v.point_inside && (v.distance_to_edge_m - 100.0).abs() < 1e-6);
}

fn square(c: LatLon, half_m: f64) -> Vec<LatLon> {
    // Corners at 45°, 135°, ... (clockwise), half-diagonal half_m·√2.
    ring_from_radii(c, &[half_m * std::f64::consts::SQRT_2; 4], 45.0)
}

#[test]
fn polygon_with_hole() {
    let c = ll(-33.87, 151.21);
    let outer = square(c, 500.0);
    let hole = square(c, 100.0);
    let fence = prepare(&Shape::Polygon {
        exterior: outer.clone(),
        holes: vec![hole.clone()],
    });
    // In the hole: outside the fence, 100 m from the hole's edge.
    let v = fence.locate(c, 5.0);
    assert!(!v.point_inside);
    assert_eq!(v.containment, Containment::Outside);
    assert!((v.distance_to_edge_m - 100.0).abs() < 0.05, "{v:?}");
    // Between hole and exterior: inside.
    let ring_pt = dest(c, 0.0, 300.0);
    let v = fence.locate(ring_pt, 5.0);
    assert!(v.point_inside);
    assert_eq!(v.containment, Containment::Inside);
    let want = oracle_distance(ring_pt, &[&outer, &hole]);
    assert!(
        (v.distance_to_edge_m - want).abs() < 1e-3,
        "{v:?} vs {want}"
    );
    // 3 m outside the hole edge, accuracy circle reaches into the hole.
    let near_hole = dest(c, 90.0, 103.0);
    let v = fence.locate(near_hole, 5.0);
    assert!(v.point_inside);
    assert_eq!(v.containment, Containment::Uncertain);
    assert_eq!(
        fence.locate(near_hole, 2.0).containment,
        Containment::Inside
    );
    // Outside everything.
    let far = dest(c, 90.0, 900.0);
    assert_eq!(fence.locate(far, 5.0).containment, Containment::Outside);
    // Hole edges from both sides at 0.5 m, with the exact distance.
    for (a, b) in edges(&hole) {
        let (in_hole, in_fence) = edge_probes(a, b, 0.5);
        let v = fence.locate(in_hole, 0.1);
        assert!(!v.point_inside && (v.distance_to_edge_m - 0.5).abs() < 1e-3);
        let v = fence.locate(in_fence, 0.1);
        assert!(v.point_inside && (v.distance_to_edge_m - 0.5).abs() < 1e-3);
    }
}

#[test]
fn concave_polygon_notch_is_outside() {
    // A "U": 300 m wide, notch 100 m wide and 200 m deep from the north.
    let c = ll(35.68, 139.69);
    let at = |east: f64, north: f64| {
        let p = dest(c, 90.0, east);
        dest(p, 0.0, north)
    };
    let u = vec![
        at(-150.0, -150.0),
        at(-150.0, 150.0),
        at(-50.0, 150.0),
        at(-50.0, -50.0),
        at(50.0, -50.0),
        at(50.0, 150.0),
        at(150.0, 150.0),
        at(150.0, -150.0),
    ];
    let fence = prepare(&polygon(u.clone()));
    let notch = at(0.0, 100.0);
    let v = fence.locate(notch, 10.0);
    assert!(!v.point_inside);
    assert_eq!(v.containment, Containment::Outside);
    assert!((v.distance_to_edge_m - 50.0).abs() < 0.05, "{v:?}");
    let arm = at(-100.0, 100.0);
    let v = fence.locate(arm, 10.0);
    assert!(v.point_inside);
    assert_eq!(v.containment, Containment::Inside);
    // Base below the notch.
    assert_eq!(
        fence.locate(at(0.0, -100.0), 10.0).containment,
        Containment::Inside
    );
    // The ray from the notch crosses the fence four times: reversed order
    // and a closing repeat must not change anything.
    let mut rev = u.clone();
    rev.reverse();
    rev.push(rev[0]);
    let fence2 = prepare(&polygon(rev));
    for p in [notch, arm, at(0.0, -100.0), at(0.0, -149.0), at(400.0, 0.0)] {
        assert_eq!(fence.locate(p, 3.0), fence2.locate(p, 3.0));
    }
}

#[test]
fn polygon_around_the_pole() {
    for pole in [90.0f64, -90.0] {
        let ring: Vec<LatLon> = (0..8)
            .map(|i| ll(pole.signum() * 89.9, -180.0 + 45.0 * i as f64))
            .collect();
        let fence = prepare(&polygon(ring.clone()));
        let v = fence.locate(ll(pole, 0.0), 10.0);
        assert!(v.point_inside, "{v:?}");
        assert_eq!(v.containment, Containment::Inside);
        let want = oracle_distance(ll(pole, 0.0), &[&ring]);
        assert!(
            (v.distance_to_edge_m - want).abs() < 1e-3,
            "{v:?} vs {want}"
        );
        let v = fence.locate(ll(pole.signum() * 89.8, 17.0), 10.0);
        assert_eq!(v.containment, Containment::Outside);
    }
}

#[test]
fn invalid_fix_is_fail_safe() {
    let fence = prepare(&Shape::Circle {
        center: ll(0.0, 0.0),
        radius_m: 100.0,
    });
    for (p, acc) in [
        (ll(f64::NAN, 0.0), 1.0),
        (ll(0.0, f64::INFINITY), 1.0),
        (ll(91.0, 0.0), 1.0),
        (ll(0.0, 0.0), -1.0),
        (ll(0.0, 0.0), f64::NAN),
    ] {
        let v = fence.locate(p, acc);
        assert_eq!(v.containment, Containment::Uncertain);
        assert!(!v.point_inside);
        assert!(v.distance_to_edge_m.is_nan());
        assert!(fence.try_locate(p, acc).is_err());
    }
    assert!(matches!(
        fence.try_locate(ll(0.0, 0.0), -1.0),
        Err(GeofenceError::AccuracyInvalid { .. })
    ));
    assert!(matches!(
        fence.try_locate(ll(f64::NAN, 0.0), 1.0),
        Err(GeofenceError::NonFinite { field: "lat" })
    ));
}

#[test]
fn serde_format() {
    let json = r#"{"type":"polygon","exterior":[{"lat":1.0,"lon":2.0},{"lat":1.001,"lon":2.0},{"lat":1.0,"lon":2.001}]}"#;
    let s: Shape = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
    match &s {
        Shape::Polygon { exterior, holes } => {
            assert_eq!(exterior.len(), 3);
            assert!(holes.is_empty());
        }
        other => panic!("wrong variant {other:?}"),
    }
    assert!(s.validate().is_ok());
    let circle = Shape::Circle {
        center: ll(1.0, 2.0),
        radius_m: 50.0,
    };
    let text = serde_json::to_string(&circle).unwrap_or_default();
    assert_eq!(
        text,
        r#"{"type":"circle","center":{"lat":1.0,"lon":2.0},"radius_m":50.0}"#
    );
    let back: Shape = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, circle);
    let with_holes = r#"{"type":"polygon","exterior":[],"holes":[[{"lat":0.0,"lon":0.0}]]}"#;
    assert!(serde_json::from_str::<Shape>(with_holes).is_ok());
    let v = GpsVerdict {
        containment: Containment::Uncertain,
        point_inside: true,
        distance_to_edge_m: 1.5,
    };
    let text = serde_json::to_string(&v).unwrap_or_default();
    assert_eq!(
        text,
        r#"{"containment":"uncertain","point_inside":true,"distance_to_edge_m":1.5}"#
    );
}
