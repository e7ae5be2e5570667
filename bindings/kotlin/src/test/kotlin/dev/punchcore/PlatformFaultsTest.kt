// Foreign callbacks that throw, answer garbage, hang or use the wrong key
// become typed errors; nothing is stored and nothing deadlocks.
package dev.punchcore

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicReference

/** A signer whose public key is right but whose signing is replaced. */
private class FaultySigner(val sign: suspend (ByteArray) -> ByteArray) : DeviceSigner {
    val real = JavaSigner()
    @Volatile var broken = false
    override fun publicKeySpki(): ByteArray = real.publicKeySpki()
    override suspend fun sign(message: ByteArray): ByteArray = if (broken) sign.invoke(message) else real.sign(message)
    override suspend fun attestation(challenge: ByteArray): DeviceAttestation? = null
}

class PlatformFaultsTest {
    @TempDir lateinit var dir: Path

    private suspend fun withSigner(signer: FaultySigner, timeout: java.time.Duration? = null, body: suspend (PunchClient) -> Unit) {
        localClient(dir.resolve("phone"), ClientOptions(signer = signer, signerTimeout = timeout)).use { client ->
            client.punch(PunchKind.CLOCK_IN, INSIDE) // the healthy signer works
            signer.broken = true
            body(client)
            // Nothing was stored by the failed punch, and the chain is intact.
            assertEquals(listOf(1L), client.history(null, 10).entries.map { it.seq })
            assertTrue(client.verifyChain().intact)
            // The signer heals: punching works again.
            signer.broken = false
            assertEquals(2L, client.punch(PunchKind.CLOCK_OUT, INSIDE).seq)
        }
    }

    @Test
    fun `a signer that throws is a Signer error`(): Unit = testBlocking {
        withSigner(FaultySigner { throw IllegalStateException("keystore is locked") }) { client ->
            val e = assertThrowsAsync<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(e.detail.contains("keystore is locked"), e.detail)
        }
    }

    @Test
    fun `a signer that throws PlatformException keeps its message`(): Unit = testBlocking {
        withSigner(FaultySigner { throw PlatformException.Failed("user cancelled the prompt") }) { client ->
            val e = assertThrowsAsync<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(e.detail.contains("user cancelled"), e.detail)
        }
    }

    @Test
    fun `a signer that signs with another key is refused before anything is stored`(): Unit = testBlocking {
        val other = JavaSigner()
        withSigner(FaultySigner { other.sign(it) }) { client ->
            val e = assertThrowsAsync<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(e.detail.contains("does not verify"), e.detail)
        }
    }

    @Test
    fun `a signer that returns garbage is refused`(): Unit = testBlocking {
        withSigner(FaultySigner { byteArrayOf(1, 2, 3) }) { client ->
            assertThrowsAsync<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
        }
    }

    @Test
    fun `a signer that never answers times out while status and evaluate go on`(): Unit = testBlocking {
        // A prompt nobody answers: the signer suspends (no thread blocks).
        withSigner(FaultySigner { awaitCancellation() }, timeout = java.time.Duration.ofMillis(1_500)) { client ->
            val punch = async { runCatching { client.punch(PunchKind.CLOCK_OUT, INSIDE) }.exceptionOrNull() }
            delay(200)
            // While the signer waits, the database is free.
            assertEquals(1L, client.status().pending)
            assertEquals(Decision.ACCEPTED, client.evaluate(INSIDE).decision)
            val error = withTimeout(10_000) { punch.await() }
            assertTrue(error is PunchException.Signer && error.detail.contains("no answer"), "$error")
        }
    }

    @Test
    fun `a signer that calls back into the client gets Busy, not a deadlock`(): Unit = testBlocking {
        val clientRef = AtomicReference<PunchClient>()
        val inner = AtomicReference<Throwable?>()
        withSigner(FaultySigner {
            inner.set(runCatching { clientRef.get().punch(PunchKind.CLOCK_OUT, INSIDE) }.exceptionOrNull())
            throw PlatformException.Failed("gave up after calling back")
        }) { client ->
            clientRef.set(client)
            assertThrowsAsync<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(inner.get() is PunchException.Busy, "inner call: ${inner.get()}")
        }
    }

    @Test
    fun `cancelling a punch cancels the signer's prompt and stores nothing`(): Unit = testBlocking {
        val prompting = CompletableDeferred<Unit>()
        val promptCancelled = CompletableDeferred<Unit>()
        withSigner(FaultySigner {
            prompting.complete(Unit)
            try {
                awaitCancellation() // the biometric prompt stays open
            } finally {
                promptCancelled.complete(Unit)
            }
        }) { client ->
            val started = System.nanoTime()
            val punch = launch { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            withTimeout(10_000) { prompting.await() }
            // The user leaves the screen: the app cancels (the signer timeout is 120 s).
            punch.cancelAndJoin()
            // The library drops its wait, which cancels the prompt's coroutine.
            withTimeout(10_000) { promptCancelled.await() }
            assertTrue(System.nanoTime() - started < 10_000_000_000L)
            assertEquals(1L, client.status().pending)
        }
    }

    @Test
    fun `a signer that fails at open is a Signer error`(): Unit = testBlocking {
        val signer = object : DeviceSigner {
            override fun publicKeySpki(): ByteArray = throw PlatformException.Failed("no key in the keystore")
            override suspend fun sign(message: ByteArray): ByteArray = ByteArray(0)
            override suspend fun attestation(challenge: ByteArray): DeviceAttestation? = null
        }
        val e = assertThrowsAsync<PunchException.Signer> {
            PunchClient.open(dir.resolve("x").toString(), ClientOptions(signer = signer))
        }
        assertTrue(e.detail.contains("no key"), e.detail)
    }

    @Test
    fun `a listener that throws does not fail the punch, and hears every change`(): Unit = testBlocking {
        val seen = mutableListOf<Long>()
        localClient(dir.resolve("phone")).use { client ->
            val subscription = client.subscribe(object : StandingListener {
                override fun onChange(standing: Standing) {
                    synchronized(seen) { seen += standing.sync.pending }
                    throw RuntimeException("listener bug")
                }
            })
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            client.punch(PunchKind.CLOCK_OUT, INSIDE)
            assertEquals(listOf(1L, 2L), synchronized(seen) { seen.toList() })
            subscription.close()
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            assertEquals(2, synchronized(seen) { seen.size }, "a closed subscription hears nothing")
        }
    }

    @Test
    fun `a platform clock is used, and a throwing one falls back to the host clock`(): Unit = testBlocking {
        val calls = java.util.concurrent.atomic.AtomicInteger()
        val failing = java.util.concurrent.atomic.AtomicBoolean(false)
        val clock = object : PlatformClock {
            override fun now(): ClockReading {
                calls.incrementAndGet()
                if (failing.get()) throw IllegalStateException("clock service died")
                return ClockReading(
                    wallTime = java.time.Instant.now(),
                    utcOffsetMin = 60,
                    sinceBoot = java.time.Duration.ofNanos(System.nanoTime()),
                    bootId = "jvm-boot",
                )
            }
        }
        localClient(dir.resolve("phone"), ClientOptions(clock = clock)).use { client ->
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            assertTrue(calls.get() > 0)
            failing.set(true)
            assertEquals(2L, client.punch(PunchKind.CLOCK_OUT, INSIDE).seq)
        }
    }

    @Test
    fun `the log sink receives the library's lines`(): Unit = testBlocking {
        val lines = java.util.concurrent.ConcurrentLinkedQueue<String>()
        setLogSink(object : LogSink {
            override fun log(level: LogLevel, target: String, message: String) {
                lines += "$level $target $message"
            }
        }, LogLevel.DEBUG)
        try {
            localClient(dir.resolve("logged")).use { client ->
                runCatching { client.history(null, 0) }
            }
            assertTrue(lines.any { it.contains("opened") }, "$lines")
            assertTrue(lines.any { it.startsWith("DEBUG") && it.contains("limit") }, "$lines")
        } finally {
            setLogSink(null, LogLevel.ERROR)
        }
    }
}
