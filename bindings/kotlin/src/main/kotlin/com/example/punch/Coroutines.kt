// The idiomatic Kotlin layer over the generated punchcore.kt (which is
// never edited by hand): suspend functions that run the blocking calls on
// Dispatchers.IO, and the sync status as a StateFlow fed by the listener.
package com.example.punch

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.withContext

/**
 * A [PunchClient] for coroutines. Every call runs on [dispatcher] (IO by
 * default): the native calls block on disk, the network or a signer prompt.
 * Owns the client: [close] releases it and stops background sync.
 */
class PunchCore(
    val client: PunchClient,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    private val statusState = MutableStateFlow<SyncStatus?>(null)

    /** The latest sync status (null until the first change or [refreshStatus]). */
    val status: StateFlow<SyncStatus?> = statusState.asStateFlow()

    /** Every status change (conflated: a slow collector sees the newest). */
    val statusUpdates: Flow<SyncStatus> = statusState.filterNotNull()

    init {
        // The listener runs on the thread that caused the change; a StateFlow
        // hand-off returns at once and never calls back into the client.
        client.setListener(object : StatusListener {
            override fun onStatus(status: SyncStatus) {
                statusState.value = status
            }
        })
    }

    companion object {
        /** Opens the database in [directory] off the caller's thread. */
        suspend fun open(
            directory: String,
            options: ClientOptions,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): PunchCore = withContext(dispatcher) {
            PunchCore(PunchClient.open(directory, options), dispatcher)
        }
    }

    private suspend fun <T> io(block: PunchClient.() -> T): T = withContext(dispatcher) { client.block() }

    suspend fun enroll(code: String): String = io { enroll(code) }
    suspend fun refreshPolicy(): ULong = io { refreshPolicy() }
    suspend fun preparePolicy() = io { preparePolicy() }
    suspend fun evaluate(evidence: Evidence): Evaluation = io { evaluate(evidence) }
    suspend fun evaluateKind(kind: PunchKind, evidence: Evidence): Evaluation = io { evaluateKind(kind, evidence) }
    suspend fun punch(kind: PunchKind, evidence: Evidence): PunchReceipt = io { punch(kind, evidence) }
    suspend fun sync(): SyncReport = io { sync() }
    suspend fun syncNow(): SyncReport = io { syncNow() }
    suspend fun history(afterSeq: ULong = 0u, limit: UInt = 50u): HistoryPage = io { history(afterSeq, limit) }
    suspend fun verifyChain(): ChainReport = io { verifyChain() }
    suspend fun deviceInfo(): DeviceInfo = io { deviceInfo() }
    suspend fun networkAvailable() = io { networkAvailable() }
    suspend fun startBackgroundSync(idleMs: ULong) = io { startBackgroundSync(idleMs) }
    suspend fun fileMakeUpRequest(request: MakeUpRequestInput): RequestReceipt = io { fileMakeUpRequest(request) }
    suspend fun proposeFieldWork(proposal: FieldWorkInput): RequestReceipt = io { proposeFieldWork(proposal) }
    suspend fun attach(body: ByteArray, mediaType: String): AttachmentRef = io { attach(body, mediaType) }
    suspend fun requests(): List<RequestInfo> = io { requests() }
    suspend fun refusedAttempts(): List<RefusedAttemptInfo> = io { refusedAttempts() }
    suspend fun stopBackgroundSync() = io { stopBackgroundSync() }

    /** Reads the status now and publishes it to [status]. */
    suspend fun refreshStatus(): SyncStatus = io { status() }.also { statusState.value = it }

    override fun close() {
        client.setListener(null)
        client.stopBackgroundSync()
        client.close()
    }
}

/** The human sentence of any [PunchException], for a UI or a log. */
val PunchException.detail: String
    get() = when (this) {
        is PunchException.NotEnrolled -> detail
        is PunchException.Refused -> detail
        is PunchException.PolicyMissing -> detail
        is PunchException.PolicyExpired -> detail
        is PunchException.PolicyInvalid -> detail
        is PunchException.Signer -> detail
        is PunchException.Network -> detail
        is PunchException.ServerRefused -> detail
        is PunchException.Storage -> detail
        is PunchException.Busy -> detail
        is PunchException.InvalidInput -> detail
        is PunchException.NoticeRequired -> detail
        is PunchException.DataKeyUnavailable -> detail
        is PunchException.Pin -> detail
        is PunchException.RequestRefused -> detail
        is PunchException.Internal -> detail
    }

/** True when trying again later (after a sync, with a network) can succeed. */
val PunchException.isRetryable: Boolean
    get() = this is PunchException.Network || this is PunchException.Busy ||
        this is PunchException.PolicyMissing || this is PunchException.PolicyExpired
