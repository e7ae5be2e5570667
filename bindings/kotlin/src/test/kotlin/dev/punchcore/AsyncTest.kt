// The async API under the dispatchers apps use (mozilla/uniffi-rs#1901 was
// a deadlock under Dispatchers.Unconfined), cancellation, several status
// subscribers, and a close() that never blocks.
package dev.punchcore

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/** A JavaSigner that, while [prompt] is set, waits like an open biometric prompt. */
private class PromptSigner : DeviceSigner {
    val key = JavaSigner()
    @Volatile var prompt = false
    @Volatile var prompting = CompletableDeferred<Unit>()
    @Volatile var promptCancelled = CompletableDeferred<Unit>()
    override fun publicKeySpki(): ByteArray = key.publicKeySpki()
    override suspend fun attestation(challenge: ByteArray): DeviceAttestation? = null
    override suspend fun sign(message: ByteArray): ByteArray {
        if (prompt) {
            prompting.complete(Unit)
            try {
                awaitCancellation()
            } finally {
                promptCancelled.complete(Unit)
            }
        }
        return key.signNow(message)
    }
}

class AsyncTest {
    @TempDir lateinit var dir: Path

    /** Punch, read, a signer prompt cancelled, all from coroutines on [dispatcher]. */
    private fun exercise(name: String, dispatcher: CoroutineDispatcher) = runBlocking {
        withContext(dispatcher) {
            val signer = PromptSigner()
            localClient(dir.resolve(name), ClientOptions(signer = signer)).use { client ->
                // One prompt at a time (a platform signer): punches in turn, reads alongside.
                val reads = (0 until 4).map { async { client.evaluate(INSIDE).decision } }
                assertEquals((1L..4L).toList(), (0 until 4).map { client.punch(PunchKind.CLOCK_IN, INSIDE).seq })
                assertTrue(reads.all { it.await() == Decision.ACCEPTED })
                assertEquals(4L, client.status().pending)
                signer.prompt = true
                val waiting = launch { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
                withTimeout(10_000) { signer.prompting.await() }
                waiting.cancelAndJoin()
                withTimeout(10_000) { signer.promptCancelled.await() }
                signer.prompt = false
                assertEquals(5L, client.punch(PunchKind.CLOCK_OUT, INSIDE).seq)
                assertTrue(client.verifyChain().intact)
            }
        }
    }

    @Test
    fun `the async API works under Default, Unconfined and IO`() {
        // Each under a timeout of its own: a deadlock fails here instead of hanging the suite.
        for ((name, dispatcher) in listOf(
            "default" to Dispatchers.Default,
            "unconfined" to Dispatchers.Unconfined,
            "io" to Dispatchers.IO,
        )) {
            val done = CompletableDeferred<Throwable?>()
            val runner = Thread {
                done.complete(runCatching { exercise(name, dispatcher) }.exceptionOrNull())
            }.apply { isDaemon = true; start() }
            val failure = runBlocking { withTimeout(60_000) { done.await() } }
            assertNull(failure, "under $name: $failure")
            runner.join(1_000)
        }
    }

    @Test
    fun `two subscribers each hear every change until their own cancel`(): Unit = testBlocking {
        localClient(dir.resolve("phone")).use { client ->
            val first = mutableListOf<Long>()
            val second = mutableListOf<Long>()
            fun listener(into: MutableList<Long>) = object : StandingListener {
                override fun onChange(standing: Standing) {
                    synchronized(into) { into += standing.sync.pending }
                }
            }
            val a = client.subscribe(listener(first))
            val b = client.subscribe(listener(second))
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            a.close()
            client.punch(PunchKind.CLOCK_OUT, INSIDE)
            b.cancel()
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            assertEquals(listOf(1L), synchronized(first) { first.toList() })
            assertEquals(listOf(1L, 2L), synchronized(second) { second.toList() })
            b.close()
        }
    }

    @Test
    fun `two standing flows collect at once`(): Unit = testBlocking {
        localClient(dir.resolve("phone")).use { client ->
            val ready = listOf(CompletableDeferred<Unit>(), CompletableDeferred<Unit>())
            val (one, two) = ready.map { subscribed ->
                async { client.standingUpdates().onEach { subscribed.complete(Unit) }.first { it.sync.pending == 2L } }
            }
            // Each flow starts with the status now: both are subscribed once it came.
            withTimeout(10_000) { ready.awaitAll() }
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            client.punch(PunchKind.CLOCK_OUT, INSIDE)
            withTimeout(10_000) {
                assertEquals(2L, one.await().sync.pending)
                assertEquals(2L, two.await().sync.pending)
            }
        }
    }

    @Test
    fun `close returns at once while background sync waits on a hung transport`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            val real = JavaHttpTransport()
            val hang = java.util.concurrent.atomic.AtomicBoolean(false)
            val hanging = CompletableDeferred<Unit>()
            val transport = object : HttpTransport {
                override suspend fun send(request: HttpRequest): HttpResponse {
                    if (hang.get()) {
                        hanging.complete(Unit)
                        awaitCancellation()
                    }
                    return real.send(request)
                }
            }
            val options = server.options(transport = transport).copy(requestTimeout = java.time.Duration.ofSeconds(30))
            val client = PunchClient.open(dir.resolve("phone").toString(), options)
            client.enroll(server.enrollCode())
            client.refreshPolicy()
            hang.set(true)
            client.startBackgroundSync(java.time.Duration.ofMinutes(1))
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            withTimeout(10_000) { hanging.await() }
            val started = System.nanoTime()
            client.close()
            val tookMs = (System.nanoTime() - started) / 1_000_000
            assertTrue(tookMs < 500, "close() took $tookMs ms")
        }
    }

    /**
     * Where a hot call's body runs (the platform clock answers on its
     * thread): from a single-thread caller (like Dispatchers.Main) on
     * another thread, and the caller's thread stays free while a punch
     * waits for a prompt; from a caller already on Dispatchers.IO on the
     * caller's own thread (no hop), and a cancel still ends the prompt.
     */
    @Test
    fun `hot calls never block a Main-like caller and run in place on IO`() = runBlocking {
        val bodyThreads = java.util.concurrent.ConcurrentLinkedQueue<Thread>()
        val clock = object : PlatformClock {
            override fun now(): ClockReading {
                bodyThreads += Thread.currentThread()
                return ClockReading(
                    wallTime = java.time.Instant.now(),
                    utcOffsetMin = 0,
                    sinceBoot = java.time.Duration.ofNanos(System.nanoTime()),
                    bootId = "jvm-boot",
                )
            }
        }
        val signer = PromptSigner()
        val main = java.util.concurrent.Executors.newSingleThreadExecutor { Thread(it, "main-like") }
        main.asCoroutineDispatcher().use { mainLike ->
            localClient(dir.resolve("phone"), ClientOptions(signer = signer, clock = clock)).use { client ->
                suspend fun threadsOf(on: CoroutineDispatcher, call: suspend () -> Unit): Pair<Thread, Set<Thread>> =
                    withContext(on) {
                        bodyThreads.clear()
                        call()
                        Thread.currentThread() to bodyThreads.toSet()
                    }
                for (call in listOf<suspend () -> Unit>(
                    { client.punch(PunchKind.CLOCK_IN, INSIDE) },
                    { client.evaluate(INSIDE) },
                    { client.evaluateKind(PunchKind.CLOCK_OUT, INSIDE) },
                )) {
                    val (caller, bodies) = threadsOf(mainLike, call)
                    assertTrue(bodies.isNotEmpty() && caller !in bodies, "from Main-like: $caller ran $bodies")
                    val (ioCaller, ioBodies) = threadsOf(Dispatchers.IO, call)
                    assertEquals(setOf(ioCaller), ioBodies, "from IO")
                }
                // A punch waiting for a prompt leaves the Main-like thread free.
                signer.prompt = true
                val waiting = launch(mainLike) { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
                withTimeout(10_000) { signer.prompting.await() }
                assertEquals(42, withTimeout(5_000) { withContext(mainLike) { 42 } })
                waiting.cancelAndJoin()
                withTimeout(10_000) { signer.promptCancelled.await() }
                // The same wait from IO, on the caller's thread: a cancel ends it.
                signer.prompting = CompletableDeferred()
                signer.promptCancelled = CompletableDeferred()
                val onIo = launch(Dispatchers.IO) { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
                withTimeout(10_000) { signer.prompting.await() }
                withTimeout(10_000) { onIo.cancelAndJoin() }
                withTimeout(10_000) { signer.promptCancelled.await() }
                signer.prompt = false
                assertTrue(client.verifyChain().intact)
            }
        }
    }
}
