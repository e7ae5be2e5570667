// The FFI's cost next to the work: a punch (durable SQLite commit) and an
// evaluate through Kotlin, against the same calls timed inside Rust, in one
// run on one disk. Runs with -Dpunch.bench=true (scripts/bench-kotlin.sh);
// prints JSON lines {"bench","value","unit","baseline","ratio"}.
package dev.punchcore

import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestMethodOrder
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class BenchmarkTest {
    @TempDir lateinit var dir: Path

    private fun median(v: List<Long>): Double = v.sorted()[v.size / 2].toDouble()

    /** Nanoseconds [block] takes, timed from Kotlin. */
    private fun timed(block: suspend () -> Unit): suspend () -> Long = {
        val start = System.nanoTime()
        block()
        System.nanoTime() - start
    }

    /**
     * Each side (a call returning the nanoseconds it took) once per round,
     * in a new order each round (seeded), so disk hiccups, checkpoints and
     * whatever ran just before hit every side alike; each side's median.
     */
    private suspend fun interleaved(rounds: Int, sides: List<suspend () -> Long>): List<Double> {
        val random = java.util.Random(26)
        val times = sides.map { LongArray(rounds) }
        for (round in 0 until rounds) {
            for (side in sides.indices.shuffled(random)) times[side][round] = sides[side]()
        }
        return times.map { median(it.toList()) }
    }

    private fun emit(bench: String, value: Double, unit: String, baseline: Double) {
        fun r(x: Double) = Math.round(x * 1000.0) / 1000.0
        println("""{"bench":"$bench","value":${r(value)},"unit":"$unit","baseline":${r(baseline)},"ratio":${r(value / baseline)}}""")
    }

    @Test
    @Order(1)
    fun `punch and evaluate through Kotlin vs Rust`(): Unit = testBlocking {
        assumeTrue(System.getProperty("punch.bench") == "true", "benchmarks run with -Dpunch.bench=true")
        val n = Integer.getInteger("punch.bench.n", 300)
        localClient(dir.resolve("kotlin")).use { client ->
            // The same engine and file on both sides: only the FFI differs.
            RustBaseline.ofClient(client).use { rust ->
                val evidence = INSIDE
                repeat(5_000) { client.evaluate(evidence); rust.evaluateNanos(evidence) } // JIT warm-up
                repeat(50) { client.punch(PunchKind.CLOCK_IN, evidence) }
                repeat(50) { rust.punchAsync(PunchKind.CLOCK_IN, evidence) }
                // Beside Kotlin's punch and Rust's: uniffi's async protocol
                // on the same punch (Kotlin's punch before HotCalls.kt, and
                // Swift's now), and the hot call's blocking half on this
                // thread (the crossing without the hop to an IO thread and back).
                val kind = PunchKind.CLOCK_IN
                val (kp, rp, ap, bp) = interleaved(n, listOf(
                    timed { client.punch(kind, evidence) },
                    { rust.punchNanos(kind, evidence) },
                    timed { rust.punchAsync(kind, evidence) },
                    timed { CallToken().use { punchBlocking(client, it, kind, evidence) } },
                ))
                emit("kotlin_punch_vs_rust_punch", kp / 1e6, "ms/punch", rp / 1e6)
                emit("kotlin_punch_uniffi_async_vs_rust_punch", ap / 1e6, "ms/punch", rp / 1e6)
                emit("kotlin_punch_blocking_half_on_this_thread_vs_rust_punch", bp / 1e6, "ms/punch", rp / 1e6)
                val (ke, re, ae, be) = interleaved(n * 10, listOf(
                    timed { client.evaluate(evidence) },
                    { rust.evaluateNanos(evidence) },
                    timed { rust.evaluateAsync(evidence) },
                    timed { evaluateBlocking(client, evidence) },
                ))
                emit("kotlin_evaluate_vs_rust_evaluate", ke / 1e3, "us/op", re / 1e3)
                emit("kotlin_evaluate_uniffi_async_vs_rust_evaluate", ae / 1e3, "us/op", re / 1e3)
                emit("kotlin_evaluate_blocking_half_on_this_thread_vs_rust_evaluate", be / 1e3, "us/op", re / 1e3)
            }
        }
    }

    /**
     * Where a call's time goes across the FFI, each step against the one
     * before it (µs per call, medians): a bare sync call; the async
     * machinery around nothing; lowering an Evidence; evaluate sync vs
     * async on the caller's thread; lifting the Evaluation (sync evaluate
     * vs the same work timed inside Rust); the hot calls' path (a hop to an
     * IO thread and back, a cancel token); the JVM attach inside uniffi's
     * async protocol.
     */
    @Test
    @Order(2)
    fun `ffi cost breakdown`(): Unit = testBlocking {
        assumeTrue(System.getProperty("punch.bench") == "true", "benchmarks run with -Dpunch.bench=true")
        val n = Integer.getInteger("punch.bench.n", 300) * 10
        localClient(dir.resolve("kotlin")).use { client ->
            RustBaseline.ofClient(client).use { rust ->
                val evidence = INSIDE
                suspend fun time(block: suspend () -> Unit): Double {
                    repeat(n) { block() } // warm-up
                    val t = LongArray(n)
                    for (i in 0 until n) {
                        val start = System.nanoTime()
                        block()
                        t[i] = System.nanoTime() - start
                    }
                    return median(t.toList()) / 1e3
                }
                val sync = time { rust.noop() }
                val async = time { rust.noopAsync() }
                val lower = time { rust.takeEvidence(evidence) }
                val evalSync = time { rust.evaluateSync(evidence) }
                val evalAsync = time { rust.evaluateAsync(evidence) }
                val evalRust = time { rust.evaluateNanos(evidence) } // Rust timing + its own FFI call
                val inRust = median((0 until n).map { rust.evaluateNanos(evidence).toLong() }) / 1e3
                // Inside the bare call: the call status (since uniffi 0.33 a
                // per-thread native buffer, not a JNA Structure per call) vs
                // the native call itself, with and without the handle clone.
                val status = UniffiRustCallStatusBuffer.get()
                val handle = rust.uniffiCloneHandle()
                val statusAlloc = time { UniffiRustCallStatusBuffer.get() }
                val rawCall = time { UniffiLib.uniffi_punchcore_fn_method_rustbaseline_noop(rust.uniffiCloneHandle(), status) }
                val rawNoClone = time { UniffiLib.uniffi_punchcore_fn_clone_rustbaseline(handle, status) }
                // The same work as the async evaluate, with the thread hop
                // made by Kotlin's own dispatcher around a synchronous call
                // instead of uniffi's future and its JNA continuation callback.
                val evalOnIo = time { withContext(Dispatchers.IO) { rust.evaluateSync(evidence) } }
                // The hot calls' path (HotCalls.kt): the hop to an IO thread
                // and back around nothing, a call's cancel token, and the
                // blocking half of evaluate on this thread.
                val hop = time { offCallerThread(null) { } }
                val token = time { CallToken().close() }
                val evalBlocking = time { evaluateBlocking(client, evidence) }
                val evalHot = time { client.evaluate(evidence) }
                // uniffi's async no-op again, with the Rust workers left
                // attached to the JVM after their first continuation
                // callback (JNA attaches and detaches them on every one by
                // default): the share of the JVM attach in an async call.
                // Last, and this test after the other (@Order): the workers
                // stay attached for the rest of the JVM's life.
                com.sun.jna.Native.setCallbackThreadInitializer(
                    uniffiRustFutureContinuationCallbackImpl,
                    com.sun.jna.CallbackThreadInitializer(true, false, "punch-worker"),
                )
                val asyncAttached = time { rust.noopAsync() }
                emit("ffi_sync_noop", sync, "us/op", sync)
                emit("ffi_call_status_buffer", statusAlloc, "us/op", sync)
                emit("ffi_raw_call_with_handle_clone", rawCall, "us/op", sync)
                emit("ffi_raw_single_native_call", rawNoClone, "us/op", sync)
                emit("ffi_async_noop", async, "us/op", sync)
                emit("ffi_lower_evidence", lower, "us/op", sync)
                emit("ffi_evaluate_sync", evalSync, "us/op", inRust)
                emit("ffi_evaluate_async", evalAsync, "us/op", evalSync)
                emit("ffi_evaluate_sync_on_io_dispatcher", evalOnIo, "us/op", evalAsync)
                emit("ffi_evaluate_hot_call", evalHot, "us/op", evalAsync)
                emit("ffi_evaluate_nanos_call", evalRust, "us/op", inRust)
                emit("ffi_async_noop_worker_stays_attached", asyncAttached, "us/op", async)
                emit("ffi_io_hop_around_nothing", hop, "us/op", sync)
                emit("ffi_call_token", token, "us/op", sync)
                emit("ffi_evaluate_blocking_on_this_thread", evalBlocking, "us/op", inRust)
            }
        }
    }
}
