//! Chain entries that are not punches: a refused attempt kept as evidence, a
//! make-up request, a field-work proposal (and, as they land, PIN events and
//! the like). They share the punch's header — device, employee, seq, times,
//! anchor, policy version, previous hash — so one chain, one signature
//! scheme and one upload path carry every record a device makes.
//!
//! An event's bytes say `"entry":"event"`; a punch's bytes have no `entry`
//! (format 1 punches predate events), so [`ChainEntry::from_bytes`] tells
//! them apart before parsing the rest.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ledger::record::{PunchRecord, RecordCheck, SealedPayload, TimeAnchor};
use crate::ledger::refused::RefusedPunch;
use crate::ledger::trusted_time::RecordClock;
use crate::rules::field_work::FieldWorkRequest;
use crate::rules::makeup::MakeUpRequest;

/// The tag every event's bytes carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryTag {
    Event,
}

/// Event types as their bytes spell them.
pub mod types {
    pub const REFUSED_PUNCH: &str = "refused_punch";
    pub const MAKE_UP_REQUEST: &str = "make_up_request";
    pub const FIELD_WORK_REQUEST: &str = "field_work_request";
    pub const PIN: &str = "pin";
    pub const KEY_ROTATION: &str = crate::ledger::key_rotation::EVENT_TYPE;
    pub const FAULT: &str = crate::ledger::fault::EVENT_TYPE;
}

/// What happened, by concern; each body is defined in its concern's module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainEvent {
    /// A punch the rules refused, kept as the employee's evidence.
    RefusedPunch(Box<RefusedPunch>),
    /// 补卡: a missed or failed punch the employee asks a manager to accept.
    MakeUpRequest(MakeUpRequest),
    /// 外勤报备: a temporary site the employee asks a manager to approve.
    FieldWorkRequest(FieldWorkRequest),
    /// A punch-PIN event (set, failed, locked, reset...), see `crate::pin`.
    Pin(crate::pin::PinEvent),
    /// A new punch key, signed by the channel key (`ledger::key_rotation`).
    KeyRotation(crate::ledger::key_rotation::KeyRotation),
    /// A PIN verified (`crate::pin::PinVerified`); filed with the PIN events.
    PinVerified(crate::pin::PinVerified),
    /// A fault the engine saw or the employee reported (`ledger::fault`).
    Fault(crate::ledger::fault::FaultReport),
}

impl ChainEvent {
    /// The event's type as its bytes spell it (`make_up_request`...).
    pub fn type_name(&self) -> &'static str {
        match self {
            ChainEvent::RefusedPunch(_) => types::REFUSED_PUNCH,
            ChainEvent::MakeUpRequest(_) => types::MAKE_UP_REQUEST,
            ChainEvent::FieldWorkRequest(_) => types::FIELD_WORK_REQUEST,
            ChainEvent::Pin(_) => types::PIN,
            ChainEvent::KeyRotation(_) => types::KEY_ROTATION,
            ChainEvent::PinVerified(_) => types::PIN,
            ChainEvent::Fault(_) => types::FAULT,
        }
    }

    fn check_ranges(&self) -> Result<(), RecordCheck> {
        match self {
            ChainEvent::RefusedPunch(e) => e.check_ranges(),
            ChainEvent::MakeUpRequest(e) => e.check_ranges(),
            ChainEvent::FieldWorkRequest(e) => e.check_ranges(),
            ChainEvent::Pin(e) => e.check_ranges(),
            ChainEvent::KeyRotation(e) => e.check_ranges(),
            ChainEvent::PinVerified(e) => e.check_ranges(),
            ChainEvent::Fault(e) => e.check_ranges(),
        }
    }
}

/// A signed, chained event: the punch header with an event for a body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub format: u32,
    pub entry: EntryTag,
    pub event_id: Uuid,
    pub device_id: String,
    pub employee_id: String,
    pub seq: u64,
    pub wall_time_ms: i64,
    pub utc_offset_min: i32,
    pub monotonic_ms: u64,
    pub boot_id: String,
    pub anchor: Option<TimeAnchor>,
    pub policy_version: u64,
    pub event: ChainEvent,
    pub prev_hash: String,
}

impl EventRecord {
    /// The header's checks (as a punch's) and the body's own.
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        crate::ledger::record::check_header(&crate::ledger::record::Header {
            format: self.format,
            device_id: &self.device_id,
            employee_id: &self.employee_id,
            wall_time_ms: self.wall_time_ms,
            utc_offset_min: self.utc_offset_min,
            boot_id: &self.boot_id,
            anchor: self.anchor.as_ref(),
            prev_hash: &self.prev_hash,
        })?;
        self.event.check_ranges()
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// The event's sealed payload, if it carries one (a refused attempt
    /// recorded with a data key: `ledger::sealed::seal_event`).
    pub fn sealed(&self) -> Option<&SealedPayload> {
        match &self.event {
            ChainEvent::RefusedPunch(r) => r.sealed.as_ref(),
            _ => None,
        }
    }
}

/// One record of a device's chain.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainEntry {
    Punch(Box<PunchRecord>),
    Event(Box<EventRecord>),
}

impl ChainEntry {
    /// Parses stored or uploaded bytes as whichever entry they declare.
    pub fn from_bytes(bytes: &[u8]) -> Result<ChainEntry, serde_json::Error> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            entry: Option<EntryTag>,
        }
        match serde_json::from_slice::<Probe>(bytes)?.entry {
            Some(EntryTag::Event) => {
                Ok(ChainEntry::Event(Box::new(serde_json::from_slice(bytes)?)))
            }
            None => Ok(ChainEntry::Punch(Box::new(PunchRecord::from_bytes(bytes)?))),
        }
    }

    pub fn device_id(&self) -> &str {
        match self {
            ChainEntry::Punch(p) => &p.device_id,
            ChainEntry::Event(e) => &e.device_id,
        }
    }

    pub fn employee_id(&self) -> &str {
        match self {
            ChainEntry::Punch(p) => &p.employee_id,
            ChainEntry::Event(e) => &e.employee_id,
        }
    }

    pub fn seq(&self) -> u64 {
        match self {
            ChainEntry::Punch(p) => p.seq,
            ChainEntry::Event(e) => e.seq,
        }
    }

    pub fn prev_hash(&self) -> &str {
        match self {
            ChainEntry::Punch(p) => &p.prev_hash,
            ChainEntry::Event(e) => &e.prev_hash,
        }
    }

    /// The punch id or the event id.
    pub fn id(&self) -> Uuid {
        match self {
            ChainEntry::Punch(p) => p.punch_id,
            ChainEntry::Event(e) => e.event_id,
        }
    }

    pub fn wall_time_ms(&self) -> i64 {
        match self {
            ChainEntry::Punch(p) => p.wall_time_ms,
            ChainEntry::Event(e) => e.wall_time_ms,
        }
    }

    pub fn policy_version(&self) -> u64 {
        match self {
            ChainEntry::Punch(p) => p.policy_version,
            ChainEntry::Event(e) => e.policy_version,
        }
    }

    /// Its clock readings, for trusted time.
    pub fn clock(&self) -> RecordClock<'_> {
        match self {
            ChainEntry::Punch(p) => RecordClock::of_punch(p),
            ChainEntry::Event(e) => RecordClock {
                anchor: e.anchor.as_ref(),
                boot_id: &e.boot_id,
                monotonic_ms: e.monotonic_ms,
                wall_time_ms: e.wall_time_ms,
            },
        }
    }

    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        match self {
            ChainEntry::Punch(p) => p.check_ranges(),
            ChainEntry::Event(e) => e.check_ranges(),
        }
    }

    /// The `kind` a store keeps beside the bytes: the punch kind, or
    /// `event:<type>` (so a listing of punches can leave events out).
    pub fn kind_column(&self) -> String {
        match self {
            ChainEntry::Punch(p) => crate::text::serde_name(&p.kind),
            ChainEntry::Event(e) => event_kind_column(&e.event),
        }
    }

    /// The `decision` a store keeps beside the bytes (`recorded` for events).
    pub fn decision_column(&self) -> String {
        match self {
            ChainEntry::Punch(p) => crate::text::serde_name(&p.evaluation.decision),
            ChainEntry::Event(_) => EVENT_DECISION.to_string(),
        }
    }
}

/// The `decision` column of an event row.
pub const EVENT_DECISION: &str = "recorded";
/// The prefix of an event row's `kind` column.
pub const EVENT_KIND_PREFIX: &str = "event:";

/// `event:<type>`, as stores write it.
pub fn event_kind_column(event: &ChainEvent) -> String {
    kind_column_of(event.type_name())
}

/// `event:<type>` for a type name (`types::*`).
pub fn kind_column_of(type_name: &str) -> String {
    format!("{EVENT_KIND_PREFIX}{type_name}")
}
