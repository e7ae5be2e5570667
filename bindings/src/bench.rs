//! The Rust side of the Kotlin/Swift benchmark: the same engine calls the
//! client makes, timed inside Rust, so a benchmark can put the cost of the
//! FFI next to the work itself in one run on one disk. Not for apps.

use std::time::Instant;

use punch_core::PunchEngine;

use crate::client::{PunchClient, evaluate_body, punch_body};
use crate::error::{PunchError, guard};
use crate::runtime::off_thread;
use crate::types::{Evaluation, Evidence, PunchKind, PunchReceipt};

/// An engine timed from inside Rust: its own, or the one a client wraps
/// (then both sides punch into the same file, and only the FFI differs).
#[derive(uniffi::Object)]
pub struct RustBaseline {
    engine: std::sync::Arc<PunchEngine>,
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
            }))
        })
    }

    /// The engine `client` wraps, timed from inside Rust.
    #[uniffi::constructor]
    pub fn of_client(client: std::sync::Arc<PunchClient>) -> std::sync::Arc<RustBaseline> {
        std::sync::Arc::new(RustBaseline {
            engine: client.engine(),
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
}
