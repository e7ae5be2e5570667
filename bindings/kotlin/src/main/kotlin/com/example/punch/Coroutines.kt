// Hand-written, beside the generated punchcore.kt (never edited by hand):
// only what uniffi cannot generate. Every client call is already a
// generated `suspend fun` that blocks no thread and can be cancelled.
package com.example.punch

import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.conflate

/**
 * The status now, then every change, as a Flow (conflated: a slow collector
 * sees the newest). Each collector is its own subscriber: a second screen
 * collecting never disconnects the first, and a collector that stops
 * unsubscribes.
 */
fun PunchClient.statusUpdates(): Flow<SyncStatus> = callbackFlow {
    val subscription = subscribe(object : StatusListener {
        // Called on the library's thread: hand the status on and return.
        override fun onStatus(status: SyncStatus) {
            trySend(status)
        }
    })
    // Subscribed first, so no change between the read and the subscription is lost.
    send(status())
    awaitClose { subscription.close() }
}.conflate()
