//! `GET /admin/v1/attendance`: the attendance export, JSON or CSV, for a
//! date range and a team (a manager: their own team only). Every export
//! is audited: it is personal data leaving the system.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use punch_model::wire::HEADER_SERVER_TIME;
use serde::Deserialize;

use crate::admin_api::auth::{call, json};
use crate::admin_api::error::AdminError;
use crate::admin_api::people::{audit, check_team_filter};
use crate::admin_api::query;
use crate::api::AppState;
use crate::clock::now_ms;
use crate::export::{self, ExportQuery};
use crate::limits::rate::{self, Bucket};
use crate::staff::Permission;
use crate::store::forgotten::ForgottenFilter;
use crate::store::people::PunchReviewRow;
use crate::store::punch_page::{MAX_PAGE, PunchCursor, PunchQuery};
use crate::store::request_page::{RequestCursor, RequestQuery};
use crate::store::{StoreExt, StoredPunchInfo};

/// At most a year per export.
pub const MAX_DAYS: i32 = 366;

#[derive(Debug, Default, Deserialize)]
pub struct AttendanceQuery {
    /// First and last day, `YYYY-MM-DD`, inclusive, in the site's zone.
    pub from: String,
    pub to: String,
    pub team: Option<String>,
    pub employee: Option<String>,
    /// "json" (default) or "csv".
    pub format: Option<String>,
}

pub async fn attendance(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(q): Query<AttendanceQuery>,
) -> Result<Response, AdminError> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(AdminError::bad_request(format!(
                "format {other:?}: json or csv"
            )));
        }
    };
    let from = query::date(&q.from, "from")?;
    let to = query::date(&q.to, "to")?;
    if to < from
        || from
            .until(to)
            .map_or(true, |span| span.get_days() > MAX_DAYS)
    {
        return Err(AdminError::bad_request(format!(
            "to must be on or after from, at most {MAX_DAYS} days on"
        )));
    }
    let rows = call(
        &state,
        headers,
        method,
        Permission::ExportAttendance,
        move |s, actor, now| {
            check_team_filter(actor, q.team.as_deref())?;
            // A manager's export without a team is their team's.
            let team = q.team.clone().or_else(|| actor.team().map(str::to_string));
            let query = ExportQuery {
                from,
                to,
                team: team.clone(),
                employee: q.employee.clone(),
            };
            s.store.write(|tx| {
                // Each export reads every punch of the range: bounded per person.
                let hits = [(Bucket::ExportAttendance, actor.username.as_str())];
                if let Some(limited) = rate::hit(tx, &s.limits, &hits, now)? {
                    return Ok(Err(AdminError::rate_limited(limited)));
                }
                let people = tx.people().people()?;
                if let Some(e) = &q.employee {
                    let person_team = people
                        .iter()
                        .find(|p| p.employee_id == *e)
                        .and_then(|p| p.team.clone());
                    if !actor.sees_team(person_team.as_deref()) {
                        return Ok(Err(AdminError::not_your_team()));
                    }
                }
                let (punches, reviews) =
                    punches_around(tx, team.as_deref(), q.employee.as_deref(), from, to)?;
                let made_up = approved_make_ups(tx, team.as_deref(), q.employee.as_deref())?;
                // Each punch counts as judged under its own version; the
                // latest published one only names the zone days are shown in.
                let policy_of = |version: u64| s.policies.get(tx, version);
                let zone = policy_of(tx.policies().latest_policy_version()?)?
                    .and_then(|p| p.policy.time_zone.clone())
                    .unwrap_or_else(|| "UTC".into());
                let forgotten = crate::forgotten::ForExport::load(
                    tx,
                    &s.policies,
                    &punches,
                    &made_up,
                    &ForgottenFilter {
                        team: team.as_deref(),
                        employee: q.employee.as_deref(),
                        ..ForgottenFilter::default()
                    },
                    now,
                )?;
                let mut punches = punches;
                punches.extend(forgotten.server_made_punches());
                let mut rows = export::attendance(
                    &punches, &made_up, &people, &reviews, &policy_of, &zone, &query,
                )?;
                forgotten.mark(&mut rows, &zone);
                audit(
                    tx,
                    actor,
                    "export.attendance",
                    format!("team:{}", team.as_deref().unwrap_or("*")),
                    "",
                    serde_json::json!({
                        "from": from.to_string(), "to": to.to_string(),
                        "employee": q.employee, "format": if csv { "csv" } else { "json" },
                        "rows": rows.len(),
                    }),
                    now,
                )?;
                Ok(Ok(rows))
            })?
        },
    )
    .await?;
    if csv {
        let mut resp = export::csv::to_csv(&rows)?.into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"attendance.csv\""),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(HEADER_SERVER_TIME, HeaderValue::from(now_ms()));
        return Ok(resp);
    }
    Ok(json(
        &serde_json::json!({"rows": rows, "server_time_ms": now_ms()}),
    ))
}

/// The punches an export of `from..=to` counts, with their verdicts: read
/// by time in pages (indexed), not the whole ledger, with two days either
/// side so a shift across midnight or a far time zone is judged whole.
fn punches_around(
    tx: &dyn crate::store::StoreTx,
    team: Option<&str>,
    employee: Option<&str>,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> crate::error::Result<(Vec<StoredPunchInfo>, Vec<PunchReviewRow>)> {
    let edge = |d: jiff::civil::Date, days: i64| {
        d.checked_add(jiff::Span::new().days(days))
            .and_then(|d| {
                jiff::tz::TimeZone::UTC
                    .to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                    .compatible()
            })
            .map(|t| t.as_millisecond())
            .map_err(|e| crate::error::ServerError::Invalid(format!("export range: {e}")))
    };
    let mut query = PunchQuery {
        team: team.map(str::to_string),
        employee: employee.map(str::to_string),
        from_ms: Some(edge(from, -2)?),
        to_ms: Some(edge(to, 3)?),
        limit: MAX_PAGE,
        ..PunchQuery::default()
    };
    let (mut punches, mut reviews) = (Vec::new(), Vec::new());
    loop {
        let page = tx.punches().punch_page(&query)?;
        let full = page.len() == MAX_PAGE;
        for row in page {
            query.before = Some(PunchCursor {
                at_ms: row.punch.effective_time_ms(),
                device_id: row.punch.device_id.clone(),
                seq: row.punch.seq,
            });
            reviews.extend(row.review);
            punches.push(row.punch);
        }
        if !full {
            return Ok((punches, reviews));
        }
    }
}

/// Approved make-up requests of the team or employee asked for, as the
/// export counts them, read in pages. (Of every time: their intended time is
/// in the signed body, not a column.)
fn approved_make_ups(
    tx: &dyn crate::store::StoreTx,
    team: Option<&str>,
    employee: Option<&str>,
) -> crate::error::Result<Vec<export::MadeUp>> {
    use punch_model::ledger::event::{ChainEntry, ChainEvent};
    let mut query = RequestQuery {
        team: team.map(str::to_string),
        employee: employee.map(str::to_string),
        status: Some("approved".into()),
        limit: MAX_PAGE,
        ..RequestQuery::default()
    };
    let mut out = Vec::new();
    loop {
        let page = tx.events().request_page(&query)?;
        let full = page.len() == MAX_PAGE;
        if let Some(last) = page.last() {
            query.after = Some(RequestCursor::of(&last.event));
        }
        out.extend(page.iter().filter_map(|row| {
            let e = &row.event;
            match crate::requests::parse(e) {
                Some(ChainEvent::MakeUpRequest(m)) => Some(export::MadeUp {
                    event_id: e.event_id.clone(),
                    employee_id: e.employee_id.clone(),
                    kind: punch_model::text::serde_name(&m.kind),
                    at_ms: m.intended_time_ms,
                    site_id: m.site_id.clone(),
                    // Bytes emptied by retention: no version, no judgement.
                    policy_version: ChainEntry::from_bytes(&e.record)
                        .map_or(0, |entry| entry.policy_version()),
                }),
                _ => None,
            }
        }));
        if !full {
            return Ok(out);
        }
    }
}
