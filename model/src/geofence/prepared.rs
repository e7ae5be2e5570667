//! `PreparedShape`: what `locate` needs of a validated shape, all
//! precomputed (ECEF vertices, densified edges, bounding cap).

use serde::{Deserialize, Serialize};

use super::error::{GeofenceError, RingRef};
use super::geodesy::{self, Frame, Planar};
use super::shape::{
    LatLon, MAX_EXTENT_M, Shape, validate_point, validate_radius, validate_ring_points,
};

/// Longest geodesic piece kept between vertices. Longer edges get
/// intermediate vertices (exactly on the geodesic) so the AEQD chord error
/// stays ≤ 2.1e-7 × distance from the fix before, and ~2e-9 × distance after,
/// the curvature correction in `Frame::edge_dist`.
pub(crate) const DENSIFY_M: f64 = 10_000.0;

/// Vertices closer than this (chord, m) are the same vertex.
const DUPLICATE_M: f64 = 1e-3;

/// Edges closer than this (m) count as touching in the self-intersection check.
const TOUCH_M: f64 = 1e-3;

/// A ring is zero-area when |area| ≤ this × perimeter².
const ZERO_AREA_RATIO: f64 = 1e-8;

/// Upper limit on vertices after densification (keeps validation and
/// evaluation cost bounded for hostile input).
pub const MAX_VERTICES: usize = 50_000;

/// A cap (centre + geodesic radius) containing the whole shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingCap {
    pub center: LatLon,
    pub radius_m: f64,
}

/// Kept whole in a snapshot (ECEF included): copying three numbers is
/// cheaper than the trigonometry that recomputes them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Node {
    pub pos: LatLon,
    pub ecef: [f64; 3],
    /// Geodesic length of the piece from this node to the next in its ring.
    pub next_len: f64,
}

impl Node {
    fn new(pos: LatLon) -> Self {
        Node {
            pos,
            ecef: geodesy::ecef(pos),
            next_len: 0.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Geometry {
    Circle {
        center: Node,
        radius_m: f64,
    },
    /// Ring `k` is `nodes[rings[k].0..rings[k].1]`, implicitly closed;
    /// ring 0 is the exterior.
    Polygon {
        nodes: Vec<Node>,
        rings: Vec<(usize, usize)>,
    },
}

impl Shape {
    /// Full validation: numbers, ranges, vertex counts, zero area,
    /// self-intersection of each ring and size. Holes must lie inside the
    /// exterior without crossing it or each other. Equivalent to
    /// `PreparedShape::new(self)` succeeding (it is implemented that way so
    /// the two can never disagree).
    pub fn validate(&self) -> Result<(), GeofenceError> {
        PreparedShape::new(self).map(|_| ())
    }
}

/// A validated shape, ready for fast evaluation.
#[derive(Debug, Clone)]
pub struct PreparedShape {
    pub(crate) cap: BoundingCap,
    pub(crate) cap_ecef: [f64; 3],
    pub(crate) geom: Geometry,
}

/// What preparing adds to a shape, as kept in a device's prepared-policy
/// snapshot (`rules::policy_snapshot`) beside the shape itself: only what
/// was validated is ever serialised, and [`PreparedShape::from_prepared`]
/// re-checks every number.
#[derive(Serialize, Deserialize)]
pub(crate) struct Prepared {
    cap: BoundingCap,
    cap_ecef: [f64; 3],
    geom: Geometry,
}

impl PreparedShape {
    /// What [`PreparedShape::from_prepared`] takes back.
    pub(crate) fn prepared(&self) -> Prepared {
        Prepared {
            cap: self.cap,
            cap_ecef: self.cap_ecef,
            geom: self.geom.clone(),
        }
    }

    /// What was prepared for a shape, if every number in it is finite and
    /// in range and every ring well formed.
    pub(crate) fn from_prepared(prepared: Prepared) -> Option<PreparedShape> {
        let out = PreparedShape {
            cap: prepared.cap,
            cap_ecef: prepared.cap_ecef,
            geom: prepared.geom,
        };
        out.is_sound().then_some(out)
    }

    /// Validates `shape` and precomputes its evaluation data.
    pub fn new(shape: &Shape) -> Result<Self, GeofenceError> {
        match shape {
            Shape::Circle { center, radius_m } => {
                validate_point(*center)?;
                validate_radius(*radius_m)?;
                let node = Node::new(*center);
                // Tiny margin only for rounding: the cap *is* the circle.
                let cap = BoundingCap {
                    center: *center,
                    radius_m: radius_m + 1e-3 + radius_m * 1e-9,
                };
                Ok(PreparedShape {
                    cap,
                    cap_ecef: node.ecef,
                    geom: Geometry::Circle {
                        center: node,
                        radius_m: *radius_m,
                    },
                })
            }
            Shape::Polygon { exterior, holes } => Self::new_polygon(exterior, holes),
        }
    }

    /// A cap that contains the whole shape (used by the spatial index).
    pub fn bounding_cap(&self) -> BoundingCap {
        self.cap
    }

    /// Whether every number is finite and every ring in range: what a
    /// decoded snapshot must show before it is used (a NaN would silently
    /// turn verdicts into "outside").
    fn is_sound(&self) -> bool {
        let node_ok = |n: &Node| {
            validate_point(n.pos).is_ok()
                && n.ecef.iter().all(|c| c.is_finite())
                && n.next_len.is_finite()
        };
        let geom_ok = match &self.geom {
            Geometry::Circle { center, radius_m } => node_ok(center) && radius_m.is_finite(),
            Geometry::Polygon { nodes, rings } => {
                nodes.iter().all(node_ok)
                    && !rings.is_empty()
                    && rings
                        .iter()
                        .all(|&(start, end)| start + 3 <= end && end <= nodes.len())
            }
        };
        geom_ok
            && validate_point(self.cap.center).is_ok()
            && self.cap.radius_m.is_finite()
            && self.cap_ecef.iter().all(|c| c.is_finite())
    }

    fn new_polygon(exterior: &[LatLon], holes: &[Vec<LatLon>]) -> Result<Self, GeofenceError> {
        let refs: Vec<(RingRef, &[LatLon])> = std::iter::once((RingRef::Exterior, exterior))
            .chain(
                holes
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (RingRef::Hole(i), h.as_slice())),
            )
            .collect();
        // 1. Numbers first: nothing non-finite goes further.
        for (r, pts) in &refs {
            validate_ring_points(*r, pts)?;
        }
        // 2. Distinct vertices per ring.
        let mut rings_raw: Vec<(RingRef, Vec<Node>)> = Vec::with_capacity(refs.len());
        for (r, pts) in &refs {
            let nodes = dedup_ring(pts);
            if nodes.len() < 3 {
                return Err(GeofenceError::TooFewVertices {
                    ring: *r,
                    distinct: nodes.len(),
                });
            }
            rings_raw.push((*r, nodes));
        }
        let count: usize = rings_raw.iter().map(|(_, n)| n.len()).sum();
        if count > MAX_VERTICES {
            return Err(GeofenceError::TooManyVertices {
                count,
                max: MAX_VERTICES,
            });
        }
        // 3. Size, before densifying (a huge ring would densify to millions).
        let center = cap_center(&rings_raw);
        let raw_extent = max_distance(center, rings_raw.iter().flat_map(|(_, n)| n.iter()));
        if raw_extent > MAX_EXTENT_M {
            return Err(GeofenceError::TooLarge {
                extent_m: raw_extent,
                max_m: MAX_EXTENT_M,
            });
        }
        // 4. Densify, then check each ring's area and simplicity.
        let frame = Frame::new(center);
        let mut nodes = Vec::new();
        let mut rings = Vec::with_capacity(rings_raw.len());
        let mut planes = Vec::with_capacity(rings_raw.len());
        for (r, raw) in &rings_raw {
            let start = nodes.len();
            densify_into(raw, &mut nodes)?;
            let ring = &nodes[start..];
            let plane: Vec<Planar> = ring.iter().map(|n| frame.exact(n.pos)).collect();
            check_ring(*r, ring, &plane)?;
            rings.push((start, nodes.len()));
            planes.push(plane);
        }
        // 4b. Holes inside the exterior, no two rings crossing: otherwise a
        // stray hole's edges would count as fence edges far from the site.
        check_ring_relations(&planes)?;
        // 5. Bounding cap over the densified ring. Within a cap well under a
        // quarter meridian, distance-to-centre is convex along a geodesic, so
        // pieces cannot bulge past their endpoints; the margin covers rounding.
        let extent = max_distance(center, nodes.iter());
        let cap = BoundingCap {
            center,
            radius_m: extent + 1.0 + extent * 1e-6,
        };
        Ok(PreparedShape {
            cap,
            cap_ecef: geodesy::ecef(center),
            geom: Geometry::Polygon { nodes, rings },
        })
    }
}

/// Drops consecutive duplicates, including a closing repeat of vertex 0.
/// Duplicates are detected in ECEF so lon 180 and -180 coincide.
fn dedup_ring(pts: &[LatLon]) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::with_capacity(pts.len());
    for &p in pts {
        let n = Node::new(p);
        if out
            .last()
            .is_none_or(|last| geodesy::chord(&last.ecef, &n.ecef) >= DUPLICATE_M)
        {
            out.push(n);
        }
    }
    while out.len() > 1
        && out
            .first()
            .zip(out.last())
            .is_some_and(|(a, b)| geodesy::chord(&a.ecef, &b.ecef) < DUPLICATE_M)
    {
        out.pop();
    }
    out
}

/// Centre for the bounding cap: the normalised mean ECEF direction, which
/// needs no longitude special-casing at the antimeridian or poles.
fn cap_center(rings: &[(RingRef, Vec<Node>)]) -> LatLon {
    let mut sum = [0.0; 3];
    let mut first = None;
    for n in rings.iter().flat_map(|(_, n)| n.iter()) {
        first.get_or_insert(n.pos);
        for (s, c) in sum.iter_mut().zip(n.ecef) {
            *s += c;
        }
    }
    if sum[0].hypot(sum[1]).hypot(sum[2]) < 1_000.0 {
        // Vertices spread around the globe: any centre will fail the extent
        // check, which is the right answer.
        return first.unwrap_or(LatLon::new(0.0, 0.0));
    }
    geodesy::ecef_direction_to_latlon(sum)
}

fn max_distance<'a>(center: LatLon, nodes: impl Iterator<Item = &'a Node>) -> f64 {
    nodes
        .map(|n| geodesy::distance(center, n.pos))
        .fold(0.0, f64::max)
}

/// Appends `raw` (one closed ring) to `out`, inserting points exactly on each
/// geodesic edge so no piece exceeds [`DENSIFY_M`].
fn densify_into(raw: &[Node], out: &mut Vec<Node>) -> Result<(), GeofenceError> {
    for (i, a) in raw.iter().enumerate() {
        let b = &raw[(i + 1) % raw.len()];
        let (len, azi) = geodesy::inverse(a.pos, b.pos);
        // len ≤ 2 × MAX_EXTENT_M here, so the count is small and finite.
        let pieces = (len / DENSIFY_M).ceil().max(1.0) as usize;
        let step = len / pieces as f64;
        out.push(Node {
            next_len: step,
            ..*a
        });
        for j in 1..pieces {
            let (pos, _) = geodesy::direct(a.pos, azi, step * j as f64);
            out.push(Node {
                next_len: step,
                ..Node::new(pos)
            });
        }
        if out.len() > MAX_VERTICES {
            return Err(GeofenceError::EdgesTooLong { max: MAX_VERTICES });
        }
    }
    Ok(())
}

/// Checks how the rings of a polygon relate, with `geo`'s OGC validity rules
/// in the (exact) AEQD plane of the cap centre; each ring on its own was
/// checked by [`check_ring`] already. Coordinates are finite here.
fn check_ring_relations(planes: &[Vec<Planar>]) -> Result<(), GeofenceError> {
    use geo::algorithm::Validation;
    use geo::algorithm::validation::{InvalidPolygon, RingRole};
    if planes.len() < 2 {
        return Ok(());
    }
    let ring = |plane: &Vec<Planar>| {
        geo::LineString::from(plane.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>())
    };
    let polygon = geo::Polygon::new(ring(&planes[0]), planes[1..].iter().map(ring).collect());
    let role = |r: RingRole| match r {
        RingRole::Exterior => RingRef::Exterior,
        RingRole::Interior(i) => RingRef::Hole(i),
    };
    for problem in polygon.validation_errors() {
        match problem {
            InvalidPolygon::InteriorRingNotContainedInExteriorRing(r) => {
                return Err(GeofenceError::HoleOutsideExterior { ring: role(r) });
            }
            InvalidPolygon::IntersectingRingsOnALine(a, b)
            | InvalidPolygon::IntersectingRingsOnAnArea(a, b) => {
                return Err(GeofenceError::RingsIntersect {
                    first: role(a),
                    second: role(b),
                });
            }
            // Per-ring problems were judged by our own, tolerance-aware checks.
            _ => {}
        }
    }
    Ok(())
}

/// Rejects zero-area and self-touching rings, working in the (exact) AEQD
/// plane of the cap centre. Order matters: an all-collinear ring is reported
/// as zero-area (it also "touches itself"), and a bow-tie as self-intersecting
/// (its signed area can cancel to zero).
fn check_ring(ring: RingRef, nodes: &[Node], plane: &[Planar]) -> Result<(), GeofenceError> {
    if collinear(plane) {
        return Err(GeofenceError::ZeroArea { ring });
    }
    if self_touches(plane) {
        return Err(GeofenceError::SelfIntersecting { ring });
    }
    let n = plane.len();
    let perimeter: f64 = nodes.iter().map(|v| v.next_len).sum();
    let twice_area: f64 = (0..n)
        .map(|i| {
            let (a, b) = (plane[i], plane[(i + 1) % n]);
            a.x * b.y - a.y * b.x
        })
        .sum();
    if 0.5 * twice_area.abs() <= ZERO_AREA_RATIO * perimeter * perimeter {
        return Err(GeofenceError::ZeroArea { ring });
    }
    Ok(())
}

/// All vertices within [`TOUCH_M`] of the line through the two (roughly)
/// farthest-apart vertices.
fn collinear(p: &[Planar]) -> bool {
    let dist2 = |a: Planar, b: Planar| (a.x - b.x).powi(2) + (a.y - b.y).powi(2);
    let farthest = |from: Planar| {
        p.iter()
            .copied()
            .max_by(|a, b| dist2(from, *a).total_cmp(&dist2(from, *b)))
            .unwrap_or(from)
    };
    let Some(&first) = p.first() else {
        return true;
    };
    let j = farthest(first);
    let k = farthest(j);
    let len = dist2(j, k).sqrt();
    if len <= TOUCH_M {
        return true;
    }
    p.iter().all(|&v| orient(j, k, v).abs() / len <= TOUCH_M)
}

/// Sweep over pieces sorted by min x; tests pairs whose x-ranges overlap.
fn self_touches(p: &[Planar]) -> bool {
    let n = p.len();
    let seg = |i: usize| (p[i], p[(i + 1) % n]);
    let mut order: Vec<(f64, f64, usize)> = (0..n)
        .map(|i| {
            let (a, b) = seg(i);
            (a.x.min(b.x), a.x.max(b.x), i)
        })
        .collect();
    order.sort_by(|l, r| l.0.total_cmp(&r.0));
    for (k, &(_, xmax, i)) in order.iter().enumerate() {
        for &(xmin_j, _, j) in &order[k + 1..] {
            if xmin_j > xmax + TOUCH_M {
                break;
            }
            let (a, b) = seg(i);
            let (c, d) = seg(j);
            let touching = if (i + 1) % n == j {
                spike(a, b, d)
            } else if (j + 1) % n == i {
                spike(c, d, b)
            } else {
                seg_seg_dist(a, b, c, d) <= TOUCH_M
            };
            if touching {
                return true;
            }
        }
    }
    false
}

/// Consecutive pieces a→v, v→c fold back onto each other.
fn spike(a: Planar, v: Planar, c: Planar) -> bool {
    point_seg_dist(c, a, v) <= TOUCH_M || point_seg_dist(a, v, c) <= TOUCH_M
}

fn point_seg_dist(p: Planar, a: Planar, b: Planar) -> f64 {
    let rel = |q: Planar| Planar {
        x: q.x - p.x,
        y: q.y - p.y,
        err: 0.0,
    };
    geodesy::seg_dist(rel(a), rel(b))
}

fn orient(a: Planar, b: Planar, c: Planar) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

fn seg_seg_dist(a: Planar, b: Planar, c: Planar, d: Planar) -> f64 {
    let proper = orient(a, b, c) * orient(a, b, d) < 0.0 && orient(c, d, a) * orient(c, d, b) < 0.0;
    if proper {
        return 0.0;
    }
    point_seg_dist(a, c, d)
        .min(point_seg_dist(b, c, d))
        .min(point_seg_dist(c, a, b))
        .min(point_seg_dist(d, a, b))
}
