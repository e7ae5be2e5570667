// The calls an app's screens need: "where do I stand" and its change
// notification, and history newest first with cursor paging.
package dev.punchcore

import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.time.Duration
import java.time.Instant

class ScreensTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `history pages newest first, to the oldest punch`(): Unit = testBlocking {
        localClient(dir.resolve("phone")).use { client ->
            repeat(25) { i -> client.punch(if (i % 2 == 0) PunchKind.CLOCK_IN else PunchKind.CLOCK_OUT, INSIDE) }
            // "My last 5 punches" is one call.
            val last5 = client.history(null, 5).entries
            assertEquals((25L downTo 21L).toList(), last5.map { it.seq })
            // Kind and decision are enums read from the signed bytes.
            assertEquals(listOf(PunchKind.CLOCK_IN, PunchKind.CLOCK_OUT), last5.take(2).map { it.kind })
            assertTrue(last5.all { it.decision == Decision.ACCEPTED && it.verified })
            val seen = mutableListOf<Long>()
            var before: Long? = null
            var pages = 0
            do {
                val page = client.history(before, 10)
                seen += page.entries.map { it.seq }
                before = page.nextBeforeSeq
                pages++
            } while (before != null)
            assertEquals((25L downTo 1L).toList(), seen)
            assertEquals(3, pages)
            // A page that ends exactly at the oldest punch says so.
            val exact = client.history(5L, 4)
            assertEquals(listOf(4L, 3L, 2L, 1L), exact.entries.map { it.seq })
            assertNull(exact.nextBeforeSeq)
        }
    }

    @Test
    fun `standing says whether clocked in, since when, and what to press next`(): Unit = testBlocking {
        localClient(dir.resolve("phone")).use { client ->
            val before = client.standing()
            assertTrue(!before.clockedIn)
            assertNull(before.since)
            assertEquals(PunchKind.CLOCK_IN, before.nextKind)
            assertEquals(0L, before.sync.pending)

            val change = async { client.standingUpdates().first { it.clockedIn } }
            val receipt = client.punch(PunchKind.CLOCK_IN, INSIDE)
            val notified = withTimeout(10_000) { change.await() }
            val now = client.standing()
            assertEquals(now, notified)
            assertEquals(PunchKind.CLOCK_OUT, now.nextKind)
            assertEquals(receipt.seq, now.lastPunch?.seq)
            assertEquals(1L, now.sync.pending)
            // `since` is an Instant (the clock-in's wall time), not epoch milliseconds.
            val since: Instant = now.since!!
            assertTrue(Duration.between(since, Instant.now()).abs() < Duration.ofMinutes(1), "$since")

            client.punch(PunchKind.BREAK_START, INSIDE)
            assertEquals(PunchKind.BREAK_END, client.standing().nextKind)
            client.punch(PunchKind.BREAK_END, INSIDE)
            client.punch(PunchKind.CLOCK_OUT, INSIDE)
            val out = client.standing()
            assertTrue(!out.clockedIn)
            assertEquals(PunchKind.CLOCK_IN, out.nextKind)
            assertEquals(4L, out.sync.pending)
        }
    }
}
