//! Evaluation of a fix against a prepared shape (`PreparedShape::locate`).

use serde::{Deserialize, Serialize};

use super::error::GeofenceError;
use super::geodesy::{self, FAST_TOL_M, Frame, Planar, crosses_ray};
use super::prepared::{Geometry, Node, PreparedShape};
use super::shape::{LatLon, validate_accuracy, validate_point};

/// Polygons whose cap reaches further than this chord (m) from the fix use
/// the slow exact path: the AEQD frame degrades towards the fix's antipode.
/// 11 000 km of chord is ≈ 13 400 km of arc, where the chord-segment error
/// was measured at ≤ 1e-6 relative.
const FAR_CHORD_M: f64 = 11_000_000.0;

/// Where the accuracy circle of a fix lies relative to a fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Containment {
    /// The whole accuracy circle is inside.
    Inside,
    /// The whole accuracy circle is outside.
    Outside,
    /// The accuracy circle straddles the fence (or the input was invalid).
    Uncertain,
}

/// Result of evaluating one fix against one fence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsVerdict {
    pub containment: Containment,
    /// Which side of the fence the fix itself is on.
    pub point_inside: bool,
    /// Geodesic distance (m) from the fix to the nearest point of the fence
    /// boundary (exterior or hole edges, or the circle). NaN only in the
    /// fail-safe verdict for invalid input.
    pub distance_to_edge_m: f64,
}

impl GpsVerdict {
    /// The circle of radius `accuracy_m` is inside (outside) exactly when the
    /// fix is inside (outside) and no boundary point is within `accuracy_m`.
    fn from_parts(point_inside: bool, distance_to_edge_m: f64, accuracy_m: f64) -> Self {
        let containment = if distance_to_edge_m > accuracy_m {
            if point_inside {
                Containment::Inside
            } else {
                Containment::Outside
            }
        } else {
            Containment::Uncertain
        };
        GpsVerdict {
            containment,
            point_inside,
            distance_to_edge_m,
        }
    }

    /// Fail-safe answer for an invalid fix: never Inside.
    fn invalid() -> Self {
        GpsVerdict {
            containment: Containment::Uncertain,
            point_inside: false,
            distance_to_edge_m: f64::NAN,
        }
    }
}

impl PreparedShape {
    /// Evaluates a fix with its accuracy radius (m).
    ///
    /// Invalid input (non-finite or out-of-range point, negative or
    /// non-finite accuracy) yields the fail-safe verdict `Uncertain`,
    /// `point_inside: false`, `distance_to_edge_m: NaN`; use
    /// [`PreparedShape::try_locate`] to get the reason.
    ///
    /// Accuracy: `distance_to_edge_m` is within 1 mm + 1e-8 × distance of
    /// the geodesic truth for fences up to ~8 000 km away (≈ 1e-7 relative
    /// beyond), so the verdict matches a geodesic reference whenever the true
    /// distance differs from `accuracy_m` by more than that.
    pub fn locate(&self, point: LatLon, accuracy_m: f64) -> GpsVerdict {
        self.try_locate(point, accuracy_m)
            .unwrap_or_else(|_| GpsVerdict::invalid())
    }

    /// Like [`PreparedShape::locate`] but reports invalid input as an error.
    pub fn try_locate(&self, point: LatLon, accuracy_m: f64) -> Result<GpsVerdict, GeofenceError> {
        validate_point(point)?;
        validate_accuracy(accuracy_m)?;
        Ok(self.locate_in(&Frame::new(point), accuracy_m))
    }

    /// Evaluation with a prebuilt frame (validated fix and accuracy).
    pub(crate) fn locate_in(&self, f: &Frame, accuracy_m: f64) -> GpsVerdict {
        let (inside, d) = match &self.geom {
            Geometry::Circle { center, radius_m } => {
                // Gauss's lemma: the nearest circle point lies on the radial
                // geodesic, so the edge distance is |s - r|.
                let s = f.distance_to(center.pos, &center.ecef);
                (s <= *radius_m, (s - radius_m).abs())
            }
            Geometry::Polygon { nodes, rings } => {
                if geodesy::chord(f.ecef(), &self.cap_ecef) + self.cap.radius_m > FAR_CHORD_M {
                    // The cap lies wholly on the far side: certainly outside.
                    (false, far_distance(f.origin(), nodes, rings))
                } else {
                    polygon(f, nodes, rings)
                }
            }
        };
        GpsVerdict::from_parts(inside, d, accuracy_m)
    }
}

/// The nodes of one ring (empty if the range were ever out of bounds).
fn ring_of(nodes: &[Node], (s, e): (usize, usize)) -> &[Node] {
    nodes.get(s..e).unwrap_or(&[])
}

struct Pass1 {
    inside: bool,
    best: f64,
    best_hi: f64,
    refine: bool,
    parity_unsafe: bool,
}

/// Polygon evaluation in the fix's AEQD frame: one fast pass, then exact
/// Karney work only where the fast error bound could matter.
fn polygon(f: &Frame, nodes: &[Node], rings: &[(usize, usize)]) -> (bool, f64) {
    let p1 = pass1(f, nodes, rings);
    if p1.parity_unsafe {
        return exact_all(f, nodes, rings);
    }
    let d = if p1.refine {
        refine(f, nodes, rings, p1.best_hi)
    } else {
        p1.best
    };
    (p1.inside, d)
}

/// Fast projection of every vertex: ray-cast parity per ring, nearest piece
/// distance, and whether any piece's error bound is large enough to matter
/// (for the distance: it might be the nearest; for parity: the fix might be
/// within the bound of it).
fn pass1(f: &Frame, nodes: &[Node], rings: &[(usize, usize)]) -> Pass1 {
    let mut r = Pass1 {
        inside: false,
        best: f64::INFINITY,
        best_hi: f64::INFINITY,
        refine: false,
        parity_unsafe: false,
    };
    let mut in_hole = false;
    for (k, &ring) in rings.iter().enumerate() {
        let ring = ring_of(nodes, ring);
        let Some(last) = ring.last() else { continue };
        let mut prev = f.fast(&last.ecef);
        let mut odd = false;
        for n in ring {
            let cur = f.fast(&n.ecef);
            let d = f.edge_dist(prev, cur);
            let eps = prev.err.max(cur.err);
            odd ^= crosses_ray(prev, cur);
            r.best = r.best.min(d);
            r.best_hi = r.best_hi.min(d + eps);
            if eps > FAST_TOL_M {
                r.refine |= d - eps <= r.best_hi;
                r.parity_unsafe |= d <= 2.0 * eps;
            }
            prev = cur;
        }
        if k == 0 {
            r.inside = odd;
        } else {
            in_hole |= odd;
        }
    }
    r.inside &= !in_hole;
    r
}

/// Recomputes, with exact Karney projections, every piece whose fast error
/// bound is significant and which could be the nearest (d - eps ≤ best_hi).
fn refine(f: &Frame, nodes: &[Node], rings: &[(usize, usize)], best_hi: f64) -> f64 {
    let mut best = f64::INFINITY;
    for &ring in rings {
        let ring = ring_of(nodes, ring);
        let Some(last) = ring.last() else { continue };
        let mut prev_node = last;
        let mut prev = f.fast(&last.ecef);
        let mut prev_exact: Option<Planar> = None;
        for n in ring {
            let cur = f.fast(&n.ecef);
            let d = f.edge_dist(prev, cur);
            let eps = prev.err.max(cur.err);
            let mut cur_exact = None;
            let dist = if eps > FAST_TOL_M && d - eps <= best_hi {
                let a = match prev_exact {
                    Some(a) => a,
                    None if prev.err <= FAST_TOL_M => prev,
                    None => f.exact(prev_node.pos),
                };
                let b = if cur.err <= FAST_TOL_M {
                    cur
                } else {
                    f.exact(n.pos)
                };
                cur_exact = Some(b);
                f.edge_dist(a, b)
            } else {
                d
            };
            best = best.min(dist);
            prev_node = n;
            prev = cur;
            prev_exact = cur_exact;
        }
    }
    best
}

/// Everything with Karney projections: the fallback when the fast bound is
/// too loose to trust parity (not expected for shapes within the size limit).
fn exact_all(f: &Frame, nodes: &[Node], rings: &[(usize, usize)]) -> (bool, f64) {
    let mut inside = false;
    let mut in_hole = false;
    let mut best = f64::INFINITY;
    for (k, &ring) in rings.iter().enumerate() {
        let ring = ring_of(nodes, ring);
        let Some(last) = ring.last() else { continue };
        let mut prev = f.exact(last.pos);
        let mut odd = false;
        for n in ring {
            let cur = f.exact(n.pos);
            best = best.min(f.edge_dist(prev, cur));
            odd ^= crosses_ray(prev, cur);
            prev = cur;
        }
        if k == 0 {
            inside = odd;
        } else {
            in_hole |= odd;
        }
    }
    (inside && !in_hole, best)
}

/// Distance to a fence on the far side of the Earth, without projections:
/// Karney distance to every vertex, then exact minimisation along the pieces
/// whose triangle-inequality lower bound (d_a + d_b - len)/2 beats the best.
fn far_distance(p: LatLon, nodes: &[Node], rings: &[(usize, usize)]) -> f64 {
    let dist: Vec<f64> = nodes.iter().map(|n| geodesy::distance(p, n.pos)).collect();
    let mut best = dist.iter().copied().fold(f64::INFINITY, f64::min);
    let mut cands: Vec<(f64, usize, usize)> = Vec::new();
    for &(s, e) in rings {
        for i in s..e {
            let j = if i + 1 == e { s } else { i + 1 };
            if let (Some(da), Some(db), Some(n)) = (dist.get(i), dist.get(j), nodes.get(i)) {
                let lb = 0.5 * (da + db - n.next_len);
                if lb < best {
                    cands.push((lb, i, j));
                }
            }
        }
    }
    cands.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (lb, i, j) in cands {
        if lb >= best {
            break;
        }
        if let (Some(a), Some(b)) = (nodes.get(i), nodes.get(j)) {
            best = best.min(geodesy::segment_distance_exact(p, a.pos, b.pos));
        }
    }
    best
}
