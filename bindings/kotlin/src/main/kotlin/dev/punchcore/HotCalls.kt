// Hand-written: PunchClient's hottest calls as suspend funs that cross the
// FFI once, on a thread of Dispatchers.IO, instead of through uniffi's
// generated future (bindings/src/blocking.rs says why). Apps call these as
// they call every other suspend method of PunchClient: they never block the
// caller's thread, and a cancelled coroutine stops waiting for a prompt.
package dev.punchcore

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asExecutor
import kotlinx.coroutines.suspendCancellableCoroutine

/** IO's threads may block (a signer's prompt may hold one for a while). */
private val blockingCalls = Dispatchers.IO.asExecutor()

/**
 * Runs [call] on a thread of [blockingCalls] and resumes with its answer.
 * Cancelling the coroutine resumes it at once and flips [token], which ends
 * a wait inside the call (a body already committing to disk finishes; only
 * its answer is dropped, as with uniffi's own async calls).
 */
internal suspend fun <T> offCallerThread(token: CallToken?, call: () -> T): T =
    suspendCancellableCoroutine { continuation ->
        if (token != null) continuation.invokeOnCancellation { token.cancel() }
        blockingCalls.execute {
            // Cancelled while queued: nothing to run.
            if (continuation.isActive) continuation.resumeWith(runCatching(call))
        }
    }

/**
 * Takes a punch: judged, signed and durable on disk when this returns.
 * A rejected punch is no punch: it is kept as a signed refused attempt
 * (`refusedAttempts`), and [PunchException.Refused] carries why.
 */
@Throws(PunchException::class)
suspend fun PunchClient.punch(kind: PunchKind, evidence: Evidence): PunchReceipt =
    CallToken().use { token -> offCallerThread(token) { punchBlocking(this, token, kind, evidence) } }

/** Judges evidence without storing anything: for the UI's live verdict. */
@Throws(PunchException::class)
suspend fun PunchClient.evaluate(evidence: Evidence): Evaluation =
    offCallerThread(null) { evaluateBlocking(this, evidence) }

/**
 * Like [evaluate], for a punch of [kind] ([evaluate] assumes the punch the
 * employee would press next: clock-out while clocked in, else in).
 */
@Throws(PunchException::class)
suspend fun PunchClient.evaluateKind(kind: PunchKind, evidence: Evidence): Evaluation =
    offCallerThread(null) { evaluateKindBlocking(this, kind, evidence) }
