//! A prepared policy kept beside the signed one on the device, so an app
//! start does not prepare it again: preparing 10,000 sites (geodesics for
//! every vertex, validation, parsing the JSON) takes tens of milliseconds,
//! decoding what was prepared takes a few.
//!
//! Layout: the format number, then the rest (both postcard). The rest holds
//! the policy without its sites as JSON (it follows the policy's serde model
//! exactly, skipped fields included, and is small once the sites are out;
//! the library already carries the policy's JSON decoder, where a second
//! format's would add its own copy of every policy type's decoder to the
//! phone library), and the sites, each with what preparing its shape added,
//! in postcard: no field names and no self-description, so 10,000 sites
//! decode in a straight read.
//!
//! The snapshot is derived data: it is trusted as much as the policy body
//! it sits beside (both are only written after the body was verified),
//! carries the policy version it was made from, and is re-checked for
//! non-finite numbers before use. Any doubt means preparing from the body
//! again.

use serde::{Deserialize, Serialize};

use crate::geofence::prepared::Prepared;
use crate::geofence::{PreparedShape, Shape, SiteIndex};
use crate::rules::assurance::AssuranceLevel;
use crate::rules::cidr::Cidr;
use crate::rules::policy::{Policy, PolicyError, PreparedPolicy, Site, SiteRule, WifiRule};

/// Bumped whenever a prepared type's serialised form changes: a snapshot in
/// another format is ignored (and rebuilt from the body).
const FORMAT: u32 = 3;

/// Everything after the format number.
#[derive(Serialize, Deserialize)]
struct Body {
    /// The policy with no sites, as JSON.
    #[serde(with = "serde_bytes")]
    head: Vec<u8>,
    sites: Vec<SiteSnapshot>,
}

/// A [`Site`] field by field (postcard has no names and cannot skip a
/// field, which `Site`'s JSON form does), with its prepared shape.
#[derive(Serialize, Deserialize)]
struct SiteSnapshot {
    id: String,
    name: String,
    shape: Shape,
    wifi: WifiRule,
    cidrs: Vec<Cidr>,
    rule: SiteRule,
    min_assurance: Option<AssuranceLevel>,
    prepared: Prepared,
}

impl SiteSnapshot {
    fn new(site: &Site, prepared: &PreparedShape) -> SiteSnapshot {
        // Destructured, so a new field of `Site` cannot be forgotten here.
        let Site {
            id,
            name,
            shape,
            wifi,
            cidrs,
            rule,
            min_assurance,
        } = site.clone();
        SiteSnapshot {
            id,
            name,
            shape,
            wifi,
            cidrs,
            rule,
            min_assurance,
            prepared: prepared.prepared(),
        }
    }

    fn into_parts(self) -> (Site, Prepared) {
        let site = Site {
            id: self.id,
            name: self.name,
            shape: self.shape,
            wifi: self.wifi,
            cidrs: self.cidrs,
            rule: self.rule,
            min_assurance: self.min_assurance,
        };
        (site, self.prepared)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    #[error("the prepared policy could not be encoded: {0}")]
    Encode(String),
    #[error("the prepared policy could not be decoded: {0}")]
    Decode(String),
    #[error("the prepared policy is in format {found}, this library reads {FORMAT}")]
    Format { found: u32 },
    #[error("the prepared policy is of version {found}, the installed policy is {expected}")]
    Version { expected: u64, found: u64 },
    #[error("the prepared policy holds a non-finite or inconsistent shape")]
    Unsound,
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl PreparedPolicy {
    /// This prepared policy as bytes for [`PreparedPolicy::from_snapshot`].
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        let mut head = self.policy.clone();
        head.sites.clear();
        let body = Body {
            head: serde_json::to_vec(&head).map_err(|e| SnapshotError::Encode(e.to_string()))?,
            sites: self
                .policy
                .sites
                .iter()
                .zip(self.index.shapes())
                .map(|(site, shape)| SiteSnapshot::new(site, shape))
                .collect(),
        };
        encode(FORMAT, &body)
    }

    /// The prepared policy a snapshot holds, if it is one of `version` in
    /// this library's format with sound shapes.
    pub fn from_snapshot(bytes: &[u8], version: u64) -> Result<PreparedPolicy, SnapshotError> {
        let decode = |e: postcard::Error| SnapshotError::Decode(e.to_string());
        let (format, rest) = postcard::take_from_bytes::<u32>(bytes).map_err(decode)?;
        if format != FORMAT {
            return Err(SnapshotError::Format { found: format });
        }
        let body: Body = postcard::from_bytes(rest).map_err(decode)?;
        let mut policy = Policy::from_json(&body.head)?;
        if policy.version != version {
            return Err(SnapshotError::Version {
                expected: version,
                found: policy.version,
            });
        }
        if !policy.sites.is_empty() {
            return Err(SnapshotError::Unsound);
        }
        let mut shapes = Vec::with_capacity(body.sites.len());
        policy.sites.reserve_exact(body.sites.len());
        for snapshot in body.sites {
            let (site, prepared) = snapshot.into_parts();
            shapes.push(PreparedShape::from_prepared(prepared).ok_or(SnapshotError::Unsound)?);
            policy.sites.push(site);
        }
        // The R-tree is built again: a kept one decodes no faster than
        // `bulk_load` builds it (measured), and would need checking.
        Ok(PreparedPolicy::with_index(
            policy,
            SiteIndex::build(shapes),
        )?)
    }
}

fn encode(format: u32, body: &Body) -> Result<Vec<u8>, SnapshotError> {
    let encode = |e: postcard::Error| SnapshotError::Encode(e.to_string());
    let out = postcard::to_extend(&format, Vec::new()).map_err(encode)?;
    postcard::to_extend(body, out).map_err(encode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geofence::{GpsVerdict, LatLon};

    fn policy() -> Policy {
        Policy::from_json(
            br#"{"version": 7, "time_zone": "Asia/Shanghai",
                "settings": {"pin": null},
                "shifts": [{"id": "day", "days": ["mon"], "start": "09:00", "end": "18:00"}],
                "sites": [
                  {"id": "hq", "shape": {"type": "circle", "center": {"lat": 31.23, "lon": 121.47}, "radius_m": 120},
                   "wifi": {"bssids": ["a4:2b:b0:10:20:30"], "ssids": ["ACME"]}, "cidrs": ["203.0.113.0/24"]},
                  {"id": "yard", "min_assurance": "hardware_tee",
                   "shape": {"type": "polygon", "exterior": [
                     {"lat": 31.0, "lon": 121.0}, {"lat": 31.0, "lon": 121.01},
                     {"lat": 31.01, "lon": 121.01}, {"lat": 31.01, "lon": 121.0}],
                     "holes": [[{"lat": 31.004, "lon": 121.004}, {"lat": 31.004, "lon": 121.006},
                                {"lat": 31.006, "lon": 121.006}, {"lat": 31.006, "lon": 121.004}]]}}
                ]}"#,
        )
        .expect("policy")
    }

    fn verdicts(p: &PreparedPolicy) -> Vec<String> {
        [
            (31.23, 121.47, 10.0),
            (31.2312, 121.47, 30.0),
            (31.002, 121.002, 5.0),
            (31.005, 121.005, 5.0),
            (40.0, 116.0, 5.0),
        ]
        .iter()
        .map(|&(lat, lon, acc)| {
            let found: Vec<(usize, GpsVerdict)> = p.index.query(LatLon { lat, lon }, acc, 5_000.0);
            format!("{found:?}")
        })
        .collect()
    }

    #[test]
    fn a_snapshot_gives_back_the_same_prepared_policy() {
        let prepared = PreparedPolicy::new(policy()).expect("prepare");
        let bytes = prepared.snapshot().expect("snapshot");
        let back = PreparedPolicy::from_snapshot(&bytes, 7).expect("from snapshot");
        assert_eq!(back.policy, prepared.policy);
        assert_eq!(verdicts(&back), verdicts(&prepared));
        assert_eq!(back.shifts.len(), 1);
        assert_eq!(back.bssid_sites.len(), 1);
        assert_eq!(back.cidr_sites.len(), 1);
    }

    #[test]
    fn a_doubtful_snapshot_is_refused() {
        let prepared = PreparedPolicy::new(policy()).expect("prepare");
        let bytes = prepared.snapshot().expect("snapshot");
        assert_eq!(
            PreparedPolicy::from_snapshot(&bytes, 8).err(),
            Some(SnapshotError::Version {
                expected: 8,
                found: 7
            })
        );
        assert!(matches!(
            PreparedPolicy::from_snapshot(&bytes[..bytes.len() / 2], 7),
            Err(SnapshotError::Decode(_))
        ));
        // Another format, and a NaN where a number was.
        let other = [&[99u8][..], &bytes[1..]].concat();
        assert_eq!(
            PreparedPolicy::from_snapshot(&other, 7).err(),
            Some(SnapshotError::Format { found: 99 })
        );
        let mut nan = prepared;
        if let Some(shape) = nan.index.shapes().first().cloned() {
            let mut shape = shape;
            shape.cap.radius_m = f64::NAN;
            let mut shapes = nan.index.shapes().to_vec();
            shapes[0] = shape;
            nan.index = crate::geofence::SiteIndex::build(shapes);
        }
        let bytes = nan.snapshot().expect("snapshot");
        assert_eq!(
            PreparedPolicy::from_snapshot(&bytes, 7).err(),
            Some(SnapshotError::Unsound)
        );
    }
}
