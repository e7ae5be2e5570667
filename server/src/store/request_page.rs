//! One page of the make-up and field-work requests (or of the key
//! rotations) in SQL, shared by both
//! backends: filtered, the team joined in, oldest first, with a keyset
//! cursor (received time, device, seq), so a decider's queue costs its own
//! rows whatever the events table holds (audit finding 9).

use crate::store::StoredEvent;
use crate::store::punch_page::{MAX_PAGE, Param};

/// Where a page starts: strictly after this row. The punch list's cursor
/// (its time is here the row's received time), encoded the same way.
pub use crate::store::punch_page::PunchCursor as RequestCursor;

impl RequestCursor {
    /// The cursor just after `e`.
    pub fn of(e: &StoredEvent) -> RequestCursor {
        RequestCursor {
            at_ms: e.received_at_ms,
            device_id: e.device_id.clone(),
            seq: e.seq,
        }
    }
}

/// Which events a page lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EventKinds {
    /// Make-up and field-work requests.
    #[default]
    Requests,
    /// Punch-key rotations (`crate::key_rotation`).
    KeyRotations,
    /// Fault reports (`crate::faults`).
    Faults,
}

impl EventKinds {
    fn types(self) -> &'static [&'static str] {
        match self {
            EventKinds::Requests => &[crate::requests::MAKE_UP, crate::requests::FIELD_WORK],
            EventKinds::KeyRotations => &[crate::key_rotation::EVENT_TYPE],
            EventKinds::Faults => &[punch_model::ledger::fault::EVENT_TYPE],
        }
    }
}

/// Which requests (every field narrows).
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub kinds: EventKinds,
    pub team: Option<String>,
    pub employee: Option<String>,
    /// pending, approved, denied, refused.
    pub status: Option<String>,
    pub after: Option<RequestCursor>,
    /// Clamped to 1..=[`MAX_PAGE`].
    pub limit: usize,
}

/// A request with its employee's team.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub event: StoredEvent,
    pub team: Option<String>,
}

impl RequestQuery {
    /// `SELECT …` with `ph(i)` the backend's i-th placeholder; `columns` is
    /// the backend's event column list, each read from `e`, then the team.
    pub fn sql(&self, columns: &str, ph: impl Fn(usize) -> String) -> (String, Vec<Param>) {
        let mut params = Vec::new();
        let next = |p: Param, params: &mut Vec<Param>| {
            params.push(p);
            ph(params.len())
        };
        // The types are this server's constants, never the caller's text.
        let types: Vec<String> = self
            .kinds
            .types()
            .iter()
            .map(|t| format!("'{t}'"))
            .collect();
        let mut filter = vec![format!("e.event_type IN ({})", types.join(", "))];
        if let Some(team) = &self.team {
            filter.push(format!(
                "t.team = {}",
                next(Param::Text(team.clone()), &mut params)
            ));
        }
        if let Some(e) = &self.employee {
            filter.push(format!(
                "e.employee_id = {}",
                next(Param::Text(e.clone()), &mut params)
            ));
        }
        if let Some(s) = &self.status {
            filter.push(format!(
                "e.status = {}",
                next(Param::Text(s.clone()), &mut params)
            ));
        }
        if let Some(c) = &self.after {
            let at = next(Param::Int(c.at_ms), &mut params);
            let device = next(Param::Text(c.device_id.clone()), &mut params);
            let seq = next(
                Param::Int(i64::try_from(c.seq).unwrap_or(i64::MAX)),
                &mut params,
            );
            filter.push(format!(
                "(e.received_at_ms, e.device_id, e.seq) > ({at}, {device}, {seq})"
            ));
        }
        let limit = next(
            Param::Int(i64::try_from(self.limit.clamp(1, MAX_PAGE)).unwrap_or(1)),
            &mut params,
        );
        let own: Vec<String> = columns
            .split(',')
            .map(|c| format!("e.{}", c.trim()))
            .collect();
        (
            format!(
                "SELECT {own}, t.team
                 FROM events e
                 LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
                 WHERE {filter}
                 ORDER BY e.received_at_ms, e.device_id, e.seq
                 LIMIT {limit}",
                own = own.join(", "),
                filter = filter.join(" AND "),
            ),
            params,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let c = RequestCursor {
            at_ms: 5,
            device_id: "d.1".into(),
            seq: 7,
        };
        assert_eq!(RequestCursor::decode(&c.encode()), Some(c));
        assert_eq!(RequestCursor::decode("5.x.d"), None);
    }
}
