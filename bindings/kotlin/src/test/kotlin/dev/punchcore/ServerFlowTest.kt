// The whole story against the real server: enroll, signed policy, offline
// punches (inside / uncertain / refused), sync when the server is back, and
// the server's own verdicts.
package dev.punchcore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlinx.coroutines.flow.first

class ServerFlowTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `enroll, punch offline, sync when back, server verdicts`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                assertEquals("e-42", client.enroll(server.enrollCode()))
                assertEquals(1L, client.refreshPolicy())
                assertEquals("e-42", client.deviceInfo().employeeId)
                val deviceId = client.deviceInfo().deviceId

                server.stop() // offline from here on

                val inside = client.punch(PunchKind.CLOCK_IN, INSIDE)
                assertEquals(Decision.ACCEPTED, inside.evaluation.decision)
                assertEquals("hq", inside.evaluation.siteId)
                assertEquals(1L, inside.seq)

                val uncertain = client.punch(PunchKind.BREAK_START, UNCERTAIN)
                assertEquals(Decision.REVIEW, uncertain.evaluation.decision)
                val gps = uncertain.evaluation.sites.single().checks.single { it.signal == Signal.GPS }
                assertEquals(Containment.UNCERTAIN, gps.containment)

                val refused = assertThrowsAsync<PunchException.Refused> {
                    client.punch(PunchKind.CLOCK_OUT, FAR)
                }
                assertEquals(Decision.REJECTED, refused.evaluation.decision)
                assertEquals("hq", refused.evaluation.nearestSite?.siteId)
                assertTrue(refused.evaluation.nearestSite!!.distanceM > 1_500.0)
                assertTrue(refused.detail.isNotBlank())

                // Offline sync: reported, not thrown; both punches and the
                // refused attempt (kept as evidence) wait.
                val offline = client.sync()
                assertEquals(SyncIssueKind.NETWORK, offline.error?.kind)
                assertNotNull(offline.nextRetry)
                assertEquals(3L, client.status().pending)

                server.start()
                client.networkAvailable() // ends the network backoff
                val report = client.sync()
                assertNull(report.error, "sync failed: ${report.error}")
                assertEquals(3L, report.uploaded)
                val status = client.status()
                assertEquals(0L, status.pending)
                assertEquals(3L, status.uploaded)
                assertTrue(status.anchored)

                // The server's own view: both records verified, in order.
                val punches = server.punches()
                assertEquals(2, punches.length(), punches.toString(2))
                val mine = (0 until punches.length()).map { punches.getJSONObject(it) }.sortedBy { it.getLong("seq") }
                assertEquals(listOf(deviceId, deviceId), mine.map { it.getString("device_id") })
                assertEquals(listOf("e-42", "e-42"), mine.map { it.getString("employee_id") })
                assertEquals(listOf("clock_in", "break_start"), mine.map { it.getString("kind") })
                assertEquals(listOf("accepted", "review"), mine.map { it.getString("decision") })
                assertEquals(listOf(inside.recordHash, uncertain.recordHash), mine.map { it.getString("hash") })
                // Taken offline after an anchor in this boot: the server trusts their time.
                assertEquals(listOf("anchored", "anchored"), mine.map { it.getString("time_status") })
                // The server re-judged the evidence and agrees with the device.
                assertTrue(mine.all { it.getJSONArray("review_flags").length() == 0 }, punches.toString(2))

                // Newest first: the break start, then (next page) the clock-in.
                val history = client.history(null, 1)
                assertEquals(listOf(2L), history.entries.map { it.seq })
                assertEquals(UploadState.UPLOADED, history.entries[0].uploadState)
                val rest = client.history(history.nextBeforeSeq!!, 10)
                assertEquals(listOf(1L), rest.entries.map { it.seq })
                assertNull(rest.nextBeforeSeq)

                val chain = client.verifyChain()
                assertTrue(chain.intact)
                assertEquals(3L, chain.records)
            }
        }
    }

    @Test
    fun `a Kotlin EC P-256 signer enrolls and its punches are accepted by the server`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            val signer = JavaSigner()
            PunchClient.open(dir.resolve("phone").toString(), server.options(signer = signer)).use { client ->
                assertTrue(client.deviceInfo().platformKey)
                assertTrue(client.deviceInfo().publicKeySpki.contentEquals(signer.keyPair.public.encoded))
                client.enroll(server.enrollCode())
                client.refreshPolicy()
                val before = signer.signatures
                client.punch(PunchKind.CLOCK_IN, INSIDE)
                assertTrue(signer.signatures > before, "the platform signer signed the punch")
                val report = client.sync()
                assertNull(report.error)
                assertEquals(1L, report.uploaded)
                assertEquals(1, server.punches().length())
                assertEquals(0, org.json.JSONArray(server.admin("--json", "rejected")).length())
            }
            // Reopened with the same signer: the same device.
            PunchClient.open(dir.resolve("phone").toString(), server.options(signer = signer)).use { again ->
                assertEquals("e-42", again.deviceInfo().employeeId)
            }
            // Reopened with another key: refused, typed.
            assertThrowsAsync<PunchException.Signer> {
                PunchClient.open(dir.resolve("phone").toString(), server.options(signer = JavaSigner()))
            }
        }
    }

    @Test
    fun `background sync uploads and the status flow tells`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.refreshPolicy()
                client.startBackgroundSync(java.time.Duration.ofMinutes(1))
                client.punch(PunchKind.CLOCK_IN, INSIDE)
                val uploaded = kotlinx.coroutines.withTimeout(20_000) {
                    client.standingUpdates().first { it.sync.uploaded == 1L && it.sync.pending == 0L }
                }
                assertNotNull(uploaded.sync.lastSuccess)
                assertTrue(client.backgroundSyncRunning())
                client.stopBackgroundSync()
                assertTrue(!client.backgroundSyncRunning())
            }
            assertEquals(1, server.punches().length())
        }
    }
}
