//! Rough timings (no assertions on time). Run in release:
//! `cargo test -p punch-core --release geofence::tests::timing -- --ignored --nocapture`

use std::hint::black_box;
use std::time::Instant;

use super::util::*;
use crate::geofence::geodesy::{self, Frame};
use crate::geofence::{LatLon, PreparedShape, Shape, SiteIndex};

/// `n` sites over ≈ 900 × 900 km, the last `clustered` of them packed into
/// ≈ 5 × 5 km at (47, 2) so fixes there have several sites in reach.
fn country_sites(rng: &mut Rng, n: usize, clustered: usize) -> (Vec<LatLon>, Vec<PreparedShape>) {
    let mut centers = Vec::with_capacity(n);
    let mut sites = Vec::with_capacity(n);
    for i in 0..n {
        let c = if i + clustered >= n {
            ll(47.0 + rng.range(0.0, 0.045), 2.0 + rng.range(0.0, 0.065))
        } else {
            ll(rng.range(43.0, 51.0), rng.range(-4.0, 8.0))
        };
        let r = rng.range(50.0, 500.0);
        let shape = if rng.f64() < 0.5 {
            Shape::Circle {
                center: c,
                radius_m: r,
            }
        } else {
            let k = 4 + rng.below(9);
            let radii: Vec<f64> = (0..k).map(|_| r * rng.range(0.6, 1.0)).collect();
            polygon(ring_from_radii(c, &radii, rng.range(0.0, 90.0)))
        };
        centers.push(c);
        sites.push(prepare(&shape));
    }
    (centers, sites)
}

#[test]
#[ignore]
fn timing_query_vs_linear_scan() {
    let mut rng = Rng::new(42);
    for &n in &[10usize, 10_000] {
        let t = Instant::now();
        let (centers, sites) = country_sites(&mut rng, n, 0);
        let prep = t.elapsed();
        let t = Instant::now();
        let index = SiteIndex::build(sites);
        let build = t.elapsed();
        let fixes: Vec<LatLon> = (0..1_000)
            .map(|_| {
                let c = centers[rng.below(centers.len())];
                dest(c, rng.range(0.0, 360.0), rng.range(0.0, 600.0))
            })
            .collect();
        let (acc, search) = (20.0, 200.0);
        let reps = 200;
        let mut hits = 0usize;
        let mut buf = Vec::new();
        let t = Instant::now();
        for _ in 0..reps {
            for &p in &fixes {
                index.query_into(black_box(p), acc, search, &mut buf);
                hits += buf.len();
            }
        }
        let q_ns = t.elapsed().as_nanos() as f64 / (reps * fixes.len()) as f64;
        let t = Instant::now();
        for &p in &fixes {
            hits += prefiltered_scan(&index, black_box(p), acc, search);
        }
        let pf_ns = t.elapsed().as_nanos() as f64 / fixes.len() as f64;
        let scan_fixes = &fixes[..100];
        let t = Instant::now();
        for &p in scan_fixes {
            hits += black_box(index.linear_scan(p, acc, search)).len();
        }
        let l_ns = t.elapsed().as_nanos() as f64 / scan_fixes.len() as f64;
        let t = Instant::now();
        let mut loc = 0.0;
        for &p in &fixes {
            if let Some(s) = index.shape(0) {
                loc += s.locate(black_box(p), acc).distance_to_edge_m;
            }
        }
        let locate_ns = t.elapsed().as_nanos() as f64 / fixes.len() as f64;
        eprintln!(
            "sites {n:>6}: prepare {prep:?}, build {build:?}; query {q_ns:.0} ns, \
             cap-prefiltered scan {pf_ns:.0} ns; linear_scan {l_ns:.0} ns ({:.0}x); \
             locate(far site) {locate_ns:.0} ns; avg hits/query {:.2} [{hits} {loc:.0}]",
            l_ns / q_ns,
            hits as f64 / (reps * fixes.len() + scan_fixes.len()) as f64,
        );
    }
}

/// Per-site cap test then `locate` only on survivors: what a careful
/// index-free implementation would do (for comparison only).
fn prefiltered_scan(index: &SiteIndex, p: LatLon, acc: f64, search: f64) -> usize {
    let f = Frame::new(p);
    let reach = acc + search;
    let mut hits = 0;
    for i in 0..index.len() {
        if let Some(s) = index.shape(i)
            && geodesy::chord(f.ecef(), &s.cap_ecef) <= s.cap.radius_m + reach + 1.0
        {
            let v = s.locate_in(&f, acc);
            hits += usize::from(v.point_inside || v.distance_to_edge_m <= reach);
        }
    }
    hits
}

#[test]
#[ignore]
fn timing_several_sites_near_fix() {
    let mut rng = Rng::new(43);
    let (_, sites) = country_sites(&mut rng, 10_000, 60);
    let index = SiteIndex::build(sites);
    let fixes: Vec<LatLon> = (0..1_000)
        .map(|_| ll(47.0 + rng.range(0.0, 0.045), 2.0 + rng.range(0.0, 0.065)))
        .collect();
    let (acc, search) = (20.0, 200.0);
    let reps = 100;
    let mut hits = 0usize;
    let mut buf = Vec::new();
    let t = Instant::now();
    for _ in 0..reps {
        for &p in &fixes {
            index.query_into(black_box(p), acc, search, &mut buf);
            hits += buf.len();
        }
    }
    let q_ns = t.elapsed().as_nanos() as f64 / (reps * fixes.len()) as f64;
    let avg_hits = hits as f64 / (reps * fixes.len()) as f64;
    let t = Instant::now();
    let mut pf = 0;
    for &p in &fixes[..200] {
        pf += prefiltered_scan(&index, black_box(p), acc, search);
    }
    let pf_ns = t.elapsed().as_nanos() as f64 / 200.0;
    let t = Instant::now();
    for &p in &fixes[..20] {
        pf += black_box(index.linear_scan(p, acc, search)).len();
    }
    let l_ns = t.elapsed().as_nanos() as f64 / 20.0;
    eprintln!(
        "10000 sites, fix inside a 60-site cluster: query {q_ns:.0} ns with {avg_hits:.1} \
         hits/query; cap-prefiltered scan {pf_ns:.0} ns ({:.0}x); linear_scan {l_ns:.0} ns \
         ({:.0}x) [{pf}]",
        pf_ns / q_ns,
        l_ns / q_ns
    );
}
