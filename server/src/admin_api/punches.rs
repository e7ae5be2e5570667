//! The punch ledger for reviewers: filtered, paged lists; one punch with
//! its reasons and a drawing of its fence and fix in local metres; and the
//! reviewer's verdict (approve / reject with a comment), audited.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use punch_model::geofence::{LatLon, Shape};
use punch_model::ledger::record::PunchRecord;
use punch_model::messages::{Locale, review_message};
use serde::{Deserialize, Serialize};

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::locale;
use crate::admin_api::people::{audit, check_team_filter, teams};
use crate::admin_api::query::{self, Paging};
use crate::api::AppState;
use crate::staff::Permission;
use crate::store::people::PunchReviewRow;
use crate::store::{StoreExt, StoredPunchInfo};

#[derive(Debug, Default, Deserialize)]
pub struct PunchFilter {
    pub employee: Option<String>,
    pub team: Option<String>,
    /// UTC ms, inclusive / exclusive, on the server's time for the punch.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// "accepted" or "review" (the device's decision).
    pub decision: Option<String>,
    /// A review flag code (`evaluation_mismatch`, …).
    pub review_flag: Option<String>,
    pub time_status: Option<String>,
    /// true: only punches that need a person and have no verdict yet.
    pub needs_review: Option<bool>,
}

/// A review flag as a sentence in the reader's language, beside the
/// machine-readable flag (same order as `review_flags`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewText {
    /// The flag's code (its `flag` field), stable.
    pub code: String,
    pub text: String,
}

/// A punch in a list: the server's facts, its team and any verdict.
#[derive(Debug, Clone, Serialize)]
pub struct PunchView {
    #[serde(flatten)]
    pub punch: StoredPunchInfo,
    /// `review_flags` rendered (model's message catalogue; `Accept-Language`).
    pub review_messages: Vec<ReviewText>,
    pub team: Option<String>,
    /// The server's time for it (trusted, else the device clock).
    pub at_ms: i64,
    pub needs_review: bool,
    pub review: Option<PunchReviewRow>,
}

fn flag_code(f: &punch_model::ledger::review::ReviewFlag) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.get("flag").and_then(|x| x.as_str()).map(str::to_string))
        .unwrap_or_default()
}

fn views(
    punches: Vec<StoredPunchInfo>,
    teams: &HashMap<String, Option<String>>,
    reviews: Vec<PunchReviewRow>,
    locale: Locale,
) -> Vec<PunchView> {
    let mut reviews: HashMap<(String, u64), PunchReviewRow> = reviews
        .into_iter()
        .map(|r| ((r.device_id.clone(), r.seq), r))
        .collect();
    punches
        .into_iter()
        .map(|p| {
            let review = reviews.remove(&(p.device_id.clone(), p.seq));
            let flagged = p.decision == "review" || !p.review_flags.is_empty();
            PunchView {
                review_messages: p
                    .review_flags
                    .iter()
                    .map(|f| {
                        let m = review_message(f, locale);
                        ReviewText {
                            code: m.code,
                            text: m.text,
                        }
                    })
                    .collect(),
                team: teams.get(&p.employee_id).cloned().flatten(),
                at_ms: p.effective_time_ms(),
                needs_review: flagged && review.is_none(),
                review,
                punch: p,
            }
        })
        .collect()
}

/// `GET /admin/v1/punches`: newest first.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<PunchFilter>,
    Query(paging): Query<Paging>,
) -> Result<Response, AdminError> {
    let locale = locale::from_headers(&headers);
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewPunches,
        move |s, actor, now| {
            check_team_filter(actor, f.team.as_deref())?;
            let (punches, teams, reviews) = s
                .store
                .read(|tx| Ok((tx.punches()?, teams(tx)?, tx.people().punch_reviews()?)))?;
            let mut all: Vec<PunchView> = views(punches, &teams, reviews, locale)
                .into_iter()
                .filter(|v| actor.sees_team(v.team.as_deref()))
                .filter(|v| f.team.is_none() || v.team == f.team)
                .filter(|v| {
                    f.employee
                        .as_ref()
                        .is_none_or(|e| *e == v.punch.employee_id)
                })
                .filter(|v| f.from_ms.is_none_or(|t| v.at_ms >= t))
                .filter(|v| f.to_ms.is_none_or(|t| v.at_ms < t))
                .filter(|v| f.decision.as_ref().is_none_or(|d| *d == v.punch.decision))
                .filter(|v| {
                    f.time_status
                        .as_ref()
                        .is_none_or(|t| *t == v.punch.time_status)
                })
                .filter(|v| {
                    f.review_flag.as_ref().is_none_or(|code| {
                        v.punch.review_flags.iter().any(|x| flag_code(x) == *code)
                    })
                })
                .filter(|v| f.needs_review.is_none_or(|n| n == v.needs_review))
                .collect();
            all.sort_by_key(|v| std::cmp::Reverse((v.at_ms, v.punch.seq)));
            Ok(paging.page(all, now))
        },
    )
    .await?;
    Ok(json(&page))
}

/// A point in local metres: east (x) and north (y) of the drawing's origin.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Xy {
    pub x: f64,
    pub y: f64,
}

/// What the page draws, in metres around the fix (or the site).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FenceDrawing {
    Circle {
        center: Xy,
        radius_m: f64,
    },
    Polygon {
        exterior: Vec<Xy>,
        holes: Vec<Vec<Xy>>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Drawing {
    pub site_id: String,
    pub site_name: String,
    pub fence: FenceDrawing,
    /// The fix and its accuracy radius, if the punch had one.
    pub fix: Option<Xy>,
    pub accuracy_m: Option<f64>,
}

/// Mean Earth radius (IUGG): a local tangent-plane projection, exact to
/// centimetres over a site's few hundred metres — enough for a drawing
/// (the verdict itself uses Karney's geodesics).
const EARTH_M: f64 = 6_371_008.8;

fn project(origin: LatLon, p: LatLon) -> Xy {
    let lat0 = origin.lat.to_radians();
    let mut dlon = p.lon - origin.lon;
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    Xy {
        x: dlon.to_radians() * lat0.cos() * EARTH_M,
        y: (p.lat - origin.lat).to_radians() * EARTH_M,
    }
}

fn drawing(record: &PunchRecord, site: &punch_model::rules::policy::Site) -> Drawing {
    let fix = record.evidence.gps.as_ref();
    let origin = match (&fix, &site.shape) {
        (Some(f), _) => f.point,
        (None, Shape::Circle { center, .. }) => *center,
        (None, Shape::Polygon { exterior, .. }) => exterior
            .first()
            .copied()
            .unwrap_or(LatLon { lat: 0.0, lon: 0.0 }),
    };
    let fence = match &site.shape {
        Shape::Circle { center, radius_m } => FenceDrawing::Circle {
            center: project(origin, *center),
            radius_m: *radius_m,
        },
        Shape::Polygon { exterior, holes } => FenceDrawing::Polygon {
            exterior: exterior.iter().map(|p| project(origin, *p)).collect(),
            holes: holes
                .iter()
                .map(|h| h.iter().map(|p| project(origin, *p)).collect())
                .collect(),
        },
    };
    Drawing {
        site_id: site.id.clone(),
        site_name: site.name.clone(),
        fence,
        fix: fix.map(|f| project(origin, f.point)),
        accuracy_m: fix.map(|f| f.accuracy_m),
    }
}

/// `GET /admin/v1/punches/{device_id}/{seq}`: one punch, its reasons, its drawing.
pub async fn detail(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((device_id, seq)): Path<(String, u64)>,
) -> Result<Response, AdminError> {
    let locale = locale::from_headers(&headers);
    let body = call(&state, headers, method, Permission::ViewPunches, move |s, actor, now| {
        let found = s.store.read(|tx| {
            let Some(bytes) = tx.punch_bytes(&device_id, seq)? else {
                return Ok(None);
            };
            // One row, not the whole table (bounded work per request).
            let Some(info) = tx.punch_info(&device_id, seq)? else {
                return Ok(None);
            };
            let policy = crate::policy_publish::published_policy(tx, info.policy_version)?;
            let reviews: Vec<_> = tx.people().punch_review(&device_id, seq)?.into_iter().collect();
            Ok(Some((bytes, info, policy, teams(tx)?, reviews)))
        })?;
        let Some((bytes, info, policy, teams, reviews)) = found else {
            return Err(AdminError::not_found("no such punch"));
        };
        let view = views(vec![info], &teams, reviews, locale)
            .pop()
            .ok_or_else(AdminError::internal)?;
        if !actor.sees_team(view.team.as_deref()) {
            return Err(AdminError::not_your_team());
        }
        let record = PunchRecord::from_bytes(&bytes).ok();
        let site_id = view
            .punch
            .site_id
            .clone()
            .or_else(|| record.as_ref().and_then(|r| r.evaluation.nearest_site.as_ref().map(|n| n.site_id.clone())));
        let drawing = match (&record, policy, site_id) {
            (Some(r), Some(p), Some(id)) => p.sites.iter().find(|s| s.id == id).map(|s| drawing(r, s)),
            _ => None,
        };
        Ok(serde_json::json!({
            "punch": view,
            "reasons": record.as_ref().map(|r| r.evaluation.reasons.clone()).unwrap_or_default(),
            "flags": record.as_ref().map(|r| r.evaluation.flags.clone()).unwrap_or_default(),
            "evidence": record.as_ref().map(|r| serde_json::json!({
                "wifi_matched": r.evidence.wifi_matched,
                "wifi_seen": r.evidence.wifi_seen,
                "ip_matched": r.evidence.ip_matched,
                "ip_seen": r.evidence.ip_seen,
                "mock_location": r.evidence.gps.as_ref().map(|g| g.is_mock),
            })),
            "drawing": drawing,
            "server_time_ms": now,
        }))
    })
    .await?;
    Ok(json(&body))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub verdict: Verdict,
    #[serde(default)]
    pub comment: String,
}

/// `POST /admin/v1/punches/{device_id}/{seq}/review`: a rejection needs a comment.
pub async fn review(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((device_id, seq)): Path<(String, u64)>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let row = call(
        &state,
        headers,
        method,
        Permission::ReviewPunches,
        move |s, actor, now| {
            let req: ReviewRequest = query::body(&body)?;
            let comment = query::text(&req.comment, "comment", req.verdict == Verdict::Reject)?;
            let verdict = match req.verdict {
                Verdict::Approve => "approved",
                Verdict::Reject => "rejected",
            };
            let row = PunchReviewRow {
                device_id: device_id.clone(),
                seq,
                verdict: verdict.into(),
                comment: comment.clone(),
                reviewer: actor.label(),
                at_ms: now,
            };
            s.store.write(|tx| {
            let Some(punch) = tx.punch_info(&device_id, seq)? else {
                return Ok(Err(AdminError::not_found("no such punch")));
            };
            let team = teams(tx)?.get(&punch.employee_id).cloned().flatten();
            if !actor.sees_team(team.as_deref()) {
                return Ok(Err(AdminError::not_your_team()));
            }
            tx.people().set_punch_review(&row)?;
            audit(
                tx,
                actor,
                if req.verdict == Verdict::Approve { "punch.approve" } else { "punch.reject" },
                format!("punch:{device_id}/{seq}"),
                &comment,
                serde_json::json!({"employee_id": punch.employee_id, "punch_id": punch.punch_id}),
                now,
            )?;
            Ok(Ok(()))
        })??;
            Ok(row)
        },
    )
    .await?;
    Ok(json(&row))
}
