// A photo at the punch through the bindings against the real server: the
// policy's step-up asks (typed, nothing stored), an oversized photo is
// refused (typed, nothing stored), the punch with the photo goes up with its
// bytes, and the server flags nothing.
package dev.punchcore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path

class PhotoTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `a risky punch asks for a photo, then signs and uploads it`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            val settings = dir.resolve("settings.json")
            Files.writeString(
                settings,
                """{ "photo": { "mode": "step_up", "step_up_on": ["review"], "max_bytes": 4096 } }""",
            )
            server.admin("settings", "--json", settings.toString())
            server.admin("publish", "--ttl-days", "30")
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.sync()
                // Asked before punching: only the risky punch needs one.
                assertEquals(listOf(PhotoReason.REVIEW), client.photoRequired(PunchKind.CLOCK_IN, UNCERTAIN))
                assertEquals(emptyList<PhotoReason>(), client.photoRequired(PunchKind.CLOCK_IN, INSIDE))

                val asked = assertThrowsAsync<PunchException.PhotoRequired> {
                    client.punch(PunchKind.CLOCK_IN, UNCERTAIN)
                }
                assertEquals(listOf(PhotoReason.REVIEW), asked.reasons)
                val tooLarge = assertThrowsAsync<PunchException.PhotoRefused> {
                    client.punchWithPhoto(PunchKind.CLOCK_IN, UNCERTAIN, PunchPhoto(ByteArray(5000) { 1 }, "image/jpeg"), true)
                }
                assertEquals(PhotoProblem.TOO_LARGE, tooLarge.problem)
                assertEquals(0L, client.status().pending) // neither stored anything

                val jpeg = ByteArray(3000) { (it % 251).toByte() }
                val receipt = client.punchWithPhoto(PunchKind.CLOCK_IN, UNCERTAIN, PunchPhoto(jpeg, "image/jpeg"), true)
                assertEquals(Decision.REVIEW, receipt.evaluation.decision)
                val report = client.sync()
                assertNull(report.error)
                assertEquals(1L, report.uploaded)
                val stored = server.punches().getJSONObject(0)
                assertFalse(stored.getJSONArray("review_flags").toString().contains("photo_missing"), stored.toString())
            }
        }
    }
}
