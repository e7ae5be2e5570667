//! Forgotten clock-outs across the boundary: what the server found and told
//! the phone at sync (`rules::forgotten`), each with its message; the app
//! shows it (`localized_text` for the employee's language) and answers with
//! `file_make_up_request` (kind `ClockOut`, a time between `clock_in_at`
//! and `closes_at`).

use std::time::SystemTime;

use punch_core::ForgottenNotice;
use punch_model::messages::Locale;
use punch_model::rules::forgotten::ForgottenState;

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::messages::Message;
use crate::types::instant;

/// Where a forgotten clock-out stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ForgottenClockOutState {
    /// Flagged for a manager; nothing closed it.
    Flagged,
    /// The server closed it at the shift's end (a server-made entry, never a punch).
    ClosedByServer,
    /// The employee's own clock-out arrived late and counts.
    Superseded,
}

/// A shift occurrence clocked in to and not clocked out of in time.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ForgottenClockOutInfo {
    pub shift_id: String,
    pub start: SystemTime,
    pub end: SystemTime,
    /// A clock-out (or a make-up one) answers it up to here.
    pub closes_at: SystemTime,
    pub clock_in_punch_id: String,
    pub clock_in_at: SystemTime,
    pub state: ForgottenClockOutState,
    /// The server-made clock-out's time, when the server closed it.
    pub server_clock_out: Option<SystemTime>,
    /// What to tell the employee (English; `localized_text` for others).
    pub message: Message,
    /// Make-up requests this device filed that answer it (event ids).
    pub answered_by: Vec<String>,
}

impl From<ForgottenNotice> for ForgottenClockOutInfo {
    fn from(n: ForgottenNotice) -> Self {
        let f = n.notice;
        ForgottenClockOutInfo {
            shift_id: f.shift_id,
            start: instant(f.start_ms),
            end: instant(f.end_ms),
            closes_at: instant(f.closes_ms),
            clock_in_punch_id: f.clock_in_punch_id,
            clock_in_at: instant(f.clock_in_at_ms),
            state: match f.state {
                ForgottenState::Flagged => ForgottenClockOutState::Flagged,
                ForgottenState::ClosedByServer => ForgottenClockOutState::ClosedByServer,
                ForgottenState::Superseded => ForgottenClockOutState::Superseded,
            },
            server_clock_out: f.server_clock_out_ms.map(instant),
            message: n.message.into(),
            answered_by: n.answered_by,
        }
    }
}

#[uniffi::export]
impl PunchClient {
    /// The forgotten clock-outs the server found, as of the last sync.
    pub async fn forgotten_clock_outs(&self) -> Result<Vec<ForgottenClockOutInfo>, PunchError> {
        self.run(move |engine| {
            Ok(engine
                .forgotten_clock_outs(Locale::English)?
                .into_iter()
                .map(ForgottenClockOutInfo::from)
                .collect())
        })
        .await
    }
}
