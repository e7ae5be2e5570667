//! SiteIndex must give exactly the linear-scan answer.

use super::util::*;
use crate::geofence::{LatLon, PreparedShape, Shape, SiteIndex};

/// A random circle or polygon (4–12 vertices) of 50–`max_r` m around `c`.
fn random_site(rng: &mut Rng, c: LatLon, max_r: f64) -> PreparedShape {
    let r = rng.range(50.0, max_r);
    if rng.f64() < 0.5 {
        prepare(&Shape::Circle {
            center: c,
            radius_m: r,
        })
    } else {
        let n = 4 + rng.below(9);
        let radii: Vec<f64> = (0..n).map(|_| r * rng.range(0.5, 1.0)).collect();
        prepare(&polygon(ring_from_radii(c, &radii, rng.range(0.0, 90.0))))
    }
}

/// Compares query with linear_scan at `n` fixes near random sites (and a
/// few anywhere in the box). Returns how many (fix, site) hits there were.
fn compare(index: &SiteIndex, centers: &[LatLon], rng: &mut Rng, n: usize) -> usize {
    let mut hits = 0;
    let mut buf = Vec::new();
    for k in 0..n {
        let near = centers[rng.below(centers.len())];
        let p = if k % 10 == 0 {
            ll(
                (near.lat + rng.range(-1.0, 1.0)).clamp(-90.0, 90.0),
                near.lon,
            )
        } else {
            dest(near, rng.range(0.0, 360.0), rng.range(0.0, 3_000.0))
        };
        let acc = [0.0, 5.0, 30.0, 400.0][rng.below(4)];
        let search = [0.0, 100.0, 1_000.0][rng.below(3)];
        let q = index.query(p, acc, search);
        let l = index.linear_scan(p, acc, search);
        assert_eq!(q, l, "fix {p:?} acc {acc} search {search}");
        index.query_into(p, acc, search, &mut buf);
        assert_eq!(buf, q);
        for (i, v) in &q {
            assert!(v.point_inside || v.distance_to_edge_m <= acc + search);
            assert!(index.shape(*i).is_some());
        }
        hits += q.len();
    }
    hits
}

#[test]
fn matches_linear_scan_country() {
    let mut rng = Rng::new(1);
    let centers: Vec<LatLon> = (0..1_500)
        .map(|_| ll(rng.range(45.0, 47.0), rng.range(6.0, 10.0)))
        .collect();
    let sites = centers
        .iter()
        .map(|&c| random_site(&mut rng, c, 800.0))
        .collect();
    let index = SiteIndex::build(sites);
    assert_eq!(index.len(), 1_500);
    let hits = compare(&index, &centers, &mut rng, 300);
    assert!(hits > 50, "test should exercise real hits, got {hits}");
}

#[test]
fn matches_linear_scan_antimeridian_and_poles() {
    let mut rng = Rng::new(2);
    let mut centers = Vec::new();
    for _ in 0..150 {
        // Straddling the antimeridian.
        let lon = 179.98 + rng.range(0.0, 0.04);
        centers.push(ll(
            rng.range(-60.0, 70.0),
            if lon > 180.0 { lon - 360.0 } else { lon },
        ));
        // Near either pole (including sites containing the pole).
        let pole: f64 = if rng.f64() < 0.5 { 90.0 } else { -90.0 };
        centers.push(ll(
            pole - pole.signum() * rng.range(0.0, 0.05),
            rng.range(-180.0, 180.0),
        ));
    }
    let sites = centers
        .iter()
        .map(|&c| random_site(&mut rng, c, 3_000.0))
        .collect();
    let index = SiteIndex::build(sites);
    let hits = compare(&index, &centers, &mut rng, 300);
    assert!(hits > 50, "got {hits}");
    // The poles themselves and fixes on the antimeridian.
    for p in [
        ll(90.0, 0.0),
        ll(-90.0, 45.0),
        ll(10.0, 180.0),
        ll(10.0, -180.0),
    ] {
        assert_eq!(
            index.query(p, 10.0, 5_000.0),
            index.linear_scan(p, 10.0, 5_000.0)
        );
    }
}

#[test]
fn finds_large_containing_site_and_handles_edge_cases() {
    let big = prepare(&Shape::Circle {
        center: ll(40.0, -100.0),
        radius_m: 500_000.0,
    });
    let small = prepare(&Shape::Circle {
        center: ll(40.0, -100.0),
        radius_m: 100.0,
    });
    let index = SiteIndex::build(vec![small, big]);
    // 200 km from the centre: inside the big one, far from both fences.
    let p = dest(ll(40.0, -100.0), 10.0, 200_000.0);
    let q = index.query(p, 10.0, 0.0);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, 1);
    assert!(q[0].1.point_inside);
    assert_eq!(q, index.linear_scan(p, 10.0, 0.0));
    // Invalid fixes give nothing; empty index gives nothing.
    assert!(index.query(ll(f64::NAN, 0.0), 1.0, 1.0).is_empty());
    assert!(index.query(p, -1.0, 1.0).is_empty());
    assert!(index.query(p, 1.0, f64::INFINITY).is_empty());
    assert!(index.linear_scan(p, f64::NAN, 1.0).is_empty());
    let empty = SiteIndex::build(vec![]);
    assert!(empty.is_empty() && empty.query(p, 1.0, 1.0).is_empty());
    assert!(empty.shape(0).is_none());
    // A huge search radius returns everything, in order.
    let all = index.query(p, 0.0, 1e7);
    assert_eq!(all.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 1]);
}
