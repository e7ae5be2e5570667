// Foreign callbacks that throw, answer garbage, block or use the wrong key
// become typed errors; nothing is stored and nothing deadlocks.
package com.example.punch

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference

/** A signer whose public key is right but whose signing is replaced. */
private class FaultySigner(val sign: (ByteArray) -> ByteArray) : DeviceSigner {
    val real = JavaSigner()
    @Volatile var broken = false
    override fun publicKeySpki(): ByteArray = real.publicKeySpki()
    override fun sign(message: ByteArray): ByteArray = if (broken) sign.invoke(message) else real.sign(message)
    override fun attestation(challenge: ByteArray): DeviceAttestation? = null
}

class PlatformFaultsTest {
    @TempDir lateinit var dir: Path

    private fun withSigner(signer: FaultySigner, timeoutMs: ULong? = null, body: (PunchClient) -> Unit) {
        localClient(dir.resolve("phone"), ClientOptions(signer = signer, signerTimeoutMs = timeoutMs)).use { client ->
            client.punch(PunchKind.CLOCK_IN, INSIDE) // the healthy signer works
            signer.broken = true
            body(client)
            // Nothing was stored by the failed punch, and the chain is intact.
            assertEquals(listOf(1uL), client.history(0uL, 10u).entries.map { it.seq })
            assertTrue(client.verifyChain().intact)
            // The signer heals: punching works again.
            signer.broken = false
            assertEquals(2uL, client.punch(PunchKind.CLOCK_OUT, INSIDE).seq)
        }
    }

    @Test
    fun `a signer that throws is a Signer error`() {
        withSigner(FaultySigner { throw IllegalStateException("keystore is locked") }) { client ->
            val e = assertThrows<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(e.detail.contains("keystore is locked"), e.detail)
        }
    }

    @Test
    fun `a signer that throws PlatformException keeps its message`() {
        withSigner(FaultySigner { throw PlatformException.Failed("user cancelled the prompt") }) { client ->
            val e = assertThrows<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(e.detail.contains("user cancelled"), e.detail)
        }
    }

    @Test
    fun `a signer that signs with another key is refused before anything is stored`() {
        val other = JavaSigner()
        withSigner(FaultySigner { other.sign(it) }) { client ->
            val e = assertThrows<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(e.detail.contains("does not verify"), e.detail)
        }
    }

    @Test
    fun `a signer that returns garbage is refused`() {
        withSigner(FaultySigner { byteArrayOf(1, 2, 3) }) { client ->
            assertThrows<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
        }
    }

    @Test
    fun `a signer that blocks times out while status and evaluate go on`() {
        val release = CountDownLatch(1)
        withSigner(FaultySigner { release.await(); byteArrayOf() }, timeoutMs = 1_500uL) { client ->
            val pool = Executors.newSingleThreadExecutor()
            val punch = pool.submit<Throwable?> {
                runCatching { client.punch(PunchKind.CLOCK_OUT, INSIDE) }.exceptionOrNull()
            }
            Thread.sleep(200)
            // While the signer hangs, the database is free.
            assertEquals(1uL, client.status().pending)
            assertEquals(Decision.ACCEPTED, client.evaluate(INSIDE).decision)
            val error = punch.get(10, TimeUnit.SECONDS)
            assertTrue(error is PunchException.Signer && error.detail.contains("no answer"), "$error")
            release.countDown()
            pool.shutdown()
        }
    }

    @Test
    fun `a signer that calls back into the client gets Busy, not a deadlock`() {
        val clientRef = AtomicReference<PunchClient>()
        val inner = AtomicReference<Throwable?>()
        withSigner(FaultySigner {
            inner.set(runCatching { clientRef.get().punch(PunchKind.CLOCK_OUT, INSIDE) }.exceptionOrNull())
            throw PlatformException.Failed("gave up after calling back")
        }) { client ->
            clientRef.set(client)
            assertThrows<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(inner.get() is PunchException.Busy, "inner call: ${inner.get()}")
        }
    }

    @Test
    fun `a signer that fails at open is a Signer error`() {
        val signer = object : DeviceSigner {
            override fun publicKeySpki(): ByteArray = throw PlatformException.Failed("no key in the keystore")
            override fun sign(message: ByteArray): ByteArray = ByteArray(0)
            override fun attestation(challenge: ByteArray): DeviceAttestation? = null
        }
        val e = assertThrows<PunchException.Signer> {
            PunchClient.open(dir.resolve("x").toString(), ClientOptions(signer = signer))
        }
        assertTrue(e.detail.contains("no key"), e.detail)
    }

    @Test
    fun `a listener that throws does not fail the punch, and hears every change`() {
        val seen = mutableListOf<ULong>()
        localClient(dir.resolve("phone")).use { client ->
            client.setListener(object : StatusListener {
                override fun onStatus(status: SyncStatus) {
                    synchronized(seen) { seen += status.pending }
                    // Calling the client from the listener is allowed.
                    check(client.status().pending == status.pending)
                    throw RuntimeException("listener bug")
                }
            })
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            client.punch(PunchKind.CLOCK_OUT, INSIDE)
            assertEquals(listOf(1uL, 2uL), synchronized(seen) { seen.toList() })
        }
    }

    @Test
    fun `a platform clock is used, and a throwing one falls back to the host clock`() {
        val calls = java.util.concurrent.atomic.AtomicInteger()
        val failing = java.util.concurrent.atomic.AtomicBoolean(false)
        val clock = object : PlatformClock {
            override fun now(): ClockReading {
                calls.incrementAndGet()
                if (failing.get()) throw IllegalStateException("clock service died")
                return ClockReading(
                    wallTimeMs = System.currentTimeMillis(),
                    utcOffsetMin = 60,
                    monotonicMs = (System.nanoTime() / 1_000_000).toULong(),
                    bootId = "jvm-boot",
                )
            }
        }
        localClient(dir.resolve("phone"), ClientOptions(clock = clock)).use { client ->
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            assertTrue(calls.get() > 0)
            failing.set(true)
            assertEquals(2uL, client.punch(PunchKind.CLOCK_OUT, INSIDE).seq)
        }
    }

    @Test
    fun `the log sink receives the library's lines`() {
        val lines = java.util.concurrent.ConcurrentLinkedQueue<String>()
        setLogSink(object : LogSink {
            override fun log(level: LogLevel, target: String, message: String) {
                lines += "$level $target $message"
            }
        }, LogLevel.DEBUG)
        try {
            localClient(dir.resolve("logged")).use { client ->
                runCatching { client.history(0uL, 0u) }
            }
            assertTrue(lines.any { it.contains("opened") }, "$lines")
            assertTrue(lines.any { it.startsWith("DEBUG") && it.contains("limit") }, "$lines")
        } finally {
            setLogSink(null, LogLevel.ERROR)
        }
    }
}
