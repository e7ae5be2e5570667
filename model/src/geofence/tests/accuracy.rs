//! Geodesic accuracy near fence edges at many latitudes and across the
//! antimeridian.
//!
//! Tolerance: 1 mm on distance_to_edge_m for probes 0.5 m from the fence.
//! Justification: the fast projection errs by ≤ 1.6e-4 m·(s/100 km)⁴
//! (< 1e-6 m for the ≤ 10 km pieces adjacent to a probe), the chord-segment
//! approximation by ≤ 2.1e-7 × 0.5 m even before its curvature correction,
//! and Karney itself by nanometres; 1 mm
//! leaves a 500× margin under the 0.5 m requirement while still catching
//! any real mistake (wrong radius of curvature, planar lon/lat maths, ...).

use super::util::*;
use crate::geofence::geodesy::{self, Frame};
use crate::geofence::{Containment, LatLon, Shape};

const LATS: [f64; 6] = [-60.0, -33.0, 0.0, 35.0, 60.0, 75.0];
const TOL_M: f64 = 1e-3;
const OFFSET_M: f64 = 0.5;

#[test]
fn fast_projection_within_its_error_bound() {
    let mut rng = Rng::new(7);
    for &range in &[1.0, 100.0, 1e3, 1e4, 5e4, 1e5, 3e5, 1e6, 3e6, 8e6] {
        for _ in 0..300 {
            // Full latitude range, including the poles themselves.
            let lat = match rng.below(10) {
                0 => 90.0,
                1 => -90.0,
                _ => rng.range(-90.0, 90.0),
            };
            let p = ll(lat, rng.range(-180.0, 180.0));
            let q = dest(p, rng.range(0.0, 360.0), range * rng.range(0.5, 1.0));
            let f = Frame::new(p);
            let fast = f.fast(&geodesy::ecef(q));
            let exact = f.exact(q);
            let err = (fast.x - exact.x).hypot(fast.y - exact.y);
            assert!(
                err <= fast.err + 1e-8,
                "range {range}: {p:?} -> {q:?}: error {err} > bound {}",
                fast.err
            );
        }
    }
}

#[test]
fn exact_segment_oracle_is_exact() {
    // Probe perpendicular to an edge midpoint at a known distance.
    let mut rng = Rng::new(11);
    for _ in 0..40 {
        let a = ll(rng.range(-75.0, 75.0), rng.range(-180.0, 180.0));
        let b = dest(a, rng.range(0.0, 360.0), rng.range(50.0, 50_000.0));
        let d = rng.range(0.1, 5_000.0);
        let (right, left) = edge_probes(a, b, d);
        for p in [right, left] {
            let o = geodesy::segment_distance_exact(p, a, b);
            assert!((o - d).abs() < 1e-6, "oracle {o} vs {d}");
        }
    }
}

fn check_circle(center: LatLon, radius_m: f64) {
    let fence = prepare(&Shape::Circle { center, radius_m });
    for k in 0..24 {
        let azi = 15.0 * k as f64 + 3.0;
        let inner = dest(center, azi, radius_m - OFFSET_M);
        let outer = dest(center, azi, radius_m + OFFSET_M);
        for (p, inside) in [(inner, true), (outer, false)] {
            let ctx = format!("circle {center:?} r={radius_m} azi={azi} inside={inside}");
            check_probe(&fence, p, inside, 1.0, &ctx);
        }
    }
}

/// A probe OFFSET_M from the fence: on the right side, at the right
/// distance, Inside/Outside with a 0.1 m fix, Uncertain with `straddle_m`.
fn check_probe(
    fence: &crate::geofence::PreparedShape,
    p: LatLon,
    inside: bool,
    straddle_m: f64,
    ctx: &str,
) {
    let v = fence.locate(p, 0.1);
    assert_eq!(v.point_inside, inside, "{ctx}: {v:?}");
    assert!(
        (v.distance_to_edge_m - OFFSET_M).abs() < TOL_M,
        "{ctx}: {v:?}"
    );
    let want = if inside {
        Containment::Inside
    } else {
        Containment::Outside
    };
    assert_eq!(v.containment, want, "{ctx}: {v:?}");
    assert_eq!(
        fence.locate(p, straddle_m).containment,
        Containment::Uncertain,
        "{ctx}: {v:?}"
    );
}

#[test]
fn circle_edges_at_many_latitudes() {
    for &lat in &LATS {
        for &lon in &[-120.0, 10.0] {
            for &r in &[50.0, 500.0, 5_000.0, 50_000.0, 500_000.0, 999_000.0] {
                check_circle(ll(lat, lon), r);
            }
        }
    }
}

#[test]
fn circle_edges_across_antimeridian() {
    for &lat in &LATS {
        for &lon in &[180.0, -180.0, 179.9995, -179.9995] {
            for &r in &[50.0, 500.0, 5_000.0, 50_000.0] {
                check_circle(ll(lat, lon), r);
            }
        }
    }
}

/// Every edge: probes 0.5 m either side of its midpoint must land on the
/// right side with distance 0.5 m (the ring is clockwise, so right = inside).
fn check_ring_edges(ring: &[LatLon]) {
    let fence = prepare(&polygon(ring.to_vec()));
    for (a, b) in edges(ring) {
        let (inside_p, outside_p) = edge_probes(a, b, OFFSET_M);
        for (p, inside) in [(inside_p, true), (outside_p, false)] {
            let ctx = format!("edge {a:?}->{b:?} inside={inside}");
            check_probe(&fence, p, inside, 0.6, &ctx);
        }
    }
}

#[test]
fn polygon_edges_at_many_latitudes() {
    for &lat in &LATS {
        for (i, &edge) in [50.0, 500.0, 5_000.0, 50_000.0].iter().enumerate() {
            let c = ll(lat, 10.0 + i as f64);
            check_ring_edges(&regular_ring(c, 4 + i, edge, 10.0));
            check_ring_edges(&star_ring(c, 5, edge));
        }
    }
}

#[test]
fn polygon_edges_across_antimeridian() {
    for &lat in &LATS {
        // Explicit vertices either side of the antimeridian (≈ 2 km wide
        // at the equator, ≈ 580 m at 75°).
        let ring = vec![
            ll(lat - 0.01, 179.99),
            ll(lat + 0.01, 179.99),
            ll(lat + 0.01, -179.99),
            ll(lat - 0.01, -179.99),
        ];
        check_ring_edges(&ring);
        for &edge in &[50.0, 5_000.0, 50_000.0] {
            check_ring_edges(&regular_ring(ll(lat, 180.0), 6, edge, 0.0));
            check_ring_edges(&star_ring(ll(lat, -179.9999), 4, edge));
        }
    }
}

#[test]
fn polygon_distance_matches_exact_oracle() {
    // Random fixes from centimetres to 200 km from random polygons,
    // including a large (≈ 600 km) one where far vertices need the exact
    // refinement path. Tolerance: the documented 1 mm + 1e-8·d.
    let mut rng = Rng::new(99);
    for case in 0..24 {
        let c = ll(rng.range(-60.0, 75.0), rng.range(-180.0, 180.0));
        let scale = [200.0, 20_000.0, 300_000.0][case % 3];
        let radii: Vec<f64> = (0..6).map(|_| scale * rng.range(0.6, 1.0)).collect();
        let ring = ring_from_radii(c, &radii, rng.range(0.0, 60.0));
        let fence = prepare(&polygon(ring.clone()));
        for _ in 0..6 {
            let (a, b) = edges(&ring).nth(rng.below(ring.len())).unwrap_or((c, c));
            let d = [0.01, 3.0, 700.0, 40_000.0, 200_000.0][rng.below(5)];
            let (p_in, p_out) = edge_probes(a, b, d);
            let p = if rng.f64() < 0.5 { p_in } else { p_out };
            let got = fence.locate(p, 0.0).distance_to_edge_m;
            let want = oracle_distance(p, &[&ring]);
            assert!(
                (got - want).abs() <= 1e-3 + 1e-8 * want,
                "case {case}: {p:?} got {got} want {want}"
            );
        }
    }
}

#[test]
fn far_side_of_earth_is_outside_with_exact_distance() {
    let c = ll(48.0, 11.0);
    let ring = regular_ring(c, 5, 800.0, 0.0);
    let fence = prepare(&polygon(ring.clone()));
    // Near-antipodal fixes exercise the projection-free path; the others
    // the AEQD path with exact refinement of far vertices.
    for p in [
        ll(-48.0, -169.0),
        ll(-47.9, -169.05),
        ll(-10.0, 120.0),
        ll(40.0, 20.0),
        ll(10.0, -60.0),
        ll(-30.0, 60.0),
    ] {
        let v = fence.locate(p, 50.0);
        assert!(!v.point_inside);
        assert_eq!(v.containment, Containment::Outside);
        let want = oracle_distance(p, &[&ring]);
        assert!(
            (v.distance_to_edge_m - want).abs() <= 1e-3 + 1e-8 * want,
            "{p:?}: {} vs {want}",
            v.distance_to_edge_m
        );
    }
}
