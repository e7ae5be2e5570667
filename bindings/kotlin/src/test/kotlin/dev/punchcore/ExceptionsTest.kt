// Make-up requests, field work and messages from Kotlin, against the real
// server: a refused punch kept as evidence, a make-up request with a file
// approved by the admin CLI, a field site approved and punched at, and the
// reasons rendered in English and Chinese.
package dev.punchcore

import org.json.JSONArray
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.time.LocalDate
import java.time.ZoneOffset

class ExceptionsTest {
    @TempDir lateinit var dir: Path

    private fun pendingIds(server: TestServer): List<String> {
        val pending = JSONArray(server.admin("--json", "requests", "--status", "pending"))
        return (0 until pending.length()).map { pending.getJSONObject(it).getString("event_id") }
    }

    @Test
    fun `a refused punch is made up with a file, approved, and the phone hears it`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.refreshPolicy()
                val refused = assertThrowsAsync<PunchException.Refused> { client.punch(PunchKind.CLOCK_IN, FAR) }
                val reason = refused.evaluation.messages.first()
                assertEquals(MessageCode.OUTSIDE_ALL_SITES, reason.code)
                assertEquals("您不在任何考勤地点范围内。", localizedText(reason, "zh-CN"))
                assertEquals(reason.text, localizedText(reason, "fr-FR")) // unknown locale: English

                val attempt = client.refusedAttempts().single()
                assertEquals(PunchKind.CLOCK_IN, attempt.kind)
                val file = client.attach("a photo of the door".toByteArray(), "image/jpeg")
                val tooOld = assertThrowsAsync<PunchException.RequestRefused> {
                    client.fileMakeUpRequest(
                        MakeUpRequestInput(
                            kind = PunchKind.CLOCK_IN,
                            intendedTime = java.time.Instant.now().minus(java.time.Duration.ofDays(30)),
                            reason = "badge reader broken",
                        ),
                    )
                }
                assertEquals(RequestRefusal.MAKE_UP_TOO_FAR_BACK, tooOld.code)
                val filed = client.fileMakeUpRequest(
                    MakeUpRequestInput(
                        kind = PunchKind.CLOCK_IN,
                        intendedTime = attempt.wallTime,
                        reason = "badge reader broken",
                        attachments = listOf(file),
                        refusedAttemptId = attempt.eventId,
                    ),
                )
                assertEquals(RequestStatus.PENDING, client.requests().single().status)
                assertEquals(null, client.sync().error)
                assertEquals(listOf(filed.eventId), pendingIds(server))

                server.admin("approve", filed.eventId, "--comment", "seen the photo")
                client.sync()
                val decided = client.requests().single()
                assertEquals(RequestStatus.APPROVED, decided.status)
                assertEquals("seen the photo", decided.comment)
                assertEquals(file.sha256, decided.makeUp!!.attachments.single().sha256)
                assertEquals("您的申请已通过。", localizedText(decided.statusMessage, "zh-Hans"))
            }
        }
    }

    @Test
    fun `an approved field site is punched at`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.refreshPolicy()
                val today = LocalDate.now(ZoneOffset.UTC).toString() // the policy names no zone: UTC
                val far = FAR.gps!!
                val bad = assertThrowsAsync<PunchException.RequestRefused> {
                    client.proposeFieldWork(FieldWorkInput(far.lat, far.lon, 10.0, null, today, today, "audit"))
                }
                assertEquals(RequestRefusal.FIELD_WORK_RADIUS, bad.code)
                assertThrowsAsync<PunchException.InvalidInput> {
                    client.proposeFieldWork(FieldWorkInput(far.lat, far.lon, 300.0, null, "tomorrow", today, "audit"))
                }
                val filed = client.proposeFieldWork(
                    FieldWorkInput(far.lat, far.lon, 300.0, "Client Ltd", today, today, "audit at the client"),
                )
                client.sync()
                server.admin("approve", filed.eventId)
                client.sync()
                val site = client.fieldSites().single()
                assertTrue(site.siteId.startsWith("field:"), site.siteId)
                val there = client.punch(PunchKind.CLOCK_IN, FAR)
                assertEquals(Decision.ACCEPTED, there.evaluation.decision)
                assertEquals(site.siteId, there.evaluation.siteId)
            }
        }
    }
}
