//! The Rust side of the Kotlin/Swift benchmark: the same engine calls the
//! client makes, timed inside Rust, so a benchmark can put the cost of the
//! FFI next to the work itself in one run on one disk. Not for apps.

use std::time::Instant;

use punch_core::PunchEngine;

use uniffi::{Lift, Lower};

use crate::UniFfiTag;
use crate::client::{PunchClient, evaluate_body, punch_body};
use crate::error::{PunchError, guard};
use crate::runtime::off_thread;
use crate::types::{Evaluation, Evidence, PunchKind, PunchReceipt};

/// Nanoseconds each Rust-side step of the hot punch (`punch_blocking`)
/// takes, timed inside Rust, with the size of the answer Kotlin lifts.
#[derive(uniffi::Record)]
pub struct PunchSteps {
    /// Reading the Evidence Kotlin lowered (uniffi's lift).
    pub evidence_lift: i64,
    /// The FFI Evidence into the core's.
    pub evidence_in: i64,
    /// `PunchEngine::punch` inside the blocking half's wrapping (busy
    /// check, the call's cancel registered by id, panic guard, user's-call
    /// mark).
    pub wrapped_punch: i64,
    /// The receipt's messages rendered (part of `receipt_out`).
    pub messages: i64,
    /// The core's receipt into the FFI record.
    pub receipt_out: i64,
    /// Serialising that record for Kotlin (uniffi's lower).
    pub receipt_lower: i64,
    pub receipt_bytes: i64,
}

/// Nanoseconds each Rust-side step of the hot evaluate takes.
#[derive(uniffi::Record)]
pub struct EvaluateSteps {
    pub evidence_in: i64,
    pub engine_evaluate: i64,
    pub evaluation_out: i64,
    pub evaluation_lower: i64,
    pub evaluation_bytes: i64,
}

fn ffi_bug(e: impl std::fmt::Display) -> PunchError {
    PunchError::Internal {
        detail: e.to_string(),
    }
}

/// An engine timed from inside Rust: its own, or the one a client wraps
/// (then both sides punch into the same file, and only the FFI differs).
#[derive(uniffi::Object)]
pub struct RustBaseline {
    engine: std::sync::Arc<PunchEngine>,
    /// The client `of_client` wraps: its blocking half, step by step.
    client: Option<std::sync::Arc<PunchClient>>,
    /// The last receipt `punch_steps` made, for Kotlin to lift again.
    last_receipt: std::sync::Mutex<Option<PunchReceipt>>,
}

fn nanos(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX)
}

#[uniffi::export]
impl RustBaseline {
    /// Opens `directory`/baseline.db with an unsigned `policy_json` and a bound employee.
    #[uniffi::constructor]
    pub fn open(
        directory: String,
        policy_json: Vec<u8>,
        employee_id: String,
    ) -> Result<std::sync::Arc<RustBaseline>, PunchError> {
        guard(|| {
            let dir = std::path::PathBuf::from(directory);
            std::fs::create_dir_all(&dir).map_err(|e| PunchError::Storage {
                detail: e.to_string(),
            })?;
            let engine = PunchEngine::open(dir.join("baseline.db"))?;
            engine.set_employee(&employee_id)?;
            engine.install_policy_json(&policy_json, None)?;
            Ok(std::sync::Arc::new(RustBaseline {
                engine: std::sync::Arc::new(engine),
                client: None,
                last_receipt: std::sync::Mutex::new(None),
            }))
        })
    }

    /// The engine `client` wraps, timed from inside Rust.
    #[uniffi::constructor]
    pub fn of_client(client: std::sync::Arc<PunchClient>) -> std::sync::Arc<RustBaseline> {
        std::sync::Arc::new(RustBaseline {
            engine: client.engine(),
            client: Some(client),
            last_receipt: std::sync::Mutex::new(None),
        })
    }

    /// Nanoseconds one `PunchEngine::punch` takes, measured in Rust.
    pub fn punch_nanos(&self, kind: PunchKind, evidence: Evidence) -> Result<i64, PunchError> {
        guard(|| {
            let (kind, evidence) = (kind.into(), evidence.into());
            let start = Instant::now();
            self.engine.punch(kind, &evidence)?;
            Ok(nanos(start))
        })
    }

    /// Nanoseconds one `PunchEngine::evaluate` takes, measured in Rust.
    pub fn evaluate_nanos(&self, evidence: Evidence) -> Result<i64, PunchError> {
        guard(|| {
            let evidence = evidence.into();
            let start = Instant::now();
            self.engine.evaluate(&evidence)?;
            Ok(nanos(start))
        })
    }

    /// Nothing, synchronously: the bare cost of one call across the FFI.
    pub fn noop(&self) -> i64 {
        0
    }

    /// Nothing, on a worker, as every async client call runs: the async
    /// machinery's cost (poll, worker hand-off, wake, complete, free).
    pub async fn noop_async(&self) -> Result<i64, PunchError> {
        off_thread(|| Ok(0)).await
    }

    /// A punch through uniffi's async protocol, as `PunchClient.punch`
    /// still runs for Swift (Kotlin's goes through `blocking`): the two
    /// paths side by side in one run.
    pub async fn punch_async(
        &self,
        kind: PunchKind,
        evidence: Evidence,
    ) -> Result<PunchReceipt, PunchError> {
        let engine = self.engine.clone();
        off_thread(move || punch_body(&engine, kind, evidence)).await
    }

    /// `evaluate` through uniffi's async protocol (see `punch_async`).
    pub async fn evaluate_async(&self, evidence: Evidence) -> Result<Evaluation, PunchError> {
        let engine = self.engine.clone();
        off_thread(move || evaluate_body(&engine, evidence)).await
    }

    /// Takes evidence and does nothing with it: the cost of lowering it.
    pub fn take_evidence(&self, evidence: Evidence) -> i64 {
        i64::from(evidence.gps.is_some())
    }

    /// `evaluate`, synchronously on the caller's thread: against the async
    /// `PunchClient.evaluate`, the async cost on a real call; against
    /// `evaluate_nanos`, the cost of lifting an `Evaluation`.
    pub fn evaluate_sync(&self, evidence: Evidence) -> Result<Evaluation, PunchError> {
        guard(|| Ok(self.engine.evaluate(&evidence.into())?.into()))
    }

    /// The hot punch's Rust-side steps, each timed (see `PunchSteps`), on
    /// the client `of_client` wraps; Kotlin's own steps are timed there.
    pub fn punch_steps(
        &self,
        kind: PunchKind,
        evidence: Evidence,
    ) -> Result<PunchSteps, PunchError> {
        guard(|| {
            let client = self
                .client
                .as_ref()
                .ok_or_else(|| ffi_bug("not of_client"))?;
            let lowered = <Evidence as Lower<UniFfiTag>>::lower(evidence);
            let start = Instant::now();
            let evidence = <Evidence as Lift<UniFfiTag>>::try_lift(lowered).map_err(ffi_bug)?;
            let evidence_lift = nanos(start);
            let start = Instant::now();
            let core_evidence: punch_core::Evidence = evidence.into();
            let evidence_in = nanos(start);
            let start = Instant::now();
            let receipt = client.on_this_thread_for_user(-1, |engine| {
                Ok(engine.punch(kind.into(), &core_evidence)?)
            })?;
            let wrapped_punch = nanos(start);
            let start = Instant::now();
            let rendered = punch_model::messages::evaluation_messages(
                &receipt.evaluation,
                punch_model::messages::Locale::English,
            );
            let messages = nanos(start);
            drop(rendered);
            let start = Instant::now();
            let receipt = PunchReceipt::from(receipt);
            let receipt_out = nanos(start);
            *self.last_receipt.lock().unwrap_or_else(|e| e.into_inner()) = Some(receipt.clone());
            let start = Instant::now();
            let buffer = <PunchReceipt as Lower<UniFfiTag>>::lower(receipt);
            let receipt_lower = nanos(start);
            let receipt_bytes = i64::try_from(buffer.len()).unwrap_or(i64::MAX);
            buffer.destroy();
            Ok(PunchSteps {
                evidence_lift,
                evidence_in,
                wrapped_punch,
                messages,
                receipt_out,
                receipt_lower,
                receipt_bytes,
            })
        })
    }

    /// The last receipt `punch_steps` made: Kotlin's cost of lifting one.
    pub fn last_receipt(&self) -> Option<PunchReceipt> {
        self.last_receipt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The hot evaluate's Rust-side steps, each timed.
    pub fn evaluate_steps(&self, evidence: Evidence) -> Result<EvaluateSteps, PunchError> {
        guard(|| {
            let start = Instant::now();
            let core_evidence: punch_core::Evidence = evidence.into();
            let evidence_in = nanos(start);
            let start = Instant::now();
            let evaluation = self.engine.evaluate(&core_evidence)?;
            let engine_evaluate = nanos(start);
            let start = Instant::now();
            let evaluation = Evaluation::from(evaluation);
            let evaluation_out = nanos(start);
            let start = Instant::now();
            let buffer = <Evaluation as Lower<UniFfiTag>>::lower(evaluation);
            let evaluation_lower = nanos(start);
            let evaluation_bytes = i64::try_from(buffer.len()).unwrap_or(i64::MAX);
            buffer.destroy();
            Ok(EvaluateSteps {
                evidence_in,
                engine_evaluate,
                evaluation_out,
                evaluation_lower,
                evaluation_bytes,
            })
        })
    }
}
