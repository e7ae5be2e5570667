//! The records and enums that cross the boundary, and their conversions
//! from and to the core's types. Times are `SystemTime` (Instant, Date), ids
//! are strings, closed sets are enums, counts are signed (`Signed`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Counts, sequence numbers and durations as Java's signed types (a Java
/// caller never writes `0uL`); values beyond the signed range saturate
/// (no device reaches them).
pub(crate) trait Signed {
    type Out;
    fn signed(self) -> Self::Out;
}

impl Signed for u64 {
    type Out = i64;
    fn signed(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

impl Signed for u32 {
    type Out = i32;
    fn signed(self) -> i32 {
        i32::try_from(self).unwrap_or(i32::MAX)
    }
}

impl Signed for u16 {
    type Out = i32;
    fn signed(self) -> i32 {
        i32::from(self)
    }
}

impl<T: Signed> Signed for Option<T> {
    type Out = Option<T::Out>;
    fn signed(self) -> Self::Out {
        self.map(Signed::signed)
    }
}

/// An instant from epoch milliseconds.
pub(crate) fn instant(ms: i64) -> SystemTime {
    let magnitude = Duration::from_millis(ms.unsigned_abs());
    let t = if ms >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    t.unwrap_or(UNIX_EPOCH)
}

/// Epoch milliseconds from an instant (saturating far outside any punch).
pub(crate) fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// What kind of punch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PunchKind {
    ClockIn,
    ClockOut,
    BreakStart,
    BreakEnd,
}

impl From<PunchKind> for punch_core::PunchKind {
    fn from(k: PunchKind) -> Self {
        match k {
            PunchKind::ClockIn => punch_core::PunchKind::ClockIn,
            PunchKind::ClockOut => punch_core::PunchKind::ClockOut,
            PunchKind::BreakStart => punch_core::PunchKind::BreakStart,
            PunchKind::BreakEnd => punch_core::PunchKind::BreakEnd,
        }
    }
}

impl From<punch_core::PunchKind> for PunchKind {
    fn from(k: punch_core::PunchKind) -> Self {
        match k {
            punch_core::PunchKind::ClockIn => PunchKind::ClockIn,
            punch_core::PunchKind::ClockOut => PunchKind::ClockOut,
            punch_core::PunchKind::BreakStart => PunchKind::BreakStart,
            punch_core::PunchKind::BreakEnd => PunchKind::BreakEnd,
        }
    }
}

/// The outcome of a punch attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    Accepted,
    /// Stored, but a manager should look at it.
    Review,
    /// Not a punch: kept as a signed refused attempt (`refused_attempts`).
    Rejected,
}

impl From<punch_core::Decision> for Decision {
    fn from(d: punch_core::Decision) -> Self {
        match d {
            punch_core::Decision::Accepted => Decision::Accepted,
            punch_core::Decision::Review => Decision::Review,
            punch_core::Decision::Rejected => Decision::Rejected,
        }
    }
}

/// A location fix as the platform reports it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GpsFix {
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy radius in metres (Android `getAccuracy`, iOS `horizontalAccuracy`).
    pub accuracy_m: f64,
    /// When the fix was taken (Android `Location.getTime`, iOS `timestamp`).
    pub fix_time: SystemTime,
    /// "gps", "network", "fused"...; informational.
    #[uniffi(default = "")]
    pub provider: String,
    /// Android `Location.isMock()`, iOS `sourceInformation.isSimulatedBySoftware`.
    #[uniffi(default = false)]
    pub is_mock: bool,
    #[uniffi(default = None)]
    pub speed_mps: Option<f64>,
    /// When the fix was taken on the monotonic clock, since boot (Android
    /// `Duration.ofNanos(getElapsedRealtimeNanos())`): its age then does not
    /// follow a wall clock the user can set. None where the platform gives none.
    #[uniffi(default = None)]
    pub elapsed_realtime: Option<Duration>,
    /// The user granted only approximate location (Android coarse
    /// permission, iOS `accuracyAuthorization == .reducedAccuracy`).
    #[uniffi(default = false)]
    pub reduced_accuracy: bool,
    /// The fix came from an external receiver (iOS
    /// `sourceInformation.isProducedByAccessory`).
    #[uniffi(default = false)]
    pub external_receiver: bool,
}

/// One access point (the connected one, or from a scan).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WifiObservation {
    /// `aa:bb:cc:dd:ee:ff`.
    pub bssid: String,
    #[uniffi(default = None)]
    pub ssid: Option<String>,
    #[uniffi(default = None)]
    pub rssi_dbm: Option<i32>,
}

/// Everything the platform observed for one punch; all parts optional.
#[derive(Debug, Clone, PartialEq, Default, uniffi::Record)]
pub struct Evidence {
    #[uniffi(default = None)]
    pub gps: Option<GpsFix>,
    #[uniffi(default = [])]
    pub wifi: Vec<WifiObservation>,
    /// The device's own IP addresses (textual IPv4/IPv6).
    #[uniffi(default = [])]
    pub ip_addresses: Vec<String>,
}

impl From<Evidence> for punch_core::Evidence {
    fn from(e: Evidence) -> Self {
        punch_core::Evidence {
            gps: e.gps.map(|g| punch_core::GpsFix {
                lat: g.lat,
                lon: g.lon,
                accuracy_m: g.accuracy_m,
                fix_time_ms: millis(g.fix_time),
                provider: g.provider,
                is_mock: g.is_mock,
                speed_mps: g.speed_mps,
                // A negative stamp is no stamp (the age falls back to the wall clock).
                elapsed_realtime_ms: g
                    .elapsed_realtime
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                reduced_accuracy: g.reduced_accuracy,
                external_receiver: g.external_receiver,
            }),
            wifi: e
                .wifi
                .into_iter()
                .map(|w| punch_core::WifiObservation {
                    bssid: w.bssid,
                    ssid: w.ssid,
                    rssi_dbm: w.rssi_dbm,
                })
                .collect(),
            ip_addresses: e.ip_addresses,
        }
    }
}

/// A kind of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Signal {
    Gps,
    Wifi,
    Ip,
}

impl From<punch_model::rules::policy::Signal> for Signal {
    fn from(s: punch_model::rules::policy::Signal) -> Self {
        use punch_model::rules::policy::Signal as S;
        match s {
            S::Gps => Signal::Gps,
            S::Wifi => Signal::Wifi,
            S::Ip => Signal::Ip,
        }
    }
}

/// What one signal said about one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SignalOutcome {
    Pass,
    /// Evidence that alone cannot place the punch (an SSID, a shared IP range).
    Weak,
    Fail,
    /// The phone gave no such evidence.
    Unavailable,
}

impl From<punch_model::rules::evaluate::Outcome> for SignalOutcome {
    fn from(o: punch_model::rules::evaluate::Outcome) -> Self {
        use punch_model::rules::evaluate::Outcome as O;
        match o {
            O::Pass => SignalOutcome::Pass,
            O::Weak => SignalOutcome::Weak,
            O::Fail => SignalOutcome::Fail,
            O::Unavailable => SignalOutcome::Unavailable,
        }
    }
}

/// Where a GPS fix's accuracy circle lies against a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Containment {
    Inside,
    Outside,
    /// The circle straddles the fence.
    Uncertain,
}

impl From<punch_model::geofence::Containment> for Containment {
    fn from(c: punch_model::geofence::Containment) -> Self {
        use punch_model::geofence::Containment as C;
        match c {
            C::Inside => Containment::Inside,
            C::Outside => Containment::Outside,
            C::Uncertain => Containment::Uncertain,
        }
    }
}

/// An anti-spoofing or evidence-quality signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FlagKind {
    MockLocation,
    ImpossibleTravel,
    StaleFix,
    FixTimeSkew,
    AccuracyTooLow,
    NullIsland,
    WifiPlaceholder,
    /// The user granted only approximate location.
    ReducedAccuracy,
    /// The fix came from an external receiver.
    ExternalReceiver,
    /// The site does not take punches from this terminal.
    TerminalRefused,
}

impl From<punch_model::rules::evaluate::FlagKind> for FlagKind {
    fn from(k: punch_model::rules::evaluate::FlagKind) -> Self {
        use punch_model::rules::evaluate::FlagKind as K;
        match k {
            K::MockLocation => FlagKind::MockLocation,
            K::ImpossibleTravel => FlagKind::ImpossibleTravel,
            K::StaleFix => FlagKind::StaleFix,
            K::FixTimeSkew => FlagKind::FixTimeSkew,
            K::AccuracyTooLow => FlagKind::AccuracyTooLow,
            K::NullIsland => FlagKind::NullIsland,
            K::WifiPlaceholder => FlagKind::WifiPlaceholder,
            K::ReducedAccuracy => FlagKind::ReducedAccuracy,
            K::ExternalReceiver => FlagKind::ExternalReceiver,
            K::TerminalRefused => FlagKind::TerminalRefused,
        }
    }
}

/// What the policy does with a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FlagAction {
    Accept,
    Review,
    Reject,
}

impl From<punch_model::rules::policy::Action> for FlagAction {
    fn from(a: punch_model::rules::policy::Action) -> Self {
        use punch_model::rules::policy::Action as A;
        match a {
            A::Accept => FlagAction::Accept,
            A::Review => FlagAction::Review,
            A::Reject => FlagAction::Reject,
        }
    }
}

/// One signal checked against one site.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SignalCheck {
    pub signal: Signal,
    pub outcome: SignalOutcome,
    pub detail: String,
    /// For GPS.
    pub containment: Option<Containment>,
    /// Distance to the site's edge in metres (GPS).
    pub distance_to_edge_m: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SiteResult {
    pub site_id: String,
    pub passed: bool,
    pub review: bool,
    pub checks: Vec<SignalCheck>,
}

/// An anti-spoofing or evidence-quality signal and what the policy made of it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EvaluationFlag {
    pub kind: FlagKind,
    pub action: FlagAction,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NearestSite {
    pub site_id: String,
    pub distance_m: f64,
}

/// Everything a punch was (or would be) judged on. Its `toString` /
/// `description` is a summary without places or sites (it is part of
/// `PunchException.Refused`'s message, which crash reporters log).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct Evaluation {
    pub decision: Decision,
    /// The site the punch is attributed to, if one passed.
    pub site_id: Option<String>,
    pub policy_version: i64,
    pub sites: Vec<SiteResult>,
    pub flags: Vec<EvaluationFlag>,
    /// Beside a refusal: the closest site and how far its edge is.
    pub nearest_site: Option<NearestSite>,
    /// Human-readable, most important first.
    pub reasons: Vec<String>,
    /// What the punch means for attendance, when the policy has shifts.
    pub attendance: Option<Attendance>,
    /// Every reason as a stable code with its arguments (English text
    /// beside it); `localized_text` renders one in the app's locale.
    pub messages: Vec<crate::messages::Message>,
}

impl std::fmt::Display for Evaluation {
    /// Counts and codes only: no site ids, coordinates or distances.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Evaluation(decision={:?}, policyVersion={}, sites={}, flags={:?})",
            self.decision,
            self.policy_version,
            self.sites.len(),
            self.flags.iter().map(|f| f.kind).collect::<Vec<_>>()
        )
    }
}

/// What a punch means for attendance (the policy's shifts, judged offline on trusted time).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Attendance {
    pub code: AttendanceCode,
    pub shift_id: Option<String>,
    /// The matched occurrence's scheduled start.
    pub start: Option<SystemTime>,
    /// Minutes late or early, for "late" and "early_leave".
    pub minutes: Option<i32>,
}

/// What a punch means for attendance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AttendanceCode {
    OnTime,
    /// See `minutes`.
    Late,
    /// See `minutes`.
    EarlyLeave,
    /// A shift runs today, but not at this time.
    OutsideWindow,
    /// No shift today (at this site).
    NoShift,
    /// A clock-in for an occurrence already clocked in.
    AlreadyClockedIn,
    /// A clock-out (or break) for an occurrence never clocked in.
    NotClockedIn,
}

impl From<&punch_model::rules::shift::Attendance> for Attendance {
    fn from(a: &punch_model::rules::shift::Attendance) -> Self {
        use punch_model::rules::shift::Attendance as A;
        let minutes = match a {
            A::Late { minutes, .. } | A::EarlyLeave { minutes, .. } => Some(*minutes),
            _ => None,
        };
        let shift_id = match a {
            A::OutsideWindow { shift_id } => Some(shift_id.clone()),
            other => other.occurrence().map(|o| o.shift_id),
        };
        let code = match a {
            A::OnTime { .. } => AttendanceCode::OnTime,
            A::Late { .. } => AttendanceCode::Late,
            A::EarlyLeave { .. } => AttendanceCode::EarlyLeave,
            A::OutsideWindow { .. } => AttendanceCode::OutsideWindow,
            A::NoShift => AttendanceCode::NoShift,
            A::AlreadyClockedIn { .. } => AttendanceCode::AlreadyClockedIn,
            A::NotClockedIn { .. } => AttendanceCode::NotClockedIn,
        };
        Attendance {
            code,
            shift_id,
            start: a.occurrence().map(|o| instant(o.start_ms)),
            minutes: minutes.signed(),
        }
    }
}

impl From<punch_core::Evaluation> for Evaluation {
    fn from(e: punch_core::Evaluation) -> Self {
        let messages =
            punch_model::messages::evaluation_messages(&e, punch_model::messages::Locale::English)
                .into_iter()
                .map(crate::messages::Message::from)
                .collect();
        Evaluation {
            messages,
            decision: e.decision.into(),
            site_id: e.site_id,
            policy_version: e.policy_version.signed(),
            sites: e
                .sites
                .into_iter()
                .map(|s| SiteResult {
                    site_id: s.site_id,
                    passed: s.passed,
                    review: s.review,
                    checks: s
                        .checks
                        .into_iter()
                        .map(|c| SignalCheck {
                            signal: c.signal.into(),
                            outcome: c.outcome.into(),
                            detail: c.detail,
                            containment: c.containment.map(Into::into),
                            distance_to_edge_m: c.distance_to_edge_m,
                        })
                        .collect(),
                })
                .collect(),
            flags: e
                .flags
                .into_iter()
                .map(|f| EvaluationFlag {
                    kind: f.kind.into(),
                    action: f.action.into(),
                    detail: f.detail,
                })
                .collect(),
            nearest_site: e.nearest_site.map(|n| NearestSite {
                site_id: n.site_id,
                distance_m: n.distance_m,
            }),
            reasons: e.reasons,
            attendance: e.attendance.as_ref().map(Attendance::from),
        }
    }
}

/// A stored punch, as `punch` returns it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PunchReceipt {
    pub punch_id: String,
    /// Position in this device's chain, from 1.
    pub seq: i64,
    pub kind: PunchKind,
    pub wall_time: SystemTime,
    pub evaluation: Evaluation,
    /// Hex SHA-256 of the stored record.
    pub record_hash: String,
}

impl From<punch_core::PunchReceipt> for PunchReceipt {
    fn from(r: punch_core::PunchReceipt) -> Self {
        PunchReceipt {
            punch_id: r.punch_id.to_string(),
            seq: r.seq.signed(),
            kind: r.kind.into(),
            wall_time: instant(r.wall_time_ms),
            evaluation: r.evaluation.into(),
            record_hash: r.record_hash,
        }
    }
}

/// Where a stored punch stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UploadState {
    Pending,
    Uploaded,
    /// Refused by the server; kept as evidence (see `upload_detail`).
    Rejected,
}

impl From<punch_core::UploadState> for UploadState {
    fn from(s: punch_core::UploadState) -> Self {
        match s {
            punch_core::UploadState::Pending => UploadState::Pending,
            punch_core::UploadState::Uploaded => UploadState::Uploaded,
            punch_core::UploadState::Rejected => UploadState::Rejected,
        }
    }
}

/// One row of the punch history.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HistoryEntry {
    pub seq: i64,
    pub punch_id: String,
    /// None only when `verified` is false and the stored column is not a kind.
    pub kind: Option<PunchKind>,
    pub wall_time: SystemTime,
    /// `Accepted` or `Review` (refused punches are refused attempts); None only
    /// when `verified` is false and the stored column is not a decision.
    pub decision: Option<Decision>,
    pub upload_state: UploadState,
    /// The server's reason when rejected.
    pub upload_detail: Option<String>,
    /// True when the row's hash and signature check out and what it shows
    /// was read from the signed bytes; false means the file was edited.
    pub verified: bool,
}

/// A stored `kind` column (the kind's wire name) as the enum.
fn kind_of(column: &str) -> Option<PunchKind> {
    use punch_core::PunchKind as K;
    [K::ClockIn, K::ClockOut, K::BreakStart, K::BreakEnd]
        .into_iter()
        .find(|k| punch_model::text::serde_name(k) == column)
        .map(Into::into)
}

/// A stored `decision` column (the decision's wire name) as the enum.
fn decision_of(column: &str) -> Option<Decision> {
    use punch_core::Decision as D;
    [D::Accepted, D::Review, D::Rejected]
        .into_iter()
        .find(|d| punch_model::text::serde_name(d) == column)
        .map(Into::into)
}

impl From<punch_core::StoredPunch> for HistoryEntry {
    fn from(p: punch_core::StoredPunch) -> Self {
        HistoryEntry {
            seq: p.seq.signed(),
            punch_id: p.punch_id,
            kind: kind_of(&p.kind),
            wall_time: instant(p.wall_time_ms),
            decision: decision_of(&p.decision),
            upload_state: p.upload_state.into(),
            upload_detail: p.upload_detail,
            verified: p.verified,
        }
    }
}

/// What kind of sync problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncIssueKind {
    /// No connection, timeout: retried automatically.
    Network,
    /// The server's certificate is not trusted or the TLS handshake failed:
    /// backed off like `Refused` (a new network ends the backoff). Tell the
    /// user the server is not trusted, not that the phone is offline.
    Tls,
    /// The server failed (5xx): retried automatically.
    Server,
    RateLimited,
    /// A refusal retrying cannot fix (unbound device, bad signature).
    Refused,
    BadResponse,
    /// The server's policy could not be installed.
    Policy,
}

/// Why a sync did not finish.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncIssue {
    pub kind: SyncIssueKind,
    pub message: String,
    pub http_status: Option<i32>,
    /// The server's error code, when it gave one.
    pub code: Option<ServerErrorCode>,
}

impl From<punch_core::SyncError> for SyncIssue {
    fn from(e: punch_core::SyncError) -> Self {
        use punch_core::SyncError as S;
        let message = e.to_string();
        let (kind, http_status, code) = match &e {
            S::Network { .. } => (SyncIssueKind::Network, None, None),
            S::Server { status, .. } => (SyncIssueKind::Server, Some(*status), None),
            S::RateLimited => (SyncIssueKind::RateLimited, Some(429), None),
            S::Refused { code, .. } => {
                (SyncIssueKind::Refused, None, code.as_ref().map(Into::into))
            }
            S::BadResponse { .. } => (SyncIssueKind::BadResponse, None, None),
            S::Policy { .. } => (SyncIssueKind::Policy, None, None),
            S::Tls { .. } => (SyncIssueKind::Tls, None, None),
        };
        SyncIssue {
            kind,
            message,
            http_status: http_status.signed(),
            code,
        }
    }
}

/// Why the server refused a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RejectReason {
    BadSignature,
    Unparseable,
    /// The record names another device than the one that sent it.
    WrongDevice,
    /// Its previous-record hash does not match the last accepted record.
    ChainBreak,
    /// It skips records the server has not got.
    Gap,
    /// The same seq or punch id is stored with other bytes.
    ConflictingDuplicate,
    UnknownPolicyVersion,
    /// The record's employee is not the device's bound employee.
    EmployeeMismatch,
    /// The device once stated another record at this seq (a rewritten chain).
    Fork,
    /// The device stated a head below one it stated before (a truncated chain).
    Rollback,
    /// A record format the server does not know.
    UnknownFormat,
    /// A field holds a value no phone produces.
    OutOfRange,
}

impl From<&punch_model::wire::RejectReason> for RejectReason {
    fn from(r: &punch_model::wire::RejectReason) -> Self {
        use punch_model::wire::RejectReason as R;
        match r {
            R::BadSignature => RejectReason::BadSignature,
            R::Unparseable => RejectReason::Unparseable,
            R::WrongDevice => RejectReason::WrongDevice,
            R::ChainBreak => RejectReason::ChainBreak,
            R::Gap => RejectReason::Gap,
            R::ConflictingDuplicate => RejectReason::ConflictingDuplicate,
            R::UnknownPolicyVersion => RejectReason::UnknownPolicyVersion,
            R::EmployeeMismatch => RejectReason::EmployeeMismatch,
            R::Fork => RejectReason::Fork,
            R::Rollback => RejectReason::Rollback,
            R::UnknownFormat => RejectReason::UnknownFormat,
            R::OutOfRange => RejectReason::OutOfRange,
        }
    }
}

/// A record the server refused.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedPunch {
    pub seq: i64,
    pub reason: Option<RejectReason>,
    pub detail: Option<String>,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    pub uploaded: i64,
    pub duplicates: i64,
    pub resent: i64,
    pub rejected: Vec<RejectedPunch>,
    /// Still waiting for upload.
    pub remaining: i64,
    pub requests: i32,
    /// Set when a newer policy was installed.
    pub policy_installed: Option<i64>,
    /// Set when the sync did not finish; `next_retry_ms` says when to try again.
    pub error: Option<SyncIssue>,
    pub next_retry: Option<SystemTime>,
    /// True when nothing was done because a backoff is still running.
    pub deferred: bool,
    /// The server holds, at this seq, a record this device never had: the
    /// chains diverged (a restored or copied database). Tell the employer.
    pub server_head_mismatch: Option<i64>,
    /// The employer acknowledged this device's chain break and this sync
    /// applied it: this many refused records were set aside (kept, state
    /// `rejected`) and the next punch starts a new segment the server accepts.
    pub chain_reset: Option<i64>,
    /// The punch-key rotation at this seq waits for HR (its new key proves
    /// less than the employer requires): it and later records upload once
    /// HR approves. Tell the employee; nothing is lost.
    pub key_rotation_pending: Option<i64>,
}

impl From<punch_core::SyncReport> for SyncReport {
    fn from(r: punch_core::SyncReport) -> Self {
        SyncReport {
            uploaded: r.uploaded.signed(),
            duplicates: r.duplicates.signed(),
            resent: r.resent.signed(),
            rejected: r
                .rejected
                .into_iter()
                .map(|p| RejectedPunch {
                    seq: p.seq.signed(),
                    reason: p.reason.as_ref().map(Into::into),
                    detail: p.detail,
                })
                .collect(),
            remaining: r.remaining.signed(),
            requests: r.requests.signed(),
            policy_installed: r.policy_installed.signed(),
            error: r.error.map(SyncIssue::from),
            next_retry: r.next_retry_ms.map(instant),
            deferred: r.deferred,
            server_head_mismatch: r.server_head_mismatch.signed(),
            chain_reset: r.chain_reset.signed(),
            key_rotation_pending: r.key_rotation_pending.signed(),
        }
    }
}

/// For a status screen: how the queue stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    pub pending: i64,
    pub uploaded: i64,
    pub rejected: i64,
    pub last_success: Option<SystemTime>,
    pub last_error: Option<SyncIssue>,
    pub next_attempt: Option<SystemTime>,
    pub consecutive_failures: i32,
    pub policy_version: Option<i64>,
    /// Whether punches taken now carry a usable time anchor (false after a
    /// reboot until the next successful sync).
    pub anchored: bool,
}

impl From<punch_core::SyncStatus> for SyncStatus {
    fn from(s: punch_core::SyncStatus) -> Self {
        SyncStatus {
            pending: s.pending.signed(),
            uploaded: s.uploaded.signed(),
            rejected: s.rejected.signed(),
            last_success: s.last_success_ms.map(instant),
            last_error: s.last_error.map(SyncIssue::from),
            next_attempt: s.next_attempt_ms.map(instant),
            consecutive_failures: s.consecutive_failures.signed(),
            policy_version: s.policy_version.signed(),
            anchored: s.anchored,
        }
    }
}

/// One place the local chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChainBreak {
    pub seq: i64,
    pub problem: ChainProblemKind,
    pub detail: String,
}

/// The local chain check: every stored record's hash, signature and link.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChainReport {
    pub records: i64,
    pub head_seq: i64,
    pub intact: bool,
    pub breaks: Vec<ChainBreak>,
}

impl From<punch_core::ChainReport> for ChainReport {
    fn from(r: punch_core::ChainReport) -> Self {
        ChainReport {
            records: r.records.signed(),
            head_seq: r.head_seq.signed(),
            intact: r.is_intact(),
            breaks: r
                .breaks
                .into_iter()
                .map(|b| ChainBreak {
                    seq: b.seq.signed(),
                    problem: (&b.problem).into(),
                    detail: b.problem.to_string(),
                })
                .collect(),
        }
    }
}

/// `ChainProblem` is internally tagged (`{"problem": "gap", ...}`): its tag is its name.
/// What is wrong at one place in the local chain (`detail` says more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChainProblemKind {
    BadSignature,
    Unparseable,
    WrongDevice,
    Gap,
    SeqMismatch,
    PrevHashMismatch,
    HashMismatch,
    /// Records after the newest stored one are missing (deleted).
    MissingTail,
    /// A column kept beside the bytes was edited.
    CopiedColumnMismatch,
}

impl From<&punch_core::ChainProblem> for ChainProblemKind {
    fn from(p: &punch_core::ChainProblem) -> Self {
        use punch_core::ChainProblem as P;
        match p {
            P::BadSignature => ChainProblemKind::BadSignature,
            P::Unparseable { .. } => ChainProblemKind::Unparseable,
            P::WrongDevice { .. } => ChainProblemKind::WrongDevice,
            P::Gap { .. } => ChainProblemKind::Gap,
            P::SeqMismatch { .. } => ChainProblemKind::SeqMismatch,
            P::PrevHashMismatch { .. } => ChainProblemKind::PrevHashMismatch,
            P::HashMismatch => ChainProblemKind::HashMismatch,
            P::MissingTail { .. } => ChainProblemKind::MissingTail,
            P::CopiedColumnMismatch { .. } => ChainProblemKind::CopiedColumnMismatch,
        }
    }
}

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceInfo {
    pub device_id: String,
    /// The punch key in force (it signs records), P-256
    /// SubjectPublicKeyInfo DER (91 bytes).
    pub public_key_spki: Vec<u8>,
    /// The channel key (it signs requests); the punch key on a device
    /// enrolled before the two keys.
    pub channel_key_spki: Vec<u8>,
    /// Set once enrolled.
    pub employee_id: Option<String>,
    pub policy_version: Option<i64>,
    /// True when a platform signer (Keystore / Secure Enclave) holds the punch key.
    pub platform_key: bool,
}

/// The platform's clocks, read at one moment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClockReading {
    /// Wall clock (the employee can change it).
    pub wall_time: SystemTime,
    /// The UTC offset in minutes (daylight saving included).
    pub utc_offset_min: i32,
    /// Monotonic, counting deep sleep: Android `SystemClock.elapsedRealtime()`,
    /// iOS `mach_continuous_time`: the time since boot.
    pub since_boot: Duration,
    /// Changes at every reboot: Android `Settings.Global.BOOT_COUNT`, iOS `kern.bootsessionuuid`.
    pub boot_id: String,
}

impl From<ClockReading> for punch_core::ClockReading {
    fn from(c: ClockReading) -> Self {
        punch_core::ClockReading {
            wall_time_ms: millis(c.wall_time),
            utc_offset_min: c.utc_offset_min,
            // A negative reading is the platform's bug: as 0 it only loses the anchor.
            monotonic_ms: u64::try_from(c.since_boot.as_millis()).unwrap_or(u64::MAX),
            boot_id: c.boot_id,
        }
    }
}

/// One HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// The HTTP methods the library uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    /// The method's token as HTTP spells it (OkHttp, URLSession take it so).
    fn of(method: &str) -> HttpMethod {
        match method {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            // The core sends only GET and POST: another is its bug; as POST
            // the body still goes and the server answers the mistake.
            other => {
                log::error!(target: "punchcore", "unexpected HTTP method {other}, sent as POST");
                HttpMethod::Post
            }
        }
    }
}

/// A request the core asks an app's transport to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET` or `POST` (Kotlin `method.name`, Swift `"\(method)".uppercased()`).
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
    /// Give up after this long (then throw `PlatformError.Timeout`).
    pub timeout: std::time::Duration,
}

impl From<&punch_core::HttpRequest> for HttpRequest {
    fn from(r: &punch_core::HttpRequest) -> Self {
        HttpRequest {
            method: HttpMethod::of(&r.method),
            url: r.url.clone(),
            headers: r
                .headers
                .iter()
                .map(|(name, value)| HttpHeader {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body: r.body.clone(),
            timeout: std::time::Duration::from_millis(r.timeout_ms),
        }
    }
}

/// The server's answer, whatever its status (4xx and 5xx are answers, not errors).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    pub status: i32,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

impl From<HttpResponse> for punch_core::HttpResponse {
    fn from(r: HttpResponse) -> Self {
        punch_core::HttpResponse {
            // Checked to be 100..=599 by the transport adapter first.
            status: u16::try_from(r.status).unwrap_or(0),
            headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            body: r.body,
        }
    }
}

/// The platform's proof of where the device key lives, answering the
/// server's enrollment challenge (see `DeviceSigner.attestation`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceAttestation {
    /// Android Key Attestation: the key was generated in Keystore with
    /// `setAttestationChallenge(challenge)`; `certificate_chain` is
    /// `KeyStore.getCertificateChain(alias)`, leaf first, each DER.
    Android {
        challenge: Vec<u8>,
        certificate_chain: Vec<Vec<u8>>,
    },
    /// Apple App Attest: `attestKey(keyId, clientDataHash)` with
    /// clientDataHash = SHA-256(challenge ‖ the device key's SPKI DER).
    Apple {
        challenge: Vec<u8>,
        key_id: Vec<u8>,
        attestation_object: Vec<u8>,
    },
}

impl From<DeviceAttestation> for punch_model::wire::DeviceAttestation {
    fn from(a: DeviceAttestation) -> Self {
        match a {
            DeviceAttestation::Android {
                challenge,
                certificate_chain,
            } => punch_model::wire::DeviceAttestation::Android {
                challenge,
                certificate_chain,
            },
            DeviceAttestation::Apple {
                challenge,
                key_id,
                attestation_object,
            } => punch_model::wire::DeviceAttestation::Apple {
                challenge,
                key_id,
                attestation_object,
            },
        }
    }
}

/// Which device key: the punch key signs records, the channel key signs
/// requests (and never needs the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeyRole {
    Punch,
    Channel,
}

impl From<punch_core::KeyRole> for KeyRole {
    fn from(r: punch_core::KeyRole) -> Self {
        match r {
            punch_core::KeyRole::Punch => KeyRole::Punch,
            punch_core::KeyRole::Channel => KeyRole::Channel,
        }
    }
}

/// How strongly a key is proven to live where it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AssuranceLevel {
    /// Nothing proved (a software key).
    Software,
    /// Apple App Attest.
    AttestedApp,
    /// Android Key Attestation: the trusted execution environment.
    HardwareTee,
    /// Android Key Attestation: StrongBox.
    HardwareStrongbox,
}

impl From<punch_model::rules::assurance::AssuranceLevel> for AssuranceLevel {
    fn from(a: punch_model::rules::assurance::AssuranceLevel) -> Self {
        use punch_model::rules::assurance::AssuranceLevel as A;
        match a {
            A::Software => AssuranceLevel::Software,
            A::AttestedApp => AssuranceLevel::AttestedApp,
            A::HardwareTee => AssuranceLevel::HardwareTee,
            A::HardwareStrongbox => AssuranceLevel::HardwareStrongbox,
        }
    }
}

/// The server's error code (the contract's `error` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ServerErrorCode {
    BadRequest,
    EnrollmentCodeInvalid,
    /// The employee already has a bound device; an admin must approve a rebind.
    DeviceAlreadyBound,
    UnknownDevice,
    /// An admin unbound the device; its key is no longer accepted.
    DeviceUnbound,
    BadRequestSignature,
    StaleTimestamp,
    ReplayedNonce,
    NoPolicy,
    BatchTooLarge,
    AttestationChallengeInvalid,
    AttestationRefused,
    /// The device proves less about its key than the employer requires.
    AssuranceTooLow,
    PayloadTooLarge,
    RateLimited,
    Timeout,
    AttachmentRefused,
    Unavailable,
    Internal,
    PinCodeInvalid,
    PinIdentityInvalid,
    PinResetUnavailable,
    PinNoAdminReset,
    /// A code this library does not know (a newer server).
    Unknown,
}

impl From<&punch_model::wire::ErrorCode> for ServerErrorCode {
    fn from(c: &punch_model::wire::ErrorCode) -> Self {
        use punch_model::wire::ErrorCode as W;
        match c {
            W::BadRequest => ServerErrorCode::BadRequest,
            W::EnrollmentCodeInvalid => ServerErrorCode::EnrollmentCodeInvalid,
            W::DeviceAlreadyBound => ServerErrorCode::DeviceAlreadyBound,
            W::UnknownDevice => ServerErrorCode::UnknownDevice,
            W::DeviceUnbound => ServerErrorCode::DeviceUnbound,
            W::BadRequestSignature => ServerErrorCode::BadRequestSignature,
            W::StaleTimestamp => ServerErrorCode::StaleTimestamp,
            W::ReplayedNonce => ServerErrorCode::ReplayedNonce,
            W::NoPolicy => ServerErrorCode::NoPolicy,
            W::BatchTooLarge => ServerErrorCode::BatchTooLarge,
            W::AttestationChallengeInvalid => ServerErrorCode::AttestationChallengeInvalid,
            W::AttestationRefused => ServerErrorCode::AttestationRefused,
            W::AssuranceTooLow => ServerErrorCode::AssuranceTooLow,
            W::PayloadTooLarge => ServerErrorCode::PayloadTooLarge,
            W::RateLimited => ServerErrorCode::RateLimited,
            W::Timeout => ServerErrorCode::Timeout,
            W::AttachmentRefused => ServerErrorCode::AttachmentRefused,
            W::Unavailable => ServerErrorCode::Unavailable,
            W::Internal => ServerErrorCode::Internal,
            W::PinCodeInvalid => ServerErrorCode::PinCodeInvalid,
            W::PinIdentityInvalid => ServerErrorCode::PinIdentityInvalid,
            W::PinResetUnavailable => ServerErrorCode::PinResetUnavailable,
            W::PinNoAdminReset => ServerErrorCode::PinNoAdminReset,
            W::Unknown => ServerErrorCode::Unknown,
        }
    }
}

/// Why the employer's policy wants a photo for this punch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoReason {
    /// Every punch.
    Always,
    /// The device's first punch.
    NewDevice,
    /// The punch is judged `review`.
    Review,
    /// The location was reported as simulated.
    MockLocation,
    /// Impossible travel since the last punch.
    ImpossibleTravel,
    /// The punch key is a software key.
    SoftwareKey,
}

/// Why a photo given with a punch was refused (nothing was stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoProblem {
    /// Over the policy's size limit: re-encode it smaller.
    TooLarge,
    Empty,
    /// The media type is not `image/…`.
    NotAnImage,
}

impl From<punch_core::PhotoReason> for PhotoReason {
    fn from(r: punch_core::PhotoReason) -> Self {
        use punch_model::rules::photo::PhotoTrigger as T;
        match r {
            punch_core::PhotoReason::Always => PhotoReason::Always,
            punch_core::PhotoReason::StepUp(T::NewDevice) => PhotoReason::NewDevice,
            punch_core::PhotoReason::StepUp(T::Review) => PhotoReason::Review,
            punch_core::PhotoReason::StepUp(T::MockLocation) => PhotoReason::MockLocation,
            punch_core::PhotoReason::StepUp(T::ImpossibleTravel) => PhotoReason::ImpossibleTravel,
            punch_core::PhotoReason::StepUp(T::SoftwareKey) => PhotoReason::SoftwareKey,
        }
    }
}

impl From<&punch_core::PhotoError> for PhotoProblem {
    fn from(e: &punch_core::PhotoError) -> Self {
        match e {
            punch_core::PhotoError::TooLarge { .. } => PhotoProblem::TooLarge,
            punch_core::PhotoError::Empty => PhotoProblem::Empty,
            // A bad hash is never ours to make; anything else: not an image.
            _ => PhotoProblem::NotAnImage,
        }
    }
}
