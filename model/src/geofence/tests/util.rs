//! Test helpers: a deterministic PRNG, shape builders and an exact oracle.

use crate::geofence::geodesy;
use crate::geofence::{LatLon, PreparedShape, Shape};

/// xorshift64* — deterministic, no external crates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize % n.max(1)
    }
}

pub fn ll(lat: f64, lon: f64) -> LatLon {
    LatLon::new(lat, lon)
}

pub fn dest(p: LatLon, azi: f64, s: f64) -> LatLon {
    geodesy::direct(p, azi, s).0
}

pub fn prepare(shape: &Shape) -> PreparedShape {
    match PreparedShape::new(shape) {
        Ok(p) => p,
        Err(e) => panic!("test shape rejected: {e} ({shape:?})"),
    }
}

pub fn polygon(exterior: Vec<LatLon>) -> Shape {
    Shape::Polygon {
        exterior,
        holes: vec![],
    }
}

/// Vertices at increasing azimuth from `center` (so the ring runs clockwise
/// and its interior is to the right of every edge), at distances `radii`.
pub fn ring_from_radii(center: LatLon, radii: &[f64], rot_deg: f64) -> Vec<LatLon> {
    let n = radii.len() as f64;
    radii
        .iter()
        .enumerate()
        .map(|(i, &r)| dest(center, rot_deg + 360.0 * i as f64 / n, r))
        .collect()
}

/// Regular n-gon whose edges are about `edge_m` long (clockwise).
pub fn regular_ring(center: LatLon, n: usize, edge_m: f64, rot_deg: f64) -> Vec<LatLon> {
    let r = edge_m / (2.0 * (std::f64::consts::PI / n as f64).sin());
    ring_from_radii(center, &vec![r; n], rot_deg)
}

/// Concave star with `points` tips (clockwise); edges are about `edge_m`.
pub fn star_ring(center: LatLon, points: usize, edge_m: f64) -> Vec<LatLon> {
    let r_out = edge_m * 1.6;
    let radii: Vec<f64> = (0..2 * points)
        .map(|i| if i % 2 == 0 { r_out } else { r_out * 0.45 })
        .collect();
    ring_from_radii(center, &radii, 7.0)
}

/// The points `offset` metres either side of the midpoint of geodesic edge
/// a→b, perpendicular to the edge there: (right, left). For a clockwise
/// ring, right is inside.
pub fn edge_probes(a: LatLon, b: LatLon, offset: f64) -> (LatLon, LatLon) {
    let (len, azi) = geodesy::inverse(a, b);
    let (mid, azi_mid) = geodesy::direct(a, azi, 0.5 * len);
    (
        dest(mid, azi_mid + 90.0, offset),
        dest(mid, azi_mid - 90.0, offset),
    )
}

/// Edges (a, b) of a ring, closing it.
pub fn edges(ring: &[LatLon]) -> impl Iterator<Item = (LatLon, LatLon)> + '_ {
    ring.iter()
        .copied()
        .zip(ring.iter().copied().cycle().skip(1))
}

/// Exact geodesic distance from `p` to the boundary (original, undensified
/// edges), by direct minimisation along each edge with Karney's solver.
pub fn oracle_distance(p: LatLon, rings: &[&[LatLon]]) -> f64 {
    rings
        .iter()
        .flat_map(|r| edges(r))
        .map(|(a, b)| geodesy::segment_distance_exact(p, a, b))
        .fold(f64::INFINITY, f64::min)
}
