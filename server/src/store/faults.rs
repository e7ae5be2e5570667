//! What fault reports need from the store (`crate::faults`): when each
//! device was last heard from, the terminals silent for longer than the
//! policy allows, and the event a make-up request cites. One trait apart
//! from [`crate::store::StoreTx`] (reached through `StoreTx::faults`); the
//! fault events themselves are chain events (`events` table), listed with
//! the requests' page (`request_page::EventKinds::Faults`).

use serde::Serialize;

use crate::error::Result;
use crate::store::StoredEvent;

/// A bound device not heard from since `last_seen_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SilentTerminal {
    pub device_id: String,
    /// The employee, or `kiosk:<site>` for a site's kiosk.
    pub employee_id: String,
    pub team: Option<String>,
    /// The last authenticated request, or the enrollment when none since.
    pub last_seen_ms: i64,
    /// "phone" or "kiosk".
    pub terminal: String,
}

/// Which silent terminals (every field narrows).
#[derive(Debug, Clone, Default)]
pub struct SilentQuery {
    /// Phones heard from before this instant are silent.
    pub phone_before_ms: i64,
    /// Kiosks heard from before this instant are silent.
    pub kiosk_before_ms: i64,
    pub team: Option<String>,
    /// Strictly after this device id (the page's cursor).
    pub after: Option<String>,
    pub limit: usize,
}

pub trait FaultsTx {
    /// The device was heard from at `now_ms` (written when the stored time
    /// is a minute older or more: one write a minute at most per device).
    fn touch_seen(&self, device_id: &str, now_ms: i64) -> Result<()>;
    /// When the device was last heard from, if ever since the table existed.
    fn last_seen(&self, device_id: &str) -> Result<Option<i64>>;
    /// Bound devices silent per `query`, by device id.
    fn silent_terminals(&self, query: &SilentQuery) -> Result<Vec<SilentTerminal>>;
    /// The event stored at (device, seq), of any type.
    fn event_at(&self, device_id: &str, seq: u64) -> Result<Option<StoredEvent>>;
}
