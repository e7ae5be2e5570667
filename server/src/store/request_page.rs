//! One page of the make-up and field-work requests (or of the key
//! rotations) in SQL, shared by both
//! backends: filtered, the team joined in, oldest first, with a keyset
//! cursor (received time, device, seq), so a decider's queue costs its own
//! rows whatever the events table holds (audit finding 9).

use crate::store::StoredEvent;
use crate::store::punch_page::{Conditions, Param, qualified};

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
    /// Clamped to 1..=[`MAX_PAGE`](crate::store::punch_page::MAX_PAGE).
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
        let mut w = Conditions::new(ph);
        // The types are this server's constants, never the caller's text.
        let types: Vec<String> = self
            .kinds
            .types()
            .iter()
            .map(|t| format!("'{t}'"))
            .collect();
        w.push(format!("e.event_type IN ({})", types.join(", ")));
        w.eq("t.team", self.team.as_deref());
        w.eq("e.employee_id", self.employee.as_deref());
        w.eq("e.status", self.status.as_deref());
        if let Some(c) = &self.after {
            w.keyset("e.received_at_ms, e.device_id, e.seq", ">", c);
        }
        let limit = w.limit(self.limit);
        let (filter, params) = w.finish();
        (
            format!(
                "SELECT {own}, t.team
                 FROM events e
                 LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
                 {filter}
                 ORDER BY e.received_at_ms, e.device_id, e.seq
                 LIMIT {limit}",
                own = qualified("e", columns),
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
