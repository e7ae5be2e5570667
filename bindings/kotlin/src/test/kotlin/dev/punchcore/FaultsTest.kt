// Fault reports from Kotlin, against the real server: the employee reports
// one with a photo, hostile reports are typed errors, and a make-up request
// cites the fault; the server takes the citation (the request is pending,
// not refused) because the fault reached it as the same employee's.
package dev.punchcore

import org.json.JSONArray
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

class FaultsTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `a reported fault with a photo is cited by a make-up request`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.refreshPolicy()

                val unknown = assertThrowsAsync<PunchException.RequestRefused> {
                    client.reportFault("phone_on_fire", "smoke", emptyList())
                }
                assertEquals(RequestRefusal.FAULT_UNKNOWN_KIND, unknown.code)
                val tooLong = assertThrowsAsync<PunchException.RequestRefused> {
                    client.reportFault("other", "x".repeat(1_001), emptyList())
                }
                assertEquals(RequestRefusal.FAULT_TEXT_TOO_LONG, tooLong.code)
                assertTrue(client.faults().isEmpty())

                val photo = client.attach("a photo of the greyed-out Wi-Fi switch".toByteArray(), "image/jpeg")
                val receipt = client.reportFault("wifi_off", "Wi-Fi cannot be switched on", listOf(photo))
                val fault = client.faults().single()
                assertEquals(receipt.eventId, fault.eventId)
                assertEquals("wifi_off", fault.kind)
                assertTrue(fault.reported)
                assertEquals(photo.sha256, fault.attachments.single().sha256)
                assertEquals(MessageCode.FAULT_WIFI_OFF, fault.message.code)
                assertEquals("Wi-Fi未开启。", localizedText(fault.message, "zh-CN"))
                assertEquals(client.deviceInfo().deviceId, fault.reference.deviceId)

                val filed = client.fileMakeUpRequest(
                    MakeUpRequestInput(
                        kind = PunchKind.CLOCK_IN,
                        intendedTime = java.time.Instant.now().minus(java.time.Duration.ofHours(1)),
                        reason = "could not punch without Wi-Fi",
                        fault = fault.reference,
                    ),
                )
                assertEquals(fault.reference, client.requests().single().makeUp!!.fault)
                assertEquals(null, client.sync().error)
                val pending = JSONArray(server.admin("--json", "requests", "--status", "pending"))
                assertEquals(1, pending.length())
                assertEquals(filed.eventId, pending.getJSONObject(0).getString("event_id"))
            }
        }
    }
}
