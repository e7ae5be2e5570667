// Privacy through the Kotlin API: the notice, verdict-only minimisation,
// payloads sealed under a JVM twin of a Keystore-wrapped key, a lost
// platform key, and the employee's export.
package dev.punchcore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** An AES-GCM wrapping key held "by the platform" (Keystore on a phone). */
class JvmKeyWrapper : DataKeyWrapper {
    private val key: SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    @Volatile var lost = false

    override fun wrap(key: ByteArray): ByteArray {
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, this.key, GCMParameterSpec(128, iv))
        return iv + c.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        if (lost) throw PlatformException.Failed("KeyPermanentlyInvalidatedException")
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped.copyOfRange(0, 12)))
        return c.doFinal(wrapped.copyOfRange(12, wrapped.size))
    }
}

class PrivacyTest {
    @TempDir lateinit var dir: Path

    private fun privatePolicy(): ByteArray = """
    { "version": 1, "issued_at_ms": ${System.currentTimeMillis() - 60_000},
      "settings": { "privacy": { "location": { "mode": "verdict_only" },
                                 "notice_version": "2026-01", "require_notice": true } },
      "sites": [ { "id": "hq", "name": "Head office",
                   "shape": { "type": "circle", "center": { "lat": $HQ_LAT, "lon": $HQ_LON }, "radius_m": 120 } } ] }
    """.trimIndent().toByteArray()

    private suspend fun open(wrapper: JvmKeyWrapper): PunchClient =
        PunchClient.open(dir.resolve("phone").toString(), ClientOptions(keyWrapper = wrapper))

    @Test
    fun `notice, verdict-only, sealed payloads and the export`(): Unit = testBlocking {
        val wrapper = JvmKeyWrapper()
        open(wrapper).use { client ->
            client.bindEmployee("e-private")
            client.installPolicy(privatePolicy(), null)
            assertEquals("2026-01", client.noticeRequired())
            val refused = assertThrowsAsync<PunchException.NoticeRequired> {
                client.punch(PunchKind.CLOCK_IN, INSIDE)
            }
            assertEquals("2026-01", refused.version)
            client.acknowledgeNotice("2026-01")
            client.punch(PunchKind.CLOCK_IN, INSIDE)
            assertTrue(client.dataKeyState() is DataKeyState.Ready)
            // The exact fix is kept only behind the commitment, for the employee.
            assertTrue(client.evidenceOpening(1L)!!.decodeToString().contains("52.52"))
            val export = client.exportPersonalData()
            val json = export.json.decodeToString()
            assertFalse(json.contains("52.520008"), "the exact fix is in the export's records")
            assertTrue(json.contains("\"distance_m\""), json)
            assertTrue(export.summary.contains("1 signed record"), export.summary)
        }
        // The platform loses its key: stored records stay, new punches wait.
        wrapper.lost = true
        open(wrapper).use { client ->
            assertTrue(client.dataKeyState() is DataKeyState.Unavailable)
            assertThrowsAsync<PunchException.DataKeyUnavailable> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
            assertTrue(client.verifyChain().intact)
            assertTrue(client.exportPersonalData().summary.contains("unreadable here"))
            client.rotateDataKey()
            client.punch(PunchKind.CLOCK_OUT, INSIDE)
            assertEquals(2L, client.verifyChain().records)
        }
    }
}
