// An acknowledged chain break against the real server: a record edited in
// the phone's file (with the sqlite3 tool, as a rooted phone could) breaks
// the chain; HR acknowledges it with the server's CLI; the sync that applies
// the acknowledgement says so in SyncReport.chainReset, once, and the next
// punch starts a segment the server accepts.
package dev.punchcore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.concurrent.TimeUnit

class ChainResetTest {
    @TempDir lateinit var dir: Path

    private fun sqlite(db: String, sql: String) {
        val p = ProcessBuilder("sqlite3", db, sql).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) { "sqlite3 failed: $out" }
    }

    private suspend fun PunchClient.syncOk(): SyncReport = syncNow().also { assertNull(it.error, "sync failed: ${it.error}") }

    @Test
    fun `the sync that applies an acknowledged break reports it once`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.refreshPolicy()
                val deviceId = client.deviceInfo().deviceId
                repeat(3) { client.punch(PunchKind.CLOCK_IN, INSIDE) }
                sqlite(
                    client.databasePath(),
                    "UPDATE punches SET record = CAST(replace(CAST(record AS TEXT), 'clock_in', 'clock_out') AS BLOB) WHERE seq = 2",
                )
                val broken = client.syncOk()
                assertEquals(listOf(2L, 3L), broken.rejected.map { it.seq })
                assertEquals(listOf(RejectReason.BAD_SIGNATURE, RejectReason.GAP), broken.rejected.map { it.reason })
                assertNull(broken.chainReset)
                client.punch(PunchKind.CLOCK_IN, INSIDE)
                val stuck = client.syncOk()
                assertEquals(listOf(4L), stuck.rejected.map { it.seq })
                assertNull(stuck.chainReset)

                server.admin("acknowledge-break", deviceId, "--reason", "storage corrupted; ticket HR-9")
                assertEquals(3L, client.syncOk().chainReset)
                assertNull(client.syncOk().chainReset, "applied once")

                assertEquals(5L, client.punch(PunchKind.CLOCK_IN, INSIDE).seq)
                val after = client.syncOk()
                assertEquals(1L, after.uploaded)
                assertTrue(after.rejected.isEmpty(), after.toString())
                val punches = server.punches()
                val seqs = (0 until punches.length()).map { punches.getJSONObject(it).getLong("seq") }.sorted()
                assertEquals(listOf(1L, 5L), seqs)
            }
        }
    }
}
