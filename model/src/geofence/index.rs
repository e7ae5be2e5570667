//! `SiteIndex`: an R-tree over bounding caps so a query only evaluates the
//! sites that can possibly be near the fix.
//!
//! Each site's cap (centre, geodesic radius R) is stored as the ECEF box
//! `centre ± R`. A fix P with query radius q = accuracy + search radius is
//! looked up with the box `P ± (q + margin)`. This never misses a site:
//! if some fence point F is within geodesic q of P, or P is inside the shape
//! (so within R of the centre C), then, because a chord is never longer than
//! the geodesic, |P - C| ≤ |P - F| + |F - C| ≤ q + R, so every ECEF axis
//! differs by at most q + R and the boxes intersect. ECEF boxes need no
//! special cases at the antimeridian or the poles.

use std::ops::ControlFlow;

use rstar::{AABB, RTree, RTreeObject};

use super::geodesy::Frame;
use super::locate::GpsVerdict;
use super::prepared::PreparedShape;
use super::shape::{LatLon, validate_accuracy, validate_point, validate_search_radius};

/// Slack (m) added to query boxes to absorb floating-point rounding.
const QUERY_MARGIN_M: f64 = 1.0;

#[derive(Debug, Clone)]
struct Entry {
    site: usize,
    env: AABB<[f64; 3]>,
}

impl Entry {
    fn new(site: usize, shape: &PreparedShape) -> Entry {
        let c = shape.cap_ecef;
        let r = shape.cap.radius_m;
        Entry {
            site,
            env: AABB::from_corners(
                [c[0] - r, c[1] - r, c[2] - r],
                [c[0] + r, c[1] + r, c[2] + r],
            ),
        }
    }
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// Spatial index over many prepared shapes, identified by input position.
#[derive(Debug, Clone)]
pub struct SiteIndex {
    sites: Vec<PreparedShape>,
    tree: RTree<Entry>,
}

impl SiteIndex {
    pub fn build(shapes: Vec<PreparedShape>) -> SiteIndex {
        let entries = shapes
            .iter()
            .enumerate()
            .map(|(site, s)| Entry::new(site, s))
            .collect();
        SiteIndex {
            sites: shapes,
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    pub fn shape(&self, i: usize) -> Option<&PreparedShape> {
        self.sites.get(i)
    }

    /// Every shape, by input position.
    pub fn shapes(&self) -> &[PreparedShape] {
        &self.sites
    }

    /// Every site whose fence lies within `accuracy_m + search_radius_m` of
    /// the point, or which contains the point, with its verdict, in ascending
    /// site order. Invalid input gives an empty result.
    pub fn query(
        &self,
        point: LatLon,
        accuracy_m: f64,
        search_radius_m: f64,
    ) -> Vec<(usize, GpsVerdict)> {
        let mut out = Vec::new();
        self.query_into(point, accuracy_m, search_radius_m, &mut out);
        out
    }

    /// [`SiteIndex::query`] into a caller-owned buffer (cleared first), so
    /// a hot loop allocates nothing.
    pub fn query_into(
        &self,
        point: LatLon,
        accuracy_m: f64,
        search_radius_m: f64,
        out: &mut Vec<(usize, GpsVerdict)>,
    ) {
        out.clear();
        let Some(frame) = valid_frame(point, accuracy_m, search_radius_m) else {
            return;
        };
        let reach = accuracy_m + search_radius_m;
        let h = reach + QUERY_MARGIN_M;
        let p = *frame.ecef();
        let env = AABB::from_corners(
            [p[0] - h, p[1] - h, p[2] - h],
            [p[0] + h, p[1] + h, p[2] + h],
        );
        let _ = self
            .tree
            .locate_in_envelope_intersecting_int(&env, |e: &Entry| {
                if let Some(site) = self.sites.get(e.site) {
                    push_if_near(out, e.site, site, &frame, accuracy_m, reach);
                }
                ControlFlow::<()>::Continue(())
            });
        out.sort_unstable_by_key(|&(i, _)| i);
    }

    /// Same answer as [`SiteIndex::query`] by evaluating `locate` on every
    /// site (baseline for benchmarks and a test oracle).
    pub fn linear_scan(
        &self,
        point: LatLon,
        accuracy_m: f64,
        search_radius_m: f64,
    ) -> Vec<(usize, GpsVerdict)> {
        let mut out = Vec::new();
        let Some(frame) = valid_frame(point, accuracy_m, search_radius_m) else {
            return out;
        };
        let reach = accuracy_m + search_radius_m;
        for (i, site) in self.sites.iter().enumerate() {
            push_if_near(&mut out, i, site, &frame, accuracy_m, reach);
        }
        out
    }
}

fn valid_frame(point: LatLon, accuracy_m: f64, search_radius_m: f64) -> Option<Frame> {
    validate_point(point).ok()?;
    validate_accuracy(accuracy_m).ok()?;
    validate_search_radius(search_radius_m).ok()?;
    Some(Frame::new(point))
}

fn push_if_near(
    out: &mut Vec<(usize, GpsVerdict)>,
    i: usize,
    site: &PreparedShape,
    frame: &Frame,
    accuracy_m: f64,
    reach: f64,
) {
    let v = site.locate_in(frame, accuracy_m);
    if v.point_inside || v.distance_to_edge_m <= reach {
        out.push((i, v));
    }
}
