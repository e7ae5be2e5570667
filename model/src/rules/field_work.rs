//! Field-work locations (外勤报备): a temporary site an employee proposes —
//! a circle around a client's address or the current fix, for a range of
//! days — and a manager approves. Approved, it reaches that employee alone,
//! in a personal addendum the server signs with the policy key, and punches
//! there are judged against it like any site, only on its days.

/// Dates as proposals carry them (re-exported for hosts without jiff).
pub use jiff::Span;
pub use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::geofence::{LatLon, Shape, validate_point};
use crate::ledger::range_check::{MAX_ID_LEN, RecordCheck, check_text};
use crate::rules::makeup::MAX_REASON_CHARS;
use crate::rules::policy::{Policy, PolicyError, PreparedPolicy, Site, SiteRule};

/// The largest field-work circle: a field site is a place, not a city.
pub const MAX_RADIUS_M: f64 = 5_000.0;
/// The smallest: below GPS accuracy nobody could punch inside it.
pub const MIN_RADIUS_M: f64 = 50.0;
/// The longest approved stretch of days.
pub const MAX_DAYS: i64 = 92;
/// The prefix of a field site's id, so no employer site can collide with it.
pub const FIELD_SITE_PREFIX: &str = "field:";

/// What the employee proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldWorkRequest {
    pub center: LatLon,
    pub radius_m: f64,
    /// The address as the employee wrote it (for the manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// First and last day, `YYYY-MM-DD`, in the policy's zone.
    pub from_date: Date,
    pub to_date: Date,
    pub reason: String,
}

/// Why a proposal cannot be filed.
// Exhaustive on purpose: the bindings map every variant without a
// wildcard, so a new one fails their build instead of reaching apps unmapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldWorkError {
    #[error("the radius must be {MIN_RADIUS_M}..={MAX_RADIUS_M} m")]
    Radius,
    #[error("the centre is not a valid coordinate")]
    Center,
    #[error("the last day is before the first, or the range is over {MAX_DAYS} days")]
    Dates,
    #[error("a reason is required")]
    NoReason,
    #[error("the address or reason is too long")]
    TooLong,
}

impl FieldWorkError {
    pub fn code(&self) -> &'static str {
        match self {
            FieldWorkError::Radius => "field_work_radius",
            FieldWorkError::Center => "field_work_center",
            FieldWorkError::Dates => "field_work_dates",
            FieldWorkError::NoReason => "field_work_no_reason",
            FieldWorkError::TooLong => "field_work_too_long",
        }
    }
}

impl FieldWorkRequest {
    /// The rules of a proposal, on the phone before filing and on the server.
    pub fn validate(&self) -> Result<(), FieldWorkError> {
        if !(MIN_RADIUS_M..=MAX_RADIUS_M).contains(&self.radius_m) {
            return Err(FieldWorkError::Radius);
        }
        validate_point(self.center).map_err(|_| FieldWorkError::Center)?;
        let days = (self.to_date - self.from_date).get_days();
        if self.to_date < self.from_date || i64::from(days) >= MAX_DAYS {
            return Err(FieldWorkError::Dates);
        }
        if self.reason.trim().is_empty() {
            return Err(FieldWorkError::NoReason);
        }
        let long = |t: &str| t.chars().count() > MAX_REASON_CHARS;
        if long(&self.reason) || self.address.as_deref().is_some_and(long) {
            return Err(FieldWorkError::TooLong);
        }
        Ok(())
    }

    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        self.validate().map_err(|e| RecordCheck::OutOfRange {
            field: "event.field_work_request",
            detail: e.to_string(),
        })
    }
}

/// An approved field site, as the personal addendum carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSite {
    /// The event id of the request it approves.
    pub request_id: Uuid,
    pub name: String,
    pub center: LatLon,
    pub radius_m: f64,
    pub from_date: Date,
    pub to_date: Date,
}

impl FieldSite {
    /// The id it is judged and recorded under.
    pub fn site_id(&self) -> String {
        format!("{FIELD_SITE_PREFIX}{}", self.request_id)
    }

    /// Whether `time_ms` falls on one of its days, in `zone`.
    pub fn is_active(&self, time_ms: i64, zone: &TimeZone) -> bool {
        day_of(time_ms, zone).is_some_and(|day| self.from_date <= day && day <= self.to_date)
    }

    /// The site evaluation sees: a circle, location alone.
    pub fn as_site(&self) -> Site {
        Site {
            id: self.site_id(),
            name: self.name.clone(),
            shape: Shape::Circle {
                center: self.center,
                radius_m: self.radius_m,
            },
            wifi: Default::default(),
            cidrs: Vec::new(),
            rule: SiteRule::default(),
            min_assurance: None,
            terminals: Default::default(),
        }
    }
}

/// What the server signs for one employee: the field sites approved for
/// them, beside (never inside) the employer's policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalAddendum {
    pub employee_id: String,
    pub issued_at_ms: i64,
    pub field_sites: Vec<FieldSite>,
}

impl PersonalAddendum {
    pub fn check(&self) -> Result<(), RecordCheck> {
        check_text("employee_id", &self.employee_id, MAX_ID_LEN)
    }
}

/// The zone a policy's days are counted in (UTC when it names none or an
/// unknown one: the policy was validated when it was prepared).
pub fn policy_zone(policy: &Policy) -> TimeZone {
    policy
        .time_zone
        .as_deref()
        .and_then(|z| TimeZone::get(z).ok())
        .unwrap_or(TimeZone::UTC)
}

/// The day `time_ms` falls on in `zone`.
pub fn day_of(time_ms: i64, zone: &TimeZone) -> Option<Date> {
    jiff::Timestamp::from_millisecond(time_ms)
        .ok()
        .map(|t| zone.to_datetime(t).date())
}

/// The field sites active at `time_ms` (in the policy's zone), in order.
pub fn active_at<'a>(policy: &Policy, sites: &'a [FieldSite], time_ms: i64) -> Vec<&'a FieldSite> {
    let zone = policy_zone(policy);
    sites
        .iter()
        .filter(|s| s.is_active(time_ms, &zone))
        .collect()
}

/// The policy with `active` field sites added as sites, prepared.
pub fn prepare_with(
    base: &PreparedPolicy,
    active: &[&FieldSite],
) -> Result<PreparedPolicy, PolicyError> {
    base.with_extra_sites(active.iter().map(|s| s.as_site()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal() -> FieldWorkRequest {
        FieldWorkRequest {
            center: LatLon {
                lat: 31.23,
                lon: 121.47,
            },
            radius_m: 200.0,
            address: Some("client office".into()),
            from_date: jiff::civil::date(2026, 12, 1),
            to_date: jiff::civil::date(2026, 12, 3),
            reason: "audit at the client".into(),
        }
    }

    #[test]
    fn proposals_are_checked() {
        assert_eq!(proposal().validate(), Ok(()));
        let mut p = proposal();
        p.radius_m = 10.0;
        assert_eq!(p.validate(), Err(FieldWorkError::Radius));
        let mut p = proposal();
        p.to_date = jiff::civil::date(2026, 11, 30);
        assert_eq!(p.validate(), Err(FieldWorkError::Dates));
        let mut p = proposal();
        p.center.lat = f64::NAN;
        assert_eq!(p.validate(), Err(FieldWorkError::Center));
        let mut p = proposal();
        p.reason = String::new();
        assert_eq!(p.validate(), Err(FieldWorkError::NoReason));
    }

    #[test]
    fn a_field_site_is_active_on_its_days_in_the_zone() {
        let p = proposal();
        let site = FieldSite {
            request_id: Uuid::nil(),
            name: "client".into(),
            center: p.center,
            radius_m: p.radius_m,
            from_date: p.from_date,
            to_date: p.to_date,
        };
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        // 2026-12-03T15:59Z is Dec 3, 23:59 in Shanghai; a minute later Dec 4.
        let last = 1_796_313_540_000;
        assert!(site.is_active(last, &zone));
        assert!(!site.is_active(last + 60_000, &zone));
        assert!(site.as_site().id.starts_with(FIELD_SITE_PREFIX));
    }
}
