//! WGS-84 geodesy used by the geofence evaluator.
//!
//! The core idea: evaluate everything in an azimuthal equidistant (AEQD)
//! frame centred on the GPS fix P. In that frame the distance and azimuth
//! from P to every projected point are (near) exact, and a short geodesic
//! edge maps to a curve that deviates from the straight chord between its
//! projected endpoints by only `d·t²/(3R²)` (d = distance from P, t = half
//! the edge length): with edges densified to ≤ 10 km that is ≤ 2.1e-7·d,
//! and [`Frame::edge_dist`] corrects even that to ~2e-9·d. Point-to-segment
//! distance and ray casting are then plain planar maths.
//!
//! Projecting with a Karney inverse per vertex costs ~0.6 µs, too slow for a
//! 5 µs query budget, so [`Frame::fast`] projects from ECEF instead: the
//! normal-section azimuth comes from the local ENU components of the chord,
//! corrected to the geodesic azimuth with the classic
//! `e'²s²cos²φ·sin2α/(12N²)` term, and the arc length from the chord with the
//! normal-section radius of curvature. Measured against Karney over all
//! latitudes its position error is ≈1.6e-4 m·(s/100 km)⁴, i.e. far below a
//! millimetre within ~70 km. [`Frame::fast`] reports a conservative bound and
//! callers switch to the exact Karney projection where the bound matters.

use std::sync::OnceLock;

use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};

use super::shape::LatLon;

/// WGS-84 semi-major axis (m).
const A: f64 = 6_378_137.0;
/// WGS-84 flattening.
const F: f64 = 1.0 / 298.257_223_563;
/// First eccentricity squared.
const E2: f64 = F * (2.0 - F);
/// Second eccentricity squared.
const EP2: f64 = E2 / (1.0 - E2);

/// The shared WGS-84 geodesic solver (built once; it is immutable).
pub(crate) fn geod() -> &'static Geodesic {
    static G: OnceLock<Geodesic> = OnceLock::new();
    G.get_or_init(Geodesic::wgs84)
}

/// Karney inverse: (distance m, azimuth at `a` in degrees).
pub(crate) fn inverse(a: LatLon, b: LatLon) -> (f64, f64) {
    let (s12, azi1, _azi2, _a12): (f64, f64, f64, f64) = geod().inverse(a.lat, a.lon, b.lat, b.lon);
    (s12, azi1)
}

/// Geodesic distance in metres between two points (Karney inverse).
pub fn distance(a: LatLon, b: LatLon) -> f64 {
    geod().inverse(a.lat, a.lon, b.lat, b.lon)
}

/// Karney direct: the point `s` metres from `a` along azimuth `azi` (deg),
/// with the forward azimuth there.
pub(crate) fn direct(a: LatLon, azi: f64, s: f64) -> (LatLon, f64) {
    let (lat, lon, azi2): (f64, f64, f64) = geod().direct(a.lat, a.lon, azi, s);
    (LatLon { lat, lon }, azi2)
}

/// Earth-centred, earth-fixed coordinates (m) of a surface point.
pub(crate) fn ecef(p: LatLon) -> [f64; 3] {
    let (sp, cp) = p.lat.to_radians().sin_cos();
    let (sl, cl) = p.lon.to_radians().sin_cos();
    let n = A / (1.0 - E2 * sp * sp).sqrt();
    [n * cp * cl, n * cp * sl, n * (1.0 - E2) * sp]
}

/// The surface point radially below/above an ECEF vector (a point on the
/// ellipsoid with geocentric latitude ψ has geodetic latitude
/// atan(tan ψ / (1 - e²))). Used to turn a mean of ECEF vertices into a cap
/// centre that lies on the shape, not ~20 km off it.
pub(crate) fn ecef_direction_to_latlon(v: [f64; 3]) -> LatLon {
    let lat = v[2].atan2((1.0 - E2) * v[0].hypot(v[1])).to_degrees();
    let lon = v[1].atan2(v[0]).to_degrees();
    LatLon { lat, lon }
}

pub(crate) fn chord(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Conservative bound (m) on the error of [`Frame::fast`] for a chord `c` (m):
/// 3× the measured worst case of 1.6e-4 m·(c/100 km)⁴.
pub(crate) fn fast_error_bound(c: f64) -> f64 {
    let k = c * 1e-5;
    5e-4 * (k * k) * (k * k)
}

/// A point projected into the AEQD frame of a fix: `x` east-ish, `y`
/// north-ish (m), `err` a bound on the position error (0 when exact).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planar {
    pub x: f64,
    pub y: f64,
    pub err: f64,
}

impl Planar {
    pub(crate) fn norm(&self) -> f64 {
        self.x.hypot(self.y)
    }
}

/// Per-fix precomputation: ECEF position, local ENU axes and curvature.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    origin: LatLon,
    p: [f64; 3],
    east: [f64; 3],
    north: [f64; 3],
    up: [f64; 3],
    /// 1 / meridional radius of curvature M.
    inv_m: f64,
    /// 1 / prime-vertical radius of curvature N.
    inv_n: f64,
    /// e'²cos²φ / (12 N²), the normal-section → geodesic azimuth factor.
    corr_k: f64,
    /// 1 / √(MN): inverse radius of Gaussian curvature at the fix.
    inv_rg: f64,
}

impl Frame {
    /// `origin` must already be validated (finite, in range).
    pub(crate) fn new(origin: LatLon) -> Self {
        let (sp, cp) = origin.lat.to_radians().sin_cos();
        let (sl, cl) = origin.lon.to_radians().sin_cos();
        let w = 1.0 - E2 * sp * sp;
        let n = A / w.sqrt();
        let m = A * (1.0 - E2) / (w * w.sqrt());
        Frame {
            origin,
            p: [n * cp * cl, n * cp * sl, n * (1.0 - E2) * sp],
            east: [-sl, cl, 0.0],
            north: [-sp * cl, -sp * sl, cp],
            up: [cp * cl, cp * sl, sp],
            inv_m: 1.0 / m,
            inv_n: 1.0 / n,
            corr_k: EP2 * cp * cp / (12.0 * n * n),
            inv_rg: 1.0 / (m * n).sqrt(),
        }
    }

    pub(crate) fn origin(&self) -> LatLon {
        self.origin
    }

    pub(crate) fn ecef(&self) -> &[f64; 3] {
        &self.p
    }

    /// Cheap AEQD projection of a surface point given in ECEF (see module docs).
    pub(crate) fn fast(&self, v: &[f64; 3]) -> Planar {
        let d = [v[0] - self.p[0], v[1] - self.p[1], v[2] - self.p[2]];
        let e = dot(&d, &self.east);
        let n = dot(&d, &self.north);
        let u = dot(&d, &self.up);
        let h2 = e * e + n * n;
        let c2 = h2 + u * u;
        if h2 <= 0.0 {
            // Same point as the fix, or straight through the Earth along the
            // normal (azimuth undefined): let the caller go exact.
            let err = if c2 > 0.0 { f64::INFINITY } else { 0.0 };
            return Planar {
                x: 0.0,
                y: 0.0,
                err,
            };
        }
        let h = h2.sqrt();
        let c = c2.sqrt();
        // Euler: curvature of the normal section in this azimuth.
        let inv_r = (n * n * self.inv_m + e * e * self.inv_n) / h2;
        let k = (c * inv_r) * (c * inv_r);
        // Arc of a circle of that curvature subtending chord c:
        // s = 2R·asin(c/2R), as a series while it converges fast.
        let s = if k < 1e-2 {
            c * (1.0 + k * (1.0 / 24.0 + k * (3.0 / 640.0 + k * (5.0 / 7168.0))))
        } else {
            2.0 / inv_r * (0.5 * c * inv_r).min(1.0).asin()
        };
        let (sa0, ca0) = (e / h, n / h);
        // Rotate from normal-section to geodesic azimuth (angle `corr` is tiny).
        let corr = self.corr_k * s * s * (2.0 * sa0 * ca0);
        let cc = 1.0 - 0.5 * corr * corr;
        let sa = sa0 * cc - ca0 * corr;
        let ca = ca0 * cc + sa0 * corr;
        Planar {
            x: s * sa,
            y: s * ca,
            err: fast_error_bound(c),
        }
    }

    /// Exact AEQD projection via one Karney inverse.
    pub(crate) fn exact(&self, v: LatLon) -> Planar {
        let (s, azi) = inverse(self.origin, v);
        let (sa, ca) = azi.to_radians().sin_cos();
        Planar {
            x: s * sa,
            y: s * ca,
            err: 0.0,
        }
    }

    /// Geodesic distance to a point: fast path when its error bound is
    /// negligible, Karney otherwise.
    pub(crate) fn distance_to(&self, v: LatLon, v_ecef: &[f64; 3]) -> f64 {
        let q = self.fast(v_ecef);
        if q.err <= FAST_TOL_M {
            q.norm()
        } else {
            distance(self.origin, v)
        }
    }
}

impl Frame {
    /// Geodesic distance from the fix to the geodesic edge whose endpoints
    /// project to `a` and `b`.
    ///
    /// In the AEQD frame a geodesic at distance d bends towards the fix, so
    /// the straight chord passes closer than the true edge. On a sphere of
    /// radius R, with the foot of the perpendicular t_a and t_b from the
    /// endpoints, the true distance is
    /// d + t_a·t_b·h(d/R)/(2R) with h(x) = (2x − sin 2x)/(2x²) ≈ 2x/3
    /// (and t measured on the sphere, i.e. planar t × sin x / x, which `h`
    /// already folds in). Using R = √(MN) at the fix this leaves ≤ ~2e-9 × d
    /// for 10 km pieces up to 8 000 km (measured against Karney), versus
    /// ~2e-7 × d for the bare chord.
    pub(crate) fn edge_dist(&self, a: Planar, b: Planar) -> f64 {
        let (d, ta, l) = match project_origin(a, b) {
            Nearest::Endpoint(n) => return n,
            Nearest::Interior { d, t, len } => (d, t, len),
        };
        let tb = l - ta;
        let x = d * self.inv_rg;
        let h = if x < 0.1 {
            x * (2.0 / 3.0 - x * x * (2.0 / 15.0))
        } else {
            (2.0 * x - (2.0 * x).sin()) / (2.0 * x * x)
        };
        d + ta * tb * h * 0.5 * self.inv_rg
    }
}

/// Fast-projection error we accept without refining (0.1 mm).
pub(crate) const FAST_TOL_M: f64 = 1e-4;

/// Where the origin's nearest point on segment `ab` lies.
enum Nearest {
    /// At an endpoint, this far from the origin.
    Endpoint(f64),
    /// Inside the segment: distance `d`, at `t` along it, of length `len`.
    Interior { d: f64, t: f64, len: f64 },
}

fn project_origin(a: Planar, b: Planar) -> Nearest {
    let dx = b.x - a.x;
    let dy = b.y - a.y;
    let l2 = dx * dx + dy * dy;
    // Projection parameter of the origin onto ab, scaled by l2.
    let t = -(a.x * dx + a.y * dy);
    if l2 <= 0.0 || t <= 0.0 {
        return Nearest::Endpoint(a.norm());
    }
    if t >= l2 {
        return Nearest::Endpoint(b.norm());
    }
    let len = l2.sqrt();
    // Cross product form avoids cancellation for points right on the edge.
    Nearest::Interior {
        d: (a.x * b.y - a.y * b.x).abs() / len,
        t: t / len,
        len,
    }
}

/// Distance from the origin to segment `ab` in the plane.
pub(crate) fn seg_dist(a: Planar, b: Planar) -> f64 {
    match project_origin(a, b) {
        Nearest::Endpoint(n) => n,
        Nearest::Interior { d, .. } => d,
    }
}

/// Whether segment `ab` crosses the ray from the origin along +x
/// (half-open in y so a vertex on the ray is counted once).
pub(crate) fn crosses_ray(a: Planar, b: Planar) -> bool {
    if (a.y > 0.0) == (b.y > 0.0) {
        return false;
    }
    // x-intercept = cross / (b.y - a.y); positive iff the signs agree.
    let cross = a.x * b.y - a.y * b.x;
    (cross > 0.0) == (b.y > a.y)
}

/// Geodesic distance from `p` to the geodesic segment `a`→`b` by direct
/// minimisation with Karney's solver: a coarse scan, then golden-section
/// search around the best sample. Slow (~50 inverse+direct pairs) but makes
/// no projection assumptions; used for fixes on the far side of the Earth
/// and as a test oracle.
pub(crate) fn segment_distance_exact(p: LatLon, a: LatLon, b: LatLon) -> f64 {
    const SAMPLES: usize = 16;
    const GOLDEN_STEPS: usize = 60;
    let (len, azi) = inverse(a, b);
    let at = |t: f64| distance(p, direct(a, azi, t).0);
    if len <= 0.0 {
        return at(0.0);
    }
    let step = len / SAMPLES as f64;
    let mut best = f64::INFINITY;
    let mut best_i = 0usize;
    for i in 0..=SAMPLES {
        let d = at(step * i as f64);
        if d < best {
            best = d;
            best_i = i;
        }
    }
    let mut lo = step * best_i.saturating_sub(1) as f64;
    let mut hi = (step * (best_i + 1) as f64).min(len);
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let mut m1 = hi - r * (hi - lo);
    let mut m2 = lo + r * (hi - lo);
    let mut f1 = at(m1);
    let mut f2 = at(m2);
    for _ in 0..GOLDEN_STEPS {
        if f1 < f2 {
            hi = m2;
            m2 = m1;
            f2 = f1;
            m1 = hi - r * (hi - lo);
            f1 = at(m1);
        } else {
            lo = m1;
            m1 = m2;
            f1 = f2;
            m2 = lo + r * (hi - lo);
            f2 = at(m2);
        }
    }
    best.min(f1).min(f2)
}
