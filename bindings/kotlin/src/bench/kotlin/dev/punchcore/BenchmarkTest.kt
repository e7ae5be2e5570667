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
import java.util.concurrent.Executors
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.asExecutor
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext

@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class BenchmarkTest {
    @TempDir lateinit var dir: Path

    private fun median(v: List<Long>): Double = v.sorted()[v.size / 2].toDouble()

    /** [block]'s median time in µs over [count] calls, after as many to warm up. */
    private suspend fun medianMicros(count: Int, block: suspend () -> Unit): Double {
        repeat(count) { block() }
        val t = LongArray(count)
        for (i in 0 until count) {
            val start = System.nanoTime()
            block()
            t[i] = System.nanoTime() - start
        }
        return median(t.toList()) / 1e3
    }

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

    /** Nanoseconds [block] takes, timed on [dispatcher] (the hop there and back not counted). */
    private fun timedOn(dispatcher: CoroutineDispatcher, block: suspend () -> Unit): suspend () -> Long = {
        withContext(dispatcher) {
            val start = System.nanoTime()
            block()
            System.nanoTime() - start
        }
    }

    /**
     * Kotlin's punch and evaluate against Rust's, from the two callers an
     * app has: a coroutine already on Dispatchers.IO (a background worker,
     * a ViewModel launching on IO), which the headline lines
     * (`kotlin_punch_vs_rust_punch`, `kotlin_evaluate_vs_rust_evaluate`)
     * time, and a coroutine on a single-thread dispatcher (like
     * Dispatchers.Main: the call hops to an IO thread and back), the
     * `_from_main_like_caller` lines. Each caller's clock runs on its own
     * thread; only the call is timed.
     */
    @Test
    @Order(1)
    fun `punch and evaluate through Kotlin vs Rust`(): Unit = testBlocking {
        assumeTrue(System.getProperty("punch.bench") == "true", "benchmarks run with -Dpunch.bench=true")
        val n = Integer.getInteger("punch.bench.n", 300)
        val mainLike = Executors.newSingleThreadExecutor { Thread(it, "main-like") }.asCoroutineDispatcher()
        mainLike.use {
        localClient(dir.resolve("kotlin")).use { client ->
            // The same engine and file on both sides: only the FFI differs.
            RustBaseline.ofClient(client).use { rust ->
                val evidence = INSIDE
                repeat(5_000) { client.evaluate(evidence); rust.evaluateNanos(evidence) } // JIT warm-up
                repeat(50) { client.punch(PunchKind.CLOCK_IN, evidence) }
                repeat(50) { rust.punchAsync(PunchKind.CLOCK_IN, evidence) }
                // Beside those: uniffi's async protocol on the same punch
                // (Kotlin's punch before HotCalls.kt, and Swift's now), and
                // the hot call's blocking half on this thread.
                val kind = PunchKind.CLOCK_IN
                val io = Dispatchers.IO
                val (kp, rp, mp, ap, bp) = interleaved(n, listOf(
                    timedOn(io) { client.punch(kind, evidence) },
                    { rust.punchNanos(kind, evidence) },
                    timedOn(mainLike) { client.punch(kind, evidence) },
                    timed { rust.punchAsync(kind, evidence) },
                    timed { internalPunchBlocking(client, 0L, kind, evidence) },
                ))
                emit("kotlin_punch_vs_rust_punch", kp / 1e6, "ms/punch", rp / 1e6)
                emit("kotlin_punch_from_main_like_caller_vs_rust_punch", mp / 1e6, "ms/punch", rp / 1e6)
                emit("kotlin_punch_uniffi_async_vs_rust_punch", ap / 1e6, "ms/punch", rp / 1e6)
                emit("kotlin_punch_blocking_half_on_this_thread_vs_rust_punch", bp / 1e6, "ms/punch", rp / 1e6)
                val (ke, re, me, ae, be) = interleaved(n * 10, listOf(
                    timedOn(io) { client.evaluate(evidence) },
                    { rust.evaluateNanos(evidence) },
                    timedOn(mainLike) { client.evaluate(evidence) },
                    timed { rust.evaluateAsync(evidence) },
                    timed { internalEvaluateBlocking(client, evidence) },
                ))
                emit("kotlin_evaluate_vs_rust_evaluate", ke / 1e3, "us/op", re / 1e3)
                emit("kotlin_evaluate_from_main_like_caller_vs_rust_evaluate", me / 1e3, "us/op", re / 1e3)
                emit("kotlin_evaluate_uniffi_async_vs_rust_evaluate", ae / 1e3, "us/op", re / 1e3)
                emit("kotlin_evaluate_blocking_half_on_this_thread_vs_rust_evaluate", be / 1e3, "us/op", re / 1e3)
            }
        }
        }
    }

    /**
     * Where a call's time goes across the FFI, each step against the one
     * before it (µs per call, medians): a bare sync call; the async
     * machinery around nothing; lowering an Evidence; evaluate sync vs
     * async on the caller's thread; lifting the Evaluation (sync evaluate
     * vs the same work timed inside Rust); the hot calls' path (a hop to an
     * IO thread and back, a call id to cancel by); the JVM attach inside uniffi's
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
                suspend fun time(block: suspend () -> Unit): Double = medianMicros(n, block)
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
                // and back around nothing, and the
                // blocking half of evaluate on this thread.
                val hop = time { offCallerThread(null) { } }
                // The same from a caller already on Dispatchers.IO: no hop.
                val hopOnIo = withContext(Dispatchers.IO) { time { offCallerThread(null) { } } }
                // What the hot calls did from IO before they ran in place:
                // a task for IO's executor and a resume through the dispatcher.
                val io = Dispatchers.IO.asExecutor()
                val hopOnIoBefore = withContext(Dispatchers.IO) {
                    time {
                        suspendCancellableCoroutine<Unit> { c -> io.execute { c.resumeWith(Result.success(Unit)) } }
                    }
                }
                val evalHotOnIo = withContext(Dispatchers.IO) { time { client.evaluate(evidence) } }
                val evalBlocking = time { internalEvaluateBlocking(client, evidence) }
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
                emit("ffi_io_hop_around_nothing_from_io_caller", hopOnIo, "us/op", sync)
                emit("ffi_io_executor_around_nothing_from_io_caller", hopOnIoBefore, "us/op", sync)
                emit("ffi_evaluate_hot_call_from_io_caller", evalHotOnIo, "us/op", inRust)
                emit("ffi_evaluate_blocking_on_this_thread", evalBlocking, "us/op", inRust)
            }
        }
    }

    /**
     * The hot calls' steps one by one (µs, medians): on the Rust side each
     * timed inside Rust (`punchSteps`, `evaluateSteps`), on the Kotlin side
     * lowering the arguments and lifting the answer; the baseline of each is
     * the bare sync call, except the wrapped punch (against `punchNanos`,
     * interleaved) and the answers' sizes (bytes).
     */
    @Test
    @Order(3)
    fun `hot call steps`(): Unit = testBlocking {
        assumeTrue(System.getProperty("punch.bench") == "true", "benchmarks run with -Dpunch.bench=true")
        val n = Integer.getInteger("punch.bench.n", 300)
        localClient(dir.resolve("kotlin")).use { client ->
            RustBaseline.ofClient(client).use { rust ->
                val evidence = INSIDE
                val kind = PunchKind.CLOCK_IN
                repeat(50) { rust.punchSteps(kind, evidence) }
                // JIT warm-up of the lowering and lifting the split below times.
                repeat(20_000) { rust.takeEvidence(evidence); FfiConverterTypePunchKind.lower(kind).let { RustBuffer.free(it) }; rust.lastReceipt() }
                val steps = mutableListOf<PunchSteps>()
                val plain = LongArray(n)
                for (i in 0 until n) {
                    steps += rust.punchSteps(kind, evidence)
                    plain[i] = rust.punchNanos(kind, evidence)
                }
                fun med(f: (PunchSteps) -> Long) = median(steps.map(f)) / 1e3
                // The hot punch's Kotlin body (the generated `internalPunchBlocking`)
                // split: lowering its arguments, the native call, lifting
                // the receipt; beside Rust's punch, interleaved.
                val lowering = LongArray(n)
                val native = LongArray(n)
                val lifting = LongArray(n)
                val engine = LongArray(n)
                for (i in 0 until n) {
                    run {
                        val t0 = System.nanoTime()
                        val k = FfiConverterTypePunchKind.lower(kind)
                        val e = FfiConverterTypeEvidence.lower(evidence)
                        val t1 = System.nanoTime()
                        val status = UniffiRustCallStatusBuffer.get()
                        val answer = UniffiLib.uniffi_punchcore_fn_func_punch_blocking(
                            client.uniffiCloneHandle(), 0L, k, e, status,
                        )
                        val t2 = System.nanoTime()
                        check(status.getByte(0) == 0.toByte()) { "punch failed" }
                        FfiConverterTypePunchReceipt.lift(answer)
                        val t3 = System.nanoTime()
                        lowering[i] = t1 - t0
                        native[i] = t2 - t1
                        lifting[i] = t3 - t2
                    }
                    engine[i] = rust.punchNanos(kind, evidence)
                }
                suspend fun time(count: Int, block: suspend () -> Unit): Double = medianMicros(count, block)
                val m = n * 10
                val sync = time(m) { rust.noop() }
                val lower = time(m) { rust.takeEvidence(evidence) }
                val cancelUnknown = time(m) { internalCancelCall(Long.MIN_VALUE) }
                val lift = time(m) { rust.lastReceipt() }
                // Kotlin's own share of those: reading the receipt's bytes
                // and writing the evidence's, on a heap buffer (no JNA).
                val receipt = rust.lastReceipt()!!
                val receiptBytes = ByteArray(FfiConverterTypePunchReceipt.allocationSize(receipt).toInt())
                FfiConverterTypePunchReceipt.write(receipt, java.nio.ByteBuffer.wrap(receiptBytes))
                val read = time(m) { FfiConverterTypePunchReceipt.read(java.nio.ByteBuffer.wrap(receiptBytes)) }
                val evidenceBytes = ByteArray(FfiConverterTypeEvidence.allocationSize(evidence).toInt())
                val write = time(m) { FfiConverterTypeEvidence.write(evidence, java.nio.ByteBuffer.wrap(evidenceBytes)) }
                val alloc = time(m) { RustBuffer.free(RustBuffer.alloc(64UL)) }
                emit("ffi_kotlin_read_receipt_bytes", read, "us/op", sync)
                emit("ffi_kotlin_write_evidence_bytes", write, "us/op", sync)
                emit("ffi_rustbuffer_alloc_and_free", alloc, "us/op", sync)
                val evalSteps = (0 until m).map { rust.evaluateSteps(evidence) }
                fun emed(f: (EvaluateSteps) -> Long) = median(evalSteps.map(f)) / 1e3
                val engineMedian = median(engine.toList()) / 1e3
                emit("ffi_punch_split_kotlin_lower_args", median(lowering.toList()) / 1e3, "us/op", sync)
                emit("ffi_punch_split_native_call_vs_engine_punch", median(native.toList()) / 1e3, "us/op", engineMedian)
                emit("ffi_punch_split_kotlin_lift_receipt", median(lifting.toList()) / 1e3, "us/op", sync)
                emit("ffi_punch_kotlin_lower_evidence", lower, "us/op", sync)
                // Paid only by a cancelled call (the id was a token object: three FFI calls each).
                emit("ffi_cancel_call_by_id", cancelUnknown, "us/op", sync)
                emit("ffi_punch_rust_evidence_lift", med { it.evidenceLift }, "us/op", sync)
                emit("ffi_punch_rust_evidence_in", med { it.evidenceIn }, "us/op", sync)
                emit("ffi_punch_rust_wrapped_punch_vs_engine_punch", med { it.wrappedPunch }, "us/op", median(plain.toList()) / 1e3)
                emit("ffi_punch_rust_messages", med { it.messages }, "us/op", sync)
                emit("ffi_punch_rust_receipt_out", med { it.receiptOut }, "us/op", sync)
                emit("ffi_punch_rust_receipt_lower", med { it.receiptLower }, "us/op", sync)
                emit("ffi_punch_receipt_bytes", med { it.receiptBytes } * 1e3, "bytes", 1.0)
                emit("ffi_punch_kotlin_lift_receipt", lift, "us/op", sync)
                emit("ffi_evaluate_rust_evidence_in", emed { it.evidenceIn }, "us/op", sync)
                emit("ffi_evaluate_rust_engine_evaluate", emed { it.engineEvaluate }, "us/op", sync)
                emit("ffi_evaluate_rust_evaluation_out", emed { it.evaluationOut }, "us/op", sync)
                emit("ffi_evaluate_rust_evaluation_lower", emed { it.evaluationLower }, "us/op", sync)
                emit("ffi_evaluate_evaluation_bytes", emed { it.evaluationBytes } * 1e3, "bytes", 1.0)
            }
        }
    }
}
