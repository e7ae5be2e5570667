//! The blocking halves of Kotlin's hottest calls (`punch`, `evaluate`,
//! `evaluateKind`), for the coroutine layer in `bindings/kotlin`
//! (`HotCalls.kt`) only: it runs them on a thread of Dispatchers.IO and
//! offers apps the same `suspend` functions the async methods are.
//!
//! Why: through JNA, uniffi's async protocol costs one call to make the
//! future, two polls, a JNA callback from a Rust worker thread (which JNA
//! attaches to the JVM and detaches again on every callback), a completion
//! and a free, around the same two thread switches a dispatcher makes.
//! Here the body runs on the dispatcher's thread in one crossing
//! (`scripts/bench-kotlin.sh` puts both paths side by side). Swift keeps the async
//! methods (its continuations are plain C callbacks): `uniffi.toml`
//! excludes these from Swift, and the async twins from Kotlin, and gives
//! these Kotlin names that say they are internal (`internalPunchBlocking`,
//! `internalCancelCall`...): uniffi generates every export public.

use std::sync::Arc;

use crate::client::{PunchClient, evaluate_body, evaluate_kind_body, punch_body};
use crate::error::{PunchError, guard};
use crate::types::{Evaluation, Evidence, PunchKind, PunchReceipt};

/// `PunchClient.punch` on the calling thread (it may wait for the platform
/// signer's prompt; `cancel_call(call)` ends that wait; `call` is an id
/// unique among the caller's calls). Blocks: apps call `punch`.
/// @suppress
#[uniffi::export]
pub fn punch_blocking(
    client: Arc<PunchClient>,
    call: i64,
    kind: PunchKind,
    evidence: Evidence,
) -> Result<PunchReceipt, PunchError> {
    client.on_this_thread_for_user(call, |engine| punch_body(engine, kind, evidence))
}

/// `PunchClient.evaluate` on the calling thread (it never waits for the
/// user or the network). Blocks: apps call `evaluate`.
/// @suppress
#[uniffi::export]
pub fn evaluate_blocking(
    client: Arc<PunchClient>,
    evidence: Evidence,
) -> Result<Evaluation, PunchError> {
    guard(|| evaluate_body(&client.engine, evidence))
}

/// `PunchClient.evaluate_kind` on the calling thread. Blocks: apps call
/// `evaluateKind`.
/// @suppress
#[uniffi::export]
pub fn evaluate_kind_blocking(
    client: Arc<PunchClient>,
    kind: PunchKind,
    evidence: Evidence,
) -> Result<Evaluation, PunchError> {
    guard(|| evaluate_kind_body(&client.engine, kind, evidence))
}
