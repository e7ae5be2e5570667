// Hand-written, beside the generated punchcore.kt (never edited by hand):
// only what uniffi cannot generate. Every client call is already a
// generated `suspend fun` that blocks no thread and can be cancelled.
package dev.punchcore

import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.conflate

/**
 * Where the employee stands now, then after every change, as a Flow
 * (conflated: a slow collector sees the newest). Each collector is its own
 * subscriber: a second screen collecting never disconnects the first, and
 * a collector that stops unsubscribes.
 */
fun PunchClient.standingUpdates(): Flow<Standing> = callbackFlow {
    val subscription = subscribe(object : StandingListener {
        // Called on the library's thread: hand the value on and return.
        override fun onChange(standing: Standing) {
            trySend(standing)
        }
    })
    // Subscribed first, so no change between the read and the subscription is lost.
    send(standing())
    awaitClose { subscription.close() }
}.conflate()

/**
 * The sentence of any [PunchException], for a UI or a log: it names no
 * place, site, person or Wi-Fi (those stay in the typed fields). `message`
 * is this sentence followed by the typed fields (codes and counts).
 */
val PunchException.detail: String
    get() = when (this) {
        is PunchException.NotEnrolled -> detail
        is PunchException.Refused -> detail
        is PunchException.PolicyMissing -> detail
        is PunchException.PolicyExpired -> detail
        is PunchException.PolicyInvalid -> detail
        is PunchException.Signer -> detail
        is PunchException.KeyInvalidated -> detail
        is PunchException.Network -> detail
        is PunchException.Tls -> detail
        is PunchException.ServerRefused -> detail
        is PunchException.Storage -> detail
        is PunchException.Busy -> detail
        is PunchException.InvalidInput -> detail
        is PunchException.NoticeRequired -> detail
        is PunchException.DataKeyUnavailable -> detail
        is PunchException.Pin -> detail
        is PunchException.RequestRefused -> detail
        is PunchException.AttestationRequired -> detail
        is PunchException.PhotoRequired -> detail
        is PunchException.PhotoRefused -> detail
        is PunchException.Internal -> detail
    }

/** True when trying again later (after a sync, with a network) can succeed. */
val PunchException.isRetryable: Boolean
    get() = this is PunchException.Network || this is PunchException.Busy ||
        this is PunchException.PolicyMissing || this is PunchException.PolicyExpired
