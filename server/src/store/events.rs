//! Chain events (`events` table): make-up and field-work requests, refused
//! punches, faults; managers' decisions on requests, one page of them, and
//! the files filed with them (`attachments`, sealed at rest). One trait
//! apart from [`crate::store::StoreTx`] (reached through `StoreTx::events`).

use serde::Serialize;

use crate::error::Result;
use crate::store::request_page;

/// An accepted chain event: the signed bytes, what they say (`body`, the
/// event as JSON), and for requests where they stand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub device_id: String,
    pub seq: u64,
    pub event_id: String,
    pub employee_id: String,
    /// `make_up_request`, `field_work_request`, `refused_punch`...
    pub event_type: String,
    pub body: String,
    pub wall_time_ms: i64,
    pub trusted_time_ms: Option<i64>,
    #[serde(skip)]
    pub record: Vec<u8>,
    #[serde(skip)]
    pub signature: Vec<u8>,
    pub hash: String,
    pub received_at_ms: i64,
    /// A `RequestStatus` for requests (None for other events).
    pub status: Option<String>,
    /// Why the server refused it (a refusal code), when it did.
    pub status_detail: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub comment: Option<String>,
}

impl StoredEvent {
    /// The time to believe: trusted where it exists, else the wall clock.
    pub fn effective_time_ms(&self) -> i64 {
        self.trusted_time_ms.unwrap_or(self.wall_time_ms)
    }
}

/// Which events to list (every field narrows).
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFilter<'a> {
    pub employee_id: Option<&'a str>,
    pub device_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// A manager's decision on a request.
#[derive(Debug, Clone, Copy)]
pub struct EventDecision<'a> {
    pub status: &'a str,
    pub decided_by: &'a str,
    pub comment: &'a str,
    pub at_ms: i64,
}

/// A file filed with a make-up request.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentRow {
    pub sha256: String,
    pub employee_id: String,
    pub body: Vec<u8>,
    pub received_at_ms: i64,
}

/// This transaction's events and attachments.
pub trait EventsTx {
    fn insert_event(&self, event: &StoredEvent) -> Result<()>;
    /// Events matching `filter`, oldest first.
    fn list(&self, filter: &EventFilter<'_>) -> Result<Vec<StoredEvent>>;
    /// Events of `event_type` filed by `employee_id`'s own devices or by
    /// any kiosk (a device of a `kiosk:<site>` account, whose entries name
    /// the employee inside the sealed body), oldest first: one employee's
    /// history of a kind by index, without everyone else's.
    fn of_employee_and_kiosks(
        &self,
        employee_id: &str,
        event_type: &str,
    ) -> Result<Vec<StoredEvent>>;
    /// The rows carrying `event_id`, by (device, seq): one since ingest
    /// refuses a second; older databases may hold a few.
    fn events_by_id(&self, event_id: &str) -> Result<Vec<StoredEvent>>;
    /// Where `event_id` is already stored, if anywhere. In a write
    /// transaction it also serialises ingests of the same id (PostgreSQL
    /// takes a transaction lock on it), so two devices cannot both claim it.
    fn event_id_holder(&self, event_id: &str) -> Result<Option<(String, u64)>>;
    /// Records a decision on the request at (device, seq) if it is still
    /// pending; false if it is not (unknown, or already decided).
    fn decide_event(&self, device_id: &str, seq: u64, decision: &EventDecision<'_>)
    -> Result<bool>;
    /// One page of make-up and field-work requests, oldest first, in SQL
    /// ([`request_page::RequestQuery`]).
    fn request_page(
        &self,
        query: &request_page::RequestQuery,
    ) -> Result<Vec<request_page::RequestRow>>;
    /// Stores an attachment once (the same hash again is a no-op).
    fn insert_attachment(&self, attachment: &AttachmentRow) -> Result<()>;
    /// An employee's file by its hash: two employees' identical files are
    /// two rows, so neither reads, owns or erases the other's.
    fn attachment(&self, employee_id: &str, sha256: &str) -> Result<Option<AttachmentRow>>;
}
