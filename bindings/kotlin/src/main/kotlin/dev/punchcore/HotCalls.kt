// Hand-written: PunchClient's hottest calls as suspend funs that cross the
// FFI once, on a thread of Dispatchers.IO, instead of through uniffi's
// generated future (bindings/src/blocking.rs says why). Apps call these as
// they call every other suspend method of PunchClient: they never block the
// caller's thread, and a cancelled coroutine stops waiting for a prompt.
package dev.punchcore

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asExecutor
import kotlinx.coroutines.suspendCancellableCoroutine
import java.util.concurrent.atomic.AtomicLong
import kotlin.coroutines.ContinuationInterceptor

/** IO's threads may block (a signer's prompt may hold one for a while). */
private val blockingCalls = Dispatchers.IO.asExecutor()

/** Ids of the calls [internalCancelCall] can cancel: unique in this process. */
private val callIds = AtomicLong()

/**
 * Runs [call] on a thread of [blockingCalls] and resumes with its answer:
 * on the caller's own thread when the caller already runs on
 * Dispatchers.IO (a worker, a ViewModel launching on IO), as
 * `withContext(Dispatchers.IO)` would, saving two thread switches (about
 * 20 to 40 µs: waking a parked IO thread, then the caller's); from any
 * other dispatcher (Main, Default, Unconfined) on an IO thread, so the
 * caller's thread never blocks. Cancelling the coroutine runs [onCancel]
 * (which ends a wait inside the call), and resumes it with a
 * CancellationException: at once when the call runs on another thread (a
 * body already committing to disk finishes; only its answer is dropped, as
 * with uniffi's own async calls), when the call returns when it runs on
 * the caller's.
 */
internal suspend fun <T> offCallerThread(onCancel: (() -> Unit)?, call: () -> T): T =
    suspendCancellableCoroutine { continuation ->
        if (onCancel != null) continuation.invokeOnCancellation { onCancel() }
        if (continuation.context[ContinuationInterceptor] === Dispatchers.IO) {
            // A cancel while it runs reaches the call at once (the handler
            // runs in the canceller's thread); this answer is then dropped.
            continuation.resumeWith(runCatching(call))
        } else {
            blockingCalls.execute {
                // Cancelled while queued: nothing to run.
                if (continuation.isActive) continuation.resumeWith(runCatching(call))
            }
        }
    }

/**
 * Takes a punch: judged, signed and durable on disk when this returns.
 * A rejected punch is no punch: it is kept as a signed refused attempt
 * (`refusedAttempts`), and [PunchException.Refused] carries why.
 */
@Throws(PunchException::class)
suspend fun PunchClient.punch(kind: PunchKind, evidence: Evidence): PunchReceipt {
    val call = callIds.incrementAndGet()
    return offCallerThread({ internalCancelCall(call) }) { internalPunchBlocking(this, call, kind, evidence) }
}

/** Judges evidence without storing anything: for the UI's live verdict. */
@Throws(PunchException::class)
suspend fun PunchClient.evaluate(evidence: Evidence): Evaluation =
    offCallerThread(null) { internalEvaluateBlocking(this, evidence) }

/**
 * Like [evaluate], for a punch of [kind] ([evaluate] assumes the punch the
 * employee would press next: clock-out while clocked in, else in).
 */
@Throws(PunchException::class)
suspend fun PunchClient.evaluateKind(kind: PunchKind, evidence: Evidence): Evaluation =
    offCallerThread(null) { internalEvaluateKindBlocking(this, kind, evidence) }
