//! A prepared policy kept beside the signed one on the device, so an app
//! start does not prepare it again: preparing 10,000 sites (geodesics for
//! every vertex, validation, parsing the JSON) takes tens of milliseconds,
//! decoding what was prepared takes a few.
//!
//! The snapshot is MessagePack with field names (rmp-serde), so it follows
//! the policy's serde model exactly, defaults and skipped fields included.
//! It is derived data: it is trusted as much as the policy body it sits
//! beside (both are only written after the body was verified), carries the
//! policy version it was made from, and is re-checked for non-finite numbers
//! before use. Any doubt means preparing from the body again.

use serde::{Deserialize, Serialize};

use crate::geofence::PreparedShape;
use crate::geofence::prepared::{Prepared, PreparedRef};
use crate::rules::policy::{Policy, PolicyError, PreparedPolicy};

/// Bumped whenever a prepared type's serialised form changes: a snapshot in
/// another format is ignored (and rebuilt from the body).
const FORMAT: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    policy: &'a Policy,
    /// Per site, what preparing its shape added (the shape is the site's).
    prepared: Vec<PreparedRef<'a>>,
}

#[derive(Deserialize)]
struct Snapshot {
    format: u32,
    policy: Policy,
    prepared: Vec<Prepared>,
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
        rmp_serde::to_vec_named(&SnapshotRef {
            format: FORMAT,
            policy: &self.policy,
            prepared: self.index.shapes().iter().map(|s| s.prepared()).collect(),
        })
        .map_err(|e| SnapshotError::Encode(e.to_string()))
    }

    /// The prepared policy a snapshot holds, if it is one of `version` in
    /// this library's format with sound shapes.
    pub fn from_snapshot(bytes: &[u8], version: u64) -> Result<PreparedPolicy, SnapshotError> {
        let snapshot: Snapshot =
            rmp_serde::from_slice(bytes).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        if snapshot.format != FORMAT {
            return Err(SnapshotError::Format {
                found: snapshot.format,
            });
        }
        if snapshot.policy.version != version {
            return Err(SnapshotError::Version {
                expected: version,
                found: snapshot.policy.version,
            });
        }
        if snapshot.prepared.len() != snapshot.policy.sites.len() {
            return Err(SnapshotError::Unsound);
        }
        let shapes = snapshot
            .policy
            .sites
            .iter()
            .zip(snapshot.prepared)
            .map(|(site, prepared)| PreparedShape::from_prepared(site.shape.clone(), prepared))
            .collect::<Option<Vec<_>>>()
            .ok_or(SnapshotError::Unsound)?;
        Ok(PreparedPolicy::with_shapes(snapshot.policy, shapes)?)
    }
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
        let other = rmp_serde::to_vec_named(&SnapshotRef {
            format: 99,
            policy: &prepared.policy,
            prepared: prepared
                .index
                .shapes()
                .iter()
                .map(|s| s.prepared())
                .collect(),
        })
        .expect("encode");
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
