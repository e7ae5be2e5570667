//! The punch ledger for reviewers: filtered, paged lists; one punch with
//! its reasons and a drawing of its fence and fix in local metres; and the
//! reviewer's verdict (approve / reject with a comment), audited.

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
use crate::admin_api::people::{audit, check_team_filter};
use crate::admin_api::query::{self, CursorPage, CursorPaging};
use crate::api::AppState;
use crate::staff::Permission;
use crate::store::people::PunchReviewRow;
use crate::store::punch_page::{PunchCursor, PunchQuery};
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

fn view(
    p: StoredPunchInfo,
    team: Option<String>,
    review: Option<PunchReviewRow>,
    locale: Locale,
) -> PunchView {
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
        team,
        at_ms: p.effective_time_ms(),
        needs_review: flagged && review.is_none(),
        review,
        punch: p,
    }
}

/// `GET /admin/v1/punches`: newest first, one page read in SQL.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(f): Query<PunchFilter>,
    Query(paging): Query<CursorPaging>,
) -> Result<Response, AdminError> {
    let locale = locale::from_headers(&headers);
    let before = paging.cursor(PunchCursor::decode)?;
    let page = call(
        &state,
        headers,
        method,
        Permission::ViewPunches,
        move |s, actor, now| {
            check_team_filter(actor, f.team.as_deref())?;
            // A manager sees their team's only; one with no team, nothing.
            let team = match (f.team, actor.team()) {
                (Some(t), _) => Some(t),
                (None, Some(mine)) => Some(mine.to_string()),
                (None, None) => None,
            };
            let limit = paging.limit();
            let query = PunchQuery {
                team,
                employee: f.employee,
                from_ms: f.from_ms,
                to_ms: f.to_ms,
                decision: f.decision,
                time_status: f.time_status,
                review_flag: f.review_flag,
                needs_review: f.needs_review,
                before,
                // One more than asked: whether a next page exists.
                limit: limit + 1,
            };
            let mut rows = if actor.team() == Some("") {
                Vec::new()
            } else {
                s.store.read(|tx| tx.punches().punch_page(&query))?
            };
            let more = rows.len() > limit;
            rows.truncate(limit);
            let items: Vec<PunchView> = rows
                .into_iter()
                .map(|r| view(r.punch, r.team, r.review, locale))
                .filter(|v| actor.sees_team(v.team.as_deref()))
                .collect();
            let next_cursor = more.then(|| items.last()).flatten().map(|v| {
                PunchCursor {
                    at_ms: v.at_ms,
                    device_id: v.punch.device_id.clone(),
                    seq: v.punch.seq,
                }
                .encode()
            });
            Ok(CursorPage {
                items,
                next_cursor,
                server_time_ms: now,
            })
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
            let Some(bytes) = tx.chain().punch_bytes(&device_id, seq)? else {
                return Ok(None);
            };
            // One row, not the whole table (bounded work per request).
            let Some(info) = tx.punches().punch_info(&device_id, seq)? else {
                return Ok(None);
            };
            let policy = crate::policy_publish::published_policy(tx, info.policy_version)?;
            let review = tx.people().punch_review(&device_id, seq)?;
            let team = tx.people().team_of(&info.employee_id)?;
            let photo = tx.photos().photo_of_punch(&device_id, seq)?;
            Ok(Some((bytes, info, policy, team, review, photo)))
        })?;
        let Some((bytes, info, policy, team, review, photo)) = found else {
            return Err(AdminError::not_found("no such punch"));
        };
        let view = view(info, team, review, locale);
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
            "photo": crate::admin_api::photos::photo_view(photo, &view.punch),
            "biometric_verified": record.as_ref().and_then(|r| r.biometric_verified),
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
            let Some(punch) = tx.punches().punch_info(&device_id, seq)? else {
                return Ok(Err(AdminError::not_found("no such punch")));
            };
            let team = tx.people().team_of(&punch.employee_id)?;
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
