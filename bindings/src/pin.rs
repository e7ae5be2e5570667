//! The punch PIN for Kotlin and Swift: status, set/change/verify, the
//! platform's "user verified" result, the three reset paths and applying a
//! reset token (checked offline with the pinned server key). PIN refusals
//! arrive as `PunchError::Pin` with what the UI needs (tries left, lock end).

use punch_model::pin::{
    self as pin_model, PinEventKind as CoreEventKind, ResetPath as CoreResetPath,
};
use std::time::SystemTime;

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::types::{Signed, instant};

/// An employee's PIN, for the UI.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PinStatus {
    /// The policy requires a PIN (or `accept_user_verified`) before each punch.
    pub required: bool,
    pub is_set: bool,
    /// Tries before the next lock (0 while locked).
    pub tries_left: i32,
    /// While locked: how long still, and when it ends (trusted time).
    pub locked_for: Option<std::time::Duration>,
    pub locked_until: Option<SystemTime>,
    /// Older than the policy allows: choose a new one (`change_pin`).
    pub must_change: bool,
}

/// How a reset code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PinChannel {
    Email,
    Phone,
    /// A channel this library version does not know (a newer server).
    Unknown,
}

impl PinChannel {
    /// The server's wire name (`punch_model::pin::wire`).
    fn of(wire: &str) -> PinChannel {
        match wire {
            "email" => PinChannel::Email,
            "phone" => PinChannel::Phone,
            _ => PinChannel::Unknown,
        }
    }
}

/// Where a reset code went.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PinCodeSent {
    pub channel: PinChannel,
    pub masked_to: String,
    pub expires_at: SystemTime,
}

/// A server-signed reset token: pass it to `apply_pin_reset` as received.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PinResetToken {
    pub body: Vec<u8>,
    pub signature: Vec<u8>,
}

/// One recorded PIN event (the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PinEvent {
    pub kind: PinEventKind,
    pub employee_id: String,
    pub failures: i32,
    /// How long the lock lasts (on `Locked`).
    pub lock: Option<std::time::Duration>,
    /// On `Reset`: which path reset the PIN.
    pub reset_path: Option<ResetPath>,
}

impl From<punch_core::PinStatus> for PinStatus {
    fn from(s: punch_core::PinStatus) -> Self {
        PinStatus {
            required: s.required,
            is_set: s.is_set,
            tries_left: s.tries_left.signed(),
            locked_for: s.locked_for_ms.map(std::time::Duration::from_millis),
            locked_until: s.locked_until_ms.map(instant),
            must_change: s.must_change,
        }
    }
}

impl From<pin_model::SignedResetToken> for PinResetToken {
    fn from(t: pin_model::SignedResetToken) -> Self {
        PinResetToken {
            body: t.body,
            signature: t.signature,
        }
    }
}

/// What happened to a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PinEventKind {
    Set,
    Changed,
    Failed,
    Locked,
    Unlocked,
    Reset,
    /// The platform's biometric or device credential stood in for the PIN.
    UserVerified,
}

/// How a PIN was reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ResetPath {
    /// An admin ordered it.
    Admin,
    /// A code sent to the employee's phone or e-mail.
    Code,
    /// The employee's identity data.
    SelfService,
}

fn event(e: pin_model::PinEvent) -> PinEvent {
    let kind = match e.kind {
        CoreEventKind::Set => PinEventKind::Set,
        CoreEventKind::Changed => PinEventKind::Changed,
        CoreEventKind::Failed => PinEventKind::Failed,
        CoreEventKind::Locked => PinEventKind::Locked,
        CoreEventKind::Unlocked => PinEventKind::Unlocked,
        CoreEventKind::Reset => PinEventKind::Reset,
        CoreEventKind::UserVerified => PinEventKind::UserVerified,
    };
    PinEvent {
        kind,
        employee_id: e.employee_id,
        failures: e.failures.signed(),
        lock: e.lock_ms.map(std::time::Duration::from_millis),
        reset_path: e.reset_path.map(|p| match p {
            CoreResetPath::Admin => ResetPath::Admin,
            CoreResetPath::Code => ResetPath::Code,
            CoreResetPath::SelfService => ResetPath::SelfService,
        }),
    }
}

#[uniffi::export]
impl PunchClient {
    pub async fn pin_status(&self) -> Result<PinStatus, PunchError> {
        self.run(move |engine| Ok(engine.pin_status()?.into()))
            .await
    }

    /// The first PIN (or the one after a reset). `birthday` (YYYY-MM-DD),
    /// when the app knows it, is refused as a PIN.
    pub async fn set_pin(&self, pin: String, birthday: Option<String>) -> Result<(), PunchError> {
        self.run(move |engine| Ok(engine.set_pin(&pin, birthday.as_deref())?))
            .await
    }

    pub async fn change_pin(
        &self,
        current: String,
        new_pin: String,
        birthday: Option<String>,
    ) -> Result<(), PunchError> {
        self.run(move |engine| Ok(engine.change_pin(&current, &new_pin, birthday.as_deref())?))
            .await
    }

    /// Checks the PIN; success lets the next punch through.
    pub async fn verify_pin(&self, pin: String) -> Result<(), PunchError> {
        self.run(move |engine| Ok(engine.verify_pin(&pin)?)).await
    }

    /// The platform's biometric / device-credential prompt succeeded.
    pub async fn accept_user_verified(&self) -> Result<(), PunchError> {
        self.run(move |engine| Ok(engine.accept_user_verified()?))
            .await
    }

    /// Sends a reset code to the employee's bound phone or e-mail.
    pub async fn request_pin_reset_code(&self) -> Result<PinCodeSent, PunchError> {
        self.run(move |engine| {
            let s = engine.request_pin_reset_code()?;
            Ok(PinCodeSent {
                channel: PinChannel::of(&s.channel),
                masked_to: s.masked_to,
                expires_at: instant(s.expires_at_ms),
            })
        })
        .await
    }

    pub async fn redeem_pin_reset_code(&self, code: String) -> Result<PinResetToken, PunchError> {
        self.run(move |engine| Ok(engine.redeem_pin_reset_code(&code)?.into()))
            .await
    }

    pub async fn self_service_pin_reset(
        &self,
        employee_number: String,
        secret: String,
    ) -> Result<PinResetToken, PunchError> {
        self.run(move |engine| {
            Ok(engine
                .self_service_pin_reset(&employee_number, &secret)?
                .into())
        })
        .await
    }

    pub async fn fetch_admin_pin_reset(&self) -> Result<PinResetToken, PunchError> {
        self.run(move |engine| Ok(engine.fetch_admin_pin_reset()?.into()))
            .await
    }

    /// Applies a reset token (offline) and sets `new_pin`.
    pub async fn apply_pin_reset(
        &self,
        token: PinResetToken,
        new_pin: String,
        birthday: Option<String>,
    ) -> Result<(), PunchError> {
        self.run(move |engine| {
            let token = pin_model::SignedResetToken {
                body: token.body,
                signature: token.signature,
            };
            engine.apply_pin_reset(&token, &new_pin, birthday.as_deref())?;
            Ok(())
        })
        .await
    }

    /// Kiosk mode: the site this device is a kiosk for (None on a phone).
    pub async fn kiosk_site(&self) -> Result<Option<String>, PunchError> {
        self.run(move |engine| Ok(engine.kiosk_site()?)).await
    }

    /// Kiosk mode: an employee's PIN on this kiosk (tries left, lock end).
    pub async fn kiosk_pin_status(&self, employee_id: String) -> Result<PinStatus, PunchError> {
        self.run(move |engine| Ok(engine.kiosk_pin_status(&employee_id)?.into()))
            .await
    }

    /// Kiosk mode: a punch by employee number and PIN, signed by the kiosk.
    pub async fn kiosk_punch(
        &self,
        employee_id: String,
        pin: String,
        kind: crate::types::PunchKind,
        evidence: crate::types::Evidence,
    ) -> Result<crate::types::PunchReceipt, PunchError> {
        self.run_for_user(move |engine| {
            let evidence: punch_core::Evidence = evidence.into();
            let receipt = engine.kiosk_punch(&employee_id, &pin, kind.into(), &evidence)?;
            Ok(receipt.into())
        })
        .await
    }

    pub async fn pin_events(&self) -> Result<Vec<PinEvent>, PunchError> {
        self.run(move |engine| Ok(engine.pin_events()?.into_iter().map(event).collect()))
            .await
    }
}
