//! One page of the punch ledger in SQL, shared by both backends: filters,
//! the team and any reviewer's verdict joined in, newest first, and a
//! keyset cursor (the last row's server time, device and seq), so a page
//! costs its own rows whatever the table holds (audit finding 9).

use serde::{Deserialize, Serialize};

use crate::store::StoredPunchInfo;
use crate::store::people::PunchReviewRow;

/// Most rows one page may hold.
pub const MAX_PAGE: usize = 500;

/// Where a page starts: strictly older than this row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PunchCursor {
    pub at_ms: i64,
    pub device_id: String,
    pub seq: u64,
}

impl PunchCursor {
    /// `at_ms.seq.device_id`: opaque to callers, safe in a query string once
    /// URL-encoded (device ids are the phone's UUIDs).
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.at_ms, self.seq, self.device_id)
    }

    pub fn decode(text: &str) -> Option<PunchCursor> {
        let mut parts = text.splitn(3, '.');
        let at_ms = parts.next()?.parse().ok()?;
        let seq = parts.next()?.parse().ok()?;
        let device_id = parts.next()?.to_string();
        (!device_id.is_empty()).then_some(PunchCursor {
            at_ms,
            device_id,
            seq,
        })
    }
}

/// Which punches (every field narrows).
#[derive(Debug, Clone, Default)]
pub struct PunchQuery {
    /// Only this team's employees (a manager's scope, or a filter).
    pub team: Option<String>,
    pub employee: Option<String>,
    /// On the server's time for the punch: inclusive / exclusive.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub decision: Option<String>,
    pub time_status: Option<String>,
    /// A review flag's code: letters, digits and `_` only (checked here).
    pub review_flag: Option<String>,
    /// Only punches a person must still look at (or only the others).
    pub needs_review: Option<bool>,
    pub before: Option<PunchCursor>,
    /// Clamped to 1..=[`MAX_PAGE`].
    pub limit: usize,
}

/// A parameter of the page's SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// A punch with its team and verdict, as a page holds it.
#[derive(Debug, Clone)]
pub struct PunchListRow {
    pub punch: StoredPunchInfo,
    pub team: Option<String>,
    pub review: Option<PunchReviewRow>,
}

/// The server's time for a punch, as an SQL expression over `p`; indexed
/// (`punches_by_time`).
const AT: &str = "COALESCE(p.trusted_time_ms, p.wall_time_ms)";

/// Flagged (by the device or the server) and no verdict yet.
const NEEDS_REVIEW: &str =
    "(p.decision = 'review' OR p.review_flags <> '[]') AND r.verdict IS NULL";

impl PunchQuery {
    pub fn limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE)
    }

    /// `SELECT …` with `ph(i)` the backend's i-th placeholder (1-based),
    /// and its parameters in order. `columns` is the backend's punch column
    /// list; each is read from `p`.
    pub fn sql(&self, columns: &str, ph: impl Fn(usize) -> String) -> (String, Vec<Param>) {
        let mut w = Conditions::new(ph);
        w.eq("t.team", self.team.as_deref());
        w.eq("p.employee_id", self.employee.as_deref());
        if let Some(t) = self.from_ms {
            let at = w.bind(Param::Int(t));
            w.push(format!("{AT} >= {at}"));
        }
        if let Some(t) = self.to_ms {
            let at = w.bind(Param::Int(t));
            w.push(format!("{AT} < {at}"));
        }
        w.eq("p.decision", self.decision.as_deref());
        w.eq("p.time_status", self.time_status.as_deref());
        if let Some(code) = &self.review_flag {
            // The flags are JSON objects tagged `"flag":"<code>"`; `_` is
            // LIKE's wildcard, so it is escaped, and nothing else may occur.
            let code: String = code
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
                .replace('_', "\\_");
            let pattern = w.bind(Param::Text(format!("%\"flag\":\"{code}\"%")));
            w.push(format!("p.review_flags LIKE {pattern} ESCAPE '\\'"));
        }
        match self.needs_review {
            Some(true) => w.push(NEEDS_REVIEW.to_string()),
            Some(false) => w.push(format!("NOT ({NEEDS_REVIEW})")),
            None => {}
        }
        if let Some(c) = &self.before {
            w.keyset(&format!("{AT}, p.device_id, p.seq"), "<", c);
        }
        let limit = w.limit(self.limit());
        let (filter, params) = w.finish();
        (
            format!(
                "SELECT {own}, t.team, r.verdict, r.comment, r.reviewer, r.at_ms
                 FROM punches p
                 LEFT JOIN employee_teams t ON t.employee_id = p.employee_id
                 LEFT JOIN punch_reviews r ON r.device_id = p.device_id AND r.seq = p.seq
                 {filter}
                 ORDER BY {AT} DESC, p.device_id DESC, p.seq DESC
                 LIMIT {limit}",
                own = qualified("p", columns),
            ),
            params,
        )
    }
}

/// A page's conditions, joined by AND, with their parameters in
/// placeholder order: what the punch and request pages build alike.
pub struct Conditions<P> {
    ph: P,
    params: Vec<Param>,
    clauses: Vec<String>,
}

impl<P: Fn(usize) -> String> Conditions<P> {
    /// `ph(i)` is the backend's i-th placeholder (1-based).
    pub fn new(ph: P) -> Self {
        Conditions {
            ph,
            params: Vec::new(),
            clauses: Vec::new(),
        }
    }

    /// Binds `value` to the next placeholder, which it returns.
    pub fn bind(&mut self, value: Param) -> String {
        self.params.push(value);
        (self.ph)(self.params.len())
    }

    /// A condition in the server's own text (values go through `bind`).
    pub fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `column = value`, when a value is given.
    pub fn eq(&mut self, column: &str, value: Option<&str>) {
        if let Some(value) = value {
            let p = self.bind(Param::Text(value.to_string()));
            self.push(format!("{column} = {p}"));
        }
    }

    /// The keyset step past `cursor`: `(columns) op (at, device, seq)`,
    /// `columns` naming the row's time, device and seq in that order.
    pub fn keyset(&mut self, columns: &str, op: &str, cursor: &PunchCursor) {
        let at = self.bind(Param::Int(cursor.at_ms));
        let device = self.bind(Param::Text(cursor.device_id.clone()));
        let seq = self.bind(Param::Int(i64::try_from(cursor.seq).unwrap_or(i64::MAX)));
        self.push(format!("({columns}) {op} ({at}, {device}, {seq})"));
    }

    /// The page size, clamped to 1..=[`MAX_PAGE`], as a placeholder.
    pub fn limit(&mut self, limit: usize) -> String {
        let limit = i64::try_from(limit.clamp(1, MAX_PAGE)).unwrap_or(1);
        self.bind(Param::Int(limit))
    }

    /// `WHERE …` (empty without conditions) and the parameters.
    pub fn finish(self) -> (String, Vec<Param>) {
        let filter = if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        };
        (filter, self.params)
    }
}

/// `columns` (a comma-separated list) each read from table alias `alias`.
pub fn qualified(alias: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The review half of a row, from its columns (all NULL: none).
pub fn review_of(
    punch: &StoredPunchInfo,
    verdict: Option<String>,
    comment: Option<String>,
    reviewer: Option<String>,
    at_ms: Option<i64>,
) -> Option<PunchReviewRow> {
    Some(PunchReviewRow {
        device_id: punch.device_id.clone(),
        seq: punch.seq,
        verdict: verdict?,
        comment: comment.unwrap_or_default(),
        reviewer: reviewer.unwrap_or_default(),
        at_ms: at_ms.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_none() {
        let c = PunchCursor {
            at_ms: -5,
            device_id: "d.1".into(),
            seq: 7,
        };
        assert_eq!(PunchCursor::decode(&c.encode()), Some(c));
        assert_eq!(PunchCursor::decode("x.1.d"), None);
        assert_eq!(PunchCursor::decode("1.2."), None);
    }

    #[test]
    fn a_flag_code_cannot_widen_the_pattern() {
        let q = PunchQuery {
            review_flag: Some("a_b%'".into()),
            limit: 10,
            ..PunchQuery::default()
        };
        let (_, params) = q.sql("device_id, seq", |i| format!("${i}"));
        assert_eq!(params[0], Param::Text("%\"flag\":\"a\\_b\"%".into()));
    }
}
